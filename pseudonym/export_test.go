package pseudonym

// PRK exposes a key's HKDF pseudorandom key to the tests that check it is
// never shown.
func PRK(k *Key) []byte { return k.prk[:] }

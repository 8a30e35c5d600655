// Package pseudonymtest provides known-answer vectors and fixtures for tests
// of package pseudonym and of other implementations of its construction: the
// vectors let a second implementation (in another language, a database
// function) prove that it makes the same pseudonyms and reads the same
// encrypted values.
//
// The keys here are published test keys. Never use them for real data.
package pseudonymtest

import (
	"encoding/hex"

	"github.com/zorgkit/zorgkit/pseudonym"
)

// testKeys are the published secrets of the test keys, in hex.
var testKeys = map[string]string{
	"k1":      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	"2026-11": "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a15c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c",
	"k3":      "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f", // 64 bytes
}

// Secret returns the published secret of the test key id ("k1", "2026-11"
// or "k3"). It panics for another id.
func Secret(id string) []byte {
	h, ok := testKeys[id]
	if !ok {
		panic("pseudonymtest: no test key " + id)
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		panic(err)
	}
	return b
}

// Key returns the test key id ("k1", "2026-11" or "k3"). It panics for
// another id.
func Key(id string) *pseudonym.Key {
	k, err := pseudonym.NewKey(id, Secret(id))
	if err != nil {
		panic(err)
	}
	return k
}

// Keyring returns a keyring of the test keys: the current key is "2026-11",
// the older keys "k1" and "k3".
func Keyring() *pseudonym.Keyring {
	r, err := pseudonym.NewKeyring(Key("2026-11"), Key("k1"), Key("k3"))
	if err != nil {
		panic(err)
	}
	return r
}

// A Vector is a known answer for a pseudonym: the key (id and secret in hex),
// the domain, the input as given to Pseudonymise, the HKDF subkey in hex, and
// the text form of the pseudonym.
type Vector struct {
	KeyID     string
	Secret    string // hex
	Domain    string
	Input     string
	Subkey    string // hex: HKDF-Expand(PRK, "pseudonym\x00" + Domain, 32)
	Pseudonym string
	Reason    string
}

// Vectors returns the known answers for pseudonyms. They were computed with
// an implementation independent of package pseudonym. Each call returns a
// new slice.
func Vectors() []Vector {
	return []Vector{
		{"k1", testKeys["k1"], "", "123456782",
			"8d7d1b3f2735c4b1e65914042f98d5b1f0790d37bcd6c1ce5e171335f0c0e4ed",
			"v1.k1.3ihbvtt4yua4fqkyp55ujm5pviiy37ap72zg7ey5x3qamp3ssnya",
			"the key holder's own domain"},
		{"k1", testKeys["k1"], "gemeente-almere", "123456782",
			"e45278b48a1dfd64640a6d86fe2b2c92b0fba3ccb9c0d80e6df90632cdc191ce",
			"v1.k1.wewg67536zppb26ax44vdgxrue2fpzd3mfn5vejywaff6pgwoaea",
			"a recipient's domain: another pseudonym for the same BSN"},
		{"k1", testKeys["k1"], "gemeente-almere", "40645678",
			"e45278b48a1dfd64640a6d86fe2b2c92b0fba3ccb9c0d80e6df90632cdc191ce",
			"v1.k1.lhnuvhditcmqiczubpxgovr5drlgcukf3qmbkllultfuu2zagvsq",
			"eight digits: the HMAC input is 040645678"},
		{"2026-11", testKeys["2026-11"], "", "999993847",
			"d8d417ed63a09c6cfe01f4d2dbd65fefdcb50be892b0007d56bcc7b456748ed4",
			"v1.2026-11.c2bvmj5xhkxlnozdbep4sygwnnh7bblqmoygxj3epx45omob73eq",
			"another key"},
		{"2026-11", testKeys["2026-11"], "Súdwest-Fryslân", "1234.56.782",
			"6fc738a2f5d369c5dcb05fe9ef0e0b3a49109d95927e535ce7b922e28d587ec9",
			"v1.2026-11.jeweonfxrcgu4r4zksxlk4keh2vyxyy2ntewml7nuvna2jqarltq",
			"non-ASCII domain in UTF-8; dotted input"},
		{"k3", testKeys["k3"], "gemeente-almere", "000009921",
			"f512f581057905c9996f3b40833bec031f9d7d01b0e6114b0314c8385660de53",
			"v1.k3.i4jmoudhvsw5wmkmvbgotqgkqa26ohrtuuzhaiovqgrgoynzy5zq",
			"leading zeros"},
		{"k1", testKeys["k1"], "", "999999999", "", "999999999",
			"CBS placeholder 'BSN unknown' passes through"},
		{"k1", testKeys["k1"], "", "000000000", "", "000000000",
			"CBS placeholder 'unborn child' passes through"},
	}
}

// A FieldVector is a known answer for an encrypted field: the key, the
// domain, the field name, the nonce (hex), the plaintext, the HKDF subkey
// (hex) and the text form. Encryption draws a random nonce, so an
// implementation checks a FieldVector by decrypting Text, and by encrypting
// with the given nonce where it can fix one.
type FieldVector struct {
	KeyID     string
	Secret    string // hex
	Domain    string
	Field     string
	Nonce     string // hex
	Plaintext string
	Subkey    string // hex: HKDF-Expand(PRK, "field\x00" + Domain, 32)
	Text      string
}

// FieldVectors returns the known answers for encrypted fields. They were
// computed with an implementation independent of package pseudonym. Each
// call returns a new slice.
func FieldVectors() []FieldVector {
	return []FieldVector{
		{"k1", testKeys["k1"], "", "postcode", "000000000000000000000000", "1234 AB",
			"fe819c53a1fbe243c45fdaf2d66481e83437f86b954cabad390a28179ae301b9",
			"e1.k1.AAAAAAAAAAAAAAAAj_D-vQfwHuQEf5tRiOGIA1ulntANczU"},
		{"k1", testKeys["k1"], "gemeente-almere", "geboortedatum", "000102030405060708090a0b", "2011-02-28",
			"b5f10a6022729a0e00ebaf3882fe7fac479f06af38e293d9b2a584b949323d90",
			"e1.k1.AAECAwQFBgcICQoLPd7lKoRjbx6EJ5UMSQDArCc1cLtIDlUIlZY"},
		{"2026-11", testKeys["2026-11"], "gemeente-almere", "opmerking", "cafebabefacedbaddecaf888", "Zoë woont bij oma in 's-Hertogenbosch",
			"582176c776d9e68dc4ab237b1222bd75464382adf401e57d2d26880111a74d87",
			"e1.2026-11.yv66vvrO263eyviIuOkb5SR7G4FUPJWsTNWlWYZQ2UfYRdg_3KiSWs1HF96zIQOET4CmVwZOVOkXEGuy3HXWmWux"},
		{"k1", testKeys["k1"], "gemeente-almere", "postcode", "000102030405060708090a0b", "",
			"b5f10a6022729a0e00ebaf3882fe7fac479f06af38e293d9b2a584b949323d90",
			"e1.k1.AAECAwQFBgcICQoLlxJj8AwQ2itjaeL7mtMFKg"},
	}
}

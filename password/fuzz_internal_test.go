package password

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzDecodePHC checks that decode never panics, never accepts parameters
// beyond the limits (it must refuse them before any work), and that what it
// accepts encodes to a canonical string that decodes to the same hash.
func FuzzDecodePHC(f *testing.F) {
	for _, s := range []string{
		"$argon2id$v=19$m=19456,t=2,p=1$AAECAwQFBgcICQoLDA0ODw$JcTyeul/CACtT0o6nw1rXvxKdk4rp5NWSQmmrzFVUfw",
		"$argon2id$v=19$m=65536,p=1,t=2$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=19$m=262145,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$m=64,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2i$v=19$m=64,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=19$m=64,t=1,p=1,keyid=AAAA$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"", "$", "$$$$$$", "$argon2id$v=19$m=,t=,p=$$",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := decode(s)
		if err != nil {
			return
		}
		if d.Memory > MaxMemory || d.Time > MaxTime || d.Threads > MaxThreads ||
			d.Time < 1 || d.Threads < 1 || d.Memory < 8*uint32(d.Threads) {
			t.Fatalf("decode(%q) accepted parameters m=%d t=%d p=%d", s, d.Memory, d.Time, d.Threads)
		}
		if len(d.salt) < minSaltLength || len(d.salt) > maxSaltLength || len(d.key) < minKeyLength || len(d.key) > maxKeyLength {
			t.Fatalf("decode(%q) accepted a salt of %d or key of %d bytes", s, len(d.salt), len(d.key))
		}
		canonical := encode(d)
		d2, err := decode(canonical)
		if err != nil {
			t.Fatalf("decode(encode(decode(%q))) = %v", s, err)
		}
		if d2.Params != d.Params || !bytes.Equal(d2.salt, d.salt) || !bytes.Equal(d2.key, d.key) {
			t.Fatalf("round trip of %q changed the hash", s)
		}
		if encode(d2) != canonical {
			t.Fatalf("encoding is not canonical: %q", canonical)
		}
		if !strings.HasPrefix(canonical, "$argon2id$v=19$m=") {
			t.Fatalf("canonical form %q", canonical)
		}
	})
}

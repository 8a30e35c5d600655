package reset

import (
	"encoding/base64"
	"testing"
)

// FuzzHashToken checks that only tokens of the issued form are accepted,
// and that an accepted token is its own canonical encoding.
func FuzzHashToken(f *testing.F) {
	f.Add("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq")
	f.Add("")
	f.Add("+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/a")
	f.Add("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopr") // non-zero padding bits
	f.Fuzz(func(t *testing.T, token string) {
		_, ok := hashToken(token)
		if !ok {
			return
		}
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || len(raw) != tokenBytes || base64.RawURLEncoding.EncodeToString(raw) != token {
			t.Fatalf("accepted %q, which is not the encoding of %d bytes", token, tokenBytes)
		}
	})
}

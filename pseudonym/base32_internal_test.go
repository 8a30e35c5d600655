package pseudonym

import (
	"crypto/rand"
	"testing"
)

// TestAppendBase32 checks the unrolled encoder against encoding/base32.
func TestAppendBase32(t *testing.T) {
	values := [][Size]byte{{}, {0: 0xff}, {31: 0xff}, {31: 1}}
	for range 1000 {
		var v [Size]byte
		rand.Read(v[:])
		values = append(values, v)
	}
	for _, v := range values {
		if got, want := string(appendBase32(nil, &v)), b32.EncodeToString(v[:]); got != want {
			t.Fatalf("appendBase32(%x) = %s, want %s", v, got, want)
		}
	}
}

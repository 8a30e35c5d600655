package pseudonym

import (
	"crypto/rand"
	"strconv"
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
		// After other bytes, with and without room for the text.
		for _, dst := range [][]byte{[]byte("v1.k."), make([]byte, 3, 100)} {
			prefix := string(dst)
			if got, want := string(appendBase32(dst, &v)), prefix+b32.EncodeToString(v[:]); got != want {
				t.Fatalf("appendBase32(%q, %x) = %s, want %s", prefix, v, got, want)
			}
		}
	}
}

// TestAppendYear checks appendYear against strconv.AppendInt.
func TestAppendYear(t *testing.T) {
	for y := -10; y <= 20000; y++ {
		if got, want := string(appendYear([]byte("x;"), y)), "x;"+strconv.Itoa(y); got != want {
			t.Fatalf("appendYear(%d) = %q, want %q", y, got, want)
		}
	}
}

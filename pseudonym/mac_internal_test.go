package pseudonym

import (
	"crypto/hmac"
	"crypto/sha256"
	"testing"

	"github.com/zorgkit/zorgkit/internal/race"
)

// TestDigitsMAC holds both ways of making the MAC of a pseudonym (one
// block from the stored state, and crypto/hmac) to crypto/hmac itself, for
// keys shorter than, as long as and longer than a SHA-256 block and for
// messages of every byte value.
func TestDigitsMAC(t *testing.T) {
	for _, n := range []int{0, 1, 16, 32, 63, 64, 65, 100} {
		key := make([]byte, n)
		for i := range key {
			key[i] = byte(7*i + n)
		}
		fast, ok := newBlockMAC(key)
		if !ok {
			t.Fatalf("key of %d bytes: the one-block MAC does not agree with crypto/hmac", n)
		}
		slow := newHMAC(key)
		if got := newDigitsMAC(key); got == nil {
			t.Fatal("newDigitsMAC returned nil")
		}
		h := hmac.New(sha256.New, key)
		for m := range 300 {
			var d [9]byte
			for i := range d {
				d[i] = byte(m*31 + i*m)
			}
			h.Reset()
			h.Write(d[:])
			want := h.Sum(nil)
			for name, mac := range map[string]func([9]byte) [Size]byte{"one block": fast, "crypto/hmac": slow} {
				if got := mac(d); string(got[:]) != string(want) {
					t.Fatalf("%s, key of %d bytes, message %x: %x, want %x", name, n, d, got, want)
				}
			}
		}
	}
}

// TestSameMAC checks that a function that is not HMAC-SHA256, or panics,
// is not taken for it: the check that decides between the two ways.
func TestSameMAC(t *testing.T) {
	key := []byte("a key of some length")
	if !sameMAC(newHMAC(key), key) {
		t.Fatal("crypto/hmac's MAC is not the same as itself")
	}
	if sameMAC(newHMAC([]byte("another key")), key) {
		t.Error("a MAC under another key passed the check")
	}
	if sameMAC(func([9]byte) [Size]byte { panic("state") }, key) {
		t.Error("a MAC that panics passed the check")
	}
}

func TestDigitsMACAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("the race detector's instrumentation allocates")
	}
	mac := newDigitsMAC([]byte("0123456789abcdef0123456789abcdef"))
	d := [9]byte{'1', '2', '3', '4', '5', '6', '7', '8', '2'}
	if n := testing.AllocsPerRun(100, func() { mac(d) }); n != 0 {
		t.Errorf("a MAC allocates %v times", n)
	}
}

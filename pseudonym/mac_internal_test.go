package pseudonym

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"runtime"
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
		macs := map[string]func([9]byte) [Size]byte{"one block": fast, "crypto/hmac": slow}
		if haveSHANI {
			ni, ok := newNIMAC(key)
			if !ok {
				t.Fatalf("key of %d bytes: the SHA-NI MAC does not agree with crypto/hmac", n)
			}
			macs["SHA-NI"] = ni
		}
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
			for name, mac := range macs {
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

// TestBlockSHANI holds blockSHANI to crypto/sha256: SHA-256 of messages of
// 0 to 200 bytes of every byte value, block by block from the initial
// state, padding included.
func TestBlockSHANI(t *testing.T) {
	if !haveSHANI {
		t.Skip("no SHA extensions here")
	}
	for n := range 201 {
		msg := make([]byte, n)
		for i := range msg {
			msg[i] = byte(i*97 + n*13)
		}
		padded := append(bytes.Clone(msg), 0x80)
		for len(padded)%64 != 56 {
			padded = append(padded, 0)
		}
		padded = binary.BigEndian.AppendUint64(padded, uint64(n)*8)
		h := [8]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}
		for len(padded) > 0 {
			blockSHANI(&h, (*[64]byte)(padded[:64]))
			padded = padded[64:]
		}
		var got [Size]byte
		for i, w := range h {
			binary.BigEndian.PutUint32(got[4*i:], w)
		}
		if want := sha256.Sum256(msg); got != want {
			t.Fatalf("%d bytes: %x, want %x", n, got, want)
		}
	}
}

// TestHaveSHANI checks the CPUID test against what Linux says the
// processor has.
func TestHaveSHANI(t *testing.T) {
	if !shaniBuilt || runtime.GOOS != "linux" {
		t.Skip("reads /proc/cpuinfo of amd64, with blockSHANI built")
	}
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip(err)
	}
	line, _, _ := bytes.Cut(info[bytes.Index(info, []byte("\nflags"))+1:], []byte("\n"))
	has := map[string]bool{}
	for _, f := range bytes.Fields(line) {
		has[string(f)] = true
	}
	want := has["sha_ni"] && has["ssse3"] && has["sse4_1"]
	if haveSHANI != want {
		t.Errorf("haveSHANI is %v; /proc/cpuinfo: sha_ni %v, ssse3 %v, sse4_1 %v", haveSHANI, has["sha_ni"], has["ssse3"], has["sse4_1"])
	}
}

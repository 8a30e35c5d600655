package pseudonym

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"
)

// TestTarget checks that batches shrink when the output grows more than
// batchOut/batchBytes times the input, so that a batch's memory is bounded.
func TestTarget(t *testing.T) {
	pp := &pipeline{}
	tests := []struct {
		in, out int64
		want    int
	}{
		{0, 0, batchBytes / 16},
		{1000, 1500, batchBytes},
		{1000, 2000, batchBytes},
		{1000, 40000, batchOut / 40},
	}
	for _, tt := range tests {
		pp.inBytes, pp.outBytes = tt.in, tt.out
		if got := pp.target(); got != tt.want {
			t.Errorf("target after %d bytes in, %d out = %d, want %d", tt.in, tt.out, got, tt.want)
		}
	}
}

// TestBatchMemory runs a policy that grows every byte forty times and checks
// that no batch holds much more than batchOut bytes of output.
func TestBatchMemory(t *testing.T) {
	b, o := batchBytes, batchOut
	batchBytes, batchOut = 16<<10, 32<<10
	t.Cleanup(func() { batchBytes, batchOut = b, o })

	ring, err := NewKeyring(mustKey(t))
	if err != nil {
		t.Fatal(err)
	}
	row := strings.Repeat("a;", 49) + "a\n"
	in := strings.NewReader(strings.Repeat(row, 4000))
	p := &Processor{Keyring: ring, Other: Encrypt, Workers: 2}
	w := &maxWriter{}
	if _, err := p.Process(context.Background(), in, w); err != nil {
		t.Fatal(err)
	}
	if w.total < 20*int64(in.Size()) {
		t.Fatalf("output %d bytes: the policy should grow the file", w.total)
	}
	// The first batches are small; the ones after them are cut to fit.
	if limit := 2 * batchOut; w.max > limit {
		t.Errorf("a batch wrote %d bytes, want at most %d", w.max, limit)
	}
	if w.writes < 10 {
		t.Errorf("%d batches: want many small ones", w.writes)
	}
}

func mustKey(t *testing.T) *Key {
	k, err := NewKey("t", bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// maxWriter records the largest write.
type maxWriter struct {
	max, writes int
	total       int64
}

func (w *maxWriter) Write(p []byte) (int, error) {
	w.max = max(w.max, len(p))
	w.writes++
	w.total += int64(len(p))
	return io.Discard.Write(p)
}

// TestSplitWords holds the word-at-a-time split of an unquoted row to
// bytes.Split (and what it finds of the row on the way: all ASCII, a
// carriage return), for every delimiter position in rows of up to 40 bytes
// with bytes on either side of the delimiter (0x00, 0xff, the delimiter
// plus and minus one: where a borrow or carry between bytes would show),
// and to the field limit.
func TestSplitWords(t *testing.T) {
	rng := uint64(1)
	next := func() uint64 { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng }
	for _, comma := range []byte{';', ',', '\t', '|', 0x01, 0x80} {
		alphabet := []byte{comma, comma, comma - 1, comma + 1, 0x00, 0xff, 'a', '9', 0x7f, 0x80, '\r', '\r' + 1}
		for n := range 41 {
			for range 50 {
				row := make([]byte, n)
				for i := range row {
					row[i] = alphabet[next()%uint64(len(alphabet))]
				}
				want := bytes.Split(row, []byte{comma})
				for _, limit := range []int{len(want), len(want) - 1, 1 << 20} {
					if limit < 1 {
						continue // 0: no limit
					}
					s := splitter{comma: comma, maxFields: limit}
					got, code := s.split(row, false)
					if limit < len(want) {
						if code != CodeFieldCount {
							t.Fatalf("split(%q, %q) with at most %d fields: %d fields, code %q, want %s", row, comma, limit, len(got), code, CodeFieldCount)
						}
						continue
					}
					if code != "" || len(got) != len(want) {
						t.Fatalf("split(%q, %q): %d fields, code %q, want %d", row, comma, len(got), code, len(want))
					}
					for i := range want {
						if !bytes.Equal(got[i], want[i]) {
							t.Fatalf("split(%q, %q): field %d is %q, want %q", row, comma, i, got[i], want[i])
						}
					}
					ascii := !slices.ContainsFunc(row, func(c byte) bool { return c >= 0x80 })
					if s.ascii != ascii || s.cr != bytes.Contains(row, []byte{'\r'}) {
						t.Fatalf("split(%q, %q): ascii %v, cr %v", row, comma, s.ascii, s.cr)
					}
				}
			}
		}
	}
}

// TestTrimSpace holds trimSpace to bytes.TrimSpace for values made of
// printable ASCII, ASCII white space and control characters, and the
// non-ASCII white space U+0085 and U+00A0.
func TestTrimSpace(t *testing.T) {
	parts := []string{"", "a", "1315 KA", " ", "\t", "\r", "\v", "\f", "\n", "\x00", "\x7f", "\u0085", "\u00a0", "ë", "\xff"}
	for _, a := range parts {
		for _, b := range parts {
			for _, c := range parts {
				v := []byte(a + b + c)
				if got, want := trimSpace(v), bytes.TrimSpace(v); !bytes.Equal(got, want) {
					t.Errorf("trimSpace(%q) = %q, want %q", v, got, want)
				}
				if got, want := isBlank(v), len(bytes.TrimSpace(v)) == 0; got != want {
					t.Errorf("isBlank(%q) = %v, want %v", v, got, want)
				}
			}
		}
	}
}

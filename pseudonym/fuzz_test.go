package pseudonym_test

import (
	"testing"

	"github.com/zorgkit/zorgkit/pseudonym"
	"github.com/zorgkit/zorgkit/pseudonym/pseudonymtest"
)

// FuzzParse checks that Parse never panics, accepts only canonical text
// (Parse then String gives the input back), and fails with a fixed sentinel
// error that cannot contain the input.
func FuzzParse(f *testing.F) {
	for _, v := range pseudonymtest.Vectors() {
		f.Add(v.Pseudonym)
		f.Add(v.Input)
	}
	f.Add("v2.k1.abc")
	f.Add("v1..")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := pseudonym.Parse(s)
		if err != nil {
			if !p.IsZero() {
				t.Fatalf("Parse(%q) failed but returned %v", s, p)
			}
			// The errors are the fixed sentinels, so they cannot contain
			// the input.
			if err != pseudonym.ErrFormat && err != pseudonym.ErrVersion {
				t.Fatalf("Parse(%q) error %v is not a sentinel", s, err)
			}
			return
		}
		if got := p.String(); got != s {
			t.Fatalf("Parse(%q).String() = %q: not canonical", s, got)
		}
		var q pseudonym.Pseudonym
		text, _ := p.MarshalText()
		if err := q.UnmarshalText(text); err != nil || !q.Equal(p) {
			t.Fatalf("text round trip of %q: %v, %v", s, q, err)
		}
	})
}

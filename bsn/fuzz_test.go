package bsn_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/zorgkit/zorgkit/bsn"
	"github.com/zorgkit/zorgkit/bsn/bsntest"
)

// FuzzParse checks that Parse never panics, agrees with Valid, round-trips
// every number it accepts through its digits, prints it only masked, and
// never puts the input in an error message.
func FuzzParse(f *testing.F) {
	for _, n := range bsntest.TestPersons() {
		d := n.Digits()
		f.Add(d)
		f.Add(d[:4] + "." + d[4:6] + "." + d[6:])
	}
	for _, tt := range bsntest.InvalidInputs() {
		f.Add(tt.Input)
	}
	f.Add("40645678")
	f.Add("１２３４－５６－７８２")
	f.Fuzz(func(t *testing.T, s string) {
		n, err := bsn.Parse(s)
		if valid := bsn.Valid(s); valid != (err == nil) {
			t.Fatalf("Valid(%q) = %v, Parse error %v", s, valid, err)
		}
		if err != nil {
			var perr *bsn.Error
			if !errors.As(err, &perr) {
				t.Fatalf("Parse(%q) error %T is not *bsn.Error", s, err)
			}
			if leak := digitWindow(err.Error(), s); leak != "" {
				t.Fatalf("error %q contains digits %s of the input", err, leak)
			}
			if !n.IsZero() {
				t.Fatalf("Parse(%q) failed but returned a non-zero Number", s)
			}
			return
		}
		d := n.Digits()
		if len(d) != 9 || strings.Trim(d, "0123456789") != "" {
			t.Fatalf("Parse(%q).Digits() = %q, want 9 digits", s, d)
		}
		for _, form := range []string{d, d[:4] + "." + d[4:6] + "." + d[6:], string(n.AppendDigits(nil))} {
			m, err := bsn.Parse(form)
			if err != nil || m != n {
				t.Fatalf("Parse(%q) = %v, %v; want %v", form, m, err, n)
			}
		}
		var m bsn.Number
		if err := m.UnmarshalText([]byte(d)); err != nil || m != n {
			t.Fatalf("text round trip of %q: %v, %v", s, m, err)
		}
		want := "******" + d[6:]
		text, _ := n.MarshalText()
		for _, out := range []string{n.Masked(), n.String(), fmt.Sprint(n), fmt.Sprintf("%+v %#v %x %d %p", n, n, n, n, n), string(text)} {
			if !strings.Contains(out, want) && !strings.Contains(out, "%!p") || strings.Contains(out, d[:6]) {
				t.Fatalf("a Number prints as %q: want it masked as %s", out, want)
			}
		}
	})
}

// digitWindow returns a run of 7 consecutive digits of input that msg
// contains, or "". Seven digits of a nine-digit number identify it nearly;
// shorter runs occur in messages by themselves ("before 2007", a position).
func digitWindow(msg, input string) string {
	var digits []byte
	for _, r := range input {
		if '0' <= r && r <= '9' {
			digits = append(digits, byte(r))
		}
	}
	for i := 0; i+7 <= len(digits); i++ {
		if w := string(digits[i : i+7]); strings.Contains(msg, w) {
			return w
		}
	}
	return ""
}

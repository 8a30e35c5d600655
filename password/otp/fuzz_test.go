package otp_test

import (
	"context"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
	"time"

	"github.com/zorgkit/zorgkit/password/otp"
)

// FuzzVerify checks that typed input is read safely: it never panics, and
// only input that reads as the six digits of the one-time password (with
// spaces, hyphens or compatibility forms of digits) is accepted.
func FuzzVerify(f *testing.F) {
	for _, s := range []string{"901234", "901 234", "90-12-34", "９０１２３４", "", "1234567", "12345", "\xff\xfe", strings.Repeat("1", 100)} {
		f.Add(s)
	}
	now := time.Unix(1234567890, 0)
	totp := &otp.TOTP{Now: func() time.Time { return now }}
	secret := []byte("12345678901234567890")
	f.Fuzz(func(t *testing.T, typed string) {
		// Spaces and hyphens are ignored, and compatibility forms of digits
		// (fullwidth, mathematical) are read as digits (Unicode NFKC).
		digits := strings.NewReplacer(" ", "", "-", "").Replace(norm.NFKC.String(typed))

		o, err := otp.NewOutOfBand(otp.Config{Key: make([]byte, 32), Store: otp.NewMemoryStore(), Rand: strings.NewReader("123456"), Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		var sent string
		ch := otp.ChannelFunc(func(_ context.Context, _, p string, _ time.Time) error { sent = p; return nil })
		if _, err := o.Issue(ctx, ch, "a", "b"); err != nil {
			t.Fatal(err)
		}
		err = o.Verify(ctx, "a", "b", typed)
		if (err == nil) != (digits == sent && len(typed) <= 64) {
			t.Fatalf("Verify(%q) = %v", typed, err)
		}

		step, err := totp.Verify(secret, typed, 0)
		if err == nil && otp.TOTPAt(secret, time.Unix(step*30, 0)) != digits {
			t.Fatalf("TOTP accepted %q for step %d", typed, step)
		}
	})
}

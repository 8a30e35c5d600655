package email_test

import (
	"context"
	"testing"

	"github.com/zorgkit/zorgkit/password/email"
)

// FuzzNormalize checks that normalising is idempotent, that an accepted
// address is one net/mail can parse back, and that Rules never panic.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"j.devries@zorgaanbieder.nl", "Info+X@Zorg.NL", "\"a b\"@zorg.nl", "jose\u0301@zorg.nl", "a@b", "<a@b.nl>", "piet+portero@zorg.nl"} {
		f.Add(s)
	}
	rules := email.Rules{Domains: []string{"zorg.nl"}, Taken: email.TakenIn([]string{"a@zorg.nl"})}
	f.Fuzz(func(t *testing.T, addr string) {
		n, err := email.Normalize(addr)
		if err == nil {
			again, err := email.Normalize(n)
			if err != nil || again != n {
				t.Fatalf("Normalize(%q) = %q, but Normalize of that = %q, %v", addr, n, again, err)
			}
		}
		_ = email.IsRoleMailbox(addr)
		_ = rules.Check(context.Background(), addr)
	})
}

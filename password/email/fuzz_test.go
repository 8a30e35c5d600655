package email_test

import (
	"context"
	"strings"
	"testing"

	"github.com/zorgkit/zorgkit/password/email"
)

// FuzzNormalize checks that Normalize and Mailbox are idempotent, that
// Mailbox keeps the domain, and that Rules never panic.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"j.devries@zorgaanbieder.nl", "Info+X@Zorg.NL", "\"a b\"@zorg.nl", "jose\u0301@zorg.nl", "a@b", "<a@b.nl>", "piet+portero@zorg.nl"} {
		f.Add(s)
	}
	rules := email.Rules{Domains: []string{"zorg.nl"}, Taken: email.TakenIn([]string{"a@zorg.nl"})}
	f.Fuzz(func(t *testing.T, addr string) {
		n, err := email.Normalize(addr)
		if err != nil {
			n = ""
		}
		if err == nil {
			again, err := email.Normalize(n)
			if err != nil || again != n {
				t.Fatalf("Normalize(%q) = %q, but Normalize of that = %q, %v", addr, n, again, err)
			}
		}
		if m, err := email.Mailbox(addr); err == nil {
			if again, err := email.Mailbox(m); err != nil || again != m {
				t.Fatalf("Mailbox(%q) = %q, but Mailbox of that = %q, %v", addr, m, again, err)
			}
			if !strings.HasSuffix(m, n[strings.LastIndexByte(n, '@'):]) {
				t.Fatalf("Mailbox(%q) = %q changed the domain of %q", addr, m, n)
			}
		} else if n != "" {
			t.Fatalf("Normalize(%q) = %q but Mailbox failed: %v", addr, n, err)
		}
		_ = email.IsRoleMailbox(addr)
		_ = rules.Check(context.Background(), addr)
	})
}

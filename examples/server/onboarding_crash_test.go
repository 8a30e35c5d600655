package main

import (
	"context"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCrashGrantingAccess kills the portal while it grants a provider
// access: the onboarding's last step, which gives the provider's
// administrator a temporary password and mails it. After the next start
// the administrator has exactly one mail, whose password is the stored
// one: never an organisation marked as granted whose details never went
// out.
func TestCrashGrantingAccess(t *testing.T) {
	for _, step := range []string{"access.granting", "access.granted"} {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			p := newTestPortal(t)
			ctx := context.Background()
			now := usec(p.clock.Now())
			_, err := p.a.db.Exec(`UPDATE organisations SET survey_received_at = $1, dpa_sent_at = $1, dpa_registered_at = $1 WHERE id = 'noord'`, now)
			require.NoError(t, err)
			u, err := p.a.userBy(ctx, "username", "noord")
			require.NoError(t, err)

			waitHelper(t, startHelperIn(t, p.a.cfg.DataDir, "grant", step, "0", "noord"), step)
			p.a.sender = &outbox{a: p.a}              // as in the helper: the mails stay in the outbox to be read
			require.NoError(t, p.a.grantPending(ctx)) // what the next start does

			var granted int64
			require.NoError(t, p.a.db.QueryRow(`SELECT access_granted_at FROM organisations WHERE id = 'noord'`).Scan(&granted))
			assert.NotZero(t, granted, "access is granted")
			rows, err := p.a.db.Query(`SELECT body FROM outbox WHERE user_id = $1 AND subject = 'Uw toegang tot het portaal'`, u.ID)
			require.NoError(t, err)
			var bodies []string
			for rows.Next() {
				var b string
				require.NoError(t, rows.Scan(&b))
				bodies = append(bodies, b)
			}
			require.NoError(t, rows.Err())
			rows.Close()
			require.Len(t, bodies, 1, "one mail with the account details")
			text, err := p.a.field.Decrypt("outbox.body:"+u.ID, bodies[0])
			require.NoError(t, err)
			m := regexp.MustCompile(`Tijdelijk wachtwoord: (\S+)`).FindSubmatch(text)
			require.NotNil(t, m)
			u, err = p.a.userBy(ctx, "username", "noord")
			require.NoError(t, err)
			assert.True(t, u.Temporary)
			assert.NoError(t, p.a.hasher.Verify(ctx, u.Hash, string(m[1])), "the mailed password is the stored one")
		})
	}
}

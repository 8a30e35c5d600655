package main

import (
	"context"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCrashDuringAnchor kills the daily anchor job after it stored the
// consent checkpoint and sealed it into the access log, and after it
// queued its mail. The instance that takes the job over finishes it: the
// portal owner's auditor gets the anchor once, not twice, and its digest
// is a checkpoint that verifies and that the access log holds.
func TestCrashDuringAnchor(t *testing.T) {
	for _, step := range []string{"anchor.checkpointed", "job.finishing"} {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			p := newTestPortal(t)
			ctx := context.Background()
			waitHelper(t, startHelperIn(t, p.a.cfg.DataDir, "anchor", step, "0", ""), step)

			p.a.sender = &outbox{a: p.a}
			afterLease(p)
			ran, err := p.a.runNextJob(ctx, "other")
			require.NoError(t, err)
			require.True(t, ran, "taken over")
			var state string
			require.NoError(t, p.a.db.QueryRow(`SELECT state FROM jobs WHERE id = $1`, anchorJob+"crash-test").Scan(&state))
			assert.Equal(t, "done", state)

			auditor, err := p.a.userBy(ctx, "username", "beheerder")
			require.NoError(t, err)
			rows, err := p.a.db.Query(`SELECT subject, body FROM outbox WHERE user_id = $1`, auditor.ID)
			require.NoError(t, err)
			var subjects, bodies []string
			for rows.Next() {
				var s, b string
				require.NoError(t, rows.Scan(&s, &b))
				subjects, bodies = append(subjects, s), append(bodies, b)
			}
			require.NoError(t, rows.Err())
			rows.Close()
			require.Equal(t, []string{"Dagelijks controlepunt toestemmingsregistratie en toegangslog"}, subjects, "one anchor, no alarm")
			body, err := p.a.field.Decrypt("outbox.body:"+auditor.ID, bodies[0])
			require.NoError(t, err)
			m := regexp.MustCompile(`Digest: (\S+)`).FindSubmatch(body)
			require.NotNil(t, m)
			digest := string(m[1])
			assert.NoError(t, p.a.consent.VerifyAnchor(ctx, digest), "the mailed checkpoint verifies")
			var sealed int
			require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM access_log WHERE object = $1`, "consent/checkpoint/"+digest).Scan(&sealed))
			assert.Equal(t, 1, sealed, "and is sealed into the access log")
		})
	}
}

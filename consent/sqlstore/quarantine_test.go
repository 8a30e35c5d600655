package sqlstore_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/consenttest"
	"github.com/zorgkit/zorgkit/consent/sqlstore"
)

// TestQuarantine inserts a row into a chain behind the registry's back, as
// someone with INSERT rights could, and checks that it blocks the chain
// until an operator quarantines it, and that the quarantine is kept and
// logged.
func TestQuarantine(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d.dialect), func(t *testing.T) {
			ctx := t.Context()
			s, db := newStore(t, d.dialect, d.open)
			var logged bytes.Buffer
			clock := consenttest.NewClock(t0)
			r, err := consent.New(s, consent.Config{Key: consenttest.Key(), Now: clock.Now,
				Logger: slog.New(slog.NewTextHandler(&logged, nil))})
			require.NoError(t, err)
			rec, err := r.Give(ctx, consenttest.NewRecord("s1", "org-a", consent.PurposeViewNAW, consent.Permit, t0.Add(-time.Hour)))
			require.NoError(t, err)
			chain := consent.ChainOf("s1", "org-a")

			// Event 2, made up: the place of the next event is taken.
			_, err = db.ExecContext(ctx, rebind(d.dialect, `INSERT INTO consent_events
				(chain_id, seq, record_id, kind, organisation, purpose, decision, recorded_at, payload, prev_mac, mac)
				SELECT chain_id, 2, 'r-forged', 'withdrawn', '', '', '', recorded_at, payload, mac, mac
				FROM consent_events WHERE chain_id = ? AND seq = 1`), string(chain))
			require.NoError(t, err)

			out, err := r.DecideUnlogged(ctx, "s1", "org-a", consent.PurposeViewNAW, clock.Now())
			require.NoError(t, err, "decisions rest on the head, which does not cover the row")
			assert.True(t, out.Allowed)
			other := consenttest.NewRecord("s1", "org-a", consent.PurposeConsultIndication, consent.Permit, t0.Add(-time.Hour))
			_, err = r.Give(ctx, other)
			var terr *consent.TamperError
			require.ErrorAs(t, err, &terr, "nothing is appended to the chain")
			assert.Equal(t, consent.ProblemExtra, terr.Problems[0].Kind)
			_, err = r.Verify(ctx)
			require.ErrorAs(t, err, &terr)
			require.Len(t, terr.Problems, 1)
			assert.Equal(t, consent.ProblemExtra, terr.Problems[0].Kind)
			assert.Equal(t, uint64(2), terr.Problems[0].Seq)

			operator := consent.Actor{User: "operator", Organisation: "portal"}
			assert.ErrorIs(t, r.Quarantine(ctx, chain, 2, consent.Change{By: operator}), consent.ErrInvalid, "a reason is required")
			assert.ErrorIs(t, r.Quarantine(ctx, chain, 1, consent.Change{By: operator, Reason: "x"}), consent.ErrInvalid,
				"an event that verifies is never quarantined")
			assert.ErrorIs(t, r.Quarantine(ctx, chain, 7, consent.Change{By: operator, Reason: "x"}), consent.ErrNotFound)
			require.NoError(t, r.Quarantine(ctx, chain, 2, consent.Change{By: operator, Reason: "ticket 4711: inserted by hand"}))

			_, err = r.Verify(ctx)
			require.NoError(t, err, "the chain verifies again")
			out, err = r.DecideUnlogged(ctx, "s1", "org-a", consent.PurposeViewNAW, clock.Now())
			require.NoError(t, err)
			assert.True(t, out.Allowed)
			assert.Equal(t, rec.ID, out.RecordID())
			_, err = r.Give(ctx, other)
			require.NoError(t, err, "the chain goes on")

			var n int
			var by, reason string
			require.NoError(t, db.QueryRowContext(ctx, `SELECT COUNT(*), MIN(quarantined_by), MIN(reason) FROM consent_quarantine`).Scan(&n, &by, &reason))
			assert.Equal(t, 1, n, "the row is kept in quarantine")
			assert.Equal(t, "operator (portal)", by)
			assert.Equal(t, "ticket 4711: inserted by hand", reason)
			log := logged.String()
			assert.Contains(t, log, "consent: event quarantined")
			assert.Contains(t, log, string(chain))
			assert.Contains(t, log, "ticket 4711")

			for _, stmt := range []string{"DELETE FROM consent_quarantine", "UPDATE consent_quarantine SET reason = 'x'"} {
				_, err := db.ExecContext(ctx, stmt)
				assert.ErrorContains(t, err, "append-only", "the quarantine is append-only: %s", stmt)
			}
		})
	}
}

func rebind(dialect sqlstore.Dialect, query string) string {
	if dialect == sqlstore.PostgreSQL {
		return strings.Replace(query, "?", "$1", 1)
	}
	return query
}

package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/consent"
)

// TestCrashUpgradingConsentHeads kills the portal while it writes the heads
// of the consent chains of an older store, which had none: the next start
// goes on with the upgrade, and every chain has its head again, without an
// operator.
func TestCrashUpgradingConsentHeads(t *testing.T) {
	p := newTestPortal(t)
	ctx := context.Background()
	var chains int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(DISTINCT chain_id) FROM consent_events`).Scan(&chains))
	require.Greater(t, chains, 2)
	_, err := p.a.db.Exec(`DELETE FROM consent_heads`) // a store from before heads
	require.NoError(t, err)

	waitHelper(t, startHelperIn(t, p.a.cfg.DataDir, "open", "consent.updated#2", "0", ""), "consent.updated#2")
	heads := func() int {
		var n int
		require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM consent_heads`).Scan(&n))
		return n
	}
	require.Equal(t, 2, heads(), "killed in the middle")
	waitHelper(t, startHelperIn(t, p.a.cfg.DataDir, "open", "", "0", ""), "")
	assert.Equal(t, chains, heads(), "the next start finished the upgrade")
	var pending int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM pending_rekeys`).Scan(&pending))
	assert.Zero(t, pending)
	_, err = p.a.consent.Verify(ctx)
	assert.NoError(t, err, "every chain verifies")
}

// TestCrashRecordingConsent kills the portal after it recorded a client's
// consent and after it recorded the withdrawal: each is whole in the
// registry (the events and the chain's head commit together), the chain
// verifies, and what the next instance decides is what was recorded last.
func TestCrashRecordingConsent(t *testing.T) {
	for _, tt := range []struct {
		step      string
		withdrawn bool
	}{{"consent.updated#1", false}, {"consent.updated#2", true}} {
		t.Run(tt.step, func(t *testing.T) {
			t.Parallel()
			p := newTestPortal(t)
			ctx := context.Background()
			var subject string
			require.NoError(t, p.a.db.QueryRow(`SELECT pseudonym FROM clients ORDER BY pseudonym LIMIT 1`).Scan(&subject))
			waitHelper(t, startHelperIn(t, p.a.cfg.DataDir, "consent", tt.step, "0", subject), tt.step)

			// The next instance reads the registry afresh.
			var out strings.Builder
			a, err := openApp(ctx, p.a.cfg, &out)
			require.NoError(t, err)
			defer a.Close()
			_, err = a.consent.Verify(ctx)
			require.NoError(t, err, "every chain verifies")
			records, err := a.consent.Records(ctx, consent.Subject(subject), "zonnehuis")
			require.NoError(t, err)
			var found *consent.Status
			for _, r := range records {
				if r.Record.Evidence.Reference == "CRASH-1" {
					found = r
				}
			}
			require.NotNil(t, found, "the consent is recorded")
			assert.Equal(t, tt.withdrawn, !found.WithdrawnAt.IsZero(), "withdrawn if and only if the withdrawal was recorded")
		})
	}
}

package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

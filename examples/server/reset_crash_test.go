package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCrashDuringReset kills the portal while it redeems a reset link,
// after the new password is stored: whoever knew the old password must be
// out all the same, whatever the crash cut off.
func TestCrashDuringReset(t *testing.T) {
	p := newTestPortal(t)
	ctx := context.Background()
	jan := p.browser()
	jan.login("jdevries") // a session, say the one of whoever stole the password
	u, err := p.a.userBy(ctx, "username", "jdevries")
	require.NoError(t, err)
	sessions := func() int {
		var n int
		require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM sessions WHERE user_id = $1`, u.ID).Scan(&n))
		return n
	}
	require.Positive(t, sessions())

	waitHelper(t, startHelperIn(t, p.a.cfg.DataDir, "reset", "reset.stored", "0", "jdevries"), "reset.stored")

	u, err = p.a.userBy(ctx, "id", u.ID)
	require.NoError(t, err)
	require.NoError(t, p.a.hasher.Verify(ctx, u.Hash, crashNewPassword), "the new password is stored")
	assert.Zero(t, sessions(), "with it, every session has ended")
	var tokens int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM reset_tokens WHERE account = $1 AND used_at = 0`, u.ID).Scan(&tokens))
	assert.Zero(t, tokens, "no reset link works any more")
}

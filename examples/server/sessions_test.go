package main

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSessionsPurged: sessions nobody comes back to (a login abandoned at
// the code, a browser closed without logging out) are deleted once past
// their idle or absolute timeout, not kept for ever; live ones stay.
func TestSessionsPurged(t *testing.T) {
	p := newTestPortal(t)
	ctx := context.Background()
	count := func() int {
		var n int
		require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM sessions`).Scan(&n))
		return n
	}
	abandoned := p.browser()
	status, _ := abandoned.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
	require.Equal(t, http.StatusOK, status)
	p.clock.Advance(time.Minute) // past the resend cooldown: a new code
	closed := p.browser()
	closed.login("jdevries")
	p.clock.Advance(time.Minute)
	busy := p.browser()
	busy.login("jdevries")
	require.Equal(t, 3, count())

	// Within the idle timeout every session stays; past it, those not used
	// since go, and the one in use stays.
	p.clock.Advance(p.a.cfg.IdleTimeout - 3*time.Minute)
	require.NoError(t, p.a.purgeSessions(ctx))
	assert.Equal(t, 3, count())
	status, _ = busy.get("/")
	require.Equal(t, http.StatusOK, status)
	p.clock.Advance(4 * time.Minute)
	require.NoError(t, p.a.purgeSessions(ctx))
	assert.Equal(t, 1, count(), "only the session in use is left")
	status, body := busy.get("/")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `id="whoami"`, "and it still works")

	// Past its absolute lifetime a session goes, however recently used.
	p.clock.Advance(p.a.cfg.MaxSession)
	_, err := p.a.db.Exec(`UPDATE sessions SET last_seen_at = $1`, usec(p.clock.Now()))
	require.NoError(t, err)
	require.NoError(t, p.a.purgeSessions(ctx))
	assert.Equal(t, 0, count())
}

package main

import (
	"context"
	"net/http"
	"net/http/httptest"
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

// TestLoadSession: the session and its user (with the organisation) come
// from one query; a cookie without a session, and a session whose user is
// gone, are told apart, and the route check ends the second.
func TestLoadSession(t *testing.T) {
	p := newTestPortal(t)
	ctx := context.Background()
	want, err := p.a.userBy(ctx, "username", "jdevries")
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	require.NoError(t, p.a.startSession(ctx, rec, httptest.NewRequest(http.MethodGet, "/", nil), want.ID, stageFull, ""))
	live := rec.Result().Cookies()[0]

	// A session of a user who is no longer there: only possible with the
	// foreign keys off, as on a database restored in part.
	conn, err := p.a.db.Conn(ctx)
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`)
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, stage, attempt_id, created_at, last_seen_at) VALUES ($1, 'ghost', 'full', '', $2, $2)`,
		p.a.hashSessionID("ghost-session"), usec(p.clock.Now()))
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, `PRAGMA foreign_keys = ON`)
	require.NoError(t, err)
	require.NoError(t, conn.Close())

	tests := []struct {
		name   string
		cookie string // "" for none
		err    error
	}{
		{"live session", live.Value, nil},
		{"no cookie", "", errNotFound},
		{"a cookie of no session", "not-a-session", errNotFound},
		{"a session whose user is gone", "ghost-session", errNoUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: p.a.sessionCookie(), Value: tt.cookie})
			}
			s, u, err := p.a.loadSession(ctx, r)
			if tt.err != nil {
				assert.ErrorIs(t, err, tt.err)
				assert.Nil(t, u)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, want.ID, s.UserID)
			assert.Equal(t, stageFull, s.Stage)
			assert.Equal(t, want, u, "the user and organisation as userBy reads them")
		})
	}

	// The route check ends the session whose user is gone.
	r := httptest.NewRequest(http.MethodGet, "/clients", nil)
	r.AddCookie(&http.Cookie{Name: p.a.sessionCookie(), Value: "ghost-session"})
	w := httptest.NewRecorder()
	p.a.need(fullStage, anyRole, func(http.ResponseWriter, *http.Request) { t.Error("the handler ran") }).ServeHTTP(w, r)
	assert.Equal(t, http.StatusSeeOther, w.Code)
	assert.Equal(t, "/login", w.Header().Get("Location"))
	var n int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM sessions WHERE id_hash = $1`, p.a.hashSessionID("ghost-session")).Scan(&n))
	assert.Zero(t, n, "the session is deleted")
}

package main

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSessionCacheRevocation: with the session check's cache on (SQLite),
// every way a session, its user or the organisation is ended takes effect
// on the very next request, also for a copy of the cookie kept by an
// attacker; and the cache is used in between.
func TestSessionCacheRevocation(t *testing.T) {
	p := newTestPortal(t)
	require.NotNil(t, p.a.sessionCache, "SQLite: the cache is on")
	ctx := context.Background()
	u, err := p.a.userBy(ctx, "username", "jdevries")
	require.NoError(t, err)
	exec := func(q string, args ...any) func(t *testing.T, b *browser) {
		return func(t *testing.T, b *browser) {
			_, err := p.a.db.ExecContext(ctx, q, args...)
			require.NoError(t, err)
		}
	}
	tests := []struct {
		name   string
		revoke func(t *testing.T, b *browser)
	}{
		{"logout", func(t *testing.T, b *browser) {
			status, _ := b.post("/logout", nil)
			require.Equal(t, http.StatusOK, status)
		}},
		{"session deleted", exec(`DELETE FROM sessions`)},
		{"user deactivated in a transaction", func(t *testing.T, b *browser) {
			tx, err := p.a.db.BeginTx(ctx, nil)
			require.NoError(t, err)
			_, err = tx.ExecContext(ctx, `UPDATE users SET deactivated_at = $1 WHERE username = 'jdevries'`, usec(p.clock.Now()))
			require.NoError(t, err)
			require.NoError(t, tx.Commit())
		}},
		{"session deleted in a read-only transaction", func(t *testing.T, b *browser) {
			// SQLite lets a transaction begun read-only write.
			tx, err := p.a.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
			require.NoError(t, err)
			_, err = tx.ExecContext(ctx, `DELETE FROM sessions`)
			require.NoError(t, err)
			require.NoError(t, tx.Commit())
		}},
		{"organisation suspended", exec(`UPDATE Organisations SET suspended_at = $1, suspended_reason = 'test' WHERE id = (SELECT org_id FROM users WHERE username = 'jdevries')`, usec(p.clock.Now()))},
		{"prepared statement", func(t *testing.T, b *browser) {
			st, err := p.a.db.PrepareContext(ctx, `DELETE FROM sessions`)
			require.NoError(t, err)
			defer st.Close()
			_, err = st.ExecContext(ctx)
			require.NoError(t, err)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each case on the demo's state: undo what the last one did.
			_, err := p.a.db.ExecContext(ctx, `UPDATE users SET deactivated_at = 0 WHERE username = 'jdevries'`)
			require.NoError(t, err)
			_, err = p.a.db.ExecContext(ctx, `UPDATE organisations SET suspended_at = 0, suspended_reason = '' WHERE id = (SELECT org_id FROM users WHERE username = 'jdevries')`)
			require.NoError(t, err)
			// A logged-in session (as after the code), in two browsers:
			// the user's and an attacker's copy of the cookie.
			rec := httptest.NewRecorder()
			require.NoError(t, p.a.startSession(ctx, rec, httptest.NewRequest(http.MethodGet, "/", nil), u.ID, stageFull, ""))
			base, _ := url.Parse(p.srv.URL)
			withCookie := func() *browser {
				jar, _ := cookiejar.New(nil)
				jar.SetCookies(base, rec.Result().Cookies())
				return &browser{p: p, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
			}
			b, thief := withCookie(), withCookie()

			for range 2 {
				status, body := thief.get("/clients")
				require.Equal(t, http.StatusOK, status)
				require.Contains(t, body, `id="whoami"`)
			}
			cookie := b.c.Jar.Cookies(base)[0]
			_, _, cached := p.a.sessionCache.get(p.a.hashSessionID(cookie.Value))
			require.True(t, cached, "the session came from the cache")

			tt.revoke(t, b)
			status, body := thief.get("/clients")
			assert.Equal(t, http.StatusOK, status)
			assert.NotContains(t, body, `id="whoami"`, "the next request is refused")
			assert.Contains(t, body, `action="/login"`, "and sent to the login")
		})
	}
}

// TestSessionCacheEntries: an entry is used only in the generation it was
// read in, for at most sessionCacheTTL, not when a write began meanwhile,
// and never shared with the request that changes its user.
func TestSessionCacheEntries(t *testing.T) {
	var gen uint64
	c := &sessionCache{gen: func() uint64 { return gen }}
	s := session{IDHash: []byte("h"), UserID: "u1", Stage: stageFull}
	u := &user{ID: "u1", Name: "Jan", Org: &organisation{ID: "o1", Name: "Zorg"}, notices: []string{"x"}}

	c.put(gen, time.Now(), s, u)
	gs, gu, ok := c.get(s.IDHash)
	require.True(t, ok)
	assert.Equal(t, s, gs)
	assert.Equal(t, "Jan", gu.Name)
	assert.Equal(t, "Zorg", gu.Org.Name)
	assert.Empty(t, gu.notices, "a request's notices are its own")
	gu.Name, gu.Org.Name = "changed", "changed"
	_, again, _ := c.get(s.IDHash)
	assert.Equal(t, "Jan", again.Name, "each request gets its own copy")
	assert.Equal(t, "Zorg", again.Org.Name)

	gen++
	_, _, ok = c.get(s.IDHash)
	assert.False(t, ok, "a write to the session tables ends every entry")

	c.put(gen-1, time.Now(), s, u)
	_, _, ok = c.get(s.IDHash)
	assert.False(t, ok, "read before a write that began meanwhile: not kept")

	c.put(gen, time.Now().Add(-sessionCacheTTL), s, u)
	_, _, ok = c.get(s.IDHash)
	assert.False(t, ok, "older than sessionCacheTTL")

	var off *sessionCache
	off.put(0, time.Now(), s, u)
	_, _, ok = off.get(s.IDHash)
	assert.False(t, ok, "no cache (PostgreSQL)")
}

// TestRevocationUnderConcurrency: while copies of a session's cookie keep
// requesting pages and the API at once, so that the cache is filled and
// read all the time, a logout ends the session for every request that
// begins after it returned; none slips through on an entry read before.
// (TestSessionCacheRevocation revokes between two requests, one at a time.)
func TestRevocationUnderConcurrency(t *testing.T) {
	p := newTestPortal(t)
	owner := p.browser()
	owner.login("jdevries")
	base, _ := url.Parse(p.srv.URL)
	cookie := owner.c.Jar.Cookies(base)[0]
	var loggedOut atomic.Bool
	var before, after, late atomic.Int32
	var wg sync.WaitGroup
	for i := range 2 {
		path := []string{"/api/me", "/clients"}[i]
		wg.Go(func() {
			raw := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			for after.Load() < 40 {
				out := loggedOut.Load() // before the request begins
				req, _ := http.NewRequest(http.MethodGet, p.srv.URL+path, nil)
				req.AddCookie(cookie)
				resp, err := raw.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				switch {
				case !out:
					before.Add(1)
				case resp.StatusCode == http.StatusOK:
					late.Add(1)
					after.Add(1)
				default:
					after.Add(1)
					assert.Equal(t, "/login", resp.Header.Get("Location"))
				}
			}
		})
	}
	cached := false
	for deadline := time.Now().Add(10 * time.Second); (before.Load() < 20 || !cached) && time.Now().Before(deadline); {
		_, _, cached = p.a.sessionCache.get(p.a.hashSessionID(cookie.Value))
		time.Sleep(time.Millisecond)
	}
	status, _ := owner.post("/logout", nil)
	require.Equal(t, http.StatusOK, status)
	loggedOut.Store(true)
	wg.Wait()
	assert.True(t, cached, "the cache held the session before the logout")
	assert.Zero(t, late.Load(), "requests let in after the logout")
}

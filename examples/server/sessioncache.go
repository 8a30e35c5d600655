package main

import (
	"sync"
	"time"
)

// sessionCache keeps, on SQLite, what the session check read for a session:
// the session, its user and the organisation. Reading them was a fifth of
// a client lookup's CPU under load (issue 13), for rows that change a few
// times a day.
//
// Nothing is weakened by it:
//   - Every write of this process to the sessions, users or organisations
//     tables (a logout, an expiry, a password change, a suspension, a
//     deactivated user) starts a new generation once it is committed
//     (sqliteConnector.sessionGen), and an entry is used only in the
//     generation it was read in. A logout therefore ends the session for the
//     very next request, as without the cache.
//   - An entry read while such a write was under way is not kept: the
//     generation is taken before the read and checked after it.
//   - Expiry (idle and absolute), the organisation's access and the user's
//     password status are decided on every request from the cached rows and
//     the clock, as from rows just read.
//   - SQLite is one server process per database file (several instances
//     share a PostgreSQL database, where there is no cache). A change made
//     to the file by another process, such as the sqlite3 shell, is not
//     seen by the generation: an entry is therefore used for at most
//     sessionCacheTTL after it was read.
type sessionCache struct {
	gen func() uint64 // nil: no cache

	mu      sync.Mutex
	entries map[string]cachedSession // by the session id's hash
}

// sessionCacheTTL bounds how long an entry is used: the longest a change
// made to the database file by another process goes unseen.
const sessionCacheTTL = time.Second

// sessionCacheSize bounds the entries kept; when full, the cache starts
// empty again.
const sessionCacheSize = 4096

type cachedSession struct {
	gen  uint64
	read time.Time // monotonic
	s    session
	u    user
	o    organisation
}

// get returns the session with the id hash and a copy of its user and
// organisation, if an entry of the current generation, read less than
// sessionCacheTTL ago, has them.
func (c *sessionCache) get(hash []byte) (session, *user, bool) {
	if c == nil || c.gen == nil {
		return session{}, nil, false
	}
	g := c.gen()
	c.mu.Lock()
	e, ok := c.entries[string(hash)]
	c.mu.Unlock()
	if !ok || e.gen != g || time.Since(e.read) >= sessionCacheTTL {
		return session{}, nil, false
	}
	// Copies: the request may add notices to its user.
	u, o := e.u, e.o
	u.Org = &o
	return e.s, &u, true
}

// generation returns the generation to read a session in, for put.
func (c *sessionCache) generation() uint64 {
	if c == nil || c.gen == nil {
		return 0
	}
	return c.gen()
}

// put keeps s and u, read at the time read (time.Now) in generation g, unless a write
// to the session tables has begun a new generation since.
func (c *sessionCache) put(g uint64, read time.Time, s session, u *user) {
	if c == nil || c.gen == nil || u == nil || u.Org == nil {
		return
	}
	e := cachedSession{gen: g, read: read, s: s, u: *u, o: *u.Org}
	e.u.Org, e.u.notices = nil, nil
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen() != g {
		return // written meanwhile: what was read may be stale
	}
	if c.entries == nil || len(c.entries) >= sessionCacheSize {
		c.entries = make(map[string]cachedSession)
	}
	c.entries[string(s.IDHash)] = e
}

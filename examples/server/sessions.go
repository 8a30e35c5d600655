package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"time"
)

// A session is server-side: the cookie holds a random 256-bit id, the
// database only its HMAC under the session key, so a copy of the database
// cannot be replayed as cookies. Sessions live in the database so that several instances behind a
// load balancer share them.
type session struct {
	IDHash    []byte
	UserID    string
	Stage     stage  // how far the login got
	AttemptID string // the login attempt a verification code is bound to
	Created   time.Time
	LastSeen  time.Time
}

// stage is how far a login has got.
type stage string

const (
	stageCode   stage = "code"   // password accepted, verification code pending
	stageChange stage = "change" // logged in, but must change the password first
	stageFull   stage = "full"   // logged in
)

// The session cookie's name. Over HTTPS it carries the __Host- prefix: the
// browser then accepts it only Secure, for the whole site and from the
// site itself, so that a sibling domain cannot plant a session id.
const (
	sessionCookie       = "zorgkit_session"
	secureSessionCookie = "__Host-zorgkit_session"
)

func (a *app) sessionCookie() string {
	if a.secureCookies() {
		return secureSessionCookie
	}
	return sessionCookie
}

// newSessionID returns a fresh random session id and its hash.
func (a *app) newSessionID() (id string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	id = base64.RawURLEncoding.EncodeToString(b)
	return id, a.hashSessionID(id)
}

func (a *app) hashSessionID(id string) []byte {
	m := hmac.New(sha256.New, a.keys.Session)
	m.Write([]byte(id))
	return m.Sum(nil)
}

// startSession replaces any session of the request by a new one with a new
// id: at login and at every change of privilege, so that an id planted
// before cannot ride along (session fixation).
func (a *app) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, userID string, st stage, attemptID string) error {
	return a.newSession(ctx, w, r, userID, st, attemptID, a.now())
}

// renewSession replaces the request's session (that of ctx) by one at stage
// st with a new id, at a change of privilege within a login. It keeps the
// session's creation time: else renewing it (a password change, an
// authenticator enrolled) would start its absolute lifetime again.
func (a *app) renewSession(ctx context.Context, w http.ResponseWriter, r *http.Request, st stage) error {
	s := sessionFrom(ctx)
	return a.newSession(ctx, w, r, s.UserID, st, "", s.Created)
}

// endSessionsIn ends every session of the user, on every device and at
// every stage of a login, through db (a transaction, with the change of
// password that requires it): whoever knew the old password is out.
func endSessionsIn(ctx context.Context, db execer, userID string) error {
	_, err := db.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
	return err
}

// newSession is startSession with the session's creation time.
func (a *app) newSession(ctx context.Context, w http.ResponseWriter, r *http.Request, userID string, st stage, attemptID string, created time.Time) error {
	a.endSession(ctx, w, r)
	id, hash := a.newSessionID()
	now := a.now()
	if _, err := a.db.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, stage, attempt_id, created_at, last_seen_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, hash, userID, string(st), attemptID, usec(created), usec(now)); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name:     a.sessionCookie(),
		Value:    id,
		Path:     "/",
		HttpOnly: true,
		Secure:   a.secureCookies(),
		SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// endSession deletes the request's session, if any, and its cookie.
func (a *app) endSession(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(a.sessionCookie())
	if err != nil {
		return
	}
	if _, err := a.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, a.hashSessionID(c.Value)); err != nil {
		a.log.ErrorContext(ctx, "end session", "err", err)
	}
	http.SetCookie(w, &http.Cookie{Name: a.sessionCookie(), Path: "/", MaxAge: -1, HttpOnly: true, Secure: a.secureCookies(), SameSite: http.SameSiteLaxMode})
}

// errNoUser: the request's session belongs to a user who no longer
// exists. The caller ends the session.
var errNoUser = errors.New("the session's user no longer exists")

// loadSession returns the request's live session and its user with the
// organisation, read in one query: it runs on every request. It returns
// errNotFound when there is no live session, and errNoUser for a session
// whose user is gone. A session past its idle or absolute timeout is
// deleted.
func (a *app) loadSession(ctx context.Context, r *http.Request) (session, *user, error) {
	c, err := r.Cookie(a.sessionCookie())
	if err != nil {
		return session{}, nil, errNotFound
	}
	hash := a.hashSessionID(c.Value)
	s, u, ok := a.sessionCache.get(hash)
	if !ok {
		if s, u, err = a.readSession(ctx, hash); err != nil {
			return session{}, nil, err
		}
	}
	now := a.now()
	if now.Sub(s.LastSeen) > a.cfg.IdleTimeout || now.Sub(s.Created) > a.cfg.MaxSession {
		_, _ = a.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, s.IDHash)
		return session{}, nil, errNotFound
	}
	// Touch at most once a minute: a write per request would serialise
	// every page view on SQLite.
	if now.Sub(s.LastSeen) > time.Minute {
		if _, err := a.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2`, usec(now), s.IDHash); err != nil {
			return session{}, nil, err
		}
		s.LastSeen = now
	}
	return s, u, nil
}

// readSession reads the session with the id hash, its user and the
// organisation from the database, and keeps them in the session cache.
func (a *app) readSession(ctx context.Context, hash []byte) (session, *user, error) {
	gen, read := a.sessionCache.generation(), time.Now()
	s := session{IDHash: hash}
	var st string
	var created, seen int64
	row := a.db.QueryRowContext(ctx, `SELECT s.user_id, s.stage, s.attempt_id, s.created_at, s.last_seen_at, `+userOrgColumns+`
		FROM sessions s JOIN users u ON u.id = s.user_id JOIN organisations o ON o.id = u.org_id WHERE s.id_hash = $1`, s.IDHash)
	u, err := scanUserOrg(scanFunc(func(dest ...any) error {
		return row.Scan(append([]any{&s.UserID, &st, &s.AttemptID, &created, &seen}, dest...)...)
	}))
	if errors.Is(err, errNotFound) {
		// No session, or one without its user: only the rare second
		// case costs a second read.
		var n int
		if err := a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE id_hash = $1`, s.IDHash).Scan(&n); err != nil {
			return session{}, nil, err
		}
		if n > 0 {
			return session{}, nil, errNoUser
		}
		return session{}, nil, errNotFound
	}
	if err != nil {
		return session{}, nil, err
	}
	s.Stage, s.Created, s.LastSeen = stage(st), fromUsec(created), fromUsec(seen)
	a.sessionCache.put(gen, read, s, u)
	return s, u, nil
}

// purgeSessions deletes the sessions past their idle or absolute timeout
// that nobody came back to (a login abandoned at the code, a browser closed
// without logging out): loadSession deletes only those it is shown again.
// A session says who logged in when; it is kept no longer than it works.
func (a *app) purgeSessions(ctx context.Context) error {
	now := a.now()
	_, err := a.db.ExecContext(ctx, `DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2`,
		usec(now.Add(-a.cfg.IdleTimeout)), usec(now.Add(-a.cfg.MaxSession)))
	return err
}

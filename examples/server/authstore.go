package main

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/zorgkit/zorgkit/password/otp"
	"github.com/zorgkit/zorgkit/password/reset"
	"github.com/zorgkit/zorgkit/password/throttle"
)

// The stores of the login's state, in the database, so that every server
// instance sees the same one-time passwords, reset tokens and throttling
// counters. Each implements the store interface of its package; the
// packages' conformance tests (otptest, resettest, throttletest) check them.
type (
	codeStore     struct{ db *sql.DB }
	resetStore    struct{ db *sql.DB }
	throttleStore struct{ db *sql.DB }
)

var (
	_ otp.Store      = codeStore{}
	_ reset.Store    = resetStore{}
	_ throttle.Store = throttleStore{}
)

// Replace stores c unless the account's current one-time password was
// issued after notBefore (the resend cooldown).
func (s codeStore) Replace(ctx context.Context, c otp.Challenge, notBefore time.Time) (otp.Challenge, bool, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO login_codes (account, attempt, mac, issued_at, expires_at, attempts, used_at)
		VALUES ($1, $2, $3, $4, $5, 0, 0)
		ON CONFLICT (account) DO UPDATE SET attempt = excluded.attempt, mac = excluded.mac,
			issued_at = excluded.issued_at, expires_at = excluded.expires_at, attempts = 0, used_at = 0
		WHERE login_codes.issued_at <= $6`,
		c.Account, c.Attempt, c.MAC, usec(c.Issued), usec(c.Expires), usec(notBefore))
	if err != nil {
		return otp.Challenge{}, false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return otp.Challenge{}, false, err
	}
	if n == 1 {
		return c, true, nil
	}
	cur, err := s.challenge(ctx, c.Account)
	return cur, false, err
}

// CountAttempt counts an entry before the one-time password is checked.
func (s codeStore) CountAttempt(ctx context.Context, account, attempt string, now time.Time, max int) (otp.Challenge, bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE login_codes SET attempts = attempts + 1
		WHERE account = $1 AND attempt = $2 AND used_at = 0 AND expires_at > $3 AND attempts < $4`,
		account, attempt, usec(now), max)
	if err != nil {
		return otp.Challenge{}, false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return otp.Challenge{}, false, err
	}
	c, err := s.challenge(ctx, account)
	if errors.Is(err, errNotFound) || (err == nil && c.Attempt != attempt) {
		return otp.Challenge{}, false, otp.ErrNotIssued
	}
	return c, n == 1, err
}

// Consume marks the one-time password used, once.
func (s codeStore) Consume(ctx context.Context, account, attempt string, now time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE login_codes SET used_at = $3 WHERE account = $1 AND attempt = $2 AND used_at = 0`,
		account, attempt, usec(now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (s codeStore) challenge(ctx context.Context, account string) (otp.Challenge, error) {
	c := otp.Challenge{Account: account}
	var issued, expires, used int64
	err := s.db.QueryRowContext(ctx, `SELECT attempt, mac, issued_at, expires_at, attempts, used_at FROM login_codes WHERE account = $1`, account).
		Scan(&c.Attempt, &c.MAC, &issued, &expires, &c.Attempts, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return otp.Challenge{}, errNotFound
	}
	c.Issued, c.Expires, c.Used = fromUsec(issued), fromUsec(expires), fromUsec(used)
	return c, err
}

// Put stores t as the account's only reset token.
func (s resetStore) Put(ctx context.Context, t reset.Token) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO reset_tokens (account, hash, created_at, expires_at, used_at)
		VALUES ($1, $2, $3, $4, 0)
		ON CONFLICT (account) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at,
			expires_at = excluded.expires_at, used_at = 0`,
		t.Account, t.Hash[:], usec(t.Created), usec(t.Expires))
	return err
}

// Consume marks the token used, once, if it has not expired.
func (s resetStore) Consume(ctx context.Context, hash [32]byte, now time.Time) (reset.Token, error) {
	t := reset.Token{Hash: hash, Used: now}
	var created, expires int64
	err := s.db.QueryRowContext(ctx, `UPDATE reset_tokens SET used_at = $2
		WHERE hash = $1 AND used_at = 0 AND expires_at > $2 RETURNING account, created_at, expires_at`, hash[:], usec(now)).
		Scan(&t.Account, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return reset.Token{}, reset.ErrInvalid
	}
	if err != nil {
		return reset.Token{}, err
	}
	t.Created, t.Expires = fromUsec(created), fromUsec(expires)
	return t, nil
}

// Delete removes every token of the account.
func (s resetStore) Delete(ctx context.Context, account string) error {
	return deleteResetTokens(ctx, s.db, account)
}

// deleteResetTokens is Delete through db, which may be a transaction: a
// password change revokes the links in the transaction that stores it.
func deleteResetTokens(ctx context.Context, db execer, account string) error {
	_, err := db.ExecContext(ctx, `DELETE FROM reset_tokens WHERE account = $1`, account)
	return err
}

// Get returns the throttling state of key.
func (s throttleStore) Get(ctx context.Context, key string) (throttle.State, error) {
	var st throttle.State
	var last int64
	err := s.db.QueryRowContext(ctx, `SELECT failures, last_failure FROM throttle WHERE key = $1`, key).Scan(&st.Failures, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return throttle.State{}, nil
	}
	st.Last = fromUsec(last)
	return st, err
}

// Update applies f to the state of key in one transaction.
func (s throttleStore) Update(ctx context.Context, key string, f func(throttle.State) (throttle.State, error)) (throttle.State, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return throttle.State{}, err
	}
	defer tx.Rollback()
	// Make sure the row exists, then lock it: SQLite's immediate
	// transactions already hold the write lock; PostgreSQL needs the
	// UPDATE to lock the row before it is read.
	if _, err := tx.ExecContext(ctx, `INSERT INTO throttle (key, failures, last_failure) VALUES ($1, 0, 0) ON CONFLICT (key) DO NOTHING`, key); err != nil {
		return throttle.State{}, err
	}
	var st throttle.State
	var last int64
	if err := tx.QueryRowContext(ctx, `UPDATE throttle SET failures = failures WHERE key = $1 RETURNING failures, last_failure`, key).
		Scan(&st.Failures, &last); err != nil {
		return throttle.State{}, err
	}
	st.Last = fromUsec(last)
	next, err := f(st)
	if err != nil {
		return st, err
	}
	if next == (throttle.State{}) {
		_, err = tx.ExecContext(ctx, `DELETE FROM throttle WHERE key = $1`, key)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE throttle SET failures = $2, last_failure = $3 WHERE key = $1`, key, next.Failures, usec(next.Last))
	}
	if err != nil {
		return st, err
	}
	return next, tx.Commit()
}

// Package throttle slows down password guessing: it counts failed attempts
// per key, such as an account or a source address, and makes a key wait,
// longer after every further failure, once it has had too many.
//
// # Two kinds of key
//
// A login is throttled under two keys, with different rules ([Accounts] and
// [Sources]):
//
//   - The account key stops the guessing of one account's password from many
//     addresses. Its attempts count as failures when they begin
//     ([Throttle.Attempt]) and are forgiven when the whole login succeeds
//     ([Throttle.Reset]): concurrent guesses cannot slip past the count, and
//     a crash in between errs on the safe side. Use the key of the submitted
//     username even if no such account exists, so that throttling does not
//     reveal which accounts exist. After 100 consecutive failures the account
//     is locked until an administrator (or a password reset) resets it, the
//     most NIST SP 800-63B-4 §3.2.2 allows.
//   - The source key stops one address from trying a few passwords on many
//     accounts. Many people may share one address (an office behind one
//     router, a care home's guest network), so it counts only failed
//     attempts, after the fact ([Throttle.Check] before, [Throttle.Fail]
//     after a wrong password): any number of correct logins pass, also at
//     the same moment. Its failures leak away, one per minute, so that an
//     office's typing errors never add up, while a guessing attack that makes
//     more than a few failures a minute soon waits, at most 15 minutes a
//     time, and keeps waiting while it goes on. A success does not clear it,
//     so that an attacker cannot clear the count by logging in to an account
//     of their own, and it never locks, so that nobody can lock an office
//     out. While a source waits, correct passwords from it wait too: that is
//     the price of stopping the attack, and it falls only on an address that
//     is making many failures a minute. Each account key still applies.
//
// Throttling keys on the address the request comes from; behind a reverse
// proxy that is the proxy's, unless the application takes the client's
// address from a header set by a proxy it trusts.
//
// # State
//
// A [Store] keeps a [State] per key, typically in a SQL database shared by
// every server instance ([Store] shows the SQL). [MemoryStore] is for a
// single process and tests; package throttletest has a conformance test for
// other implementations. Nothing starts a timer: waits are computed from
// timestamps, with the clock of [Config].Now.
package throttle

import (
	"context"
	"errors"
	"strconv"
	"time"

	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/password/internal/i18n"
)

// State is the record of failed attempts of one key. The zero value means no
// failures.
type State struct {
	Failures int       // failed (or unfinished) attempts, less those that leaked away
	Last     time.Time // when the latest of them began
}

// Store keeps a [State] per key, for [Throttle]. Several server instances
// may share one store, such as a table in a SQL database.
//
// Implementations must be safe for concurrent use. Update must be atomic:
// no other Update of the same key may interleave between reading the state
// and writing f's result. In SQL, in one transaction:
//
//	SELECT failures, last_at FROM login_throttle WHERE key = $1 FOR UPDATE  -- SQLite: BEGIN IMMEDIATE
//	-- apply f; on error ROLLBACK
//	INSERT INTO login_throttle (key, failures, last_at) VALUES ($1, $2, $3)
//	ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_at = excluded.last_at
//	-- or, for the zero state: DELETE FROM login_throttle WHERE key = $1
//
// Package throttletest has a conformance test.
type Store interface {
	// Get returns the state of key; the zero state if it has none.
	Get(ctx context.Context, key string) (State, error)

	// Update applies f to the state of key and stores the result, unless f
	// returns an error, which Update then returns with the state unchanged.
	// A zero result may be stored by deleting the record.
	Update(ctx context.Context, key string, f func(State) (State, error)) (State, error)
}

// Config configures a [Throttle]. Zero fields other than Store take the
// values of [Accounts].
type Config struct {
	// Store keeps the counts. It is required: a throttle whose counts live
	// in one process's memory does not stop an attack spread over several
	// instances; choose [NewMemoryStore] explicitly for one process.
	Store Store

	// FreeFailures is the number of failures without a wait: 4.
	FreeFailures int

	// BaseDelay is the wait after the first failure beyond FreeFailures,
	// doubling with every further failure up to MaxDelay: 30 seconds and
	// 15 minutes.
	BaseDelay, MaxDelay time.Duration

	// Lockout is the number of failures that lock the key until
	// [Throttle.Reset]: 100. Negative means never.
	Lockout int

	// Leak is how long it takes for one failure to be forgotten, for keys
	// that are never reset by a success (source addresses): the count
	// drops by one for every Leak since the last failure. Zero means
	// failures are never forgotten, only reset.
	Leak time.Duration

	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Accounts returns the configuration for account keys: 4 free failures,
// then a wait of 30 seconds doubling up to 15 minutes, and a lock after 100
// consecutive failures. With it, the 5th consecutive failure imposes 30 s,
// the 6th 1 minute, …, the 10th and later 15 minutes.
func Accounts(s Store) Config {
	return Config{Store: s, FreeFailures: 4, BaseDelay: 30 * time.Second, MaxDelay: 15 * time.Minute, Lockout: 100}
}

// Sources returns the configuration for source addresses: 20 free
// failures, one of which leaks away every minute; beyond them a wait of 30
// seconds doubling up to 15 minutes; never a lock (see the package
// documentation).
func Sources(s Store) Config {
	return Config{Store: s, FreeFailures: 20, BaseDelay: 30 * time.Second, MaxDelay: 15 * time.Minute, Lockout: -1, Leak: time.Minute}
}

// Throttle counts failed attempts per key and refuses attempts that come
// too soon. Build it with [New]; it is safe for concurrent use.
type Throttle struct {
	c Config
}

// New returns a throttle with configuration c, or an error if c has no
// Store or a negative or inconsistent setting.
func New(c Config) (*Throttle, error) {
	def := Accounts(c.Store)
	switch {
	case c.Store == nil:
		return nil, errors.New("throttle: Config.Store is required: a shared store, or NewMemoryStore for one process")
	case c.FreeFailures < 0 || c.BaseDelay < 0 || c.MaxDelay < 0 || c.Leak < 0:
		return nil, errors.New("throttle: Config.FreeFailures, BaseDelay, MaxDelay and Leak must not be negative")
	}
	if c.FreeFailures == 0 {
		c.FreeFailures = def.FreeFailures
	}
	if c.BaseDelay == 0 {
		c.BaseDelay = def.BaseDelay
	}
	if c.MaxDelay == 0 {
		c.MaxDelay = def.MaxDelay
	}
	if c.Lockout == 0 {
		c.Lockout = def.Lockout
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	switch {
	case c.MaxDelay < c.BaseDelay:
		return nil, errors.New("throttle: Config.MaxDelay is shorter than BaseDelay")
	case c.Lockout > 0 && c.Lockout <= c.FreeFailures:
		return nil, errors.New("throttle: Config.Lockout must exceed FreeFailures")
	}
	return &Throttle{c: c}, nil
}

// Delay returns the wait imposed after the given number of failures: 0 up
// to FreeFailures, then BaseDelay, doubling, capped at MaxDelay.
func (t *Throttle) Delay(failures int) time.Duration {
	if failures <= t.c.FreeFailures {
		return 0
	}
	d := t.c.BaseDelay
	for i := t.c.FreeFailures + 1; i < failures && d < t.c.MaxDelay; i++ {
		d *= 2
	}
	return min(d, t.c.MaxDelay)
}

// Check returns nil if an attempt for key may begin now, or an [*Error] if
// not. It changes nothing: use it before an attempt that is counted only if
// it fails ([Throttle.Fail]), and to decide whether to show a form.
func (t *Throttle) Check(ctx context.Context, key string) error {
	s, err := t.c.Store.Get(ctx, key)
	if err != nil {
		return err
	}
	return t.refuse(s, t.c.Now())
}

// Attempt begins an attempt for key: it returns an [*Error] if the key must
// wait or is locked, and otherwise counts the attempt as a failure until
// [Throttle.Reset] forgives it.
func (t *Throttle) Attempt(ctx context.Context, key string) error {
	now := t.c.Now()
	_, err := t.c.Store.Update(ctx, key, func(s State) (State, error) {
		if err := t.refuse(s, now); err != nil {
			return s, err
		}
		return State{Failures: t.remaining(s, now) + 1, Last: now}, nil
	})
	return err
}

// Fail counts a failed attempt for key that was not counted when it began:
// a wrong password from a source that [Throttle.Check] let through.
func (t *Throttle) Fail(ctx context.Context, key string) error {
	now := t.c.Now()
	_, err := t.c.Store.Update(ctx, key, func(s State) (State, error) {
		return State{Failures: t.remaining(s, now) + 1, Last: now}, nil
	})
	return err
}

// Cancel withdraws one attempt for key that [Throttle.Attempt] counted but
// that was never decided: the password could not be checked, because the
// server was too busy to hash it or the request ended first. Nothing was
// learnt from it, so it should not count against the user. It does not
// undo a wait already begun by others' failures, and never goes below zero.
func (t *Throttle) Cancel(ctx context.Context, key string) error {
	now := t.c.Now()
	_, err := t.c.Store.Update(ctx, key, func(s State) (State, error) {
		n := t.remaining(s, now) - 1
		if n <= 0 {
			return State{}, nil
		}
		return State{Failures: n, Last: s.Last}, nil
	})
	return err
}

// Reset clears the failures of key, also of a locked one: after a
// successful login (with a second factor, only once that has succeeded too,
// or a correct password would wipe out the failures of the second step),
// after a password reset, or by an administrator.
func (t *Throttle) Reset(ctx context.Context, key string) error {
	_, err := t.c.Store.Update(ctx, key, func(State) (State, error) {
		return State{}, nil
	})
	return err
}

// remaining returns the failures of s that have not leaked away by now.
func (t *Throttle) remaining(s State, now time.Time) int {
	if t.c.Leak <= 0 || s.Failures == 0 || !now.After(s.Last) {
		return s.Failures
	}
	leaked := now.Sub(s.Last) / t.c.Leak
	if leaked >= time.Duration(s.Failures) {
		return 0
	}
	return s.Failures - int(leaked)
}

func (t *Throttle) refuse(s State, now time.Time) error {
	if t.c.Lockout > 0 && t.remaining(s, now) >= t.c.Lockout {
		return &Error{Failures: s.Failures}
	}
	if until := s.Last.Add(t.Delay(s.Failures)); now.Before(until) {
		return &Error{Failures: s.Failures, Wait: until.Sub(now)}
	}
	return nil
}

// ErrThrottled matches an [*Error]: too many failures, wait before the next
// attempt (or, if [ErrLocked] also matches, until the key is reset).
var ErrThrottled = errors.New("throttle: too many failed attempts: wait before trying again")

// ErrLocked matches an [*Error] of a key with so many failures that only
// [Throttle.Reset] unlocks it.
var ErrLocked = errors.New("throttle: too many failed attempts: locked until reset by an administrator")

// Error is the error of a refused attempt. It never names the key.
type Error struct {
	Failures int           // failures so far
	Wait     time.Duration // how long until the next attempt is allowed; zero when locked
}

// Error says how long to wait, or that the key is locked.
func (e *Error) Error() string {
	if e.Wait <= 0 {
		return ErrLocked.Error() + " (" + strconv.Itoa(e.Failures) + " failures)"
	}
	return ErrThrottled.Error() + " (" + e.Wait.Round(time.Second).String() + ")"
}

// Is reports whether target is ErrThrottled, or ErrLocked for a locked key.
func (e *Error) Is(target error) bool {
	return target == ErrThrottled || (target == ErrLocked && e.Wait <= 0)
}

// Message returns the message for the user, in Dutch (the default) or
// English: how long to wait, in whole seconds or minutes rounded up, or that
// logging in is blocked.
func (e *Error) Message(tag language.Tag) string {
	switch {
	case e.Wait <= 0:
		return messages.Sprintf(tag, keyLocked)
	case e.Wait > time.Minute:
		return messages.Sprintf(tag, keyWaitMinutes, i18n.CeilUnits(int64(e.Wait), int64(time.Minute)))
	}
	return messages.Sprintf(tag, keyWaitSeconds, i18n.CeilUnits(int64(e.Wait), int64(time.Second)))
}

const (
	keyWaitMinutes = "throttled_minutes"
	keyWaitSeconds = "throttled_seconds"
	keyLocked      = "locked"
)

var messages = i18n.New(func(c *i18n.Catalog) {
	c.SetPlural(keyWaitMinutes,
		[]any{"one", "Te veel mislukte pogingen. Probeer het over %d minuut opnieuw.",
			"other", "Te veel mislukte pogingen. Probeer het over %d minuten opnieuw."},
		[]any{"one", "Too many failed attempts. Try again in %d minute.",
			"other", "Too many failed attempts. Try again in %d minutes."})
	c.SetPlural(keyWaitSeconds,
		[]any{"one", "Te veel mislukte pogingen. Probeer het over %d seconde opnieuw.",
			"other", "Te veel mislukte pogingen. Probeer het over %d seconden opnieuw."},
		[]any{"one", "Too many failed attempts. Try again in %d second.",
			"other", "Too many failed attempts. Try again in %d seconds."})
	c.Set(keyLocked,
		"Te veel mislukte pogingen: inloggen is geblokkeerd. Neem contact op met uw beheerder.",
		"Too many failed attempts: logging in is blocked. Contact your administrator.")
})

package password

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"
)

// Defaults of [Throttle].
const (
	DefaultFreeFailures = 4
	DefaultBaseDelay    = 30 * time.Second
	DefaultMaxDelay     = 15 * time.Minute
	DefaultLockout      = 100
)

// ThrottleState is the record of consecutive failed attempts for one key,
// such as an account or a source address. The application stores it through a
// [ThrottleStore]; the zero value means no failures.
type ThrottleState struct {
	Failures int       // consecutive failed (or unfinished) attempts
	Last     time.Time // when the latest of them began
}

// ThrottleStore keeps a [ThrottleState] per key, for [Throttle]. Several
// server instances may share one store, such as a table in a SQL database.
//
// Implementations must be safe for concurrent use. Update must be atomic: no
// other Update of the same key may interleave between reading the state and
// writing f's result (in SQL: SELECT … FOR UPDATE in a transaction, or
// SQLite's BEGIN IMMEDIATE). Package passwordtest has a conformance test.
type ThrottleStore interface {
	// Get returns the state of key; the zero state if it has none.
	Get(ctx context.Context, key string) (ThrottleState, error)

	// Update applies f to the state of key and stores the result, unless
	// f returns an error, which Update then returns with the state
	// unchanged. A zero result may be stored by deleting the record.
	Update(ctx context.Context, key string, f func(ThrottleState) (ThrottleState, error)) (ThrottleState, error)
}

// ErrThrottled matches a [*ThrottleError]: too many consecutive failures,
// wait before the next attempt (or, if [ErrLocked] also matches, until an
// administrator resets the key).
var ErrThrottled = errors.New("password: too many failed attempts: wait before trying again")

// ErrLocked matches a [*ThrottleError] of a key with so many consecutive
// failures that only [Throttle.Reset] unlocks it.
var ErrLocked = errors.New("password: too many failed attempts: locked until reset by an administrator")

// ThrottleError is the error of a refused attempt. It never names the key.
type ThrottleError struct {
	Failures int       // consecutive failures so far
	Until    time.Time // when the next attempt is allowed; zero when locked
}

func (e *ThrottleError) Error() string {
	if e.Until.IsZero() {
		return ErrLocked.Error() + " (" + strconv.Itoa(e.Failures) + " failures)"
	}
	return ErrThrottled.Error() + " (until " + e.Until.UTC().Format(time.RFC3339) + ")"
}

// Is reports whether target is ErrThrottled, or ErrLocked for a locked key.
func (e *ThrottleError) Is(target error) bool {
	return target == ErrThrottled || (target == ErrLocked && e.Until.IsZero())
}

// Throttle slows down password guessing: after FreeFailures consecutive
// failures for a key, each further attempt must wait BaseDelay, doubling
// with every failure up to MaxDelay; after Lockout failures the key is locked
// until [Throttle.Reset]. A success resets the count. With the defaults: the
// 5th consecutive failure imposes 30 s, the 6th 1 minute, …, the 10th and
// later 15 minutes, and the 100th locks (NIST SP 800-63B-4 §3.2.2 allows
// at most 100).
//
// Throttle per account and, separately, per source address: the account
// key stops guessing one account's password from many addresses, the source
// key stops one address from trying a few passwords on many accounts. Use
// the key of the submitted username even if no such account exists, so that
// throttling does not reveal which accounts exist. Do not put secrets in keys.
//
// An attempt counts as a failure when it begins ([Throttle.Attempt]) and is
// forgiven by [Throttle.Success]: concurrent requests cannot slip past the
// count, and a crash in between errs on the safe side.
//
// The zero Throttle is ready to use, with the defaults, the system clock
// and an in-memory store of its own (fine for one process; give several
// instances a shared Store).
type Throttle struct {
	Store        ThrottleStore    // nil: a private MemoryStore
	Now          func() time.Time // nil: time.Now
	FreeFailures int              // failures without delay; 0: DefaultFreeFailures
	BaseDelay    time.Duration    // first delay; 0: DefaultBaseDelay
	MaxDelay     time.Duration    // cap of the delay; 0: DefaultMaxDelay
	Lockout      int              // failures that lock the key; 0: DefaultLockout

	once sync.Once
	mem  *MemoryStore
}

func (t *Throttle) store() ThrottleStore {
	if t.Store != nil {
		return t.Store
	}
	t.once.Do(func() { t.mem = new(MemoryStore) })
	return t.mem
}

func (t *Throttle) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// Delay returns the wait imposed after the given number of consecutive
// failures: 0 up to FreeFailures, then BaseDelay, doubling, capped at
// MaxDelay.
func (t *Throttle) Delay(failures int) time.Duration {
	free := orDefault(t.FreeFailures, DefaultFreeFailures)
	base := orDefault(t.BaseDelay, DefaultBaseDelay)
	capd := orDefault(t.MaxDelay, DefaultMaxDelay)
	if failures <= free {
		return 0
	}
	d := base
	for i := free + 1; i < failures && d < capd; i++ {
		d *= 2
	}
	return min(d, capd)
}

// Check returns the state of key and nil if an attempt may begin now, or a
// [*ThrottleError] if not. It changes nothing.
func (t *Throttle) Check(ctx context.Context, key string) error {
	s, err := t.store().Get(ctx, key)
	if err != nil {
		return err
	}
	return t.refuse(s, t.now())
}

// Attempt begins an attempt for key: it returns a [*ThrottleError] if the
// key must wait or is locked, and otherwise counts the attempt as a failure
// until [Throttle.Success] forgives it.
func (t *Throttle) Attempt(ctx context.Context, key string) error {
	now := t.now()
	_, err := t.store().Update(ctx, key, func(s ThrottleState) (ThrottleState, error) {
		if err := t.refuse(s, now); err != nil {
			return s, err
		}
		return ThrottleState{Failures: s.Failures + 1, Last: now}, nil
	})
	return err
}

// Success resets key after a successful attempt. With a second factor, call
// it for the account only after the second factor has succeeded too, or a
// correct password would wipe out the failures of the second step.
func (t *Throttle) Success(ctx context.Context, key string) error { return t.Reset(ctx, key) }

// Reset clears the failures of key, also of a locked one: the action of an
// administrator (or of [Throttle.Success]).
func (t *Throttle) Reset(ctx context.Context, key string) error {
	_, err := t.store().Update(ctx, key, func(ThrottleState) (ThrottleState, error) {
		return ThrottleState{}, nil
	})
	return err
}

func (t *Throttle) refuse(s ThrottleState, now time.Time) error {
	if s.Failures >= orDefault(t.Lockout, DefaultLockout) {
		return &ThrottleError{Failures: s.Failures}
	}
	if until := s.Last.Add(t.Delay(s.Failures)); now.Before(until) {
		return &ThrottleError{Failures: s.Failures, Until: until}
	}
	return nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

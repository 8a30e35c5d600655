// Package passwordtest checks implementations of the store interfaces of
// package password: [TestThrottleStore], [TestCodeStore] and [TestResetStore]
// are conformance tests that every implementation, in memory or in a SQL
// database, should pass, including the atomicity that the interfaces demand.
//
//	func TestSQLStore(t *testing.T) {
//		passwordtest.TestCodeStore(t, func(t testing.TB) password.CodeStore {
//			return sqlstore.New(mustOpenDB(t)) // a fresh, empty database
//		})
//	}
//
// The tests use times in UTC with whole seconds, which every SQL database
// stores exactly, and compare them with time.Time.Equal.
package passwordtest

import (
	"context"
	"crypto/sha256"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zorgkit/zorgkit/password"
)

// base is the time the tests start from.
var base = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// concurrency is the number of goroutines the atomicity tests run at once.
const concurrency = 20

// TestThrottleStore tests a [password.ThrottleStore]. newStore must return a
// new, empty store each time it is called.
func TestThrottleStore(t *testing.T, newStore func(testing.TB) password.ThrottleStore) {
	ctx := context.Background()
	inc := func(s password.ThrottleState) (password.ThrottleState, error) {
		return password.ThrottleState{Failures: s.Failures + 1, Last: base.Add(time.Duration(s.Failures) * time.Second)}, nil
	}

	t.Run("unknown key has the zero state", func(t *testing.T) {
		s := newStore(t)
		got, err := s.Get(ctx, "account:unknown")
		noError(t, err)
		if got != (password.ThrottleState{}) {
			t.Errorf("Get = %+v, want the zero state", got)
		}
	})

	t.Run("update stores and returns the new state", func(t *testing.T) {
		s := newStore(t)
		for i := 1; i <= 3; i++ {
			got, err := s.Update(ctx, "account:1", inc)
			noError(t, err)
			if got.Failures != i {
				t.Errorf("Update #%d returned %d failures", i, got.Failures)
			}
		}
		got, err := s.Get(ctx, "account:1")
		noError(t, err)
		if got.Failures != 3 || !got.Last.Equal(base.Add(2*time.Second)) {
			t.Errorf("Get = %+v, want 3 failures, last %v", got, base.Add(2*time.Second))
		}
		other, err := s.Get(ctx, "source:192.0.2.1")
		noError(t, err)
		if other.Failures != 0 {
			t.Errorf("another key has %d failures", other.Failures)
		}
	})

	t.Run("an error from f changes nothing", func(t *testing.T) {
		s := newStore(t)
		_, err := s.Update(ctx, "k", inc)
		noError(t, err)
		refused := &password.ThrottleError{Until: base}
		_, err = s.Update(ctx, "k", func(st password.ThrottleState) (password.ThrottleState, error) {
			return password.ThrottleState{Failures: 99}, refused
		})
		if err == nil || err.Error() != refused.Error() {
			t.Errorf("Update returned %v, want f's error", err)
		}
		got, _ := s.Get(ctx, "k")
		if got.Failures != 1 {
			t.Errorf("after a failed update: %d failures, want 1", got.Failures)
		}
	})

	t.Run("the zero state resets", func(t *testing.T) {
		s := newStore(t)
		_, _ = s.Update(ctx, "k", inc)
		_, err := s.Update(ctx, "k", func(password.ThrottleState) (password.ThrottleState, error) {
			return password.ThrottleState{}, nil
		})
		noError(t, err)
		got, _ := s.Get(ctx, "k")
		if got.Failures != 0 {
			t.Errorf("after reset: %d failures", got.Failures)
		}
		if got, _ := s.Update(ctx, "k", inc); got.Failures != 1 {
			t.Errorf("after reset, first failure counts as %d", got.Failures)
		}
	})

	t.Run("concurrent updates are atomic", func(t *testing.T) {
		s := newStore(t)
		const each = 10
		var wg sync.WaitGroup
		for range concurrency {
			wg.Go(func() {
				for range each {
					if _, err := s.Update(ctx, "k", inc); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		got, _ := s.Get(ctx, "k")
		if got.Failures != concurrency*each {
			t.Errorf("%d concurrent increments gave %d failures: updates interleaved", concurrency*each, got.Failures)
		}
	})
}

func challenge(account, attempt string, issued time.Time) password.Challenge {
	mac := sha256.Sum256([]byte(account + "|" + attempt))
	return password.Challenge{
		Account: account,
		Attempt: attempt,
		MAC:     mac[:],
		Issued:  issued,
		Expires: issued.Add(5 * time.Minute),
	}
}

// TestCodeStore tests a [password.CodeStore]. newStore must return a new,
// empty store each time it is called.
func TestCodeStore(t *testing.T, newStore func(testing.TB) password.CodeStore) {
	ctx := context.Background()
	const max = 5

	t.Run("replace stores the challenge", func(t *testing.T) {
		s := newStore(t)
		c := challenge("acct-1", "attempt-a", base)
		got, ok, err := s.Replace(ctx, c, base.Add(-30*time.Second))
		noError(t, err)
		if !ok || got.Attempt != "attempt-a" {
			t.Fatalf("Replace on an empty store = %+v, %v; want the new challenge, true", got, ok)
		}
		got, counted, err := s.CountAttempt(ctx, "acct-1", "attempt-a", base.Add(time.Minute), max)
		noError(t, err)
		if !counted || got.Attempts != 1 || string(got.MAC) != string(c.MAC) ||
			!got.Issued.Equal(c.Issued) || !got.Expires.Equal(c.Expires) || !got.Used.IsZero() {
			t.Errorf("CountAttempt = %+v, %v; want the stored challenge with 1 attempt", got, counted)
		}
	})

	t.Run("cooldown keeps the current challenge", func(t *testing.T) {
		s := newStore(t)
		_, _, err := s.Replace(ctx, challenge("acct-1", "attempt-a", base), base.Add(-30*time.Second))
		noError(t, err)
		now := base.Add(10 * time.Second)
		got, ok, err := s.Replace(ctx, challenge("acct-1", "attempt-b", now), now.Add(-30*time.Second))
		noError(t, err)
		if ok || got.Attempt != "attempt-a" || !got.Issued.Equal(base) {
			t.Errorf("Replace within the cooldown = %+v, %v; want the current challenge, false", got, ok)
		}
		if _, _, err := s.CountAttempt(ctx, "acct-1", "attempt-b", now, max); !errors.Is(err, password.ErrNoCode) {
			t.Errorf("the refused challenge was stored: CountAttempt error %v", err)
		}
	})

	t.Run("a new challenge replaces the old", func(t *testing.T) {
		s := newStore(t)
		_, _, _ = s.Replace(ctx, challenge("acct-1", "attempt-a", base), base.Add(-30*time.Second))
		_, _, _ = s.CountAttempt(ctx, "acct-1", "attempt-a", base, max)
		now := base.Add(time.Minute)
		_, ok, err := s.Replace(ctx, challenge("acct-1", "attempt-b", now), now.Add(-30*time.Second))
		noError(t, err)
		if !ok {
			t.Fatal("Replace after the cooldown did not replace")
		}
		if _, _, err := s.CountAttempt(ctx, "acct-1", "attempt-a", now, max); !errors.Is(err, password.ErrNoCode) {
			t.Errorf("old challenge still usable: CountAttempt error %v, want ErrNoCode", err)
		}
		got, counted, err := s.CountAttempt(ctx, "acct-1", "attempt-b", now, max)
		noError(t, err)
		if !counted || got.Attempts != 1 {
			t.Errorf("new challenge: %d attempts, counted %v; want 1, true (attempts start again)", got.Attempts, counted)
		}
	})

	t.Run("unknown account or attempt", func(t *testing.T) {
		s := newStore(t)
		_, _, _ = s.Replace(ctx, challenge("acct-1", "attempt-a", base), base)
		for _, k := range [][2]string{{"acct-2", "attempt-a"}, {"acct-1", "attempt-x"}} {
			if _, _, err := s.CountAttempt(ctx, k[0], k[1], base, max); !errors.Is(err, password.ErrNoCode) {
				t.Errorf("CountAttempt(%q, %q) error %v, want ErrNoCode", k[0], k[1], err)
			}
			if ok, err := s.Consume(ctx, k[0], k[1], base); ok || err != nil {
				t.Errorf("Consume(%q, %q) = %v, %v; want false, nil", k[0], k[1], ok, err)
			}
		}
	})

	t.Run("attempts stop at the maximum", func(t *testing.T) {
		s := newStore(t)
		_, _, _ = s.Replace(ctx, challenge("acct-1", "attempt-a", base), base)
		for i := 1; i <= max+2; i++ {
			got, counted, err := s.CountAttempt(ctx, "acct-1", "attempt-a", base, max)
			noError(t, err)
			if want := i <= max; counted != want || got.Attempts != min(i, max) {
				t.Errorf("attempt %d: counted %v with %d attempts; want %v with %d", i, counted, got.Attempts, want, min(i, max))
			}
		}
	})

	t.Run("expired challenges are not counted", func(t *testing.T) {
		s := newStore(t)
		c := challenge("acct-1", "attempt-a", base)
		_, _, _ = s.Replace(ctx, c, base)
		got, counted, err := s.CountAttempt(ctx, "acct-1", "attempt-a", c.Expires, max)
		noError(t, err)
		if counted || got.Attempts != 0 || !got.Expires.Equal(c.Expires) {
			t.Errorf("at expiry: counted %v, %d attempts; want false, 0, with the challenge returned", counted, got.Attempts)
		}
	})

	t.Run("consume works once", func(t *testing.T) {
		s := newStore(t)
		_, _, _ = s.Replace(ctx, challenge("acct-1", "attempt-a", base), base)
		now := base.Add(time.Minute)
		ok, err := s.Consume(ctx, "acct-1", "attempt-a", now)
		noError(t, err)
		if !ok {
			t.Fatal("first Consume = false")
		}
		if ok, _ := s.Consume(ctx, "acct-1", "attempt-a", now); ok {
			t.Error("second Consume = true")
		}
		got, counted, err := s.CountAttempt(ctx, "acct-1", "attempt-a", now, max)
		noError(t, err)
		if counted || !got.Used.Equal(now) {
			t.Errorf("after Consume: counted %v, used %v; want false, %v", counted, got.Used, now)
		}
	})

	t.Run("concurrent attempts are counted atomically", func(t *testing.T) {
		s := newStore(t)
		_, _, _ = s.Replace(ctx, challenge("acct-1", "attempt-a", base), base)
		var n atomic.Int32
		var wg sync.WaitGroup
		for range concurrency {
			wg.Go(func() {
				_, counted, err := s.CountAttempt(ctx, "acct-1", "attempt-a", base, max)
				if err != nil {
					t.Error(err)
				}
				if counted {
					n.Add(1)
				}
			})
		}
		wg.Wait()
		if n.Load() != max {
			t.Errorf("%d concurrent attempts, %d counted; want exactly %d", concurrency, n.Load(), max)
		}
	})

	t.Run("concurrent consumes: exactly one wins", func(t *testing.T) {
		s := newStore(t)
		_, _, _ = s.Replace(ctx, challenge("acct-1", "attempt-a", base), base)
		var n atomic.Int32
		var wg sync.WaitGroup
		for range concurrency {
			wg.Go(func() {
				ok, err := s.Consume(ctx, "acct-1", "attempt-a", base)
				if err != nil {
					t.Error(err)
				}
				if ok {
					n.Add(1)
				}
			})
		}
		wg.Wait()
		if n.Load() != 1 {
			t.Errorf("%d concurrent consumes succeeded; want exactly 1", n.Load())
		}
	})
}

func resetToken(account string, n int, created time.Time) password.ResetToken {
	return password.ResetToken{
		Account: account,
		Hash:    sha256.Sum256([]byte(account + "#" + strconv.Itoa(n))),
		Created: created,
		Expires: created.Add(time.Hour),
	}
}

// TestResetStore tests a [password.ResetStore]. newStore must return a new,
// empty store each time it is called.
func TestResetStore(t *testing.T, newStore func(testing.TB) password.ResetStore) {
	ctx := context.Background()

	t.Run("consume works once", func(t *testing.T) {
		s := newStore(t)
		tok := resetToken("acct-1", 1, base)
		noError(t, s.PutReset(ctx, tok))
		now := base.Add(10 * time.Minute)
		got, err := s.ConsumeReset(ctx, tok.Hash, now)
		noError(t, err)
		if got.Account != "acct-1" || !got.Created.Equal(tok.Created) || !got.Expires.Equal(tok.Expires) {
			t.Errorf("ConsumeReset = %+v, want %+v", got, tok)
		}
		if _, err := s.ConsumeReset(ctx, tok.Hash, now); !errors.Is(err, password.ErrResetInvalid) {
			t.Errorf("second ConsumeReset error %v, want ErrResetInvalid", err)
		}
	})

	t.Run("a newer token replaces the older", func(t *testing.T) {
		s := newStore(t)
		old := resetToken("acct-1", 1, base)
		newer := resetToken("acct-1", 2, base.Add(time.Minute))
		noError(t, s.PutReset(ctx, old))
		noError(t, s.PutReset(ctx, newer))
		now := base.Add(2 * time.Minute)
		if _, err := s.ConsumeReset(ctx, old.Hash, now); !errors.Is(err, password.ErrResetInvalid) {
			t.Errorf("the older token still works: error %v", err)
		}
		if _, err := s.ConsumeReset(ctx, newer.Hash, now); err != nil {
			t.Errorf("the newer token: %v", err)
		}
	})

	t.Run("tokens of other accounts stay", func(t *testing.T) {
		s := newStore(t)
		a, b := resetToken("acct-1", 1, base), resetToken("acct-2", 1, base)
		noError(t, s.PutReset(ctx, a))
		noError(t, s.PutReset(ctx, b))
		noError(t, s.DeleteReset(ctx, "acct-1"))
		if _, err := s.ConsumeReset(ctx, a.Hash, base); !errors.Is(err, password.ErrResetInvalid) {
			t.Errorf("deleted token: error %v, want ErrResetInvalid", err)
		}
		if _, err := s.ConsumeReset(ctx, b.Hash, base); err != nil {
			t.Errorf("token of another account: %v", err)
		}
		noError(t, s.DeleteReset(ctx, "acct-unknown"))
	})

	t.Run("expired and unknown tokens", func(t *testing.T) {
		s := newStore(t)
		tok := resetToken("acct-1", 1, base)
		noError(t, s.PutReset(ctx, tok))
		if _, err := s.ConsumeReset(ctx, tok.Hash, tok.Expires); !errors.Is(err, password.ErrResetInvalid) {
			t.Errorf("at expiry: error %v, want ErrResetInvalid", err)
		}
		if _, err := s.ConsumeReset(ctx, sha256.Sum256([]byte("unknown")), base); !errors.Is(err, password.ErrResetInvalid) {
			t.Errorf("unknown hash: error %v, want ErrResetInvalid", err)
		}
	})

	t.Run("concurrent consumes: exactly one wins", func(t *testing.T) {
		s := newStore(t)
		tok := resetToken("acct-1", 1, base)
		noError(t, s.PutReset(ctx, tok))
		var n atomic.Int32
		var wg sync.WaitGroup
		for range concurrency {
			wg.Go(func() {
				if _, err := s.ConsumeReset(ctx, tok.Hash, base); err == nil {
					n.Add(1)
				}
			})
		}
		wg.Wait()
		if n.Load() != 1 {
			t.Errorf("%d concurrent consumes succeeded; want exactly 1", n.Load())
		}
	})
}

func noError(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

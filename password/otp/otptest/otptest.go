// Package otptest checks implementations of [otp.Store]: [TestStore] is a
// conformance test that every implementation, in memory or in a SQL
// database, should pass, including the atomicity the interface demands.
//
//	func TestSQLStore(t *testing.T) {
//		otptest.TestStore(t, func(t testing.TB) otp.Store {
//			return sqlstore.New(mustOpenDB(t)) // a fresh, empty database
//		})
//	}
//
// The tests use times in UTC with whole seconds, which every SQL database
// stores exactly, and compare them with time.Time.Equal.
package otptest

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zorgkit/zorgkit/password/otp"
)

// base is the time the tests start from.
var base = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// concurrency is the number of goroutines the atomicity tests run at once.
const concurrency = 20

func challenge(account, attempt string, issued time.Time) otp.Challenge {
	mac := sha256.Sum256([]byte(account + "|" + attempt))
	return otp.Challenge{
		Account: account,
		Attempt: attempt,
		MAC:     mac[:],
		Issued:  issued,
		Expires: issued.Add(5 * time.Minute),
	}
}

// TestStore tests an [otp.Store]. newStore must return a new,
// empty store each time it is called.
func TestStore(t *testing.T, newStore func(testing.TB) otp.Store) {
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
		if _, _, err := s.CountAttempt(ctx, "acct-1", "attempt-b", now, max); !errors.Is(err, otp.ErrNotIssued) {
			t.Errorf("the refused challenge was stored: CountAttempt error %v", err)
		}
	})

	t.Run("a new challenge replaces the old", func(t *testing.T) {
		s := newStore(t)
		mustReplace(t, s, challenge("acct-1", "attempt-a", base), base.Add(-30*time.Second))
		_, _, err := s.CountAttempt(ctx, "acct-1", "attempt-a", base, max)
		noError(t, err)
		now := base.Add(time.Minute)
		_, ok, err := s.Replace(ctx, challenge("acct-1", "attempt-b", now), now.Add(-30*time.Second))
		noError(t, err)
		if !ok {
			t.Fatal("Replace after the cooldown did not replace")
		}
		if _, _, err := s.CountAttempt(ctx, "acct-1", "attempt-a", now, max); !errors.Is(err, otp.ErrNotIssued) {
			t.Errorf("old challenge still usable: CountAttempt error %v, want ErrNotIssued", err)
		}
		got, counted, err := s.CountAttempt(ctx, "acct-1", "attempt-b", now, max)
		noError(t, err)
		if !counted || got.Attempts != 1 {
			t.Errorf("new challenge: %d attempts, counted %v; want 1, true (attempts start again)", got.Attempts, counted)
		}
	})

	t.Run("unknown account or attempt", func(t *testing.T) {
		s := newStore(t)
		mustReplace(t, s, challenge("acct-1", "attempt-a", base), base)
		for _, k := range [][2]string{{"acct-2", "attempt-a"}, {"acct-1", "attempt-x"}} {
			if _, _, err := s.CountAttempt(ctx, k[0], k[1], base, max); !errors.Is(err, otp.ErrNotIssued) {
				t.Errorf("CountAttempt(%q, %q) error %v, want ErrNotIssued", k[0], k[1], err)
			}
			if ok, err := s.Consume(ctx, k[0], k[1], base); ok || err != nil {
				t.Errorf("Consume(%q, %q) = %v, %v; want false, nil", k[0], k[1], ok, err)
			}
		}
	})

	t.Run("attempts stop at the maximum", func(t *testing.T) {
		s := newStore(t)
		mustReplace(t, s, challenge("acct-1", "attempt-a", base), base)
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
		mustReplace(t, s, c, base)
		got, counted, err := s.CountAttempt(ctx, "acct-1", "attempt-a", c.Expires, max)
		noError(t, err)
		if counted || got.Attempts != 0 || !got.Expires.Equal(c.Expires) {
			t.Errorf("at expiry: counted %v, %d attempts; want false, 0, with the challenge returned", counted, got.Attempts)
		}
	})

	t.Run("consume works once", func(t *testing.T) {
		s := newStore(t)
		mustReplace(t, s, challenge("acct-1", "attempt-a", base), base)
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
		mustReplace(t, s, challenge("acct-1", "attempt-a", base), base)
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
		mustReplace(t, s, challenge("acct-1", "attempt-a", base), base)
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

func mustReplace(t testing.TB, s otp.Store, c otp.Challenge, notBefore time.Time) {
	t.Helper()
	got, ok, err := s.Replace(context.Background(), c, notBefore)
	noError(t, err)
	if !ok || got.Attempt != c.Attempt {
		t.Fatalf("Replace on a store without a current challenge = %+v, %v; want the new one, true", got, ok)
	}
}

func noError(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

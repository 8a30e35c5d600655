// Package throttletest checks implementations of [throttle.Store]:
// [TestStore] is a conformance test that every implementation, in memory or
// in a SQL database, should pass, including the atomicity the interface
// demands.
//
//	func TestSQLStore(t *testing.T) {
//		throttletest.TestStore(t, func(t testing.TB) throttle.Store {
//			return sqlstore.New(mustOpenDB(t)) // a fresh, empty database
//		})
//	}
//
// The tests use times in UTC with whole seconds, which every SQL database
// stores exactly, and compare them with time.Time.Equal.
package throttletest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/zorgkit/zorgkit/password/throttle"
)

// base is the time the tests start from.
var base = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// concurrency is the number of goroutines the atomicity test runs at once.
const concurrency = 20

// TestStore tests a [throttle.Store]. newStore must return a new, empty
// store each time it is called.
func TestStore(t *testing.T, newStore func(testing.TB) throttle.Store) {
	ctx := context.Background()
	inc := func(s throttle.State) (throttle.State, error) {
		return throttle.State{Failures: s.Failures + 1, Last: base.Add(time.Duration(s.Failures) * time.Second)}, nil
	}

	t.Run("unknown key has the zero state", func(t *testing.T) {
		s := newStore(t)
		got, err := s.Get(ctx, "account:unknown")
		noError(t, err)
		if got != (throttle.State{}) {
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
		refused := &throttle.Error{Failures: 1, Wait: time.Second}
		_, err = s.Update(ctx, "k", func(st throttle.State) (throttle.State, error) {
			return throttle.State{Failures: 99}, refused
		})
		if err == nil || err.Error() != refused.Error() {
			t.Errorf("Update returned %v, want f's error", err)
		}
		got, err := s.Get(ctx, "k")
		noError(t, err)
		if got.Failures != 1 {
			t.Errorf("after a failed update: %d failures, want 1", got.Failures)
		}
	})

	t.Run("the zero state resets", func(t *testing.T) {
		s := newStore(t)
		_, err := s.Update(ctx, "k", inc)
		noError(t, err)
		_, err = s.Update(ctx, "k", func(throttle.State) (throttle.State, error) {
			return throttle.State{}, nil
		})
		noError(t, err)
		got, err := s.Get(ctx, "k")
		noError(t, err)
		if got.Failures != 0 {
			t.Errorf("after reset: %d failures", got.Failures)
		}
		got, err = s.Update(ctx, "k", inc)
		noError(t, err)
		if got.Failures != 1 {
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
		got, err := s.Get(ctx, "k")
		noError(t, err)
		if got.Failures != concurrency*each {
			t.Errorf("%d concurrent increments gave %d failures: updates interleaved", concurrency*each, got.Failures)
		}
	})
}

func noError(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

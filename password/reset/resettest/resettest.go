// Package resettest checks implementations of [reset.Store]: [TestStore] is
// a conformance test that every implementation, in memory or in a SQL
// database, should pass, including the atomicity the interface demands.
//
//	func TestSQLStore(t *testing.T) {
//		resettest.TestStore(t, func(t testing.TB) reset.Store {
//			return sqlstore.New(mustOpenDB(t)) // a fresh, empty database
//		})
//	}
//
// The tests use times in UTC with whole seconds, which every SQL database
// stores exactly, and compare them with time.Time.Equal.
package resettest

import (
	"context"
	"crypto/sha256"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zorgkit/zorgkit/password/reset"
)

// base is the time the tests start from.
var base = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// concurrency is the number of goroutines the atomicity test runs at once.
const concurrency = 20

func resetToken(account string, n int, created time.Time) reset.Token {
	return reset.Token{
		Account: account,
		Hash:    sha256.Sum256([]byte(account + "#" + strconv.Itoa(n))),
		Created: created,
		Expires: created.Add(time.Hour),
	}
}

// TestStore tests a [reset.Store]. newStore must return a new,
// empty store each time it is called.
func TestStore(t *testing.T, newStore func(testing.TB) reset.Store) {
	ctx := context.Background()

	t.Run("consume works once", func(t *testing.T) {
		s := newStore(t)
		tok := resetToken("acct-1", 1, base)
		noError(t, s.Put(ctx, tok))
		now := base.Add(10 * time.Minute)
		got, err := s.Consume(ctx, tok.Hash, now)
		noError(t, err)
		if got.Account != "acct-1" || !got.Created.Equal(tok.Created) || !got.Expires.Equal(tok.Expires) {
			t.Errorf("Consume = %+v, want %+v", got, tok)
		}
		if _, err := s.Consume(ctx, tok.Hash, now); !errors.Is(err, reset.ErrInvalid) {
			t.Errorf("second Consume error %v, want ErrResetInvalid", err)
		}
	})

	t.Run("a newer token replaces the older", func(t *testing.T) {
		s := newStore(t)
		old := resetToken("acct-1", 1, base)
		newer := resetToken("acct-1", 2, base.Add(time.Minute))
		noError(t, s.Put(ctx, old))
		noError(t, s.Put(ctx, newer))
		now := base.Add(2 * time.Minute)
		if _, err := s.Consume(ctx, old.Hash, now); !errors.Is(err, reset.ErrInvalid) {
			t.Errorf("the older token still works: error %v", err)
		}
		if _, err := s.Consume(ctx, newer.Hash, now); err != nil {
			t.Errorf("the newer token: %v", err)
		}
	})

	t.Run("tokens of other accounts stay", func(t *testing.T) {
		s := newStore(t)
		a, b := resetToken("acct-1", 1, base), resetToken("acct-2", 1, base)
		noError(t, s.Put(ctx, a))
		noError(t, s.Put(ctx, b))
		noError(t, s.Delete(ctx, "acct-1"))
		if _, err := s.Consume(ctx, a.Hash, base); !errors.Is(err, reset.ErrInvalid) {
			t.Errorf("deleted token: error %v, want ErrResetInvalid", err)
		}
		if _, err := s.Consume(ctx, b.Hash, base); err != nil {
			t.Errorf("token of another account: %v", err)
		}
		noError(t, s.Delete(ctx, "acct-unknown"))
	})

	t.Run("expired and unknown tokens", func(t *testing.T) {
		s := newStore(t)
		tok := resetToken("acct-1", 1, base)
		noError(t, s.Put(ctx, tok))
		if _, err := s.Consume(ctx, tok.Hash, tok.Expires); !errors.Is(err, reset.ErrInvalid) {
			t.Errorf("at expiry: error %v, want ErrResetInvalid", err)
		}
		if _, err := s.Consume(ctx, sha256.Sum256([]byte("unknown")), base); !errors.Is(err, reset.ErrInvalid) {
			t.Errorf("unknown hash: error %v, want ErrResetInvalid", err)
		}
	})

	t.Run("concurrent consumes: exactly one wins", func(t *testing.T) {
		s := newStore(t)
		tok := resetToken("acct-1", 1, base)
		noError(t, s.Put(ctx, tok))
		var n atomic.Int32
		var wg sync.WaitGroup
		for range concurrency {
			wg.Go(func() {
				if _, err := s.Consume(ctx, tok.Hash, base); err == nil {
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

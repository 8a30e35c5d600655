package main

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// insertKeys is a groupCommit write function for the table of
// openTestSQLite; a negative key is refused, as a bad entry would be.
func insertKeys(ctx context.Context, tx *sql.Tx, keys []int) error {
	for _, k := range keys {
		if k < 0 {
			return fmt.Errorf("key %d refused", k)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO t (k, v) VALUES ($1, 0)`, k); err != nil {
			return err
		}
	}
	return nil
}

func TestGroupCommit(t *testing.T) {
	db := openTestSQLite(t, 10*time.Second)
	g := newGroupCommit(db, 8, insertKeys)
	var batches, largest atomic.Int64
	g.observe = func(items int, d time.Duration, err error) {
		batches.Add(1)
		for {
			l := largest.Load()
			if int64(items) <= l || largest.CompareAndSwap(l, int64(items)) {
				break
			}
		}
	}
	const callers = 200
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := i
			if i%50 == 7 {
				k = -i // refused: only this caller gets the error
			}
			errs[i] = g.add(context.Background(), k)
		}()
	}
	wg.Wait()
	var want int
	for i, err := range errs {
		if i%50 == 7 {
			assert.Error(t, err, "caller %d", i)
			continue
		}
		want++
		assert.NoError(t, err, "caller %d", i)
	}
	var n int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM t`).Scan(&n))
	assert.Equal(t, want, n, "every accepted item is committed, once")
	assert.LessOrEqual(t, largest.Load(), int64(8), "no batch above the maximum")
	t.Logf("%d transactions for %d items, the largest %d", batches.Load(), callers, largest.Load())

	// Idle again: a single item is written at once.
	require.NoError(t, g.add(context.Background(), 10_000))
}

// A caller whose context ends while it waits still gets the outcome of its
// item: it was queued, and whether it is logged must be known.
func TestGroupCommitCancelledCaller(t *testing.T) {
	db := openTestSQLite(t, 10*time.Second)
	block := make(chan struct{})
	g := newGroupCommit(db, 8, func(ctx context.Context, tx *sql.Tx, keys []int) error {
		if keys[0] == 0 {
			<-block
		}
		return insertKeys(ctx, tx, keys)
	})
	first := make(chan error, 1)
	go func() { first <- g.add(context.Background(), 0) }()
	for {
		g.mu.Lock()
		leading := g.leading && len(g.queue) == 0
		g.mu.Unlock()
		if leading {
			break
		}
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	second := make(chan error, 1)
	go func() { second <- g.add(ctx, 1) }()
	cancel()
	close(block)
	require.NoError(t, <-first)
	require.NoError(t, <-second)
	var n int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM t`).Scan(&n))
	assert.Equal(t, 2, n)
}

// A database that cannot be written fails every caller, and none hangs.
func TestGroupCommitFailingDatabase(t *testing.T) {
	db := openTestSQLite(t, 10*time.Second)
	require.NoError(t, db.Close())
	g := newGroupCommit(db, 4, insertKeys)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := g.add(context.Background(), i)
			assert.Error(t, err, "caller %d", i)
		}()
	}
	wg.Wait()
}

package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// groupCommit writes items to the database in shared transactions: every
// caller of add waits until its own item is committed, and items that arrive
// while a transaction is being written go together into the next one. One
// commit per batch instead of one per item is what lets a durable log keep
// up with many requests at once, on SQLite, where writes take turns, as on
// PostgreSQL, where each commit is a round trip and a flush of its WAL.
//
// One goroutine (run) writes: it takes everything that is waiting, up to
// maxBatch items, writes it in one transaction, and gives each caller its
// own outcome after the COMMIT. It never waits for more items to arrive: an
// idle log writes an item at once, in a transaction of its own, and under
// load the batch is whatever arrived during the previous commit. The single
// writer is also what the access log's MAC chain needs: one transaction at a
// time extends it.
type groupCommit[T any] struct {
	db       *sql.DB
	write    func(ctx context.Context, tx *sql.Tx, items []T) error
	maxBatch int
	timeout  time.Duration // of one transaction
	// observe, if set, receives the size and duration of every committed
	// or failed transaction.
	observe func(items int, d time.Duration, err error)

	mu     sync.Mutex
	queue  []*commitReq[T]
	closed bool
	wake   chan struct{} // capacity 1: the queue may have items
	done   chan struct{} // closed when run has drained the queue and returned
}

type commitReq[T any] struct {
	item   T
	result chan error // capacity 1: the writer never blocks on a caller
}

// accessLogBatch is the most access-log entries per transaction: enough for
// every request a busy instance has in flight.
const accessLogBatch = 128

// errLogClosed is the answer to an item offered after close: the process is
// shutting down and the item cannot be committed any more.
var errLogClosed = errors.New("access log: closed, the server is shutting down")

// newGroupCommit returns a groupCommit that writes with write, at most
// maxBatch items per transaction, and reports each transaction to observe
// (if not nil). It starts the writer; close stops it.
func newGroupCommit[T any](db *sql.DB, maxBatch int, write func(ctx context.Context, tx *sql.Tx, items []T) error,
	observe func(items int, d time.Duration, err error)) *groupCommit[T] {
	g := &groupCommit[T]{db: db, write: write, maxBatch: maxBatch, timeout: 10 * time.Second, observe: observe,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	go g.run()
	return g
}

// add writes item and returns nil once it is committed, or the error that
// kept it out. If ctx ends first, add returns its error: the caller must
// then treat the item as not written (and refuse what it was logging). An
// item still waiting is taken out of the queue; one already in the
// transaction under way may still be committed.
func (g *groupCommit[T]) add(ctx context.Context, item T) error {
	r := &commitReq[T]{item: item, result: make(chan error, 1)}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return errLogClosed
	}
	g.queue = append(g.queue, r)
	g.mu.Unlock()
	select {
	case g.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
	select {
	case err := <-r.result:
		return err
	case <-ctx.Done():
		g.mu.Lock()
		if i := slices.Index(g.queue, r); i >= 0 {
			g.queue = slices.Delete(g.queue, i, i+1)
		}
		g.mu.Unlock()
		return fmt.Errorf("access log: gave up waiting for the commit: %w", context.Cause(ctx))
	}
}

// close stops taking items and returns once every item taken before is
// committed or has failed: the writer drains the queue first.
func (g *groupCommit[T]) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	select {
	case g.wake <- struct{}{}:
	default:
	}
	<-g.done
}

// run is the writer: it writes batches from the head of the queue until the
// queue is empty, then sleeps until add or close wakes it.
func (g *groupCommit[T]) run() {
	defer close(g.done)
	for {
		g.mu.Lock()
		n := min(len(g.queue), g.maxBatch)
		if n == 0 {
			closed := g.closed
			g.mu.Unlock()
			if closed {
				return
			}
			<-g.wake
			continue
		}
		batch := slices.Clone(g.queue[:n])
		g.queue = slices.Delete(g.queue, 0, n)
		g.mu.Unlock()
		g.flush(batch)
	}
}

// flush writes batch in one transaction and gives each caller its outcome.
// If the transaction fails, each item is tried again on its own, so that one
// bad item (one the write function refuses) does not keep the others out;
// but not when the database did not answer in time: then the batch fails at
// once, rather than waiting that long again for each item.
func (g *groupCommit[T]) flush(batch []*commitReq[T]) {
	items := make([]T, len(batch))
	for i, b := range batch {
		items[i] = b.item
	}
	err := g.commit(items)
	if err == nil || len(batch) == 1 || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errWriteLockTimeout) {
		for _, b := range batch {
			b.result <- err
		}
		return
	}
	for _, b := range batch {
		b.result <- g.commit([]T{b.item})
	}
}

func (g *groupCommit[T]) commit(items []T) (err error) {
	start := time.Now()
	if g.observe != nil {
		defer func() { g.observe(len(items), time.Since(start), err) }()
	}
	// Not the callers' contexts: the transaction carries the items of
	// several of them, and a caller that gives up is answered at once.
	ctx, cancel := context.WithTimeout(context.Background(), g.timeout)
	defer cancel()
	tx, err := g.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := g.write(ctx, tx, items); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

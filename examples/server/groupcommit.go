package main

import (
	"context"
	"database/sql"
	"errors"
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
// There is no background goroutine: the first caller to find no transaction
// in progress writes (leads), and after its own item is committed it hands
// the lead to the oldest waiting caller. An idle log therefore writes an item
// at once, in a transaction of its own.
type groupCommit[T any] struct {
	db       *sql.DB
	write    func(ctx context.Context, tx *sql.Tx, items []T) error
	maxBatch int
	timeout  time.Duration // of one transaction
	// observe, if set, receives the size and duration of every committed
	// or failed transaction.
	observe func(items int, d time.Duration, err error)

	mu      sync.Mutex
	queue   []*commitReq[T]
	leading bool
}

type commitReq[T any] struct {
	item T
	err  error
	lead bool
	wake chan struct{} // one send: the result is in err, or lead is set
}

// accessLogBatch is the most access-log entries per transaction: enough for
// every request a busy instance has in flight.
const accessLogBatch = 128

// newGroupCommit returns a groupCommit that writes with write, at most
// maxBatch items per transaction.
func newGroupCommit[T any](db *sql.DB, maxBatch int, write func(ctx context.Context, tx *sql.Tx, items []T) error) *groupCommit[T] {
	return &groupCommit[T]{db: db, write: write, maxBatch: maxBatch, timeout: 10 * time.Second}
}

// add writes item and returns nil once it is committed, or the error that
// kept it out. The item is written even if ctx ends while it waits: it was
// queued, and the caller must treat an error as "not logged" anyway.
func (g *groupCommit[T]) add(ctx context.Context, item T) error {
	r := &commitReq[T]{item: item, wake: make(chan struct{}, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, r)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if !lead {
		<-r.wake
		if !r.lead {
			return r.err
		}
	}
	// Lead: write batches from the head of the queue until one holds r.
	// The transaction does not end with ctx: it carries other callers'
	// items too.
	wctx := context.WithoutCancel(ctx)
	for done := false; !done; {
		g.mu.Lock()
		n := min(len(g.queue), g.maxBatch)
		batch := make([]*commitReq[T], n)
		copy(batch, g.queue)
		g.queue = g.queue[n:]
		g.mu.Unlock()
		g.flush(wctx, batch)
		for _, b := range batch {
			if b == r {
				done = true
			} else {
				b.wake <- struct{}{}
			}
		}
	}
	g.mu.Lock()
	if len(g.queue) == 0 {
		g.leading = false
		g.queue = nil
		g.mu.Unlock()
		return r.err
	}
	next := g.queue[0]
	g.mu.Unlock()
	next.lead = true
	next.wake <- struct{}{}
	return r.err
}

// flush writes batch in one transaction and sets each request's error. If
// the transaction fails, each item is tried again on its own, so that one
// bad item does not keep the others out.
func (g *groupCommit[T]) flush(ctx context.Context, batch []*commitReq[T]) {
	items := make([]T, len(batch))
	for i, b := range batch {
		items[i] = b.item
	}
	err := g.commit(ctx, items)
	if err == nil || len(batch) == 1 {
		for _, b := range batch {
			b.err = err
		}
		return
	}
	for _, b := range batch {
		b.err = g.commit(ctx, []T{b.item})
	}
}

func (g *groupCommit[T]) commit(ctx context.Context, items []T) (err error) {
	start := time.Now()
	if g.observe != nil {
		defer func() { g.observe(len(items), time.Since(start), err) }()
	}
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
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

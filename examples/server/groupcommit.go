package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
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
// One caller at a time writes (leads): the first to find no transaction in
// progress takes everything waiting (its own item first), up to maxBatch
// items, writes it in one transaction, gives every caller of the batch its
// own outcome after the COMMIT, and hands the lead to the oldest caller
// still waiting. An idle log therefore writes an item at once, in a
// transaction of its own, and never waits for more items to arrive. The
// single writer is also what the access log's MAC chain needs: one
// transaction at a time extends it. (A writer goroutine of its own, tried
// instead, formed smaller batches under load, and a lookup cost about a
// tenth more CPU: see BENCHMARKS.md.)
//
// A commit has a fixed cost whatever its size (on SQLite about 200 µs of CPU
// under load: BEGIN, the pages every commit writes, the fsync), so a leader
// whose predecessor's batch held more than one item, which means that
// others are writing too, lets the goroutines that are ready to run go
// first (runtime.Gosched) before it takes its batch: the requests among them
// that are about to log add their items and share its commit. That waits
// for nothing that is not already running, never sleeps, and an idle log,
// or one that had one item at a time last, writes at once. With delay set,
// the leader sleeps that long instead, as PostgreSQL's commit_delay does
// when commit_siblings others are in a transaction.
type groupCommit[T any] struct {
	db       *sql.DB
	write    func(ctx context.Context, tx *sql.Tx, items []T) error
	maxBatch int
	timeout  time.Duration // of one transaction
	// delay is how long a leader sleeps under load before it takes its
	// batch; 0: it yields once instead.
	delay time.Duration
	// observe, if set, receives the size and duration of every committed
	// or failed transaction.
	observe func(items int, d time.Duration, err error)
	// quickStatements: write's statements are local and short (SQLite,
	// where the transaction holds the write lock from BEGIN on, so a
	// statement inside it waits for nothing) and get the transaction's
	// context without its cancellation; see commit.
	quickStatements bool

	mu      sync.Mutex
	queue   []*commitReq[T] // waiting callers, oldest first
	leading bool            // a caller leads: it writes, or has been handed the lead
	last    int             // the size of the last batch taken
	closed  bool
	calls   sync.WaitGroup // the calls of add under way, for close
}

type commitReq[T any] struct {
	item T
	err  error
	lead bool          // set under mu: this caller has been handed the lead
	wake chan struct{} // one send: the result is in err, or lead is set
}

// accessLogBatch is the most access-log entries per transaction: enough for
// every request a busy instance has in flight.
const accessLogBatch = 128

// accessLogDelay is the access log's commit delay (groupCommit.delay): off,
// the leader yields once instead.
// A delay of 1 ms made a commit hold about 18 entries instead of 12–13 at 16
// concurrent lookups, but on a quiet machine it answered fewer lookups a
// second at c16 (3,290–3,579 against 3,598–3,841 without it, alternating,
// 2026-12-03; BENCHMARKS.md): the lookups wait for the sleeping leader
// rather than for the CPU. Set it where commits cost more (a slow disk).
const accessLogDelay = 0

// errLogClosed is the answer to an item offered after close: the process is
// shutting down and the item cannot be committed any more.
var errLogClosed = errors.New("access log: closed, the server is shutting down")

// newGroupCommit returns a groupCommit that writes with write, at most
// maxBatch items per transaction, and reports each transaction to observe
// (if not nil).
func newGroupCommit[T any](db *sql.DB, maxBatch int, write func(ctx context.Context, tx *sql.Tx, items []T) error,
	observe func(items int, d time.Duration, err error)) *groupCommit[T] {
	return &groupCommit[T]{db: db, write: write, maxBatch: maxBatch, timeout: 10 * time.Second, observe: observe}
}

// add writes item and returns nil once it is committed, or the error that
// kept it out. A caller that waits for another's transaction and whose ctx
// ends gets ctx's error at once; it must then treat its item as not written
// (and refuse what it was logging): an item still waiting is taken out of
// the queue, one already in the transaction under way may still be
// committed. A caller that leads writes its batch to the end (bounded by
// the transaction's timeout), as the batch holds other callers' items.
func (g *groupCommit[T]) add(ctx context.Context, item T) error {
	r := &commitReq[T]{item: item, wake: make(chan struct{}, 1)}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return errLogClosed
	}
	g.calls.Add(1)
	defer g.calls.Done()
	g.queue = append(g.queue, r)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if !lead {
		select {
		case <-r.wake:
		case <-ctx.Done():
			g.mu.Lock()
			if i := slices.Index(g.queue, r); i >= 0 {
				g.queue = slices.Delete(g.queue, i, i+1)
				if r.lead { // handed the lead, not taken up: pass it on
					g.handOffLocked()
				}
			}
			g.mu.Unlock()
			return fmt.Errorf("access log: gave up waiting for the commit: %w", context.Cause(ctx))
		}
		if !r.lead {
			return r.err
		}
	}
	// Lead: r is at the head of the queue (the first caller finds it empty,
	// a caller handed the lead is the oldest waiting), so the batch holds it.
	g.mu.Lock()
	if g.last > 1 {
		g.mu.Unlock()
		if g.delay > 0 {
			time.Sleep(g.delay)
		} else {
			runtime.Gosched()
		}
		g.mu.Lock()
	}
	n := min(len(g.queue), g.maxBatch)
	batch := slices.Clone(g.queue[:n])
	g.queue = slices.Delete(g.queue, 0, n)
	g.last = n
	g.mu.Unlock()
	g.flush(batch)
	for _, b := range batch {
		if b != r {
			b.wake <- struct{}{}
		}
	}
	// No yield here: the next leader runs when a processor gets to it,
	// and yields once itself; a yield here as well gave commits of 7
	// entries instead of 8 at c16, and no more lookups (measured 2026-12-04).
	g.mu.Lock()
	g.handOffLocked()
	g.mu.Unlock()
	return r.err
}

// handOffLocked hands the lead to the oldest waiting caller, or ends it if
// none waits. g.mu is held.
func (g *groupCommit[T]) handOffLocked() {
	if len(g.queue) == 0 {
		g.leading = false
		g.queue = nil
		return
	}
	next := g.queue[0]
	next.lead = true
	next.wake <- struct{}{}
}

// close stops taking items and returns once every item taken before is
// committed or has failed and its caller answered.
func (g *groupCommit[T]) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.calls.Wait()
}

// flush writes batch in one transaction and sets each caller's outcome.
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
			b.err = err
		}
		return
	}
	for _, b := range batch {
		b.err = g.commit([]T{b.item})
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
	// With quickStatements the statements run without a cancellation of
	// their own: with one, modernc.org/sqlite starts a goroutine per
	// statement to interrupt it, one per access-log entry. The deadline
	// still holds: the transaction has one watcher (database/sql's, which
	// rolls it back when ctx ends, after which its statements fail), and
	// its COMMIT refuses once ctx has ended. The BEGIN keeps ctx: it is
	// the step that can wait (for the write lock).
	wctx := ctx
	if g.quickStatements {
		wctx = context.WithoutCancel(ctx)
	}
	if err := g.write(wctx, tx, items); err != nil {
		return errors.Join(err, ctx.Err(), tx.Rollback())
	}
	if err := tx.Commit(); err != nil {
		// After the deadline database/sql may report sql.ErrTxDone (the
		// watcher rolled back first): say that it was the deadline, so
		// that flush does not try each item again.
		return errors.Join(err, ctx.Err())
	}
	return nil
}

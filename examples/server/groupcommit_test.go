package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
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

// gate holds the writer in the transaction of key 0 until release, so that
// the items offered meanwhile queue up and go into one batch.
type gate struct {
	entered, release chan struct{}
	write            func(ctx context.Context, tx *sql.Tx, keys []int) error
}

func newGate(write func(ctx context.Context, tx *sql.Tx, keys []int) error) *gate {
	return &gate{entered: make(chan struct{}), release: make(chan struct{}), write: write}
}

func (g *gate) writeFn(ctx context.Context, tx *sql.Tx, keys []int) error {
	if len(keys) == 1 && keys[0] == 0 {
		close(g.entered)
		<-g.release
	}
	return g.write(ctx, tx, keys)
}

// hold starts the caller of key 0, which leads and waits in its transaction
// until release; it returns that caller's outcome, to read after release.
func (gt *gate) hold(g *groupCommit[int]) <-chan error {
	first := make(chan error, 1)
	go func() { first <- g.add(context.Background(), 0) }()
	<-gt.entered
	return first
}

// batchSizes records the size of each transaction of a groupCommit (its
// observe function).
type batchSizes struct {
	mu    sync.Mutex
	sizes []int
}

func (b *batchSizes) observe(items int, _ time.Duration, _ error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sizes = append(b.sizes, items)
}

// first returns the size of the first transaction since the last reset.
func (b *batchSizes) first(t *testing.T) int {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	require.NotEmpty(t, b.sizes, "no transaction")
	return b.sizes[0]
}

func (b *batchSizes) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sizes = b.sizes[:0]
}

// queued waits until n items wait in g's queue.
func queued[T any](t *testing.T, g *groupCommit[T], n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return len(g.queue) == n
	}, 5*time.Second, time.Millisecond)
}

func countRows(t *testing.T, db *sql.DB, where string) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM t WHERE `+where).Scan(&n))
	return n
}

func TestGroupCommit(t *testing.T) {
	db := openTestSQLite(t, 10*time.Second)
	var batches, largest atomic.Int64
	g := newGroupCommit(db, 8, insertKeys, func(items int, d time.Duration, err error) {
		batches.Add(1)
		for {
			l := largest.Load()
			if int64(items) <= l || largest.CompareAndSwap(l, int64(items)) {
				break
			}
		}
	})
	defer g.close()
	const callers = 200
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			k := i
			if i%50 == 7 {
				k = -i // refused: only this caller gets the error
			}
			if errs[i] = g.add(context.Background(), k); errs[i] == nil {
				// Answered only after the COMMIT: another connection sees it.
				var n int
				if err := db.QueryRow(`SELECT COUNT(*) FROM t WHERE k = $1`, k).Scan(&n); err != nil || n != 1 {
					errs[i] = fmt.Errorf("item %d answered but not committed (%d rows, %v)", k, n, err)
				}
			}
		})
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
	assert.Equal(t, want, countRows(t, db, "1 = 1"), "every accepted item is committed, once")
	assert.LessOrEqual(t, largest.Load(), int64(8), "no batch above the maximum")
	t.Logf("%d transactions for %d items, the largest %d", batches.Load(), callers, largest.Load())

	// Idle again: a single item is written at once.
	require.NoError(t, g.add(context.Background(), 10_000))
}

// A COMMIT that fails fails every caller of its batch, and nothing of the
// batch is in the table; a batch that fails because of one item is tried
// again item by item, so that only that item's caller is refused.
func TestGroupCommitFailingCommit(t *testing.T) {
	// A deferred foreign key is checked at the COMMIT, not at the INSERT.
	dsn := "file:" + filepath.Join(t.TempDir(), "fk.db") + "?_txlock=immediate&_pragma=foreign_keys(1)"
	db := sql.OpenDB(newSQLiteConnector(dsn, 10*time.Second))
	t.Cleanup(func() { db.Close() })
	for _, q := range []string{`PRAGMA journal_mode=WAL`, `CREATE TABLE p (id INTEGER PRIMARY KEY)`, `INSERT INTO p VALUES (0)`,
		`CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER NOT NULL REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED)`} {
		_, err := db.Exec(q)
		require.NoError(t, err, q)
	}
	// Keys from 100 on point at a missing parent: their COMMIT fails.
	write := func(ctx context.Context, tx *sql.Tx, keys []int) error {
		for _, k := range keys {
			v := 0
			if k >= 100 {
				v = k
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO t (k, v) VALUES ($1, $2)`, k, v); err != nil {
				return err
			}
		}
		return nil
	}
	for _, tc := range []struct {
		name string
		keys []int
	}{
		{"every item fails at the commit", []int{101, 102, 103, 104}},
		{"one item fails at the commit", []int{1, 2, 103, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.Exec(`DELETE FROM t`)
			require.NoError(t, err)
			gt := newGate(write)
			var txs atomic.Int64
			g := newGroupCommit(db, 8, gt.writeFn, func(int, time.Duration, error) { txs.Add(1) })
			defer g.close()
			first := gt.hold(g)
			errs := make([]error, len(tc.keys))
			var wg sync.WaitGroup
			for i, k := range tc.keys {
				wg.Go(func() { errs[i] = g.add(context.Background(), k) })
			}
			queued(t, g, len(tc.keys))
			close(gt.release)
			wg.Wait()
			require.NoError(t, <-first)
			for i, k := range tc.keys {
				var n int
				require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM t WHERE k = $1`, k).Scan(&n))
				if k >= 100 {
					assert.ErrorContains(t, errs[i], "FOREIGN KEY", "key %d", k)
					assert.Zero(t, n, "key %d", k)
					continue
				}
				assert.NoError(t, errs[i], "key %d", k)
				assert.Equal(t, 1, n, "key %d", k)
			}
			// The gated transaction, the batch, and the batch's items one by one.
			assert.Equal(t, int64(2+len(tc.keys)), txs.Load())
		})
	}
}

// A batch that failed because the database did not answer in time is not
// tried again item by item (which would make every caller wait that long
// once more per item): all of its callers get the error at once.
func TestGroupCommitTimeoutFailsTheBatch(t *testing.T) {
	db := openTestSQLite(t, 10*time.Second)
	gt := newGate(func(ctx context.Context, tx *sql.Tx, keys []int) error {
		if len(keys) > 1 {
			return fmt.Errorf("write: %w", context.DeadlineExceeded)
		}
		return insertKeys(ctx, tx, keys)
	})
	var txs atomic.Int64
	g := newGroupCommit(db, 8, gt.writeFn, func(int, time.Duration, error) { txs.Add(1) })
	defer g.close()
	first := gt.hold(g)
	var wg sync.WaitGroup
	for k := 1; k <= 4; k++ {
		wg.Go(func() { assert.ErrorIs(t, g.add(context.Background(), k), context.DeadlineExceeded) })
	}
	queued(t, g, 4)
	close(gt.release)
	wg.Wait()
	require.NoError(t, <-first)
	assert.Equal(t, int64(2), txs.Load(), "the gated transaction and the batch, no retries")
	assert.Zero(t, countRows(t, db, "k > 0"))
}

// A caller whose context ends while the database is stuck gets its
// context's error at once, and its item, still waiting, is not written: the
// caller refused what it logged, so the log must not claim it happened.
func TestGroupCommitCancelledCaller(t *testing.T) {
	db := openTestSQLite(t, 10*time.Second)
	gt := newGate(insertKeys)
	g := newGroupCommit(db, 8, gt.writeFn, nil)
	defer g.close()
	first := gt.hold(g)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := g.add(ctx, 1)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, "access log:")
	g.mu.Lock()
	assert.Empty(t, g.queue, "the caller's item left the queue with it")
	g.mu.Unlock()

	close(gt.release)
	require.NoError(t, <-first)
	require.NoError(t, g.add(context.Background(), 2), "the writer goes on")
	assert.Equal(t, 0, countRows(t, db, "k = 1"))
	assert.Equal(t, 2, countRows(t, db, "k IN (0, 2)"))
}

// The same with a real stuck database: another transaction holds the write
// lock; a caller waiting behind the one that leads gets its context's error,
// not a hang, and the leader commits once the lock is free.
func TestGroupCommitLockedDatabase(t *testing.T) {
	db := openTestSQLite(t, 10*time.Second)
	g := newGroupCommit(db, 8, insertKeys, nil)
	defer g.close()
	tx, err := db.Begin() // takes the write lock (immediate)
	require.NoError(t, err)
	first := make(chan error, 1)
	go func() { first <- g.add(context.Background(), 0) }()
	require.Eventually(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.leading && len(g.queue) == 0
	}, 5*time.Second, time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, g.add(ctx, 1), context.DeadlineExceeded)
	require.NoError(t, tx.Rollback())
	require.NoError(t, <-first)
	assert.Equal(t, 1, countRows(t, db, "k = 0"))
	assert.Equal(t, 0, countRows(t, db, "k = 1"), "it was still waiting: taken out")
}

// Callers that give up at any moment (while waiting, while handed the lead,
// while their batch is written) never leave the log without a leader: every
// call returns, and the log goes on. Run with -race.
func TestGroupCommitCallersGivingUp(t *testing.T) {
	db := openTestSQLite(t, 10*time.Second)
	slow := func(ctx context.Context, tx *sql.Tx, keys []int) error {
		time.Sleep(200 * time.Microsecond)
		return insertKeys(ctx, tx, keys)
	}
	g := newGroupCommit(db, 4, slow, nil)
	defer g.close()
	var wg sync.WaitGroup
	var ok atomic.Int64
	for i := range 300 {
		wg.Go(func() {
			ctx := context.Background()
			if i%3 != 0 { // the others give up after 0 to 2 ms
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, time.Duration(i%7)*300*time.Microsecond)
				defer cancel()
			}
			if g.add(ctx, i) == nil {
				ok.Add(1)
				var n int
				err := db.QueryRow(`SELECT COUNT(*) FROM t WHERE k = $1`, i).Scan(&n)
				assert.True(t, err == nil && n == 1, "item %d answered but not committed (%d rows, %v)", i, n, err)
			} else {
				assert.NotZero(t, i%3, "item %d without a deadline failed", i)
			}
		})
	}
	wg.Wait()
	require.NoError(t, g.add(context.Background(), 1_000), "the log goes on")
	g.mu.Lock()
	assert.False(t, g.leading)
	assert.Empty(t, g.queue)
	g.mu.Unlock()
	t.Logf("%d of 300 committed in time", ok.Load())
}

// close drains the queue: the items waiting are committed and their callers
// answered before close returns; later items are refused.
func TestGroupCommitCloseDrains(t *testing.T) {
	db := openTestSQLite(t, 10*time.Second)
	gt := newGate(insertKeys)
	g := newGroupCommit(db, 2, gt.writeFn, nil)
	first := gt.hold(g)
	var wg sync.WaitGroup
	for k := 1; k <= 5; k++ {
		wg.Go(func() { assert.NoError(t, g.add(context.Background(), k)) })
	}
	queued(t, g, 5)
	closed := make(chan struct{})
	go func() { g.close(); close(closed) }()
	require.Eventually(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.closed
	}, 5*time.Second, time.Millisecond)
	assert.ErrorIs(t, g.add(context.Background(), 6), errLogClosed)
	close(gt.release)
	<-closed
	wg.Wait()
	require.NoError(t, <-first)
	assert.Equal(t, 6, countRows(t, db, "k BETWEEN 0 AND 5"))
	assert.Equal(t, 0, countRows(t, db, "k = 6"))
}

// A database that cannot be written fails every caller, and none hangs.
func TestGroupCommitFailingDatabase(t *testing.T) {
	db := openTestSQLite(t, 10*time.Second)
	require.NoError(t, db.Close())
	g := newGroupCommit(db, 4, insertKeys, nil)
	defer g.close()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			err := g.add(context.Background(), i)
			assert.Error(t, err, "caller %d", i)
			assert.False(t, errors.Is(err, errLogClosed), "caller %d", i)
		})
	}
	wg.Wait()
}

// A caller handed the lead that gives up before taking it up passes it on
// to the next waiting caller. The moment is a race: A's context ends as the
// gated transaction commits (in observe), just before the lead is handed to
// A, which then finds both its wake-up and its context's end; tried many
// times, both ways happen.
func TestGroupCommitLeadPassedOn(t *testing.T) {
	db := openTestSQLite(t, 10*time.Second)
	var gaveUp int
	for round := range 100 {
		gt := newGate(insertKeys)
		ctx, cancel := context.WithCancel(context.Background())
		var once sync.Once
		g := newGroupCommit(db, 8, gt.writeFn, func(int, time.Duration, error) { once.Do(cancel) })
		first := gt.hold(g)
		a, b := make(chan error, 1), make(chan error, 1)
		go func() { a <- g.add(ctx, 1) }()
		queued(t, g, 1)
		go func() { b <- g.add(context.Background(), 2) }()
		queued(t, g, 2)
		close(gt.release)
		require.NoError(t, <-first)
		if err := <-a; err != nil {
			require.ErrorIs(t, err, context.Canceled, "round %d", round)
			gaveUp++
		}
		require.NoError(t, <-b, "round %d: B is committed whatever A did", round)
		g.close()
		_, err := db.Exec(`DELETE FROM t`)
		require.NoError(t, err)
	}
	t.Logf("A gave up in %d of 100 rounds", gaveUp)
}

// The commit delay: after a batch of more than one item (others are
// writing too), a leader waits the delay, and the items that arrive
// meanwhile share its transaction; after a batch of one (an idle log), or
// with no delay, it writes at once.
func TestGroupCommitDelay(t *testing.T) {
	tests := []struct {
		name   string
		delay  time.Duration
		last   int // the size of the batch before
		batch  int // the leader's batch
		waits  bool
		atMost time.Duration // the leader's add
	}{
		{name: "under load: the items arriving during the delay join", delay: 300 * time.Millisecond, last: 2, batch: 3, waits: true, atMost: 10 * time.Second},
		{name: "idle: no wait", delay: time.Hour, last: 1, batch: 1, atMost: 10 * time.Second},
		{name: "the first item: no wait", delay: time.Hour, last: 0, batch: 1, atMost: 10 * time.Second},
		{name: "no delay: no wait", delay: 0, last: 5, batch: 1, atMost: 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTestSQLite(t, 10*time.Second)
			var sizes batchSizes
			g := newGroupCommit(db, 8, insertKeys, sizes.observe)
			g.delay = tt.delay
			g.last = tt.last
			defer g.close()
			start := time.Now()
			lead := make(chan error, 1)
			go func() { lead <- g.add(context.Background(), 0) }()
			var wg sync.WaitGroup
			if tt.waits {
				queued(t, g, 1) // the leader, asleep: its batch is not taken yet
				for k := 1; k < tt.batch; k++ {
					wg.Go(func() { assert.NoError(t, g.add(context.Background(), k)) })
				}
				queued(t, g, tt.batch)
			}
			require.NoError(t, <-lead)
			took := time.Since(start)
			wg.Wait()
			if tt.waits {
				assert.GreaterOrEqual(t, took, tt.delay)
			}
			assert.Less(t, took, tt.atMost)
			assert.Equal(t, tt.batch, sizes.first(t), "the leader's transaction")
			assert.Equal(t, tt.batch, countRows(t, db, "1 = 1"), "every item committed")
		})
	}
}

// Without a delay, a leader under load (its predecessor's batch held more
// than one item) lets the goroutines that are ready to run go first, and
// the items they offer join its batch; an idle leader writes its own item
// at once. On one processor, with three callers made runnable together,
// the first to run leads: under load its batch holds all three, idle it
// holds one. (The yielding leader waits in the global run queue, which the
// scheduler may serve early, once in 61 turns: hence the majority.)
func TestGroupCommitYieldsUnderLoad(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const trials = 20
	for _, tt := range []struct {
		name string
		last int
		want int // trials whose first batch holds all three
	}{
		{name: "under load", last: 2, want: trials * 3 / 4},
		{name: "idle", last: 1, want: 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := openTestSQLite(t, 10*time.Second)
			var sizes batchSizes
			g := newGroupCommit(db, 8, insertKeys, sizes.observe)
			defer g.close()
			whole := 0
			for trial := range trials {
				sizes.reset()
				g.last = tt.last // no caller is under way: g.mu is not needed
				var wg sync.WaitGroup
				for k := range 3 {
					wg.Go(func() { assert.NoError(t, g.add(context.Background(), trial*3+k)) })
				}
				wg.Wait()
				if sizes.first(t) == 3 {
					whole++
				}
			}
			assert.Equal(t, trials*3, countRows(t, db, "1 = 1"), "every item committed")
			if tt.want == 0 {
				assert.Zero(t, whole, "an idle leader does not wait")
			} else {
				assert.GreaterOrEqual(t, whole, tt.want, "trials whose leader took all three items")
			}
		})
	}
}

// With quickStatements the write function's statements get a context that
// cannot be cancelled (no goroutine per statement in the driver), and the
// transaction's deadline still holds: a transaction that outlives its
// timeout, in one statement or between two, is not committed, every caller
// of its batch is refused with the deadline's error, and the batch is not
// tried again item by item. Without it, the statements get the
// transaction's own context, as before.
func TestGroupCommitQuickStatements(t *testing.T) {
	tests := []struct {
		name     string
		quick    bool
		slow     bool // the batch's write outlives the transaction's timeout
		wantDone bool // the write function's context can be cancelled
	}{
		{name: "quick: statements without a cancellation", quick: true},
		{name: "quick: a transaction past its deadline is refused", quick: true, slow: true},
		{name: "not quick: the transaction's context", quick: false, wantDone: true},
		{name: "not quick: a transaction past its deadline is refused", quick: false, slow: true, wantDone: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTestSQLite(t, 10*time.Second)
			gt := newGate(func(ctx context.Context, tx *sql.Tx, keys []int) error {
				assert.Equal(t, tt.wantDone, ctx.Done() != nil, "the statements' context")
				if tt.slow && len(keys) > 1 {
					time.Sleep(150 * time.Millisecond) // past the timeout
				}
				for _, k := range keys {
					// Each statement may still run (it is not interrupted),
					// or fail because the transaction was rolled back.
					if _, err := tx.ExecContext(ctx, `INSERT INTO t (k, v) VALUES ($1, 0)`, k); err != nil {
						return err
					}
				}
				return nil
			})
			var txs atomic.Int64
			g := newGroupCommit(db, 8, gt.writeFn, func(int, time.Duration, error) { txs.Add(1) })
			g.quickStatements = tt.quick
			g.timeout = 50 * time.Millisecond
			defer g.close()
			first := gt.hold(g)
			var wg sync.WaitGroup
			for k := 1; k <= 4; k++ {
				wg.Go(func() {
					err := g.add(context.Background(), k)
					if tt.slow {
						assert.ErrorIs(t, err, context.DeadlineExceeded)
					} else {
						assert.NoError(t, err)
					}
				})
			}
			queued(t, g, 4)
			close(gt.release)
			wg.Wait()
			// The gated transaction (key 0) may have outlived its timeout
			// while the others queued: then it was refused as well.
			if err := <-first; err != nil {
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				assert.Zero(t, countRows(t, db, "k = 0"))
			}
			if tt.slow {
				assert.Equal(t, int64(2), txs.Load(), "the gated transaction and the batch, no retries")
				assert.Zero(t, countRows(t, db, "k > 0"), "nothing of the refused batch committed")
				return
			}
			assert.Equal(t, 4, countRows(t, db, "k > 0"))
			require.NoError(t, g.add(context.Background(), 5), "the log goes on")
		})
	}
}

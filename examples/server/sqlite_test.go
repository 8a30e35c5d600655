package main

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openTestSQLite opens a database through the connector with busy_timeout 0:
// any two writers that meet inside SQLite fail at once with SQLITE_BUSY, so
// only the connector's own lock can keep them apart.
func openTestSQLite(t *testing.T, wait time.Duration) *sql.DB {
	t.Helper()
	dsn := "file:" + filepath.Join(t.TempDir(), "t.db") + "?_txlock=immediate&_pragma=busy_timeout(0)"
	db := sql.OpenDB(newSQLiteConnector(dsn, wait))
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	_, err := db.Exec(`PRAGMA journal_mode=WAL`)
	require.NoError(t, err)
	_, err = db.Exec(`CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER NOT NULL)`)
	require.NoError(t, err)
	return db
}

func TestSQLiteConnectorSerialisesWriters(t *testing.T) {
	db := openTestSQLite(t, 10*time.Second)
	const writers, each = 16, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				k := w*each + i
				var err error
				switch i % 3 {
				case 0: // a statement on its own
					_, err = db.Exec(`INSERT INTO t (k, v) VALUES ($1, 0)`, k)
				case 1: // a transaction that reads, then writes
					err = func() error {
						tx, err := db.Begin()
						if err != nil {
							return err
						}
						defer tx.Rollback()
						var n int
						if err := tx.QueryRow(`SELECT COUNT(*) FROM t`).Scan(&n); err != nil {
							return err
						}
						if _, err := tx.Exec(`INSERT INTO t (k, v) VALUES ($1, $2)`, k, n); err != nil {
							return err
						}
						return tx.Commit()
					}()
				case 2: // a write that returns rows
					var got int
					err = db.QueryRow(`INSERT INTO t (k, v) VALUES ($1, 0) RETURNING k`, k).Scan(&got)
				}
				if err != nil {
					errs <- err
				}
				// Readers at the same time never wait for the lock.
				var n int
				if err := db.QueryRow(`SELECT COUNT(*) FROM t`).Scan(&n); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM t`).Scan(&n))
	assert.Equal(t, writers*each, n, "every write landed")
}

func TestSQLiteConnectorLockWait(t *testing.T) {
	db := openTestSQLite(t, 50*time.Millisecond)
	tx, err := db.Begin()
	require.NoError(t, err)
	_, err = tx.Exec(`INSERT INTO t (k, v) VALUES (1, 1)`)
	require.NoError(t, err)

	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"the wait runs out", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, errWriteLockTimeout},
		{"the caller gives up", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 10*time.Millisecond)
		}, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			_, err := db.ExecContext(ctx, `INSERT INTO t (k, v) VALUES (2, 2)`)
			assert.ErrorIs(t, err, tt.want)
			_, err = db.BeginTx(ctx, nil)
			assert.ErrorIs(t, err, tt.want)
		})
	}
	// A reader does not wait for the open transaction, and sees the
	// committed state.
	var n int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM t`).Scan(&n))
	assert.Equal(t, 0, n)

	require.NoError(t, tx.Commit())
	_, err = db.Exec(`INSERT INTO t (k, v) VALUES (2, 2)`)
	require.NoError(t, err, "the lock is free again after the commit")
	tx, err = db.Begin()
	require.NoError(t, err)
	require.NoError(t, tx.Rollback())
	_, err = db.Exec(`INSERT INTO t (k, v) VALUES (3, 3)`)
	require.NoError(t, err, "the lock is free again after a rollback")
}

// A statement whose rows are still open is not reused for a second run of
// the same query on the connection: that one runs unprepared.
func TestSQLiteConnectorStatementInUse(t *testing.T) {
	db := openTestSQLite(t, time.Second)
	for k := range 3 {
		_, err := db.Exec(`INSERT INTO t (k, v) VALUES ($1, $2)`, k, k*10)
		require.NoError(t, err)
	}
	tx, err := db.Begin()
	require.NoError(t, err)
	defer tx.Rollback()
	const q = `SELECT k, v FROM t WHERE k >= $1 ORDER BY k`
	rows, err := tx.Query(q, 0)
	require.NoError(t, err)
	var outer, inner []int
	for rows.Next() {
		var k, v int
		require.NoError(t, rows.Scan(&k, &v))
		outer = append(outer, v)
		var k2, v2 int
		require.NoError(t, tx.QueryRow(q, k).Scan(&k2, &v2))
		inner = append(inner, v2)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	assert.Equal(t, []int{0, 10, 20}, outer)
	assert.Equal(t, []int{0, 10, 20}, inner)

	// Errors of a cached statement leave it usable.
	_, err = tx.Exec(`INSERT INTO t (k, v) VALUES ($1, $2)`, 0, 0)
	require.Error(t, err, "duplicate key")
	_, err = tx.Exec(`INSERT INTO t (k, v) VALUES ($1, $2)`, 9, 90)
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
	_, err = db.Exec(`SELECT nonsense FROM t`)
	require.Error(t, err)
	assert.False(t, errors.Is(err, errWriteLockTimeout))
}

func TestWrites(t *testing.T) {
	tests := []struct {
		query string
		want  bool
	}{
		{"SELECT 1", false},
		{"  select * from t", false},
		{"INSERT INTO t VALUES (1)", true},
		{"\n\tupdate t SET v = 1 RETURNING k", true},
		{"DELETE FROM t", true},
		{"WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", true},
		{"PRAGMA wal_checkpoint(TRUNCATE)", true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			assert.Equal(t, tt.want, writes(tt.query))
		})
	}
}

// Rows of a query that writes hold the write lock and count as a write to
// the session tables only until they are closed, and then exactly once; the
// cached statement is free again for the next run.
func TestSQLiteRowsRelease(t *testing.T) {
	db := openTestSQLite(t, 10*time.Second)
	_, err := db.Exec(`CREATE TABLE sessions (id INTEGER PRIMARY KEY)`)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO sessions (id) VALUES (1), (2)`)
	require.NoError(t, err)
	gen, ok := sessionGeneration(db)
	require.True(t, ok)
	for round := range 2 { // the second run uses the cached statement
		g0 := gen()
		rows, err := db.Query(`UPDATE sessions SET id = id RETURNING id`)
		require.NoError(t, err)
		require.True(t, rows.Next())
		assert.Equal(t, g0, gen(), "round %d: no new generation before the rows end", round)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, err = db.ExecContext(ctx, `INSERT INTO t (k, v) VALUES ($1, 0)`, round)
		cancel()
		require.ErrorIs(t, err, context.DeadlineExceeded, "round %d: the rows hold the write lock", round)
		require.NoError(t, rows.Close())
		assert.Equal(t, g0+1, gen(), "round %d: one new generation", round)
		_, err = db.Exec(`INSERT INTO t (k, v) VALUES ($1, 0)`, round)
		require.NoError(t, err, "round %d: the lock is free once the rows are closed", round)
		var n int
		require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM sessions`).Scan(&n))
		assert.Equal(t, g0+1, gen(), "round %d: a read is no write", round)
		assert.Equal(t, 2, n)
	}
}

package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A prepared statement of the cache reads what is committed after it was
// prepared (also by another connection, in or outside a transaction), and
// a nil cache (PostgreSQL) runs the query plainly.
func TestStmtCache(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "s.db")+"?_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	defer db.Close()
	db.SetMaxOpenConns(3)
	_, err = db.ExecContext(ctx, `CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)`)
	require.NoError(t, err)
	const read = `SELECT COUNT(*) FROM t WHERE k = $1`
	const insert = `INSERT INTO t (k, v) VALUES ($1, $2)`

	c := &stmtCache{db: db}
	assert.Nil(t, c.prepared(insert), "prepared does not prepare")
	require.NotNil(t, c.get(ctx, insert))
	assert.Same(t, c.get(ctx, insert), c.prepared(insert), "one statement per query")
	count := func(c *stmtCache, k string) int {
		var n int
		require.NoError(t, c.queryRow(ctx, db, read, k).Scan(&n))
		return n
	}
	for _, tc := range []struct {
		name  string
		cache *stmtCache
	}{{"SQLite", c}, {"no cache", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			k := "key " + tc.name
			assert.Equal(t, 0, count(tc.cache, k))
			tx, err := db.BeginTx(ctx, nil)
			require.NoError(t, err)
			st := tx.StmtContext(ctx, c.prepared(insert))
			_, err = st.ExecContext(ctx, k, 1)
			require.NoError(t, err)
			require.NoError(t, tx.Commit())
			assert.Equal(t, 1, count(tc.cache, k), "the committed row is read")
			_, err = db.ExecContext(ctx, `DELETE FROM t WHERE k = $1`, k)
			require.NoError(t, err)
			assert.Equal(t, 0, count(tc.cache, k), "the deletion is read")
		})
	}
	var none *stmtCache
	assert.Nil(t, none.get(ctx, read))
	assert.Nil(t, none.prepared(read))
	// A query that cannot be prepared gives no statement; run plainly, it
	// reports the error.
	assert.Nil(t, c.get(ctx, `SELECT nope FROM missing`))
	assert.Error(t, c.queryRow(ctx, db, `SELECT nope FROM missing`).Scan(new(int)))
}

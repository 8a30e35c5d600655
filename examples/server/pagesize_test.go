package main

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCreateSQLitePageSize: createSQLite gives a new file the page size
// asked for, with incremental auto_vacuum and the write-ahead log, and
// leaves an existing file (SQLite's default page size, data in it) as it
// is, still readable and writable.
func TestCreateSQLitePageSize(t *testing.T) {
	pragma := func(t *testing.T, db *sql.DB, name string) string {
		var v string
		require.NoError(t, db.QueryRow(`PRAGMA `+name).Scan(&v))
		return v
	}
	for _, tc := range []struct {
		name     string
		existing bool
		want     string
	}{
		{"a new file gets the page size", false, "1024"},
		{"an existing file keeps its page size", true, "4096"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "zorgkit.db")
			if tc.existing {
				db, err := sql.Open("sqlite", "file:"+file+"?_pragma=journal_mode(WAL)")
				require.NoError(t, err)
				_, err = db.Exec(`CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('old')`)
				require.NoError(t, err)
				require.NoError(t, db.Close())
			}
			require.NoError(t, createSQLite(file, file, 1024))
			db, err := sql.Open("sqlite", "file:"+file+"?_pragma=auto_vacuum(2)&_pragma=page_size(1024)")
			require.NoError(t, err)
			defer db.Close()
			assert.Equal(t, tc.want, pragma(t, db, "page_size"))
			assert.Equal(t, "wal", pragma(t, db, "journal_mode"))
			_, err = db.Exec(`CREATE TABLE IF NOT EXISTS t (v TEXT); INSERT INTO t VALUES ('new')`)
			require.NoError(t, err)
			var n int
			require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM t`).Scan(&n))
			if tc.existing {
				assert.Equal(t, 2, n, "the old row is still there")
			} else {
				assert.Equal(t, "2", pragma(t, db, "auto_vacuum"))
				assert.Equal(t, 1, n)
			}
		})
	}
}

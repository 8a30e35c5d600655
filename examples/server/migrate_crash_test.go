package main

import (
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCrashDuringMigration kills the portal in the middle of a migration
// of a new database (in the first, and in 006, which rebuilds tables): a
// migration and its record commit together, so the next start applies it
// again from the beginning, and the database is whole.
func TestCrashDuringMigration(t *testing.T) {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	require.NoError(t, err)
	for _, step := range []string{"migrate.statement#5", "migrate.statement#45"} {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			waitHelper(t, startHelperIn(t, dir, "open", step, "0", ""), step)
			waitHelper(t, startHelperIn(t, dir, "open", "", "0", ""), "")

			db, err := sql.Open("sqlite", filepath.Join(dir, "zorgkit.db"))
			require.NoError(t, err)
			defer db.Close()
			var applied int
			require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&applied))
			assert.Equal(t, len(files), applied, "every migration, once")
			var check string
			require.NoError(t, db.QueryRow(`PRAGMA integrity_check`).Scan(&check))
			assert.Equal(t, "ok", check)
			// A table of the last migration but one, and a column of the last.
			_, err = db.Exec(`SELECT chain, seq FROM access_log LIMIT 1`)
			assert.NoError(t, err)
			_, err = db.Exec(`SELECT applies_known FROM report_rows LIMIT 1`)
			assert.NoError(t, err)
		})
	}
}

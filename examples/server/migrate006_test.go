package main

import (
	"context"
	"database/sql"
	"io/fs"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMigration006 migrates a database as the code before migration 006
// left it: the phantom "accepted" upload a crash left without rows or
// report becomes abandoned (no delivery, never processed), only the newest
// processed delivery of a provider stays its report, and a database that
// already holds clients keeps their lookup domain.
func TestMigration006(t *testing.T) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			cfg := databaseConfigs[name](t)
			ctx := context.Background()
			db, _, err := openDB(ctx, cfg)
			require.NoError(t, err, "the current migrations on an empty database")
			d, err := lookupDomain(ctx, db)
			require.NoError(t, err)
			assert.Equal(t, "client-lookup", d, "a new database: client lookup has a domain of its own")
			db.Close()
			// Start again from the database before 006: the earlier migrations only.
			db, exec := openBefore(t, databaseConfigs[name](t), "006")
			exec(`INSERT INTO organisations (id, name, kind, domains, created_at) VALUES ('p', 'P', 'provider', 'p.example', 1)`)
			exec(`INSERT INTO clients (pseudonym, name_enc, address_enc, birth_year) VALUES ('v1.k1.x', 'e', 'e', 1950)`)
			for _, u := range []struct {
				id, status, report string
				created            int
			}{
				{"old", "processed", "{}", 10}, {"older-accepted", "accepted", "{}", 15}, {"current", "processed", "{}", 20},
				{"phantom", "accepted", "", 30}, {"test", "test-approved", "{}", 5},
			} {
				exec(`INSERT INTO uploads (id, org_id, user_id, created_at, status, rows_written, report) VALUES ($1, 'p', 'u', $2, $3, 1, $4)`,
					u.id, u.created, u.status, u.report)
			}
			exec(`INSERT INTO upload_chunks (upload_id, seq, rows, data) VALUES ('current', 0, 1, 'x'), ('phantom', 0, 1, 'y')`)
			exec(`INSERT INTO report_records (provider_id, upload_id, municipality, category, product, age_band, goal_measured, sat_measured)
				VALUES ('p', 'current', '0034', '45', '45A11', '12-17', TRUE, FALSE)`)

			require.NoError(t, migrate(ctx, db, migrations, "migrations"))
			status := map[string]string{}
			rows, err := db.QueryContext(ctx, `SELECT id, status FROM uploads`)
			require.NoError(t, err)
			for rows.Next() {
				var id, st string
				require.NoError(t, rows.Scan(&id, &st))
				status[id] = st
			}
			require.NoError(t, rows.Err())
			assert.Equal(t, map[string]string{"old": "superseded", "older-accepted": "superseded", "current": "processed",
				"phantom": "abandoned", "test": "test-approved"}, status)
			var records, chunks int
			require.NoError(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM report_records WHERE provider_id = 'p'`).Scan(&records))
			assert.Equal(t, 1, records, "the current delivery is the report")
			require.NoError(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM upload_chunks`).Scan(&chunks))
			assert.Equal(t, 1, chunks, "the phantom's chunk is not carried over")
			d, err = lookupDomain(ctx, db)
			require.NoError(t, err)
			assert.Equal(t, "", d, "existing clients keep their domain")
		})
	}
}

// migrationsBefore returns the migrations numbered below number, such as
// "011": the schema a database had before it.
func migrationsBefore(t *testing.T, number string) fs.FS {
	t.Helper()
	old := fstest.MapFS{}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	require.NoError(t, err)
	for _, n := range names {
		if strings.Compare(n, "migrations/"+number) < 0 {
			b, err := fs.ReadFile(migrations, n)
			require.NoError(t, err)
			old[n] = &fstest.MapFile{Data: b}
		}
	}
	return old
}

// openBefore opens the database of cfg with the migrations before number
// only (closed when the test ends), and gives a function that executes a
// statement on it or fails the test.
func openBefore(t *testing.T, cfg config, number string) (*sql.DB, func(q string, args ...any)) {
	t.Helper()
	ctx := context.Background()
	db, err := openRaw(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, migrate(ctx, db, migrationsBefore(t, number), "migrations"))
	return db, func(q string, args ...any) {
		t.Helper()
		_, err := db.ExecContext(ctx, q, args...)
		require.NoError(t, err, q)
	}
}

// openRaw opens the database of cfg without migrating it.
func openRaw(ctx context.Context, cfg config) (*sql.DB, error) {
	if cfg.DatabaseURL != "" {
		return sql.Open("pgx", cfg.DatabaseURL)
	}
	return sql.Open("sqlite", "file:"+cfg.DataDir+"/zorgkit.db?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)")
}

// TestUploadLifecyclePostgres runs the upload state machine on PostgreSQL:
// two deliveries, a job taken over from a dead instance after its lease,
// the swap, and the sweep.
func TestUploadLifecyclePostgres(t *testing.T) {
	p := startTestPortal(t, postgresConfig(t), true)
	ctx := context.Background()
	b := p.browser()
	b.login("jdevries")
	for _, rows := range []int{30, 50} {
		p.clock.Advance(time.Minute)
		status, body := b.upload("/uploads", "cbs.csv", demoDataset("zonnehuis", rows))
		require.Equal(t, http.StatusOK, status, text(body))
	}
	// A job that a dead instance claimed: taken over after the lease only.
	_, err := p.a.db.Exec(`INSERT INTO jobs (id, state, run_after, instance, lease_until, attempts) VALUES ('process:dead', 'running', 0, 'dead', $1, 1)`,
		usec(p.clock.Now().Add(p.a.cfg.Lease)))
	require.NoError(t, err)
	ran, err := p.a.runNextJob(ctx, "alive")
	require.NoError(t, err)
	assert.False(t, ran)
	p.clock.Advance(p.a.cfg.Lease + time.Second)
	ran, err = p.a.runNextJob(ctx, "alive")
	require.NoError(t, err)
	assert.True(t, ran)
	require.NoError(t, p.a.sweep(ctx))
	assert.Equal(t, 49, reportRows(t, p, "zonnehuis"))
	assert.Equal(t, 1, uploadsWithStatus(t, p, "zonnehuis", statusProcessed))
	var chunks int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM upload_chunks`).Scan(&chunks))
	assert.Zero(t, chunks)
}

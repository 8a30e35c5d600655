package sqlstore_test

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/consenttest"
	"github.com/zorgkit/zorgkit/consent/sqlstore"
	"github.com/zorgkit/zorgkit/consent/store"
)

// t0 is a moment in the past of the tests.
var t0 = time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)

// openSQLite returns a fresh, unmigrated SQLite database in a temporary
// directory, opened as the package documentation advises.
func openSQLite(tb testing.TB) *sql.DB {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "consent.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	require.NoError(tb, err)
	tb.Cleanup(func() { db.Close() })
	// WAL lets readers go on during a write. The mode persists in the file;
	// set it once, before concurrent use.
	_, err = db.Exec("PRAGMA journal_mode=WAL")
	require.NoError(tb, err)
	return db
}

// postgresDSN returns ZORGKIT_POSTGRES_DSN, or skips the test without it.
func postgresDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv("ZORGKIT_POSTGRES_DSN")
	if dsn == "" {
		tb.Skip("ZORGKIT_POSTGRES_DSN is not set")
	}
	return dsn
}

// openPostgres returns a connection to a fresh, empty schema of the
// PostgreSQL database of ZORGKIT_POSTGRES_DSN, dropped after the test: as
// good as a fresh database, and much faster to make.
func openPostgres(tb testing.TB) *sql.DB {
	tb.Helper()
	dsn := postgresDSN(tb)
	admin, err := sql.Open("pgx", dsn)
	require.NoError(tb, err)
	tb.Cleanup(func() { admin.Close() })
	var b [8]byte
	rand.Read(b[:])
	schema := "consent_test_" + hex.EncodeToString(b[:])
	_, err = admin.Exec("CREATE SCHEMA " + schema)
	require.NoError(tb, err)
	tb.Cleanup(func() {
		_, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		assert.NoError(tb, err)
	})
	db, err := sql.Open("pgx", withSearchPath(dsn, schema))
	require.NoError(tb, err)
	tb.Cleanup(func() { db.Close() })
	return db
}

// withSearchPath adds a search_path run-time parameter to a URL or
// keyword/value connection string.
func withSearchPath(dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			panic(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

// dialect is a dialect with how the tests open a fresh database of it.
type dialect struct {
	dialect sqlstore.Dialect
	open    func(testing.TB) *sql.DB
}

// dialects lists the databases to test: SQLite always, PostgreSQL when
// ZORGKIT_POSTGRES_DSN is set.
var dialects = []dialect{
	{sqlstore.SQLite, openSQLite},
	{sqlstore.PostgreSQL, openPostgres},
}

// newStore returns a Store on a fresh, migrated database.
func newStore(tb testing.TB, dialect sqlstore.Dialect, open func(testing.TB) *sql.DB) (*sqlstore.Store, *sql.DB) {
	tb.Helper()
	db := open(tb)
	require.NoError(tb, sqlstore.Migrate(tb.Context(), db, dialect))
	s, err := sqlstore.New(db, dialect)
	require.NoError(tb, err)
	return s, db
}

func TestConformance(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d.dialect), func(t *testing.T) {
			if d.dialect == sqlstore.PostgreSQL {
				postgresDSN(t)
			}
			consenttest.Run(t, func(t *testing.T) store.Store {
				s, _ := newStore(t, d.dialect, d.open)
				return s
			})
		})
	}
}

func TestMigrate(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d.dialect), func(t *testing.T) {
			ctx := t.Context()
			db := d.open(t)
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Go(func() { errs[i] = sqlstore.Migrate(ctx, db, d.dialect) })
			}
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err, "concurrent migrations wait for each other")
			}
			require.NoError(t, sqlstore.Migrate(ctx, db, d.dialect), "a second run changes nothing")

			files, err := sqlstore.Migrations(d.dialect)
			require.NoError(t, err)
			entries, err := os.ReadDir(filepath.Join("migrations", string(d.dialect)))
			require.NoError(t, err)
			var count int
			require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM consent_schema_migrations").Scan(&count))
			assert.Equal(t, len(entries), count, "every migration is recorded once")
			_, err = files.Open(entries[0].Name())
			assert.NoError(t, err, "Migrations serves the files")
		})
	}
}

func TestAppendOnly(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d.dialect), func(t *testing.T) {
			ctx := t.Context()
			s, db := newStore(t, d.dialect, d.open)
			r, err := consent.New(s, consent.Config{Key: consenttest.Key()})
			require.NoError(t, err)
			_, err = r.Give(ctx, consenttest.NewRecord("s1", "org-a", consent.PurposeViewNAW, consent.Permit, t0))
			require.NoError(t, err)
			for _, stmt := range []string{
				"UPDATE consent_events SET kind = 'withdrawn'",
				"DELETE FROM consent_events",
			} {
				_, err := db.ExecContext(ctx, stmt)
				assert.ErrorContains(t, err, "append-only", stmt)
			}
			if d.dialect == sqlstore.PostgreSQL {
				_, err := db.ExecContext(ctx, "TRUNCATE consent_events")
				assert.ErrorContains(t, err, "append-only")
			}
			_, err = r.Verify(ctx)
			assert.NoError(t, err)
		})
	}
}

func TestNew(t *testing.T) {
	_, err := sqlstore.New(nil, sqlstore.SQLite)
	assert.Error(t, err)
	_, err = sqlstore.New(openSQLite(t), "mysql")
	assert.ErrorContains(t, err, "unknown dialect")
	_, err = sqlstore.Migrations("mysql")
	assert.Error(t, err)
}

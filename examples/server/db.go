package main

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zorgkit/zorgkit/consent/sqlstore"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL, when -database-url is set
	_ "modernc.org/sqlite"             // the embedded default
)

// The portal's own tables. Every statement works on SQLite and PostgreSQL:
// $n placeholders, TEXT ids, BIGINT Unix times in microseconds, BYTEA for
// bytes (SQLite stores them as blobs whatever the declared type).
//
//go:embed migrations/*.sql
var migrations embed.FS

// dialect names the database behind a *sql.DB.
type dialect string

const (
	sqlite   dialect = "sqlite"
	postgres dialect = "postgres"
)

// quickRead returns the context for a read that the request path makes on
// every lookup and that takes microseconds: a primary-key or unique-index
// read (or, rarely, one client's consent events), outside a transaction,
// that writes nothing and logs nothing. On SQLite it is ctx without its
// cancellation (its values kept): with a context that can be cancelled,
// database/sql starts a goroutine per query to close the rows when the
// context ends, and modernc.org/sqlite one more to interrupt the statement;
// for the lookup's two reads that was 40% of their CPU (BENCHMARKS.md) and
// stopped nothing. What a client that hangs up costs instead: the read
// finishes (a WAL reader does not wait for the writer, a rarer wait inside
// SQLite ends at busy_timeout, a wait for a pool connection when one is
// returned or at DB.Close). The next step that writes (the access log) or
// answers still sees the cancellation. On PostgreSQL, where a read is a
// round trip to another machine and can wait for a lock, ctx is returned
// unchanged.
func (a *app) quickRead(ctx context.Context) context.Context {
	if a.dialect != sqlite {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

// Connection pool sizes. SQLite: readers run in parallel in WAL mode, but on
// a few cores more connections than that only add memory and contention;
// writers queue on the connector's lock while holding a connection, hence
// some headroom. PostgreSQL: the default of -db-conns, per instance; two
// instances stay well under the server's default max_connections of 100.
const (
	sqliteConns   = 16
	postgresConns = 32
)

// openDB opens PostgreSQL when a DSN is configured, else SQLite in the data
// directory, and applies the migrations.
func openDB(ctx context.Context, cfg config) (*sql.DB, dialect, error) {
	return openDBObserved(ctx, cfg, nil)
}

// openDBObserved is openDB whose SQLite writers report to onWrite, if not
// nil, how long each waited for the write lock.
func openDBObserved(ctx context.Context, cfg config, onWrite func(time.Duration)) (*sql.DB, dialect, error) {
	var (
		db  *sql.DB
		d   dialect
		err error
	)
	if cfg.DatabaseURL != "" {
		d = postgres
		db, err = sql.Open("pgx", cfg.DatabaseURL)
		if err == nil {
			// Keep the connections: the default of two idle ones makes
			// every burst above two requests open new connections, each a
			// TCP handshake, authentication and a backend process.
			conns := cfg.DBConns
			if conns == 0 {
				conns = postgresConns
			}
			db.SetMaxOpenConns(conns)
			db.SetMaxIdleConns(conns)
			db.SetConnMaxIdleTime(5 * time.Minute)
		}
	} else {
		d = sqlite
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, "", fmt.Errorf("create data directory: %w", err)
		}
		path := filepath.Join(cfg.DataDir, "zorgkit.db")
		// Immediate transactions take the write lock up front, so two
		// writers wait rather than fail halfway; busy_timeout makes them
		// wait instead of erroring (writers of this process queue for
		// the connector's own lock first, see sqliteConnector).
		// A new database returns free pages to the file system when the
		// uploads sweep asks (auto_vacuum 2 is incremental; it cannot be
		// turned on once tables exist, so older files keep their free
		// pages for reuse), and the write-ahead log is cut back to 64 MiB
		// after each checkpoint. synchronous=FULL makes every commit
		// durable, also against a power failure (NORMAL would lose the
		// last commits then, though not on a crash of the process): an
		// access-log entry, a consent or its withdrawal must not vanish
		// after the portal acted on it. The cost is one fsync per commit,
		// which the access log's group commit shares among the entries
		// that arrive together.
		// The path is part of a URI: '#', '?' and '%' in a directory name
		// must be escaped, or SQLite opens another file.
		path = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
		dsn := "file:" + path + "?_txlock=immediate&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)" +
			"&_pragma=auto_vacuum(2)&_pragma=journal_size_limit(67108864)"
		conn := newSQLiteConnector(dsn, 10*time.Second)
		conn.onWrite = onWrite
		db = sql.OpenDB(conn)
		// Every connection is a file handle, a page cache and the schema
		// parsed once: keep them all rather than open and parse anew for
		// each burst (database/sql keeps two idle ones by default, which
		// cost a quarter of the CPU of a client lookup under load).
		db.SetMaxOpenConns(sqliteConns)
		db.SetMaxIdleConns(sqliteConns)
	}
	if err != nil {
		return nil, "", fmt.Errorf("open database: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, "", fmt.Errorf("connect to database: %w", err)
	}
	if d == sqlite {
		// Write-ahead logging lets readers go on during a write. The mode
		// stays with the file; set it once, here, rather than in the
		// connection string, where connections opened at the same moment
		// on a new file would fail with SQLITE_BUSY.
		if _, err := db.ExecContext(ctx, `PRAGMA journal_mode=WAL`); err != nil {
			db.Close()
			return nil, "", fmt.Errorf("database: %w", err)
		}
	}
	if err := migrate(ctx, db, migrations, "migrations"); err != nil {
		db.Close()
		return nil, "", err
	}
	if err := sqlstore.Migrate(ctx, db, sqlstore.Dialect(d)); err != nil {
		db.Close()
		return nil, "", fmt.Errorf("consent migrations: %w", err)
	}
	return db, d, nil
}

// migrate applies every *.sql file in dir of fsys that is not yet recorded in
// schema_migrations, in name order, each in its own transaction together with
// its record. Two instances starting at once do not both apply a migration:
// the loser's insert of the record fails and its transaction rolls back.
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS, dir string) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name TEXT PRIMARY KEY,
		applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(fsys, dir+"/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := applyMigration(ctx, db, fsys, name); err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, fsys fs.FS, name string) error {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE name = $1`, name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	body, err := fs.ReadFile(fsys, name)
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)`, name, time.Now().UnixMicro()); err != nil {
		return err
	}
	for _, stmt := range splitStatements(string(body)) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%w\n%s", err, stmt)
		}
		crashPoint("migrate.statement")
	}
	return tx.Commit()
}

// splitStatements splits a migration on semicolons at the end of a line. The
// migrations hold no procedural code, so that is enough; the pgx driver would
// run several statements at once, but the SQLite driver would not.
func splitStatements(sql string) []string {
	var out []string
	for _, s := range strings.SplitAfter(sql, ";\n") {
		if s = strings.TrimSpace(s); s != "" && !onlyComments(s) {
			out = append(out, s)
		}
	}
	return out
}

func onlyComments(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "--") {
			return false
		}
	}
	return true
}

// errNotFound is what the query helpers return for a missing row.
var errNotFound = errors.New("not found")

// usec and fromUsec convert between time.Time and the BIGINT columns.
func usec(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromUsec(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v)
}

// batchInsert collects rows and inserts them in multi-row INSERTs, which is
// many times faster than one statement per row on both databases.
type batchInsert struct {
	tx      *sql.Tx
	dialect dialect
	insert  string // such as "INSERT INTO t (a, b) VALUES "
	cols    int
	args    []any
}

// batchRows is the number of rows per statement: 200 rows of up to 8
// columns stay well under SQLite's limit of 32766 parameters.
const batchRows = 200

// add queues a row, inserting the batch when it is full.
func (b *batchInsert) add(ctx context.Context, values ...any) error {
	if len(values) != b.cols {
		panic("batchInsert: wrong number of values")
	}
	b.args = append(b.args, values...)
	if len(b.args) == b.cols*batchRows {
		return b.flush(ctx)
	}
	return nil
}

// flush inserts the queued rows.
func (b *batchInsert) flush(ctx context.Context) error {
	if len(b.args) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString(b.insert)
	for i := 0; i < len(b.args); i++ {
		switch {
		case i == 0:
			q.WriteString("(")
		case i%b.cols == 0:
			q.WriteString("), (")
		default:
			q.WriteString(", ")
		}
		if b.dialect == sqlite {
			// SQLite looks a $n parameter up by name, in a list: binding
			// hundreds of them costs quadratic time. Plain ? binds by
			// position, and the values are in order.
			q.WriteString("?")
		} else {
			q.WriteString("$" + strconv.Itoa(i+1))
		}
	}
	q.WriteString(")")
	_, err := b.tx.ExecContext(ctx, q.String(), b.args...)
	b.args = b.args[:0]
	return err
}

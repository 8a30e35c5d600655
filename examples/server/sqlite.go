package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	moderncsqlite "modernc.org/sqlite"
)

// sqliteConnector opens connections to one SQLite database for database/sql,
// adding two things a server under load needs and the driver does not do:
//
//   - One writer at a time, queued in the process. SQLite allows a single
//     writer; a second one gets SQLITE_BUSY, and under busy_timeout SQLite's
//     busy handler sleeps and retries (1, 2, 5, … up to 100 ms a time), so a
//     write that arrives just after another waits far longer than the write
//     takes, and under load the latency tail grows to seconds. Here every
//     transaction and every statement that writes first takes the process's
//     write lock, in arrival order, and gives up after the same timeout as
//     busy_timeout, with an error, as SQLite would. Readers never take it:
//     in WAL mode they do not wait for the writer.
//   - Prepared statements kept per connection. The driver parses every
//     statement anew on each call, which was a fifth of the CPU time of a
//     client lookup; the statements of a portal are a few dozen fixed
//     strings, each parsed once per connection here.
//
// The lock covers this process only: another process that writes to the file
// (the sqlite3 shell, a second server) still meets SQLite's busy handler.
type sqliteConnector struct {
	dsn    string
	driver *sqliteDriver
	write  chan struct{} // holds a token while a writer runs
	wait   time.Duration // how long a writer waits for the lock
	// onWrite, if set, receives how long each writer waited for the lock.
	onWrite func(wait time.Duration)
	// sessionGen counts the writes of this process to the tables a
	// session check reads (sessionTables): the session cache keeps what
	// it read under the generation it read it in (sessionCache).
	sessionGen atomic.Uint64
}

// sessionTables are the tables whose rows the session check reads: a
// session, its user, the user's organisation.
var sessionTables = []string{"sessions", "users", "organisations"}

// touchesSessions reports whether query names one of the sessionTables, in
// any case. A statement that only mentions one (a column, a comment) counts
// too: a needless new generation costs a read, a missed one would not.
func touchesSessions(query string) bool {
	for _, t := range sessionTables {
		if containsFold(query, t) {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains the lower-case ASCII word sub in
// any case.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for ; j < len(sub); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

// sessionGeneration returns the generation of db's session tables, and
// false when db is not opened through a sqliteConnector (PostgreSQL).
func sessionGeneration(db *sql.DB) (func() uint64, bool) {
	d, ok := db.Driver().(*sqliteDriver)
	if !ok {
		return nil, false
	}
	return d.c.sessionGen.Load, true
}

// sqliteDriver is the driver of a sqliteConnector, which it leads back to.
type sqliteDriver struct {
	*moderncsqlite.Driver
	c *sqliteConnector
}

// stmtCacheSize bounds the prepared statements kept per connection.
const stmtCacheSize = 64

func newSQLiteConnector(dsn string, wait time.Duration) *sqliteConnector {
	c := &sqliteConnector{dsn: dsn, write: make(chan struct{}, 1), wait: wait}
	c.driver = &sqliteDriver{Driver: &moderncsqlite.Driver{}, c: c}
	return c
}

// Connect implements driver.Connector.
func (c *sqliteConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.driver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	base, ok := conn.(sqliteDriverConn)
	if !ok {
		conn.Close()
		return nil, errors.New("sqlite: the driver's connection lacks the context methods")
	}
	return &sqliteConn{c: c, base: base, stmts: map[string]*cachedStmt{}}, nil
}

// Driver implements driver.Connector.
func (c *sqliteConnector) Driver() driver.Driver { return c.driver }

// errWriteLockTimeout is returned when a writer waited longer than the busy
// timeout for the write lock.
var errWriteLockTimeout = errors.New("sqlite: database is locked: another write took longer than the busy timeout")

// lock takes the write lock, waiting at most c.wait or until ctx is done.
func (c *sqliteConnector) lock(ctx context.Context) error {
	start := time.Now()
	select {
	case c.write <- struct{}{}:
	default:
		t := time.NewTimer(c.wait)
		defer t.Stop()
		select {
		case c.write <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return errWriteLockTimeout
		}
	}
	if c.onWrite != nil {
		c.onWrite(time.Since(start))
	}
	return nil
}

func (c *sqliteConnector) unlock() { <-c.write }

// sqliteDriverConn is what the driver's connection implements.
type sqliteDriverConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// sqliteConn is one connection with its statement cache. database/sql uses
// a connection from one goroutine at a time, so it needs no lock of its own.
type sqliteConn struct {
	c     *sqliteConnector
	base  sqliteDriverConn
	stmts map[string]*cachedStmt
	inTx  bool // a transaction holds the write lock
	roTx  bool // a read-only transaction is open (no write lock)
	// txSessions: the transaction wrote to the sessionTables, and ends
	// with a new generation.
	txSessions bool
}

type cachedStmt struct {
	stmt     driver.Stmt
	busy     bool // rows of it are open
	sessions bool // touchesSessions of its text
}

// touchesSessions is touchesSessions(query), looked up in the statement
// cache when the statement is there: the portal's statements are fixed
// strings, and the access log's INSERT alone runs for every lookup.
func (s *sqliteConn) touchesSessions(query string) bool {
	if cs, ok := s.stmts[query]; ok {
		return cs.sessions
	}
	return touchesSessions(query)
}

var (
	_ driver.ConnBeginTx        = (*sqliteConn)(nil)
	_ driver.ConnPrepareContext = (*sqliteConn)(nil)
	_ driver.ExecerContext      = (*sqliteConn)(nil)
	_ driver.QueryerContext     = (*sqliteConn)(nil)
	_ driver.Pinger             = (*sqliteConn)(nil)
	_ driver.SessionResetter    = (*sqliteConn)(nil)
	_ driver.Validator          = (*sqliteConn)(nil)
)

func (s *sqliteConn) Prepare(query string) (driver.Stmt, error) {
	return s.PrepareContext(context.Background(), query)
}

func (s *sqliteConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := s.base.PrepareContext(ctx, query)
	if err != nil || !touchesSessions(query) {
		return st, err
	}
	return &sessionStmt{Stmt: st, conn: s}, nil
}

// sessionStmt is a statement prepared by a caller that names one of the
// sessionTables: each run of it counts as a write to them.
type sessionStmt struct {
	driver.Stmt
	conn *sqliteConn
}

func (st *sessionStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	defer st.conn.wroteSessions()
	return st.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (st *sessionStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	defer st.conn.wroteSessions()
	return st.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

func (s *sqliteConn) Close() error {
	var errs []error
	for q, cs := range s.stmts {
		errs = append(errs, cs.stmt.Close())
		delete(s.stmts, q)
	}
	errs = append(errs, s.base.Close())
	return errors.Join(errs...)
}

func (s *sqliteConn) Begin() (driver.Tx, error) {
	return s.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx takes the write lock for the whole transaction: the portal opens
// SQLite with immediate transactions, which take SQLite's write lock at
// BEGIN. A read-only transaction begins deferred and takes neither.
func (s *sqliteConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if opts.ReadOnly {
		tx, err := s.base.BeginTx(ctx, opts)
		if err != nil {
			return nil, err
		}
		s.roTx = true
		return &sqliteTx{conn: s, tx: tx, readOnly: true}, nil
	}
	if err := s.c.lock(ctx); err != nil {
		return nil, err
	}
	tx, err := s.base.BeginTx(ctx, opts)
	if err != nil {
		s.c.unlock()
		return nil, err
	}
	s.inTx = true
	return &sqliteTx{conn: s, tx: tx}, nil
}

type sqliteTx struct {
	conn     *sqliteConn
	tx       driver.Tx
	readOnly bool // holds no write lock
}

func (t *sqliteTx) Commit() error   { return t.end(t.tx.Commit) }
func (t *sqliteTx) Rollback() error { return t.end(t.tx.Rollback) }

func (t *sqliteTx) end(f func() error) error {
	if t.readOnly && !t.conn.roTx || !t.readOnly && !t.conn.inTx {
		return f() // ended already; let the driver say so
	}
	defer func() {
		if t.conn.txSessions {
			// After the commit (or rollback): a session check that
			// read before it must not keep what it read.
			t.conn.txSessions = false
			t.conn.c.sessionGen.Add(1)
		}
		if t.readOnly {
			t.conn.roTx = false
			return
		}
		t.conn.inTx = false
		t.conn.c.unlock()
	}()
	return f()
}

// wroteSessions records a statement that writes to the sessionTables: the
// end of its transaction, or of the statement itself outside one, begins a
// new generation.
func (s *sqliteConn) wroteSessions() {
	if s.inTx || s.roTx {
		s.txSessions = true
	} else {
		s.c.sessionGen.Add(1)
	}
}

// writes reports whether a statement may write, by its first keyword.
func writes(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n(")
	for _, kw := range []string{"INSERT", "UPDATE", "DELETE", "REPLACE", "WITH", "CREATE", "DROP", "ALTER", "PRAGMA", "VACUUM"} {
		if len(q) >= len(kw) && strings.EqualFold(q[:len(kw)], kw) {
			return true
		}
	}
	return false
}

func (s *sqliteConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if s.touchesSessions(query) {
		defer s.wroteSessions() // after the statement (outside a transaction, its commit)
	}
	if !s.inTx {
		if err := s.c.lock(ctx); err != nil {
			return nil, err
		}
		defer s.c.unlock()
	}
	cs, err := s.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return s.base.ExecContext(ctx, query, args)
	}
	return cs.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *sqliteConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	// One allocation for the rows and what their end releases (closures
	// here were four per query).
	w := writes(query)
	r := &sqliteRows{conn: s, bump: w && s.touchesSessions(query)}
	if !s.inTx && w { // such as UPDATE … RETURNING
		if err := s.c.lock(ctx); err != nil {
			return nil, err
		}
		r.locked = true
	}
	cs, err := s.stmt(ctx, query)
	if err != nil {
		r.release()
		return nil, err
	}
	var rows driver.Rows
	if cs == nil {
		rows, err = s.base.QueryContext(ctx, query, args)
	} else {
		rows, err = cs.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	}
	if err != nil {
		r.release()
		return nil, err
	}
	if cs != nil {
		cs.busy = true
	}
	r.Rows, r.cs = rows, cs
	return r, nil
}

// stmt returns the cached statement of query, preparing it on first use, or
// nil when it is in use (rows of it still open in a transaction): the caller
// then runs the query unprepared.
func (s *sqliteConn) stmt(ctx context.Context, query string) (*cachedStmt, error) {
	if cs, ok := s.stmts[query]; ok {
		if cs.busy {
			return nil, nil
		}
		return cs, nil
	}
	st, err := s.base.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if _, ok := st.(driver.StmtQueryContext); !ok {
		st.Close()
		return nil, nil
	}
	if _, ok := st.(driver.StmtExecContext); !ok {
		st.Close()
		return nil, nil
	}
	if len(s.stmts) >= stmtCacheSize {
		// Evict one that is not in use; map order is random enough for a
		// cache that holds the portal's few dozen statements.
		for q, cs := range s.stmts {
			if !cs.busy {
				cs.stmt.Close()
				delete(s.stmts, q)
				break
			}
		}
	}
	cs := &cachedStmt{stmt: st, sessions: touchesSessions(query)}
	s.stmts[query] = cs
	return cs, nil
}

func (s *sqliteConn) Ping(ctx context.Context) error { return s.base.Ping(ctx) }

func (s *sqliteConn) ResetSession(ctx context.Context) error { return s.base.ResetSession(ctx) }

func (s *sqliteConn) IsValid() bool { return s.base.IsValid() }

// sqliteRows releases the statement (and the write lock, if it holds it)
// when closed (database/sql closes them after the last row).
type sqliteRows struct {
	driver.Rows
	conn   *sqliteConn
	cs     *cachedStmt // the cached statement the rows are of, if any: busy until closed
	locked bool        // the query holds the write lock
	bump   bool        // the query writes to the sessionTables
	closed bool
}

// release counts the write to the sessionTables and gives back the write
// lock, each once.
func (r *sqliteRows) release() {
	if r.bump {
		r.bump = false
		r.conn.wroteSessions()
	}
	if r.locked {
		r.locked = false
		r.conn.c.unlock()
	}
}

func (r *sqliteRows) Close() error {
	err := r.Rows.Close()
	if !r.closed {
		r.closed = true
		if r.cs != nil {
			r.cs.busy = false
		}
		r.release()
	}
	return err
}

// The column-type methods database/sql's ColumnTypes uses, passed through.

func (r *sqliteRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *sqliteRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *sqliteRows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *sqliteRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

func (r *sqliteRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

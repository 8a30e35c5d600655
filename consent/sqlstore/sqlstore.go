// Package sqlstore keeps the events of package consent in SQLite or
// PostgreSQL, through [database/sql]: a consent/store.Store.
//
// The package imports no driver: open the database with the driver of your
// choice (modernc.org/sqlite for SQLite, github.com/jackc/pgx/v5/stdlib for
// PostgreSQL), apply the migrations with [Migrate], and pass the *sql.DB and
// its [Dialect] to [New].
//
// # Tables
//
// Every table and other object has the prefix consent_, so the migrations can
// run in a database that an application shares with other packages:
//
//   - consent_events holds one row per event, append-only: triggers refuse
//     UPDATE, TRUNCATE on PostgreSQL, and DELETE of a row that is not in
//     the quarantine.
//   - consent_heads holds the head of each chain, replaced with every
//     append, in the same transaction.
//   - consent_checkpoints holds the registry's checkpoints, append-only.
//   - consent_quarantine holds the rows an operator moved out of their
//     chain with consent.Registry.Quarantine, append-only.
//   - consent_schema_migrations records the applied migrations.
//
// Grant the application SELECT on every table, INSERT on consent_events,
// consent_checkpoints and consent_heads, and UPDATE on consent_heads only;
// grant the operator who quarantines INSERT on consent_quarantine and DELETE
// on consent_events.
//
// # Concurrent appends
//
// The appends to one chain are serialised: on PostgreSQL by the lock of the
// chain's row in consent_heads (SELECT … FOR UPDATE), or, for a chain
// without a head yet, a transaction-level advisory lock (pg_advisory_xact_lock
// with the key pair 0x636f6e73 and the first 32 bits of the chain id), so that
// different chains never wait for each other; SQLite serialises all writes.
// A writer reads the chain's head under the lock and appends after it, so
// concurrent writers wait for each other instead of failing.
//
// # SQLite
//
// Open SQLite with a busy timeout and immediate transactions, so that
// concurrent writers wait for each other instead of failing, for example
// with modernc.org/sqlite:
//
//	file:consent.db?_pragma=busy_timeout(10000)&_txlock=immediate
//
// and switch the file to write-ahead logging once, before concurrent use, so
// that readers need not wait for writers: PRAGMA journal_mode=WAL. (Setting
// it in the connection string instead makes connections opened at the same
// moment on a new file fail with SQLITE_BUSY.)
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/zorgkit/zorgkit/consent/store"
)

// Dialect is the SQL dialect of a database.
type Dialect string

// The supported dialects.
const (
	SQLite     Dialect = "sqlite"
	PostgreSQL Dialect = "postgres"
)

func (d Dialect) check() error {
	if d != SQLite && d != PostgreSQL {
		return fmt.Errorf("consent/sqlstore: unknown dialect %q: use sqlstore.SQLite or sqlstore.PostgreSQL", string(d))
	}
	return nil
}

// rebind rewrites the ? placeholders of query for d. The queries of this
// package have no ? inside literals.
func (d Dialect) rebind(query string) string {
	if d != PostgreSQL {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Store is a consent/store.Store on a SQL database. It is safe for
// concurrent use, also by several processes on one database.
type Store struct {
	db      *sql.DB
	dialect Dialect
	q       queries
}

var _ store.Store = (*Store)(nil)

// queries are the statements of a dialect.
type queries struct {
	lockHead, head, headForUpdate, events, locate, heads, scan string
	insertEvent, upsertHead                                    string
	appendCheckpoint, checkpoints, lastCheckpoint              string
	findEvent, quarantine, deleteEvent                         string
}

const eventColumns = "seq, record_id, kind, recorded_at, payload, prev_mac, mac"

func newQueries(d Dialect) queries {
	q := queries{
		head:          "SELECT seq, mac, state, seal FROM consent_heads WHERE chain_id = ?",
		headForUpdate: "SELECT seq, mac, state, seal FROM consent_heads WHERE chain_id = ? FOR UPDATE",
		events:        "SELECT " + eventColumns + " FROM consent_events WHERE chain_id = ? AND seq >= ? ORDER BY seq",
		locate:        "SELECT chain_id, " + eventColumns + " FROM consent_events WHERE record_id = ? ORDER BY seq, chain_id LIMIT 1",
		heads:         "SELECT chain_id, seq, mac, state, seal FROM consent_heads WHERE chain_id > ? ORDER BY chain_id LIMIT ?",
		scan: "SELECT chain_id, " + eventColumns + " FROM consent_events WHERE (chain_id, seq) > (?, ?) " +
			"ORDER BY chain_id, seq LIMIT ?",
		insertEvent: "INSERT INTO consent_events (chain_id, " + eventColumns + ", organisation, purpose, decision) " +
			"VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', '', '') ON CONFLICT DO NOTHING",
		upsertHead: "INSERT INTO consent_heads (chain_id, seq, mac, state, seal) VALUES (?, ?, ?, ?, ?) " +
			"ON CONFLICT (chain_id) DO UPDATE SET seq = excluded.seq, mac = excluded.mac, state = excluded.state, seal = excluded.seal",
		appendCheckpoint: "INSERT INTO consent_checkpoints (seq, payload, mac) SELECT ?, ?, ? " +
			"WHERE ? = (SELECT COALESCE(MAX(seq), 0) + 1 FROM consent_checkpoints) ON CONFLICT DO NOTHING",
		checkpoints:    "SELECT seq, payload, mac FROM consent_checkpoints WHERE seq > ? ORDER BY seq LIMIT ?",
		lastCheckpoint: "SELECT seq, payload, mac FROM consent_checkpoints ORDER BY seq DESC LIMIT 1",
		findEvent:      "SELECT COUNT(*) FROM consent_events WHERE chain_id = ? AND seq = ?",
		quarantine: "INSERT INTO consent_quarantine (chain_id, " + eventColumns + ", organisation, purpose, decision, " +
			"quarantined_at, quarantined_by, reason) SELECT chain_id, " + eventColumns + ", organisation, purpose, decision, ?, ?, ? " +
			"FROM consent_events WHERE chain_id = ? AND seq = ? AND record_id = ? AND kind = ? AND recorded_at = ? " +
			"AND payload = ? AND prev_mac = ? AND mac = ?",
		deleteEvent: "DELETE FROM consent_events WHERE chain_id = ? AND seq = ?",
	}
	if d == PostgreSQL {
		// A statement of its own: a statement that waits for the lock
		// reads with the snapshot it took before it had the lock.
		q.lockHead = "SELECT pg_advisory_xact_lock(?, ?)"
		q.insertEvent = strings.Replace(q.insertEvent, "ON CONFLICT DO NOTHING", "ON CONFLICT (chain_id, seq) DO NOTHING", 1)
	}
	for _, p := range []*string{&q.lockHead, &q.head, &q.headForUpdate, &q.events, &q.locate, &q.heads, &q.scan, &q.insertEvent, &q.upsertHead,
		&q.appendCheckpoint, &q.checkpoints, &q.lastCheckpoint, &q.findEvent, &q.quarantine, &q.deleteEvent} {
		*p = d.rebind(*p)
	}
	return q
}

// New returns a Store on db, whose schema must be migrated (see [Migrate]).
func New(db *sql.DB, dialect Dialect) (*Store, error) {
	if db == nil {
		return nil, errors.New("consent/sqlstore: New needs a *sql.DB")
	}
	if err := dialect.check(); err != nil {
		return nil, err
	}
	return &Store{db: db, dialect: dialect, q: newQueries(dialect)}, nil
}

// lockClass is the first key of the advisory locks of chains: "cons" in
// ASCII.
const lockClass = 0x636f6e73

// lockKey returns the second key of a chain's advisory lock: the first 32
// bits of its id, which is hexadecimal, or a hash of another id.
func lockKey(chain string) int32 {
	if b, err := hex.DecodeString(chain[:min(8, len(chain))]); err == nil && len(b) == 4 {
		return int32(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
	}
	var h uint32 = 2166136261 // FNV-1a
	for i := 0; i < len(chain); i++ {
		h = (h ^ uint32(chain[i])) * 16777619
	}
	return int32(h)
}

type rowScanner interface{ Scan(dest ...any) error }

func scanHead(row rowScanner, chain string) (store.Head, bool, error) {
	var seq sql.NullInt64
	h := store.Head{Chain: chain}
	if err := row.Scan(&seq, &h.MAC, &h.State, &h.Seal); err != nil {
		return store.Head{}, false, err
	}
	h.Seq = uint64(seq.Int64)
	return h, seq.Valid, nil
}

// Head implements consent/store.Store.
func (s *Store) Head(ctx context.Context, chain string) (store.Head, error) {
	h, ok, err := scanHead(s.db.QueryRowContext(ctx, s.q.head, chain), chain)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !ok {
		return store.Head{}, store.ErrNotFound
	}
	if err != nil {
		return store.Head{}, fmt.Errorf("consent/sqlstore: reading a head: %w", err)
	}
	return h, nil
}

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *Store) readEvents(ctx context.Context, db queryer, query string, chain string, args ...any) ([]store.Event, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("consent/sqlstore: reading events: %w", err)
	}
	defer rows.Close()
	events := []store.Event{}
	for rows.Next() {
		e := store.Event{Chain: chain}
		var seq, at int64
		dest := []any{&seq, &e.Record, &e.Kind, &at, &e.Payload, &e.Prev, &e.MAC}
		if chain == "" {
			dest = append([]any{&e.Chain}, dest...)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("consent/sqlstore: reading events: %w", err)
		}
		e.Seq, e.RecordedAt = uint64(seq), time.Unix(0, at).UTC()
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("consent/sqlstore: reading events: %w", err)
	}
	return events, nil
}

// Update implements consent/store.Store. It runs fn in a transaction that
// holds the chain's lock.
func (s *Store) Update(ctx context.Context, chain string, fn func(head *store.Head, read store.EventReader) (*store.Batch, error)) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("consent/sqlstore: %w", err)
	}
	defer tx.Rollback()
	head, err := s.lockHead(ctx, tx, chain)
	if err != nil {
		return err
	}
	read := func(from uint64) ([]store.Event, error) {
		return s.readEvents(ctx, tx, s.q.events, chain, chain, int64(from))
	}
	b, err := fn(head, read)
	if err != nil || b == nil {
		return err
	}
	if err := store.CheckBatch(chain, head, b); err != nil {
		return err
	}
	for i := range b.Events {
		if at := b.Events[i].RecordedAt; !time.Unix(0, at.UnixNano()).Equal(at) {
			return fmt.Errorf("%w: RecordedAt is outside the years 1678 to 2262", store.ErrInvalid)
		}
	}
	if s.dialect == PostgreSQL {
		if err := s.writePostgres(ctx, tx, chain, b); err != nil {
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("consent/sqlstore: committing an update: %w", err)
		}
		return nil
	}
	for i := range b.Events {
		e := &b.Events[i]
		res, err := tx.ExecContext(ctx, s.q.insertEvent, e.Chain, int64(e.Seq), e.Record, e.Kind, e.RecordedAt.UnixNano(),
			e.Payload, e.Prev, e.MAC)
		if err != nil {
			return fmt.Errorf("consent/sqlstore: appending an event: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("consent/sqlstore: %w", err)
		} else if n == 0 {
			return fmt.Errorf("consent/sqlstore: event %d of chain %s: %w", e.Seq, e.Chain, store.ErrTaken)
		}
	}
	hd := &b.Head
	if _, err := tx.ExecContext(ctx, s.q.upsertHead, chain, int64(hd.Seq), hd.MAC, hd.State, hd.Seal); err != nil {
		return fmt.Errorf("consent/sqlstore: writing a head: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("consent/sqlstore: committing an update: %w", err)
	}
	return nil
}

// lockHead locks the chain for the update and reads its head. SQLite has
// the database locked already (an immediate transaction). PostgreSQL locks
// the head's row; a chain without one yet takes the chain's advisory lock
// and reads again, locking the row that another writer may have made
// meanwhile, so that every writer of a chain waits for the one before.
func (s *Store) lockHead(ctx context.Context, tx *sql.Tx, chain string) (*store.Head, error) {
	read := func(query string) (*store.Head, error) {
		h, ok, err := scanHead(tx.QueryRowContext(ctx, query, chain), chain)
		switch {
		case err == nil && ok:
			return &h, nil
		case err == nil, errors.Is(err, sql.ErrNoRows):
			return nil, nil
		}
		return nil, fmt.Errorf("consent/sqlstore: reading a head: %w", err)
	}
	if s.dialect != PostgreSQL {
		return read(s.q.head)
	}
	if h, err := read(s.q.headForUpdate); h != nil || err != nil {
		return h, err
	}
	if _, err := tx.ExecContext(ctx, s.q.lockHead, lockClass, lockKey(chain)); err != nil {
		return nil, fmt.Errorf("consent/sqlstore: locking a chain: %w", err)
	}
	return read(s.q.headForUpdate)
}

// writePostgres writes a batch in one statement, one round trip: the
// events, and the head only if every event was inserted.
func (s *Store) writePostgres(ctx context.Context, tx *sql.Tx, chain string, b *store.Batch) error {
	var q strings.Builder
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	q.WriteString("WITH e AS (")
	if len(b.Events) > 0 {
		q.WriteString("INSERT INTO consent_events (chain_id, " + eventColumns + ", organisation, purpose, decision) VALUES ")
		for i := range b.Events {
			e := &b.Events[i]
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(" + strings.Join([]string{arg(e.Chain), arg(int64(e.Seq)), arg(e.Record), arg(e.Kind),
				arg(e.RecordedAt.UnixNano()), arg(e.Payload), arg(e.Prev), arg(e.MAC)}, ", ") + ", '', '', '')")
		}
		q.WriteString(" ON CONFLICT (chain_id, seq) DO NOTHING RETURNING 1")
	} else {
		q.WriteString("SELECT 1 WHERE false")
	}
	h := &b.Head
	q.WriteString("), h AS (INSERT INTO consent_heads (chain_id, seq, mac, state, seal) SELECT " +
		strings.Join([]string{arg(chain), arg(int64(h.Seq)), arg(h.MAC), arg(h.State), arg(h.Seal)}, ", ") +
		" WHERE (SELECT COUNT(*) FROM e) = " + arg(len(b.Events)) +
		" ON CONFLICT (chain_id) DO UPDATE SET seq = excluded.seq, mac = excluded.mac, state = excluded.state, seal = excluded.seal" +
		" RETURNING 1) SELECT (SELECT COUNT(*) FROM e), (SELECT COUNT(*) FROM h)")
	var inserted, heads int
	if err := tx.QueryRowContext(ctx, q.String(), args...).Scan(&inserted, &heads); err != nil {
		return fmt.Errorf("consent/sqlstore: appending: %w", err)
	}
	if inserted != len(b.Events) || heads != 1 {
		return fmt.Errorf("consent/sqlstore: chain %s: %w", chain, store.ErrTaken)
	}
	return nil
}

// Events implements consent/store.Store.
func (s *Store) Events(ctx context.Context, chain string, from uint64) ([]store.Event, error) {
	return s.readEvents(ctx, s.db, s.q.events, chain, chain, int64(from))
}

// Locate implements consent/store.Store.
func (s *Store) Locate(ctx context.Context, id string) (store.Event, error) {
	evs, err := s.readEvents(ctx, s.db, s.q.locate, "", id)
	if err != nil {
		return store.Event{}, err
	}
	if len(evs) == 0 {
		return store.Event{}, store.ErrNotFound
	}
	return evs[0], nil
}

// Heads implements consent/store.Store.
func (s *Store) Heads(ctx context.Context, after string, limit int) ([]store.Head, error) {
	rows, err := s.db.QueryContext(ctx, s.q.heads, after, limit)
	if err != nil {
		return nil, fmt.Errorf("consent/sqlstore: listing heads: %w", err)
	}
	defer rows.Close()
	heads := []store.Head{}
	for rows.Next() {
		var h store.Head
		var seq int64
		if err := rows.Scan(&h.Chain, &seq, &h.MAC, &h.State, &h.Seal); err != nil {
			return nil, fmt.Errorf("consent/sqlstore: listing heads: %w", err)
		}
		h.Seq = uint64(seq)
		heads = append(heads, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("consent/sqlstore: listing heads: %w", err)
	}
	return heads, nil
}

// Scan implements consent/store.Store.
func (s *Store) Scan(ctx context.Context, chain string, seq uint64, limit int) ([]store.Event, error) {
	return s.readEvents(ctx, s.db, s.q.scan, "", chain, int64(seq), limit)
}

// AppendCheckpoint implements consent/store.Store.
func (s *Store) AppendCheckpoint(ctx context.Context, c store.Checkpoint) error {
	res, err := s.db.ExecContext(ctx, s.q.appendCheckpoint, int64(c.Seq), c.Payload, c.MAC, int64(c.Seq))
	if err != nil {
		return fmt.Errorf("consent/sqlstore: storing a checkpoint: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("consent/sqlstore: %w", err)
	} else if n == 0 {
		return fmt.Errorf("consent/sqlstore: checkpoint %d does not follow the last one: %w", c.Seq, store.ErrConflict)
	}
	return nil
}

func scanCheckpoints(rows *sql.Rows, err error) ([]store.Checkpoint, error) {
	if err != nil {
		return nil, fmt.Errorf("consent/sqlstore: reading checkpoints: %w", err)
	}
	defer rows.Close()
	cps := []store.Checkpoint{}
	for rows.Next() {
		var c store.Checkpoint
		var seq int64
		if err := rows.Scan(&seq, &c.Payload, &c.MAC); err != nil {
			return nil, fmt.Errorf("consent/sqlstore: reading checkpoints: %w", err)
		}
		c.Seq = uint64(seq)
		cps = append(cps, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("consent/sqlstore: reading checkpoints: %w", err)
	}
	return cps, nil
}

// Checkpoints implements consent/store.Store.
func (s *Store) Checkpoints(ctx context.Context, after uint64, limit int) ([]store.Checkpoint, error) {
	return scanCheckpoints(s.db.QueryContext(ctx, s.q.checkpoints, int64(after), limit))
}

// LastCheckpoint implements consent/store.Store.
func (s *Store) LastCheckpoint(ctx context.Context) (store.Checkpoint, error) {
	cps, err := scanCheckpoints(s.db.QueryContext(ctx, s.q.lastCheckpoint))
	if err != nil {
		return store.Checkpoint{}, err
	}
	if len(cps) == 0 {
		return store.Checkpoint{}, store.ErrNotFound
	}
	return cps[0], nil
}

// Quarantine implements consent/store.Store: it copies the row into
// consent_quarantine and deletes it from consent_events, in one
// transaction. The role that runs it needs INSERT on consent_quarantine and
// DELETE on consent_events: grant them to the operator, not to the
// application.
func (s *Store) Quarantine(ctx context.Context, q store.Quarantined) error {
	e := &q.Event
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("consent/sqlstore: %w", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, s.q.findEvent, e.Chain, int64(e.Seq)).Scan(&n); err != nil {
		return fmt.Errorf("consent/sqlstore: quarantining an event: %w", err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	res, err := tx.ExecContext(ctx, s.q.quarantine, q.At.UnixNano(), q.By, q.Reason,
		e.Chain, int64(e.Seq), e.Record, e.Kind, e.RecordedAt.UnixNano(), e.Payload, e.Prev, e.MAC)
	if err != nil {
		return fmt.Errorf("consent/sqlstore: quarantining an event: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("consent/sqlstore: %w", err)
	} else if n != 1 {
		return fmt.Errorf("consent/sqlstore: the stored event differs from the one to quarantine: %w", store.ErrConflict)
	}
	if _, err := tx.ExecContext(ctx, s.q.deleteEvent, e.Chain, int64(e.Seq)); err != nil {
		return fmt.Errorf("consent/sqlstore: quarantining an event: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("consent/sqlstore: committing a quarantine: %w", err)
	}
	return nil
}

// Package sqlstore keeps the events of package consent in SQLite or
// PostgreSQL, through [database/sql].
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
//     UPDATE and DELETE (and, on PostgreSQL, TRUNCATE). Grant the
//     application INSERT and SELECT only, for good measure.
//   - consent_schema_migrations records the applied migrations.
//
// # Concurrent appends
//
// The primary key (chain_id, seq) is the optimistic version check: of two
// writers that append the next event of a chain, one inserts it and the
// other finds the place taken and gets [consent.ErrConflict], upon which the
// [consent.Registry] reads the chain again and retries. Different chains
// never wait for each other on PostgreSQL; SQLite serialises all writes.
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
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/zorgkit/zorgkit/consent"
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

// Store is a [consent.Store] on a SQL database. It is safe for concurrent
// use.
type Store struct {
	db      *sql.DB
	dialect Dialect
}

var _ consent.Store = (*Store)(nil)

// New returns a Store on db, whose schema must be migrated (see [Migrate]).
func New(db *sql.DB, dialect Dialect) (*Store, error) {
	if db == nil {
		return nil, errors.New("consent/sqlstore: New needs a *sql.DB")
	}
	if err := dialect.check(); err != nil {
		return nil, err
	}
	return &Store{db: db, dialect: dialect}, nil
}

var zeroMAC [32]byte

const columns = "seq, record_id, kind, organisation, purpose, decision, recorded_at, payload, prev_mac, mac"

// Append implements [consent.Store].
func (s *Store) Append(ctx context.Context, events []consent.SealedEvent) error {
	if err := consent.CheckBatch(events); err != nil {
		return err
	}
	for i := range events {
		at := events[i].RecordedAt
		if !time.Unix(0, at.UnixNano()).Equal(at) {
			return fmt.Errorf("consent/sqlstore: RecordedAt %v is outside the years 1678-2262: %w", at, consent.ErrInvalid)
		}
	}
	first := &events[0]
	// The predecessor is committed and can never change, so checking it
	// before the transaction is as good as in it, and keeps the
	// transaction to writes only.
	if first.Seq == 1 && !bytes.Equal(first.Prev, zeroMAC[:]) {
		return &consent.ConflictError{Chain: first.Chain}
	}
	if first.Seq > 1 {
		var mac []byte
		err := s.db.QueryRowContext(ctx, s.dialect.rebind(
			"SELECT mac FROM consent_events WHERE chain_id = ? AND seq = ?"),
			string(first.Chain), int64(first.Seq-1)).Scan(&mac)
		if errors.Is(err, sql.ErrNoRows) || err == nil && !bytes.Equal(mac, first.Prev) {
			return &consent.ConflictError{Chain: first.Chain}
		}
		if err != nil {
			return fmt.Errorf("consent/sqlstore: reading the head of a chain: %w", err)
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("consent/sqlstore: %w", err)
	}
	defer tx.Rollback()
	insert := s.dialect.rebind("INSERT INTO consent_events (chain_id, " + columns + ") " +
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
	for i := range events {
		e := &events[i]
		res, err := tx.ExecContext(ctx, insert, string(e.Chain), int64(e.Seq), string(e.Record), string(e.Kind),
			string(e.Organisation), string(e.Purpose), string(e.Decision), e.RecordedAt.UnixNano(),
			e.Payload, e.Prev, e.MAC)
		if err != nil {
			return fmt.Errorf("consent/sqlstore: appending an event: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("consent/sqlstore: %w", err)
		} else if n == 0 {
			return &consent.ConflictError{Chain: e.Chain} // another writer took the place
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("consent/sqlstore: committing an append: %w", err)
	}
	return nil
}

// Chain implements [consent.Store].
func (s *Store) Chain(ctx context.Context, chain consent.ChainID) ([]consent.SealedEvent, error) {
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(
		"SELECT "+columns+" FROM consent_events WHERE chain_id = ? ORDER BY seq"), string(chain))
	if err != nil {
		return nil, fmt.Errorf("consent/sqlstore: reading a chain: %w", err)
	}
	defer rows.Close()
	events := []consent.SealedEvent{}
	for rows.Next() {
		e := consent.SealedEvent{Chain: chain}
		var seq, at int64
		if err := rows.Scan(&seq, &e.Record, &e.Kind, &e.Organisation, &e.Purpose, &e.Decision, &at,
			&e.Payload, &e.Prev, &e.MAC); err != nil {
			return nil, fmt.Errorf("consent/sqlstore: reading a chain: %w", err)
		}
		e.Seq, e.RecordedAt = uint64(seq), time.Unix(0, at).UTC()
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("consent/sqlstore: reading a chain: %w", err)
	}
	return events, nil
}

// Locate implements [consent.Store].
func (s *Store) Locate(ctx context.Context, record consent.RecordID) (consent.ChainID, error) {
	var chain string
	err := s.db.QueryRowContext(ctx, s.dialect.rebind(
		"SELECT chain_id FROM consent_events WHERE record_id = ? LIMIT 1"),
		string(record)).Scan(&chain)
	if errors.Is(err, sql.ErrNoRows) {
		return "", consent.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("consent/sqlstore: locating a record: %w", err)
	}
	return consent.ChainID(chain), nil
}

// Heads implements [consent.Store].
func (s *Store) Heads(ctx context.Context, after consent.ChainID, limit int) ([]consent.Head, error) {
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(
		"SELECT e.chain_id, e.seq, e.mac FROM consent_events e JOIN "+
			"(SELECT chain_id, MAX(seq) AS seq FROM consent_events WHERE chain_id > ? "+
			"GROUP BY chain_id ORDER BY chain_id LIMIT ?) h "+
			"ON e.chain_id = h.chain_id AND e.seq = h.seq ORDER BY e.chain_id"),
		string(after), limit)
	if err != nil {
		return nil, fmt.Errorf("consent/sqlstore: listing chains: %w", err)
	}
	defer rows.Close()
	var heads []consent.Head
	for rows.Next() {
		var h consent.Head
		var seq int64
		if err := rows.Scan(&h.Chain, &seq, &h.MAC); err != nil {
			return nil, fmt.Errorf("consent/sqlstore: listing chains: %w", err)
		}
		h.Seq = uint64(seq)
		heads = append(heads, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("consent/sqlstore: listing chains: %w", err)
	}
	return heads, nil
}

// nanos returns t in Unix nanoseconds, clamped to the range of int64.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// Population implements [consent.Store].
func (s *Store) Population(ctx context.Context, f consent.Filter) ([]consent.RecordID, error) {
	query := "SELECT record_id FROM consent_events WHERE kind = ? AND recorded_at >= ? AND recorded_at < ?"
	args := []any{string(consent.EventGiven), nanos(f.From), nanos(f.Until)}
	for _, c := range []struct{ column, value string }{
		{"organisation", string(f.Organisation)},
		{"purpose", string(f.Purpose)},
		{"decision", string(f.Decision)},
	} {
		if c.value != "" {
			query += " AND " + c.column + " = ?"
			args = append(args, c.value)
		}
	}
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(query+" ORDER BY record_id"), args...)
	if err != nil {
		return nil, fmt.Errorf("consent/sqlstore: selecting a population: %w", err)
	}
	defer rows.Close()
	var ids []consent.RecordID
	for rows.Next() {
		var id consent.RecordID
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("consent/sqlstore: selecting a population: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("consent/sqlstore: selecting a population: %w", err)
	}
	return ids, nil
}

// Quarantine implements [consent.Store]: it copies the row into
// consent_quarantine and deletes it from consent_events, in one
// transaction. The role that runs it needs INSERT on consent_quarantine and
// DELETE on consent_events: grant them to the operator, not to the
// application.
func (s *Store) Quarantine(ctx context.Context, q consent.Quarantined) error {
	e := &q.Event
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("consent/sqlstore: %w", err)
	}
	defer tx.Rollback()
	var n int
	err = tx.QueryRowContext(ctx, s.dialect.rebind("SELECT COUNT(*) FROM consent_events WHERE chain_id = ? AND seq = ?"),
		string(e.Chain), int64(e.Seq)).Scan(&n)
	if err != nil {
		return fmt.Errorf("consent/sqlstore: quarantining an event: %w", err)
	}
	if n == 0 {
		return consent.ErrNotFound
	}
	res, err := tx.ExecContext(ctx, s.dialect.rebind("INSERT INTO consent_quarantine (chain_id, "+columns+
		", quarantined_at, quarantined_by, reason) SELECT chain_id, "+columns+", ?, ?, ? FROM consent_events "+
		"WHERE chain_id = ? AND seq = ? AND record_id = ? AND kind = ? AND organisation = ? AND purpose = ? "+
		"AND decision = ? AND recorded_at = ? AND payload = ? AND prev_mac = ? AND mac = ?"),
		q.At.UnixNano(), q.By.User+" ("+string(q.By.Organisation)+")", q.Reason,
		string(e.Chain), int64(e.Seq), string(e.Record), string(e.Kind), string(e.Organisation), string(e.Purpose),
		string(e.Decision), e.RecordedAt.UnixNano(), e.Payload, e.Prev, e.MAC)
	if err != nil {
		return fmt.Errorf("consent/sqlstore: quarantining an event: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("consent/sqlstore: %w", err)
	} else if n != 1 {
		return &consent.ConflictError{Chain: e.Chain} // the row is not the one named
	}
	if _, err := tx.ExecContext(ctx, s.dialect.rebind("DELETE FROM consent_events WHERE chain_id = ? AND seq = ?"),
		string(e.Chain), int64(e.Seq)); err != nil {
		return fmt.Errorf("consent/sqlstore: quarantining an event: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("consent/sqlstore: committing a quarantine: %w", err)
	}
	return nil
}

package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The sweep keeps the database to what the portal needs, in short steps
// that any instance may run at any time (each step is idempotent, so two
// instances sweeping at once do no harm):
//
//   - an upload still receiving whose heartbeat stopped for longer than the
//     lease is abandoned: its receiver died;
//   - the chunks of abandoned uploads are deleted at once, those of every
//     other upload that will not be processed again once the retention
//     (-upload-retention) has passed;
//   - the report rows of superseded and rejected deliveries are deleted;
//   - on SQLite, the write-ahead log is checkpointed (the connection's
//     journal_size_limit then keeps the log file small) and free pages are
//     returned to the file system, up to 1 GiB per sweep: what a large
//     purge freed beyond that, the next sweeps return.
//
// Each deletion removes at most purgeBatch chunks' worth of rows per
// transaction, so that it holds the write lock for milliseconds.
func (a *app) sweep(ctx context.Context) error {
	now := a.now()
	res, err := a.db.ExecContext(ctx, `UPDATE uploads SET status = 'abandoned', error = $2 WHERE status = 'receiving' AND heartbeat_at < $1`,
		usec(now.Add(-a.cfg.Lease)), "De aanlevering is afgebroken voordat het bestand volledig binnen was; lever het opnieuw aan.")
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		a.log.Warn("abandoned uploads whose receiver stopped", "uploads", n)
	}
	// Chunks: of abandoned uploads at once; of the others once processing
	// no longer needs them and the retention has passed.
	ids, err := a.uploadIDs(ctx, `SELECT id FROM uploads WHERE purged_at = 0 AND (status = 'abandoned'
		OR (status IN ('processed', 'superseded', 'rejected', 'test', 'test-approved') AND received_at <= $1 AND processed_at <= $1))`,
		usec(now.Add(-a.cfg.UploadRetention)))
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := a.purgeChunks(ctx, id); err != nil {
			return err
		}
	}
	// Report rows of deliveries that are no longer the report.
	ids, err = a.uploadIDs(ctx, `SELECT id FROM uploads WHERE status IN ('superseded', 'rejected', 'abandoned') AND built_chunks > 0`)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := a.purgeReportRows(ctx, id); err != nil {
			return err
		}
	}
	if a.dialect == sqlite {
		return a.compact(ctx)
	}
	return nil
}

func (a *app) uploadIDs(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := a.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// purgeBatch is the number of chunks (of about 256 KiB each) whose data or
// report rows one purge step deletes.
const purgeBatch = 16

// purgeChunks deletes an upload's chunks, purgeBatch at a time, and then
// records that they are gone. An upload still receiving or waiting to be
// processed is left alone.
func (a *app) purgeChunks(ctx context.Context, id string) error {
	for {
		var first int
		err := a.db.QueryRowContext(ctx, `SELECT seq FROM upload_chunks WHERE upload_id = $1 ORDER BY seq LIMIT 1`, id).Scan(&first)
		if errors.Is(err, sql.ErrNoRows) {
			break
		}
		if err != nil {
			return err
		}
		if _, err := a.db.ExecContext(ctx, `DELETE FROM upload_chunks WHERE upload_id = $1 AND seq < $2
			AND EXISTS (SELECT 1 FROM uploads WHERE id = $1 AND status NOT IN ('receiving', 'accepted'))`, id, first+purgeBatch); err != nil {
			return err
		}
		crashPoint("purge.chunks")
		var status string
		if err := a.db.QueryRowContext(ctx, `SELECT status FROM uploads WHERE id = $1`, id).Scan(&status); err != nil {
			return err
		}
		if status == string(statusReceiving) || status == string(statusAccepted) {
			return fmt.Errorf("purge: upload %s is %s", id, status)
		}
	}
	_, err := a.db.ExecContext(ctx, `UPDATE uploads SET purged_at = $2 WHERE id = $1 AND status NOT IN ('receiving', 'accepted')`, id, usec(a.now()))
	return err
}

// purgeReportRows deletes the report rows of a delivery that is no longer
// a report, purgeBatch chunks' worth at a time, from the last chunk down, so
// that built_chunks always covers what is left.
func (a *app) purgeReportRows(ctx context.Context, id string) error {
	for {
		tx, err := a.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		var built int
		err = tx.QueryRowContext(ctx, `SELECT built_chunks FROM uploads WHERE id = $1 AND status IN ('superseded', 'rejected', 'abandoned')`, id).Scan(&built)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && built == 0) {
			tx.Rollback()
			return nil
		}
		if err != nil {
			tx.Rollback()
			return err
		}
		from := max(built-purgeBatch, 0)
		if _, err := tx.ExecContext(ctx, `DELETE FROM report_rows WHERE upload_id = $1 AND seq >= $2`, id, from); err != nil {
			tx.Rollback()
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE uploads SET built_chunks = $2, built_rows = 0 WHERE id = $1`, id, from); err != nil {
			tx.Rollback()
			return err
		}
		crashPoint("purge.rows")
		if err := tx.Commit(); err != nil {
			return err
		}
	}
}

// A sweep returns free pages in compactSteps steps of compactStep pages
// (of 4 KiB): 16 MiB per step, each a short transaction, 1 GiB per sweep.
// Variables for the tests.
var compactSteps, compactStep = 64, 4096

// compact checkpoints SQLite's write-ahead log into the database file, then
// returns free pages to the file system where the database was created with
// incremental auto-vacuum (every database since migration 006). Both are
// short steps: a passive checkpoint waits for no reader or writer (TRUNCATE
// would hold up writers while a long report query reads), and each
// incremental_vacuum is bounded.
func (a *app) compact(ctx context.Context) error {
	if _, err := a.db.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
		return err
	}
	for range compactSteps {
		var free int
		if err := a.db.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&free); err != nil || free == 0 {
			return err
		}
		if _, err := a.db.ExecContext(ctx, fmt.Sprintf(`PRAGMA incremental_vacuum(%d)`, compactStep)); err != nil {
			return err
		}
		var after int
		if err := a.db.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&after); err != nil || after == free {
			return err // auto_vacuum is off for this database: nothing to return
		}
	}
	_, err := a.db.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
	return err
}

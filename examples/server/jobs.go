package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// runJobs is the scheduler: every instance runs it, and the jobs table makes
// sure each job runs once. The nightly processing job is queued at JobsAt;
// the portal owner's button (or -run-jobs-now) queues one to run at once.
func (a *app) runJobs(ctx context.Context) {
	instance := newID()
	if a.cfg.RunJobsNow {
		if err := a.enqueueJob(ctx, "process:now:"+newID(), a.now()); err != nil {
			a.log.Error("queue job", "err", err)
		}
	}
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		if err := a.scheduleNightly(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("schedule nightly job", "err", err)
		}
		for {
			ran, err := a.runNextJob(ctx, instance)
			if err != nil && ctx.Err() == nil {
				a.log.Error("job", "err", err)
			}
			if !ran || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-a.kick:
		}
	}
}

// scheduleNightly queues today's processing job once JobsAt has passed. The
// job id holds the date, so several instances queue it once.
func (a *app) scheduleNightly(ctx context.Context) error {
	now := a.now().Local()
	at, _ := time.Parse("15:04", a.cfg.JobsAt)
	due := time.Date(now.Year(), now.Month(), now.Day(), at.Hour(), at.Minute(), 0, 0, time.Local)
	if now.Before(due) {
		return nil
	}
	return a.enqueueJob(ctx, "process:"+due.Format("2006-01-02"), due)
}

func (a *app) enqueueJob(ctx context.Context, id string, runAfter time.Time) error {
	_, err := a.db.ExecContext(ctx, `INSERT INTO jobs (id, state, run_after) VALUES ($1, 'queued', $2) ON CONFLICT (id) DO NOTHING`, id, usec(runAfter))
	return err
}

// runNextJob claims the oldest due job, if any, and runs it. A job whose
// instance died while running it is queued again after an hour.
func (a *app) runNextJob(ctx context.Context, instance string) (bool, error) {
	now := a.now()
	if _, err := a.db.ExecContext(ctx, `UPDATE jobs SET state = 'queued', instance = '' WHERE state = 'running' AND started_at < $1`, usec(now.Add(-time.Hour))); err != nil {
		return false, err
	}
	var id string
	err := a.db.QueryRowContext(ctx, `SELECT id FROM jobs WHERE state = 'queued' AND run_after <= $1 ORDER BY run_after, id LIMIT 1`, usec(now)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	res, err := a.db.ExecContext(ctx, `UPDATE jobs SET state = 'running', instance = $2, started_at = $3 WHERE id = $1 AND state = 'queued'`, id, instance, usec(now))
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return true, nil // another instance took it; look for the next
	}
	detail, jobErr := a.processUploads(ctx)
	state := "done"
	if jobErr != nil {
		state, detail = "failed", jobErr.Error()
	}
	if _, err := a.db.ExecContext(context.WithoutCancel(ctx), `UPDATE jobs SET state = $2, finished_at = $3, detail = $4 WHERE id = $1`, id, state, usec(a.now()), detail); err != nil {
		return true, err
	}
	a.log.Info("job finished", "job", id, "state", state, "detail", detail)
	return true, jobErr
}

// runJobsNow is the portal owner's button: process the uploads now instead of
// tonight.
func (a *app) runJobsNow(w http.ResponseWriter, r *http.Request) {
	if err := a.enqueueJob(r.Context(), "process:now:"+newID(), a.now()); err != nil {
		a.serverError(w, r, err)
		return
	}
	select {
	case a.kick <- struct{}{}:
	default:
	}
	http.Redirect(w, r, "/uploads", http.StatusSeeOther)
}

// The output columns of an upload row, in the order of uploadColumns.
const (
	colAgeBand      = 1
	colMunicipality = 4
	colProduct      = 6
	colBegin        = 7
	colEnd          = 8
	colGoal         = 9
	colSatisfaction = 10
	uploadFields    = 11
)

// reportRecord is one decision as the reports count it.
type reportRecord struct {
	provider, municipality, category, product, ageBand string
	period                                             string // reporting half-year, such as "2026-1"
	goalMeasured, satMeasured                          bool
}

// processUploads turns the latest counted delivery of each provider into its
// report figures, replacing what it had.
func (a *app) processUploads(ctx context.Context) (string, error) {
	// Only a provider whose newest counted delivery is not yet processed:
	// the others' report records are up to date.
	rows, err := a.db.QueryContext(ctx, `SELECT u.id, u.org_id FROM uploads u
		WHERE u.status = 'accepted' AND u.created_at = (
			SELECT MAX(v.created_at) FROM uploads v WHERE v.org_id = u.org_id AND v.status IN ('accepted', 'processed'))`)
	if err != nil {
		return "", err
	}
	type latest struct{ upload, org string }
	var todo []latest
	for rows.Next() {
		var l latest
		if err := rows.Scan(&l.upload, &l.org); err != nil {
			rows.Close()
			return "", err
		}
		todo = append(todo, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", err
	}
	total := 0
	for _, l := range todo {
		n, err := a.processUpload(ctx, l.upload, l.org)
		if err != nil {
			return "", fmt.Errorf("upload %s: %w", l.upload, err)
		}
		total += n
	}
	return fmt.Sprintf("%d providers, %d rows", len(todo), total), nil
}

func (a *app) processUpload(ctx context.Context, uploadID, orgID string) (int, error) {
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM report_records WHERE provider_id = $1`, orgID); err != nil {
		return 0, err
	}
	ins := &batchInsert{tx: tx, dialect: a.dialect, insert: `INSERT INTO report_records (provider_id, upload_id, municipality, category, product, age_band, goal_measured, sat_measured, period) VALUES `, cols: 9}
	// Read the chunks one by one: memory stays flat whatever the size of
	// the upload, and one connection both reads and writes.
	n := 0
	for seq := 0; ; seq++ {
		var data string
		err := tx.QueryRowContext(ctx, `SELECT data FROM upload_chunks WHERE upload_id = $1 AND seq = $2`, uploadID, seq).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			break
		}
		if err != nil {
			return 0, err
		}
		r := csv.NewReader(strings.NewReader(data))
		r.Comma, r.FieldsPerRecord, r.ReuseRecord = ';', -1, true
		for {
			f, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return 0, fmt.Errorf("chunk %d: %w", seq, err)
			}
			rec, ok := parseReportRecord(f)
			if !ok {
				continue
			}
			if err := ins.add(ctx, orgID, uploadID, rec.municipality, rec.category, rec.product, rec.ageBand, rec.goalMeasured, rec.satMeasured, rec.period); err != nil {
				return 0, err
			}
			n++
		}
	}
	if err := ins.flush(ctx); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE uploads SET status = 'processed', processed_at = $2 WHERE id = $1`, uploadID, usec(a.now())); err != nil {
		return 0, err
	}
	return n, tx.Commit()
}

// parseReportRecord reads what the reports need from a pseudonymised row.
func parseReportRecord(f []string) (reportRecord, bool) {
	if len(f) != uploadFields {
		return reportRecord{}, false
	}
	goal := strings.ToLower(strings.TrimSpace(f[colGoal]))
	sat, serr := strconv.Atoi(strings.TrimSpace(f[colSatisfaction]))
	return reportRecord{
		municipality: f[colMunicipality], category: productCategory(f[colProduct]), product: f[colProduct], ageBand: f[colAgeBand],
		period:       reportPeriod(f[colBegin], f[colEnd]),
		goalMeasured: goal == "ja" || goal == "nee",
		satMeasured:  serr == nil && sat >= 1 && sat <= 10,
	}, true
}

// productCategory is the category of a youth-care product code: its first
// two characters (such as "45" for ambulant care in the iJw codes).
func productCategory(product string) string {
	if len(product) < 2 {
		return product
	}
	return product[:2]
}

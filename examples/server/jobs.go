package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
	colGoal         = 9
	colSatisfaction = 10
	uploadFields    = 11
)

type cellKey struct{ municipality, category, product, ageBand string }

type cellCounts struct{ decisions, goalMeasured, goalReached, satMeasured, satPositive int }

// processUploads turns the latest counted delivery of each provider into its
// report figures, replacing what it had.
func (a *app) processUploads(ctx context.Context) (string, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT u.id, u.org_id FROM uploads u
		WHERE u.status IN ('accepted', 'processed') AND u.created_at = (
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
	cells := map[cellKey]*cellCounts{}
	rows, err := a.db.QueryContext(ctx, `SELECT data FROM upload_rows WHERE upload_id = $1`, uploadID)
	if err != nil {
		return 0, err
	}
	n := 0
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			rows.Close()
			return 0, err
		}
		f := strings.Split(data, ";")
		if len(f) != uploadFields {
			continue
		}
		n++
		product := f[colProduct]
		k := cellKey{municipality: f[colMunicipality], category: productCategory(product), product: product, ageBand: f[colAgeBand]}
		c := cells[k]
		if c == nil {
			c = &cellCounts{}
			cells[k] = c
		}
		c.decisions++
		switch strings.ToLower(strings.TrimSpace(f[colGoal])) {
		case "ja":
			c.goalMeasured++
			c.goalReached++
		case "nee":
			c.goalMeasured++
		}
		if s, err := strconv.Atoi(strings.TrimSpace(f[colSatisfaction])); err == nil && s >= 1 && s <= 10 {
			c.satMeasured++
			if s >= 7 {
				c.satPositive++
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM report_cells WHERE provider_id = $1`, orgID); err != nil {
		return 0, err
	}
	for k, c := range cells {
		if _, err := tx.ExecContext(ctx, `INSERT INTO report_cells (provider_id, municipality, category, product, age_band, decisions,
			goal_measured, goal_reached, sat_measured, sat_positive, upload_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			orgID, k.municipality, k.category, k.product, k.ageBand, c.decisions, c.goalMeasured, c.goalReached, c.satMeasured, c.satPositive, uploadID); err != nil {
			return 0, err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE uploads SET status = 'processed', processed_at = $2 WHERE id = $1`, uploadID, usec(a.now())); err != nil {
		return 0, err
	}
	return n, tx.Commit()
}

// productCategory is the category of a youth-care product code: its first
// two characters (such as "45" for ambulant care in the iJw codes).
func productCategory(product string) string {
	if len(product) < 2 {
		return product
	}
	return product[:2]
}

package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/pseudonym"
)

// Why a jobs table of our own and not River (github.com/riverqueue/river,
// v0.51.2, evaluated for issue 12 on both databases through database/sql:
// riverdatabasesql on PostgreSQL, riversqlite on modernc SQLite; both ran
// transactional steps exactly once with JobCompleteTx):
//
//   - River rescues a running job by the age of its attempt
//     (RescueStuckJobsAfter, at least JobTimeout, checked every 30 s), not
//     by a heartbeat: a killed job waits for that long, and a live job that
//     runs longer is started a second time. Processing a 1 GB delivery
//     takes minutes, so either the rescue waits minutes or the work is cut
//     into many jobs; here the lease follows a heartbeat, and a dead job is
//     taken over after -lease whatever its length.
//   - Its SQLite driver is early, and its authors advise a pool of one
//     connection, which would serialise the portal's readers, or a second
//     pool on the same file.
//   - It brings twelve modules (seven of River's, lib/pq, four of tidwall's) and
//     its own tables and migration line beside the portal's.
//
// The guarantees that matter here, steps that commit with their progress
// and a swap in one transaction, live in the portal's own tables either way.

// runJobs is the scheduler: every instance runs it, and the jobs table makes
// sure each job runs once at a time. The nightly processing job is queued at
// JobsAt; the portal owner's button (or -run-jobs-now) queues one to run at
// once. Between jobs it sweeps: abandoned uploads, expired chunks and
// superseded report rows are purged in short steps. Each round (every 5
// seconds) begins by reading the consent checkpoints that other instances
// stored (followConsentCheckpoints).
//
// It returns when ctx is cancelled (shutdown) and the running job, if any,
// has stopped: the job's context is cancelled with ctx, the step under way
// rolls back, and the job's lease is released (releaseJob), so the database
// may be closed once runJobs has returned.
func (a *app) runJobs(ctx context.Context) {
	instance := newID()
	if a.cfg.RunJobsNow {
		if err := a.enqueueJob(ctx, "process:now:"+newID(), a.now()); err != nil {
			a.log.Error("queue job", "err", err)
		}
	}
	// An onboarding whose last step an instance took before it died.
	if err := a.grantPending(ctx); err != nil && ctx.Err() == nil {
		a.log.Error("grant access", "err", err)
	}
	// A request for a consent form whose mail an instance did not queue
	// before it died.
	if err := a.notifyPendingEvidence(ctx); err != nil && ctx.Err() == nil {
		a.log.Error("evidence requests", "err", err)
	}
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	var checkpoint uint64
	for {
		checkpoint = a.followConsentCheckpoints(ctx, checkpoint)
		if err := a.scheduleNightly(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("schedule nightly job", "err", err)
		}
		for ctx.Err() == nil { // at shutdown, no new job
			ran, err := a.runNextJob(ctx, instance)
			if err != nil && ctx.Err() == nil {
				a.log.Error("job", "err", err)
			}
			if !ran || err != nil {
				break
			}
		}
		if err := a.sweep(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("sweep", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-a.kick:
		}
	}
}

// followConsentCheckpoints reads the consent checkpoints stored since the
// last round, by any instance, and returns the number of the last one that
// verified (last: the one of the round before). The registry reads them
// itself only at start-up (loadConsentCheckpoints); behind one PostgreSQL,
// the daily anchor of another instance would otherwise count here only
// after a restart, and a chain rolled back behind it, on a chain this
// instance never read, would still decide. LoadCheckpoints reads only
// what is new: one query that usually returns nothing. A checkpoint that
// does not verify is logged by the registry (and named by the next anchor).
func (a *app) followConsentCheckpoints(ctx context.Context, last uint64) uint64 {
	cp, err := a.consent.LoadCheckpoints(ctx)
	if err != nil && !errors.Is(err, consent.ErrCheckpoint) {
		if ctx.Err() == nil {
			a.log.Error("consent: reading the checkpoints", "err", err)
		}
		return last
	}
	if cp.Seq > last {
		a.log.Info("consent: checkpoints read", "checkpoint", cp.Seq, "chains", cp.Chains)
	}
	return max(cp.Seq, last)
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
	if err := a.enqueueJob(ctx, anchorJob+due.Format("2006-01-02"), due); err != nil {
		return err
	}
	return a.enqueueJob(ctx, "process:"+due.Format("2006-01-02"), due)
}

func (a *app) enqueueJob(ctx context.Context, id string, runAfter time.Time) error {
	_, err := a.db.ExecContext(ctx, `INSERT INTO jobs (id, state, run_after) VALUES ($1, 'queued', $2) ON CONFLICT (id) DO NOTHING`, id, usec(runAfter))
	return err
}

// maxJobAttempts bounds how often a job is started: a job that kills its
// instance every time must not take every instance down in turn.
const maxJobAttempts = 5

// runNextJob claims the oldest due job, if any, and runs it. A running job
// holds a lease that a heartbeat renews; the job of an instance that died is
// taken over as soon as its lease has run out (-lease, 30 s by default).
// Every step of the job is atomic and records its progress, so the instance
// that takes over goes on where the dead one stopped.
func (a *app) runNextJob(ctx context.Context, instance string) (bool, error) {
	now := a.now()
	var id string
	var attempts int
	err := a.db.QueryRowContext(ctx, `SELECT id, attempts FROM jobs
		WHERE (state = 'queued' AND run_after <= $1) OR (state = 'running' AND lease_until < $1)
		ORDER BY run_after, id LIMIT 1`, usec(now)).Scan(&id, &attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if attempts >= maxJobAttempts {
		_, err := a.db.ExecContext(ctx, `UPDATE jobs SET state = 'failed', finished_at = $2, detail = $3
			WHERE id = $1 AND (state = 'queued' OR (state = 'running' AND lease_until < $2))`,
			id, usec(now), fmt.Sprintf("gave up after %d attempts", attempts))
		return true, err
	}
	res, err := a.db.ExecContext(ctx, `UPDATE jobs SET state = 'running', instance = $2, started_at = $3, lease_until = $4, attempts = attempts + 1
		WHERE id = $1 AND (state = 'queued' OR (state = 'running' AND lease_until < $3))`,
		id, instance, usec(now), usec(now.Add(a.cfg.Lease)))
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return true, nil // another instance took it; look for the next
	}
	crashPoint("job.claimed")
	jctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go a.heartbeat(jctx, cancel, `UPDATE jobs SET lease_until = $2 + $3 WHERE id = $1 AND state = 'running' AND instance = $4`,
		id, a.cfg.Lease.Microseconds(), instance)
	start := time.Now()
	kind, _, _ := strings.Cut(id, ":")
	detail, jobErr := a.job(id)(jctx)
	if cause := context.Cause(jctx); jobErr != nil && errors.Is(cause, errLeaseLost) {
		a.metrics.job(kind, start, "lease_lost")
		return true, fmt.Errorf("job %s: %w", id, cause) // the instance that took over finishes it
	}
	if jobErr != nil && ctx.Err() != nil {
		a.metrics.job(kind, start, "stopped")
		return true, a.releaseJob(ctx, id, instance, jobErr)
	}
	state, outcome := "done", "done"
	if jobErr != nil {
		state, outcome, detail = "queued", "failed", jobErr.Error() // retried at the next tick
	}
	a.metrics.job(kind, start, outcome)
	crashPoint("job.finishing")
	if _, err := a.db.ExecContext(context.WithoutCancel(ctx), `UPDATE jobs SET state = $2, finished_at = $3, detail = $4
		WHERE id = $1 AND state = 'running' AND instance = $5`, id, state, usec(a.now()), detail, instance); err != nil {
		return true, err
	}
	a.log.Info("job finished", "job", id, "state", state, "detail", detail)
	return true, jobErr
}

// job is what the job id does.
func (a *app) job(id string) func(context.Context) (string, error) {
	switch {
	case strings.HasPrefix(id, anchorJob):
		return func(ctx context.Context) (string, error) { return a.anchorConsent(ctx, id) }
	case a.testJob != nil && strings.HasPrefix(id, testJobPrefix):
		return func(ctx context.Context) (string, error) { return a.testJob(ctx, id) }
	}
	return func(ctx context.Context) (string, error) {
		detail, err := a.processUploads(ctx)
		if err == nil {
			// The Zorgmonitor of the new records, protected now so that
			// its first reader does not wait; a page view tries again if
			// this fails.
			if err := a.refreshReports(ctx); err != nil && ctx.Err() == nil {
				a.log.ErrorContext(ctx, "zorgmonitor", "err", err)
			}
		}
		return detail, err
	}
}

// Job kinds: the part of a job's id before its first colon, and the job
// label of its metrics.
const (
	jobProcess = "process" // the nightly processing, or the owner's button
	jobAnchor  = "anchor"  // the daily consent anchor (anchorConsent)
)

// testJobPrefix is the id prefix of the jobs that app.testJob runs.
const testJobPrefix = "test:"

// releaseTimeout bounds how long a job stopped at shutdown takes to give
// up its lease.
const releaseTimeout = 5 * time.Second

// releaseJob gives up the lease of a job that shutdown (the cancellation of
// ctx) stopped: it is queued again, so that another instance takes it over
// at once instead of after -lease, or this one at its next start. Its steps
// are transactions that commit with their progress, so the one that was cut
// off rolled back and the job goes on after the last one that committed. The
// attempt does not count towards maxJobAttempts: a restart is no failure of
// the job.
func (a *app) releaseJob(ctx context.Context, id, instance string, cause error) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	if _, err := a.db.ExecContext(rctx, `UPDATE jobs SET state = 'queued', lease_until = 0, attempts = attempts - 1, detail = $3
		WHERE id = $1 AND state = 'running' AND instance = $2`, id, instance, "stopped at shutdown; resumed by the next instance"); err != nil {
		// Logged here: the scheduler logs no error once ctx is done.
		a.log.Error("job stopped at shutdown; its lease was not released, so it is taken over after -lease", "job", id, "err", err)
		return fmt.Errorf("job %s: stopped at shutdown (%v), but its lease was not released, so it is taken over after -lease: %w", id, cause, err)
	}
	a.log.Info("job stopped at shutdown; its lease is released", "job", id)
	return nil
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

// reportRecord is one decision as the reports count it.
type reportRecord struct {
	provider, municipality, category, product, ageBand string
	period                                             string // reporting half-year, such as "2026-1"
	goalMeasured, satMeasured                          bool
	goalApplies, satApplies                            bool // the indicator applies: the care has ended (Layout.Applies)
}

// processUploads turns the latest delivery of each provider into its
// report, when it is newer than the report's.
func (a *app) processUploads(ctx context.Context) (string, error) {
	// Only a provider whose newest delivery (the last to arrive whole) is
	// not yet processed: the others' reports are up to date.
	rows, err := a.db.QueryContext(ctx, `SELECT u.id, u.org_id FROM uploads u
		WHERE u.status = 'accepted' AND u.received_at = (
			SELECT MAX(v.received_at) FROM uploads v WHERE v.org_id = u.org_id AND v.status IN ('accepted', 'processed'))
		ORDER BY u.received_at`)
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
	total, failed := 0, 0
	for _, l := range todo {
		n, err := a.processUpload(ctx, l.upload, l.org)
		if errors.Is(err, errIncomplete) {
			failed++
			a.log.Error("delivery not processed", "upload", l.upload, "org", l.org, "err", err)
			continue
		}
		if err != nil {
			return "", fmt.Errorf("upload %s: %w", l.upload, err)
		}
		total += n
	}
	return fmt.Sprintf("%d providers, %d rows, %d rejected", len(todo)-failed, total, failed), nil
}

// errIncomplete means an accepted delivery's stored rows do not add up to
// what its receipt counted: it is rejected, and the provider's report stays
// as it was.
var errIncomplete = errors.New("the delivery's stored rows do not match its receipt")

// buildBatch is the number of chunks a build step turns into report rows in
// one transaction: about 1 MiB of input, a few tens of milliseconds.
const buildBatch = 4

// processUpload makes an accepted upload its provider's report, in steps: it
// builds the report rows chunk by chunk, each step in a transaction that also
// records the progress (so a step is done once, whoever does it), then checks
// that the rows are complete and swaps the report in one short transaction.
// Until the swap, the reports show the provider's previous delivery.
func (a *app) processUpload(ctx context.Context, uploadID, orgID string) (int, error) {
	var js string
	if err := a.db.QueryRowContext(ctx, `SELECT report FROM uploads WHERE id = $1`, uploadID).Scan(&js); err != nil {
		return 0, err
	}
	var stored struct {
		Columns []string `json:"columns"`
	}
	if err := json.Unmarshal([]byte(js), &stored); err != nil {
		return 0, err
	}
	rows, err := newRowReader(stored.Columns)
	if err != nil {
		return 0, a.rejectDelivery(ctx, uploadID, fmt.Errorf("%w: %v", errIncomplete, err))
	}
	for {
		done, err := a.buildStep(ctx, uploadID, orgID, rows)
		if err != nil {
			return 0, err
		}
		if done {
			break
		}
	}
	return a.swapReport(ctx, uploadID, orgID)
}

// buildStep turns the next buildBatch chunks of an accepted upload into
// report rows, and reports whether all are built.
func (a *app) buildStep(ctx context.Context, uploadID, orgID string, rows *rowReader) (bool, error) {
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var status string
	var built, chunks int
	if err := tx.QueryRowContext(ctx, `SELECT status, built_chunks, chunks FROM uploads WHERE id = $1`, uploadID).Scan(&status, &built, &chunks); err != nil {
		return false, err
	}
	if status != string(statusAccepted) || built >= chunks {
		return true, nil
	}
	ins := &batchInsert{tx: tx, dialect: a.dialect, insert: `INSERT INTO report_rows (provider_id, upload_id, seq, municipality, category, product, age_band,
		goal_measured, sat_measured, period, goal_applies, sat_applies, applies_known) VALUES `, cols: 13}
	end := min(built+buildBatch, chunks)
	n := 0
	for seq := built; seq < end; seq++ {
		var data string
		if err := tx.QueryRowContext(ctx, `SELECT data FROM upload_chunks WHERE upload_id = $1 AND seq = $2`, uploadID, seq).Scan(&data); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				tx.Rollback() // the write lock, before another statement writes
				return false, a.rejectDelivery(ctx, uploadID, fmt.Errorf("%w: chunk %d is missing", errIncomplete, seq))
			}
			return false, err
		}
		r := csv.NewReader(strings.NewReader(data))
		r.Comma, r.FieldsPerRecord, r.ReuseRecord = ';', -1, true
		for {
			f, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				tx.Rollback() // the write lock, before another statement writes
				return false, a.rejectDelivery(ctx, uploadID, fmt.Errorf("%w: chunk %d: %v", errIncomplete, seq, err))
			}
			rec, ok := rows.record(f)
			if !ok {
				tx.Rollback() // the write lock, before another statement writes
				return false, a.rejectDelivery(ctx, uploadID, fmt.Errorf("%w: chunk %d has a row of %d fields", errIncomplete, seq, len(f)))
			}
			if err := ins.add(ctx, orgID, uploadID, seq, rec.municipality, rec.category, rec.product, rec.ageBand,
				rec.goalMeasured, rec.satMeasured, rec.period, rec.goalApplies, rec.satApplies, true); err != nil {
				return false, err
			}
			n++
		}
	}
	if err := ins.flush(ctx); err != nil {
		return false, err
	}
	res, err := tx.ExecContext(ctx, `UPDATE uploads SET built_chunks = $3, built_rows = built_rows + $4
		WHERE id = $1 AND built_chunks = $2 AND status = 'accepted'`, uploadID, built, end, n)
	if err != nil {
		return false, err
	}
	if k, err := res.RowsAffected(); err != nil || k != 1 {
		return false, nil // another worker did this step; look again
	}
	crashPoint("process.step")
	if err := tx.Commit(); err != nil {
		return false, err
	}
	return end >= chunks, nil
}

// swapReport checks that an accepted upload's report rows are complete and,
// in one transaction, makes it the provider's processed delivery and every
// older delivery superseded.
func (a *app) swapReport(ctx context.Context, uploadID, orgID string) (int, error) {
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var status string
	var received int64
	var chunks, built, builtRows, written int
	if err := tx.QueryRowContext(ctx, `SELECT status, received_at, chunks, built_chunks, built_rows, rows_written FROM uploads WHERE id = $1`, uploadID).
		Scan(&status, &received, &chunks, &built, &builtRows, &written); err != nil {
		return 0, err
	}
	if status != string(statusAccepted) {
		return 0, nil // swapped already, by this job before a crash or by another instance
	}
	if built != chunks || builtRows != written || written == 0 {
		tx.Rollback()
		return 0, a.rejectDelivery(ctx, uploadID, fmt.Errorf("%w: %d of %d chunks, %d of %d rows", errIncomplete, built, chunks, builtRows, written))
	}
	if _, err := tx.ExecContext(ctx, `UPDATE uploads SET status = 'superseded'
		WHERE org_id = $1 AND id <> $2 AND status IN ('accepted', 'processed') AND received_at <= $3`, orgID, uploadID, received); err != nil {
		return 0, err
	}
	// processed_at does not go back with the clock: the Zorgmonitor's
	// version is its latest value (reportVersion).
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(processed_at), 0) FROM uploads`).Scan(&last); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE uploads SET status = 'processed', processed_at = $2 WHERE id = $1 AND status = 'accepted'`,
		uploadID, notBefore(usec(a.now()), last)); err != nil {
		return 0, err
	}
	crashPoint("process.swap")
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	crashPoint("process.swapped")
	return builtRows, nil
}

// rejectDelivery marks an accepted upload whose rows are incomplete as
// rejected; the sweep deletes the rows built from it.
func (a *app) rejectDelivery(ctx context.Context, uploadID string, cause error) error {
	if _, err := a.db.ExecContext(ctx, `UPDATE uploads SET status = 'rejected', error = $2 WHERE id = $1 AND status = 'accepted'`,
		uploadID, "De aanlevering kon niet worden verwerkt: niet alle rijen zijn opgeslagen. Lever het bestand opnieuw aan."); err != nil {
		return err
	}
	return cause
}

// rowReader reads what the reports need from the stored rows of one
// upload, by the names of its columns: a provider's file may have them in
// any order.
type rowReader struct {
	columns                        []string
	ageBand, municipality, product int
	begin, end                     int               // the care's dates, for the reporting period; -1 when absent
	kept                           []int             // the columns stored as sent, which the layout can judge
	row                            map[string]string // reused for each row
}

// legacyColumns are the columns of an upload stored before the column
// names were recorded with it.
var legacyColumns = []string{"BSN", "Geboortedatum", "Geslacht", "Postcode", "Gemeentecode", "Beschikkingsnummer", "Productcode",
	"Begindatum", "Einddatum", "Doelrealisatie", "Tevredenheid"}

func newRowReader(columns []string) (*rowReader, error) {
	if columns == nil {
		columns = legacyColumns
	}
	r := &rowReader{columns: columns, ageBand: -1, municipality: -1, product: -1, begin: -1, end: -1, row: map[string]string{}}
	for i, c := range columns {
		for _, rule := range uploadColumns {
			if !strings.EqualFold(strings.TrimSpace(c), rule.Name) {
				continue
			}
			switch rule.Name {
			case "Geboortedatum":
				r.ageBand = i
			case "Gemeentecode":
				r.municipality = i
			case "Productcode":
				r.product = i
			case "Begindatum":
				r.begin = i
			case "Einddatum":
				r.end = i
			}
			if rule.Action == pseudonym.Keep {
				r.kept = append(r.kept, i)
			}
		}
	}
	if r.ageBand < 0 || r.municipality < 0 || r.product < 0 {
		return nil, fmt.Errorf("the stored columns %q lack Geboortedatum, Gemeentecode or Productcode", columns)
	}
	return r, nil
}

// record reads one stored row. Whether each indicator applies to it (the
// denominator of the response rate: the care has ended) and whether it is
// a valid measurement of it are the layout's judgements (Layout.Applies,
// Layout.Valid) on the columns kept as sent.
func (r *rowReader) record(f []string) (reportRecord, bool) {
	if len(f) != len(r.columns) {
		return reportRecord{}, false
	}
	clear(r.row)
	for _, i := range r.kept {
		r.row[r.columns[i]] = f[i]
	}
	goal, goalApplies, err1 := judgeIndicator("doelrealisatie", r.row)
	sat, satApplies, err2 := judgeIndicator("tevredenheid", r.row)
	if err1 != nil || err2 != nil {
		return reportRecord{}, false
	}
	product := strings.TrimSpace(f[r.product])
	return reportRecord{
		municipality: strings.TrimSpace(f[r.municipality]), category: productCategory(product), product: product, ageBand: f[r.ageBand],
		period:       reportPeriod(r.at(f, r.begin), r.at(f, r.end)),
		goalMeasured: goal, satMeasured: sat,
		goalApplies: goalApplies, satApplies: satApplies,
	}, true
}

// judgeIndicator returns whether row is a valid measurement of the
// indicator and whether the indicator applies to it. A valid measurement
// implies that it applies, so Applies is asked only of the others.
func judgeIndicator(name string, row map[string]string) (valid, applies bool, err error) {
	valid, err = uploadLayout.Valid(name, row)
	if err != nil || valid {
		return valid, valid, err
	}
	applies, err = uploadLayout.Applies(name, row)
	return false, applies, err
}

// at returns field i of f, or "" when the upload has no such column.
func (r *rowReader) at(f []string, i int) string {
	if i < 0 {
		return ""
	}
	return f[i]
}

// productCategory is the category of a youth-care product code: its first
// two characters (such as "45" for ambulant care in the iJw codes).
func productCategory(product string) string {
	if len(product) < 2 {
		return product
	}
	return product[:2]
}

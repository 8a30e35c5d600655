package main

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/bsn"
	"github.com/zorgkit/zorgkit/pseudonym"
	"github.com/zorgkit/zorgkit/pseudonym/layout"
)

// uploadStatus is where an upload stands; see migrations/006_upload_states.sql
// for the state machine.
type uploadStatus string

const (
	statusReceiving    uploadStatus = "receiving"     // arriving: never read, abandoned when its receiver dies
	statusAbandoned    uploadStatus = "abandoned"     // cut off, too large or its receiver died: never used
	statusTest         uploadStatus = "test"          // a provider's first file: checked, not counted
	statusTestApproved uploadStatus = "test-approved" // the portal owner approved the test file
	statusAccepted     uploadStatus = "accepted"      // a delivery, processed by the next job
	statusProcessed    uploadStatus = "processed"     // its rows are the provider's report
	statusSuperseded   uploadStatus = "superseded"    // a delivery whose report a newer one replaced
	statusRejected     uploadStatus = "rejected"      // complete but unusable: wrong columns, no rows
)

// deliveryStatuses are the statuses of a complete, validated delivery that
// counts: an empty, rejected, cut-off or test upload is no delivery.
const deliveryStatuses = `('accepted', 'processed', 'superseded')`

// upload is an upload's record.
type upload struct {
	ID, OrgID, OrgName, UserID string
	Created                    time.Time
	Status                     uploadStatus
	Read, Written, Rejected    int
	Flagged                    int
	Report                     string
	Error                      string
	Processed                  time.Time
}

// uploadLayout is the data set the portal receives: the CBS youth-care data
// set as a declarative layout (package pseudonym/layout). It checks every
// row of an upload (types, code lists, ranges, rules between columns, each
// problem with its severity), and decides which rows are valid measurements
// of the outcome indicators: the response rate's numerator.
var uploadLayout = layout.Jeugdhulp()

// The columns of the CBS data set this portal accepts, and what happens to
// each on arrival: those of uploadLayout. Every column needs a rule (Other
// is zero), so that a new column in the file cannot slip through unnoticed.
// Excel drops the leading zero of a BSN stored as a number: the BSN column
// accepts such a number as the legacy eight-digit form, with a warning.
var uploadColumns = []pseudonym.Column{
	{Name: "BSN", Action: pseudonym.Pseudonymise, NumericFromSpreadsheet: true},
	{Name: "Geboortedatum", Action: pseudonym.CoarsenAgeBand},
	{Name: "Geslacht", Action: pseudonym.Keep},
	{Name: "Postcode", Action: pseudonym.CoarsenPC4},
	{Name: "Gemeentecode", Action: pseudonym.Keep},
	{Name: "Beschikkingsnummer", Action: pseudonym.Encrypt},
	{Name: "AGB-code", Action: pseudonym.Keep},
	{Name: "Verwijzer", Action: pseudonym.Keep},
	{Name: "Productcode", Action: pseudonym.Keep},
	{Name: "Begindatum", Action: pseudonym.Keep},
	{Name: "Einddatum", Action: pseudonym.Keep},
	{Name: "Reden beëindiging", Action: pseudonym.Keep},
	{Name: "Doelrealisatie", Action: pseudonym.Keep},
	{Name: "Tevredenheid", Action: pseudonym.Keep},
}

// uploadHeader is the header row of the data set, for the demo and the docs.
const uploadHeader = "BSN;Geboortedatum;Geslacht;Postcode;Gemeentecode;Beschikkingsnummer;AGB-code;Verwijzer;Productcode;Begindatum;Einddatum;Reden beëindiging;Doelrealisatie;Tevredenheid"

type uploadsPage struct {
	Uploads []upload
	Error   string
	Header  string
	Owner   bool
	Demo    bool // demo mode: a generated data set can be downloaded
}

func (a *app) uploadsPage(w http.ResponseWriter, r *http.Request) {
	a.renderUploads(w, r, http.StatusOK, "")
}

func (a *app) renderUploads(w http.ResponseWriter, r *http.Request, status int, msg string) {
	ctx := r.Context()
	u := userFrom(ctx)
	var list []upload
	var err error
	if u.Role == roleAuditor {
		list, err = a.uploadsWhere(ctx, "1 = 1")
	} else {
		list, err = a.uploadsWhere(ctx, "u.org_id = $1", u.OrgID)
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, status, "uploads", uploadsPage{Uploads: list, Error: msg, Header: uploadHeader, Owner: u.Role == roleAuditor, Demo: a.cfg.Demo})
}

// uploadsWhere lists uploads matching a condition on "u", newest first.
func (a *app) uploadsWhere(ctx context.Context, cond string, args ...any) ([]upload, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT u.id, u.org_id, o.name, u.user_id, u.created_at, u.status, u.rows_read, u.rows_written,
		u.rows_rejected, u.rows_flagged, u.report, u.error, u.processed_at
		FROM uploads u JOIN organisations o ON o.id = u.org_id WHERE `+cond+` ORDER BY u.created_at DESC LIMIT 200`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []upload
	for rows.Next() {
		var up upload
		var created, processed int64
		var st string
		if err := rows.Scan(&up.ID, &up.OrgID, &up.OrgName, &up.UserID, &created, &st, &up.Read, &up.Written, &up.Rejected, &up.Flagged, &up.Report, &up.Error, &processed); err != nil {
			return nil, err
		}
		up.Status, up.Created, up.Processed = uploadStatus(st), fromUsec(created), fromUsec(processed)
		out = append(out, up)
	}
	return out, rows.Err()
}

// upload receives a CBS data set and pseudonymises it as it arrives: the
// request body streams through the pseudonym.Processor into the database,
// without a temporary file, so the raw file never reaches the disk. The size
// is limited, and so are the time the client may stay silent and the rate
// below which it may not send.
func (a *app) upload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := userFrom(ctx)
	switch a.uploads.enter(u.OrgID, a.cfg.MaxUploads) {
	case gateOrgFull:
		w.Header().Set("Retry-After", "60")
		a.renderUploads(w, r, http.StatusTooManyRequests, fmt.Sprintf(
			"Uw organisatie levert al %d bestanden tegelijk aan. Wacht tot die binnen zijn en lever dit bestand daarna aan.", maxOrgUploads))
		return
	case gateFull:
		w.Header().Set("Retry-After", "60")
		a.renderUploads(w, r, http.StatusServiceUnavailable, "Het portaal ontvangt nu veel bestanden tegelijk. Probeer het over enkele minuten opnieuw.")
		return
	}
	defer a.uploads.leave(u.OrgID)
	// A large file takes longer than the server's timeouts allow other
	// requests: the size limit, the idle limit and the rate floor bound
	// this one instead. No fixed deadline: a 2 GB file on a busy server
	// may take as long as the server needs.
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	idle := &idleReader{r: r.Body, rc: rc, idle: a.cfg.UploadIdle, minRate: a.cfg.UploadMinRate}
	r.Body = http.MaxBytesReader(w, idle, a.cfg.MaxUpload)
	var up *upload
	file, err := uploadedFile(r)
	if err == nil {
		up, err = a.receive(ctx, u, file)
	}
	// The answer gets a bound of its own.
	_ = rc.SetWriteDeadline(time.Now().Add(time.Minute))
	var maxErr *http.MaxBytesError
	switch {
	case file == nil && err != nil && !idle.timedOut.Load() && !idle.tooSlow.Load():
		a.renderUploads(w, r, http.StatusBadRequest, "Kies een bestand om aan te leveren.")
		return
	case errors.As(err, &maxErr):
		a.renderUploads(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("Het bestand is groter dan %d MB.", a.cfg.MaxUpload>>20))
		return
	case errors.Is(err, errNoMunicipality):
		a.renderUploads(w, r, http.StatusUnprocessableEntity, "Uw organisatie is nog niet aan een gemeente gekoppeld; neem contact op met de portaalbeheerder.")
		return
	case errors.Is(err, os.ErrDeadlineExceeded) || idle.timedOut.Load():
		// The connection's context ended with the read; the page is
		// still worth sending.
		r = r.WithContext(context.WithoutCancel(ctx))
		a.renderUploads(w, r, http.StatusRequestTimeout, "Er kwam een tijd lang niets van het bestand binnen; de aanlevering is afgebroken. Lever het opnieuw aan.")
		return
	case errors.Is(err, errUploadTooSlow) || idle.tooSlow.Load():
		a.renderUploads(w, r, http.StatusRequestTimeout, fmt.Sprintf(
			"Het bestand kwam te langzaam binnen (minder dan %d KB per seconde); de aanlevering is afgebroken. Lever het opnieuw aan over een snellere verbinding.", a.cfg.UploadMinRate>>10))
		return
	case err != nil && ctx.Err() != nil:
		return // the client is gone; the upload was abandoned
	case err != nil:
		a.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/uploads/"+up.ID, http.StatusSeeOther)
}

// uploadGate bounds the uploads an instance receives at once, in all and
// per organisation. Each holds a connection, a heartbeat and, for an .xlsx,
// which needs random access, the whole file in memory (up to
// pseudonym.DefaultMaxSpreadsheetBytes): without a bound, uploads started
// at once, by one provider or by several, take the instance's memory, and
// one provider could take every place.
type uploadGate struct {
	mu    sync.Mutex
	total int
	byOrg map[string]int
}

// maxOrgUploads is how many uploads of one organisation an instance
// receives at once: a provider has no need of more (its newest delivery
// counts), and others keep their places.
const maxOrgUploads = 2

// gateResult says whether an upload may start.
type gateResult int

const (
	gateOpen    gateResult = iota
	gateOrgFull            // the organisation has maxOrgUploads under way
	gateFull               // the instance has -max-uploads under way
)

// enter takes a place for an upload of org, if there is one of limit; leave
// gives it back.
func (g *uploadGate) enter(org string, limit int) gateResult {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.byOrg[org] >= maxOrgUploads:
		return gateOrgFull
	case g.total >= limit:
		return gateFull
	}
	if g.byOrg == nil {
		g.byOrg = map[string]int{}
	}
	g.total++
	g.byOrg[org]++
	return gateOpen
}

func (g *uploadGate) leave(org string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.total--
	if g.byOrg[org]--; g.byOrg[org] == 0 {
		delete(g.byOrg, org)
	}
}

// errUploadTooSlow means a client sent its file more slowly than
// -upload-min-rate.
var errUploadTooSlow = errors.New("upload: the client sends more slowly than -upload-min-rate")

// idleReader extends the connection's read deadline while data arrives: a
// client that stops sending is cut off after idle. A client that sends, but
// less than minRate bytes per second on average, is cut off as well (once
// it has been waited for longer than idle): else a client could hold an
// upload, its heartbeat and its connection for days by sending a byte a
// minute. The rate is measured over the time spent waiting for the client
// (in Read), not over the wall clock, so that a server slowed down by its
// own work never blames the client: the data then waits in the socket's
// buffer and Read returns at once.
type idleReader struct {
	r        io.Reader
	rc       *http.ResponseController
	idle     time.Duration
	minRate  int64         // bytes per second; 0: no floor
	set      time.Time     // when the deadline was last moved
	waited   time.Duration // time spent in Read
	read     int64         // bytes read
	timedOut atomic.Bool
	tooSlow  atomic.Bool
}

func (ir *idleReader) Read(p []byte) (int, error) {
	// Moving the deadline costs a timer reset; do it at most a few times
	// per idle period.
	start := time.Now()
	if start.Sub(ir.set) > ir.idle/4 {
		ir.set = start
		_ = ir.rc.SetReadDeadline(start.Add(ir.idle))
	}
	n, err := ir.r.Read(p)
	ir.waited += time.Since(start)
	ir.read += int64(n)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		ir.timedOut.Store(true)
	}
	if err == nil && ir.minRate > 0 && ir.waited > ir.idle && float64(ir.read) < float64(ir.minRate)*ir.waited.Seconds() {
		ir.tooSlow.Store(true)
		return n, errUploadTooSlow
	}
	return n, err
}

func (ir *idleReader) Close() error {
	if c, ok := ir.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// uploadedFile returns the first file part of a multipart form, read as a
// stream: ParseMultipartForm would spill a large file to a temporary file.
func uploadedFile(r *http.Request) (io.Reader, error) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "multipart/form-data" {
		return nil, errors.New("not a multipart form")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, err
	}
	for {
		p, err := mr.NextPart()
		if err != nil {
			return nil, err
		}
		if p.FormName() == "file" && p.FileName() != "" {
			return p, nil
		}
	}
}

// errNoMunicipality means a provider has no contracting municipality, whose
// pseudonym domain its uploads would use.
var errNoMunicipality = errors.New("the organisation has no municipality")

// errLeaseLost means another instance declared this instance's upload or
// job dead, because its heartbeats stopped arriving for a lease.
var errLeaseLost = errors.New("lease lost: the heartbeat stopped for longer than -lease")

// receive pseudonymises one file into a new upload, in steps that each hold
// the write lock briefly: the upload's record (receiving), each chunk of
// rows, and the last step, which checks that every row arrived and makes it
// a test file, a delivery or a rejected file at once. A provider's first
// file is a test file; after the portal owner approved a test, files count.
// A file that does not arrive whole is abandoned and its chunks deleted.
func (a *app) receive(ctx context.Context, u *user, file io.Reader) (*upload, error) {
	domain, err := a.uploadDomain(ctx, u.Org)
	if err != nil {
		return nil, err
	}
	up := &upload{ID: newID(), OrgID: u.OrgID, UserID: u.ID, Created: a.now(), Status: statusReceiving}
	if _, err := a.db.ExecContext(ctx, `INSERT INTO uploads (id, org_id, user_id, created_at, status, heartbeat_at, domain) VALUES ($1, $2, $3, $4, $5, $4, $6)`,
		up.ID, up.OrgID, up.UserID, usec(up.Created), string(up.Status), domain); err != nil {
		return nil, err
	}
	crashPoint("upload.created")
	// The heartbeat tells other instances that this upload is alive; if
	// one of them abandoned it anyway, the receive stops.
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go a.heartbeat(rctx, cancel, `UPDATE uploads SET heartbeat_at = $2 WHERE id = $1 AND status = 'receiving'`, up.ID)

	report, chunks, err := a.pseudonymiseInto(rctx, up.ID, domain, file)
	var fileType *pseudonym.FileTypeError
	if errors.Is(err, pseudonym.ErrHeader) || errors.Is(err, pseudonym.ErrNoRows) || errors.As(err, &fileType) {
		// A file with the wrong columns, without data rows, or of a kind
		// that cannot be read (such as a legacy .xls): rejected as a
		// whole, once it has arrived whole.
		up.Status, up.Error = statusRejected, "De kolommen van het bestand zijn niet die van de CBS-dataset: "+uploadHeader
		switch {
		case errors.Is(err, pseudonym.ErrNoRows):
			up.Error = "Het bestand bevat geen bruikbare rijen."
		case fileType != nil:
			up.Error = fileType.Code.Text(language.Dutch)
		}
		if report == nil {
			report = &pseudonym.Report{}
		}
		_, err = io.Copy(io.Discard, file)
	}
	if err == nil {
		err = context.Cause(rctx) // the lease was lost while the last chunk went in
	}
	if err != nil {
		a.abandonUpload(context.WithoutCancel(ctx), up.ID, err)
		return nil, err
	}
	if err := a.finishUpload(ctx, up, report, chunks); err != nil {
		a.abandonUpload(context.WithoutCancel(ctx), up.ID, err)
		return nil, err
	}
	crashPoint("upload.finished")
	a.metrics.upload(report.Rows.Read, report.Rows.Written, report.Rows.Rejected, report.Rows.Flagged)
	a.log.InfoContext(ctx, "upload received", "upload", up.ID, "org", u.OrgID, "status", string(up.Status),
		"read", report.Rows.Read, "written", report.Rows.Written, "rejected", report.Rows.Rejected, "chunks", chunks)
	return up, nil
}

// finishUpload is the last step of a receive, in one transaction: it checks
// that the chunks hold every row written, and decides what the file is.
func (a *app) finishUpload(ctx context.Context, up *upload, report *pseudonym.Report, chunks int) error {
	if up.Status == statusReceiving && report.Rows.Written == 0 {
		up.Status, up.Error = statusRejected, "Het bestand bevat geen bruikbare rijen."
	}
	js, err := json.Marshal(qualityReport(report))
	if err != nil {
		return err
	}
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var stored, rows int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(rows), 0) FROM upload_chunks WHERE upload_id = $1`, up.ID).Scan(&stored, &rows); err != nil {
		return err
	}
	if stored != chunks || rows != report.Rows.Written {
		return fmt.Errorf("upload %s: %d chunks with %d rows stored, want %d with %d", up.ID, stored, rows, chunks, report.Rows.Written)
	}
	if up.Status == statusReceiving {
		var counted int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM uploads WHERE org_id = $1 AND (status = 'test-approved' OR status IN `+deliveryStatuses+`)`, up.OrgID).Scan(&counted); err != nil {
			return err
		}
		up.Status = statusTest
		if counted > 0 {
			up.Status = statusAccepted
		}
	}
	// The newest delivery is the last to arrive whole (processUploads),
	// also when the clock has stepped back since the one before.
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(received_at), 0) FROM uploads WHERE org_id = $1`, up.OrgID).Scan(&last); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE uploads SET status = $2, received_at = $3, chunks = $4, rows_read = $5, rows_written = $6, rows_rejected = $7,
		rows_flagged = $8, report = $9, error = $10 WHERE id = $1 AND status = 'receiving'`,
		up.ID, string(up.Status), notBefore(usec(a.now()), last), chunks, report.Rows.Read, report.Rows.Written, report.Rows.Rejected, report.Rows.Flagged, string(js), up.Error)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errLeaseLost
	}
	crashPoint("upload.finishing")
	return tx.Commit()
}

// notBefore returns the time now (in microseconds), or just after last if
// the clock has stepped back behind it (such as an instance that restarted
// with its clock behind), so that a later event never looks older. A tie
// keeps now: a clock that stands still, as a test's does, is no step back,
// and a time ahead of the clock would hold up what waits for it (the
// sweep's retention).
func notBefore(now, last int64) int64 {
	if now < last {
		return last + 1
	}
	return now
}

// abandonUpload marks a receiving upload abandoned and deletes its chunks.
// If this instance dies first, the sweep finishes the work.
func (a *app) abandonUpload(ctx context.Context, id string, cause error) {
	if _, err := a.db.ExecContext(ctx, `UPDATE uploads SET status = 'abandoned', error = $2 WHERE id = $1 AND status = 'receiving'`,
		id, "De aanlevering is afgebroken voordat het bestand volledig binnen was; lever het opnieuw aan."); err != nil {
		a.log.ErrorContext(ctx, "abandon upload", "upload", id, "err", err)
		return
	}
	a.log.WarnContext(ctx, "upload abandoned", "upload", id, "cause", cause)
	if err := a.purgeChunks(ctx, id); err != nil {
		a.log.ErrorContext(ctx, "purge abandoned upload", "upload", id, "err", err)
	}
}

// heartbeat renews a lease every third of -lease by running update with id
// ($1), the time ($2) and extra ($3…), until ctx ends. When the update finds
// no row, another instance has taken over: it cancels ctx with errLeaseLost.
func (a *app) heartbeat(ctx context.Context, cancel context.CancelCauseFunc, update string, id string, extra ...any) {
	t := time.NewTicker(a.cfg.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		res, err := a.db.ExecContext(ctx, update, append([]any{id, usec(a.now())}, extra...)...)
		if err != nil {
			if ctx.Err() == nil {
				a.log.Warn("heartbeat", "id", id, "err", err) // try again at the next tick
			}
			continue
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			cancel(errLeaseLost)
			return
		}
	}
}

// pseudonymiseInto streams file through the column policy into
// upload_chunks, one short transaction per chunk of about chunkSize bytes:
// nothing holds the write lock while the client sends. It returns the report
// and the number of chunks written.
func (a *app) pseudonymiseInto(ctx context.Context, uploadID, domain string, file io.Reader) (*pseudonym.Report, int, error) {
	p := &pseudonym.Processor{
		Keyring:   a.keyring,
		Domain:    domain,
		Columns:   uploadColumns,
		Schema:    uploadLayout,
		Header:    true,
		OnInvalid: pseudonym.RejectRow,
		AgeOn:     a.now(),
	}
	var problems problemList
	p.OnProblem = problems.add
	chunks := newChunkWriter(ctx, a.db, uploadID)
	report, err := p.ProcessRows(ctx, file, func(row pseudonym.Row) error {
		blankNumbers(row.Fields)
		return chunks.write(row.Fields)
	})
	if report != nil {
		problems.into(report)
	}
	if err != nil {
		return report, chunks.seq, err
	}
	if err := chunks.flush(); err != nil {
		return report, chunks.seq, err
	}
	return report, chunks.seq, nil
}

// problemList keeps the problems the quality report lists, as many as the
// Processor's Report would (pseudonym.DefaultMaxProblems), but those of
// rejected rows first: the Report keeps the first ones, whatever they are,
// so a file with a warning on every row (a code list its software fills
// wrongly) pushed the lines of its rejected rows out of the list, and the
// provider could not tell which rows were not taken.
type problemList struct {
	rejected, other []pseudonym.Problem
	seen            int
}

// add is the Processor's OnProblem, called one at a time.
func (l *problemList) add(p pseudonym.Problem) {
	l.seen++
	switch {
	case p.Rejected && len(l.rejected) < pseudonym.DefaultMaxProblems:
		l.rejected = append(l.rejected, p)
	case !p.Rejected && len(l.other) < pseudonym.DefaultMaxProblems:
		l.other = append(l.other, p)
	}
}

// into puts the list in r: the rejected rows' problems and as many others
// as fit, in the file's order; Omitted counts the rest.
func (l *problemList) into(r *pseudonym.Report) {
	list := append(l.rejected, l.other[:min(len(l.other), pseudonym.DefaultMaxProblems-len(l.rejected))]...)
	slices.SortStableFunc(list, func(a, b pseudonym.Problem) int { return cmp.Or(a.Line-b.Line, a.Column-b.Column) })
	r.Problems, r.Omitted = list, l.seen-len(list)
}

// blankNumbers empties every field that holds nine digits or more and
// nothing else but separators: a BSN, or a mistyped one, in a column kept as
// sent (such as Productcode, pasted into the wrong column). The layout
// checks those columns with a warning only, so the row is written, and its
// value would reach the stored rows and, as a product or municipality code,
// the report. No field the portal stores is valid with nine digits (a
// pseudonym or an encrypted value has letters; a date has eight digits),
// and the layout has already reported the cell as invalid, so nothing
// changes unreported.
func blankNumbers(fields []string) {
	for i, f := range fields {
		if len(f) < 9 {
			continue
		}
		digits := 0
		for _, r := range f {
			switch {
			case unicode.IsDigit(r):
				digits++
			case unicode.IsSpace(r), r == '.', unicode.Is(unicode.Pd, r):
			default:
				digits = -1
			}
			if digits < 0 {
				break
			}
		}
		// The CBS placeholders (999999999: BSN unknown, 000000000:
		// unborn child) are no one's number, and say something.
		if _, err := bsn.Parse(f); digits >= 9 && !errors.Is(err, bsn.ErrPlaceholder) {
			fields[i] = ""
		}
	}
}

// chunkWriter stores an upload's rows as CSV with ';' in chunks of about
// chunkSize bytes, one database row each, each in its own statement.
type chunkWriter struct {
	ctx      context.Context
	db       *sql.DB
	uploadID string
	buf      bytes.Buffer
	w        *csv.Writer
	seq      int
	rows     int
}

const chunkSize = 256 << 10

func newChunkWriter(ctx context.Context, db *sql.DB, uploadID string) *chunkWriter {
	c := &chunkWriter{ctx: ctx, db: db, uploadID: uploadID}
	c.w = csv.NewWriter(&c.buf)
	c.w.Comma = ';'
	return c
}

func (c *chunkWriter) write(fields []string) error {
	if err := c.w.Write(fields); err != nil {
		return err
	}
	c.rows++
	if c.buf.Len() >= chunkSize {
		return c.flush()
	}
	return nil
}

func (c *chunkWriter) flush() error {
	c.w.Flush()
	if c.rows == 0 {
		return nil
	}
	// The upload must still be receiving: an abandoned upload gets no
	// more chunks.
	res, err := c.db.ExecContext(c.ctx, `INSERT INTO upload_chunks (upload_id, seq, rows, data)
		SELECT $1, $2, $3, $4 FROM uploads WHERE id = $1 AND status = 'receiving'`,
		c.uploadID, c.seq, c.rows, c.buf.String())
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errLeaseLost
	}
	c.seq++
	c.rows = 0
	c.buf.Reset()
	crashPoint("upload.chunk")
	return nil
}

// qualityReportJSON is the stored quality report: counts and problems, by
// line, column and reason; never a cell's value.
type qualityReportJSON struct {
	Counts   pseudonym.Counts `json:"counts"`
	Problems []problemJSON    `json:"problems"`
	Omitted  int              `json:"omitted"`
	ByCode   map[string]int   `json:"byCode"`

	// How the file was read: its character encoding and, when the first
	// 64 KiB were ASCII, the line whose byte decided it; its delimiter.
	Encoding     string `json:"encoding,omitempty"`
	EncodingLine int    `json:"encodingLine,omitempty"`
	Delimiter    string `json:"delimiter,omitempty"`
	Format       string `json:"format,omitempty"`

	// Columns are the names of the stored columns, in their order: the
	// nightly job reads the rows by them.
	Columns []string `json:"columns,omitempty"`
}

type problemJSON struct {
	Line     int    `json:"line"`
	Column   string `json:"column"`
	Pos      int    `json:"pos,omitempty"` // the column's position, from 1; 0 for the whole row
	Code     string `json:"code"`
	Text     string `json:"text"`
	Rejected bool   `json:"rejected"`
	Severity string `json:"severity,omitempty"` // reject, warning or measurement
}

func qualityReport(r *pseudonym.Report) qualityReportJSON {
	q := qualityReportJSON{Counts: r.Rows, Omitted: r.Omitted, ByCode: map[string]int{}, EncodingLine: r.EncodingLine, Columns: r.Columns}
	if r.Comma != 0 {
		q.Encoding, q.Delimiter = r.Encoding.String(), delimiterName(r.Comma)
	}
	if r.Comma != 0 || r.Format != pseudonym.Delimited {
		q.Format = r.Format.String()
	}
	for c, n := range r.ByCode {
		q.ByCode[string(c)] = n
	}
	for _, p := range r.Problems {
		col := p.Name
		if col == "" && p.Column > 0 {
			col = fmt.Sprint("#", p.Column)
		}
		q.Problems = append(q.Problems, problemJSON{Line: p.Line, Column: col, Pos: p.Column, Code: string(p.Code), Text: p.Code.Text(language.Dutch),
			Rejected: p.Rejected, Severity: severityName[p.Severity]})
	}
	return q
}

type uploadReportPage struct {
	Upload  upload
	Quality qualityReportJSON
	Codes   []string // the problem codes, sorted
	Owner   bool     // the portal owner, who approves a test file here
}

// uploadFor returns an upload the user may see: one of their own
// organisation, or any for the portal owner. Others are "not found".
func (a *app) uploadFor(ctx context.Context, u *user, id string) (*upload, error) {
	var list []upload
	var err error
	if u.Role == roleAuditor {
		list, err = a.uploadsWhere(ctx, "u.id = $1", id)
	} else {
		list, err = a.uploadsWhere(ctx, "u.id = $1 AND u.org_id = $2", id, u.OrgID)
	}
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errNotFound
	}
	return &list[0], nil
}

// uploadReport shows an upload's quality report.
func (a *app) uploadReport(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	up, err := a.uploadFor(ctx, userFrom(ctx), r.PathValue("id"))
	if errors.Is(err, errNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	var q qualityReportJSON
	if up.Report != "" {
		if err := json.Unmarshal([]byte(up.Report), &q); err != nil {
			a.serverError(w, r, err)
			return
		}
	}
	a.render(w, r, http.StatusOK, "upload", uploadReportPage{Upload: *up, Quality: q, Codes: sortedCodes(q.ByCode), Owner: userFrom(ctx).Role == roleAuditor})
}

// approveUpload is the portal owner's approval of a provider's test file; the
// provider is told to upload again, and that file counts.
func (a *app) approveUpload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	var orgID string
	err := a.db.QueryRowContext(ctx, `SELECT org_id FROM uploads WHERE id = $1 AND status = 'test'`, id).Scan(&orgID)
	if errors.Is(err, sql.ErrNoRows) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	users, err := a.usersOf(ctx, orgID)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	// The approval and its mails commit together: a crash leaves the test
	// file to approve again, never approved with nobody told.
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE uploads SET status = 'test-approved' WHERE id = $1 AND status = 'test'`, id)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		if err != nil {
			a.serverError(w, r, err)
			return
		}
		http.NotFound(w, r) // approved meanwhile
		return
	}
	for _, u := range users {
		if err := a.sender.SendTx(ctx, tx, u, "Testbestand goedgekeurd",
			"Uw testbestand is goedgekeurd. Lever het bestand nogmaals aan; dat wordt verwerkt als uw eerste aanlevering in de rapportages."); err != nil {
			a.serverError(w, r, err)
			return
		}
	}
	crashPoint("approve.approving")
	if err := tx.Commit(); err != nil {
		a.serverError(w, r, err)
		return
	}
	crashPoint("approve.approved")
	a.wakeOutbox()
	a.log.InfoContext(ctx, "test upload approved", "upload", id, "org", orgID, "by", userFrom(ctx).ID)
	http.Redirect(w, r, "/owner/orgs", http.StatusSeeOther)
}

// delimiterName names a delimiter for the report.
func delimiterName(c rune) string {
	switch c {
	case ';':
		return "puntkomma"
	case ',':
		return "komma"
	case '\t':
		return "tab"
	}
	return string(c)
}

var severityName = map[pseudonym.Severity]string{
	pseudonym.SeverityReject: "reject", pseudonym.SeverityWarning: "warning", pseudonym.SeverityMeasurement: "measurement",
}

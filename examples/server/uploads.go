package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/pseudonym"
)

// uploadStatus is where an upload stands.
type uploadStatus string

const (
	statusTest         uploadStatus = "test"          // a provider's first file: checked, not counted
	statusTestApproved uploadStatus = "test-approved" // the portal owner approved the test file
	statusAccepted     uploadStatus = "accepted"      // counted from the next processing run
	statusProcessed    uploadStatus = "processed"     // in the report tables
	statusRejected     uploadStatus = "rejected"      // unreadable: wrong columns, no rows
)

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

// The columns of the CBS data set this portal accepts, and what happens to
// each on arrival. Every column needs a rule (Other is zero), so that a new
// column in the file cannot slip through unnoticed.
var uploadColumns = []pseudonym.Column{
	{Name: "BSN", Action: pseudonym.Pseudonymise},
	{Name: "Geboortedatum", Action: pseudonym.CoarsenAgeBand},
	{Name: "Geslacht", Action: pseudonym.Keep},
	{Name: "Postcode", Action: pseudonym.CoarsenPC4},
	{Name: "Gemeentecode", Action: pseudonym.Keep},
	{Name: "Beschikkingsnummer", Action: pseudonym.Encrypt},
	{Name: "Productcode", Action: pseudonym.Keep},
	{Name: "Begindatum", Action: pseudonym.Keep},
	{Name: "Einddatum", Action: pseudonym.Keep},
	{Name: "Doelrealisatie", Action: pseudonym.Keep},
	{Name: "Tevredenheid", Action: pseudonym.Keep},
}

// uploadTimeout is how long an upload may take: 2 GB at 4 MB/s.
const uploadTimeout = 10 * time.Minute

// uploadHeader is the header row of the data set, for the demo and the docs.
const uploadHeader = "BSN;Geboortedatum;Geslacht;Postcode;Gemeentecode;Beschikkingsnummer;Productcode;Begindatum;Einddatum;Doelrealisatie;Tevredenheid"

type uploadsPage struct {
	Uploads []upload
	Error   string
	Header  string
	Owner   bool
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
	a.render(w, r, status, "uploads", uploadsPage{Uploads: list, Error: msg, Header: uploadHeader, Owner: u.Role == roleAuditor})
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
// is limited.
func (a *app) upload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := userFrom(ctx)
	// A large file takes longer than the server's timeouts allow other
	// requests; the size limit bounds this one instead.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(uploadTimeout))
	_ = rc.SetWriteDeadline(time.Now().Add(uploadTimeout))
	r.Body = http.MaxBytesReader(w, r.Body, a.cfg.MaxUpload)
	file, err := uploadedFile(r)
	if err != nil {
		a.renderUploads(w, r, http.StatusBadRequest, "Kies een bestand om aan te leveren.")
		return
	}
	up, err := a.receive(ctx, u, file)
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		a.renderUploads(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("Het bestand is groter dan %d MB.", a.cfg.MaxUpload>>20))
		return
	case err != nil:
		a.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/uploads/"+up.ID, http.StatusSeeOther)
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

// receive pseudonymises one file into a new upload. A provider's first file
// is a test file; after the portal owner approved a test, files count.
func (a *app) receive(ctx context.Context, u *user, file io.Reader) (*upload, error) {
	status := statusTest
	var approved int
	if err := a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM uploads WHERE org_id = $1 AND status IN ('test-approved', 'accepted', 'processed')`, u.OrgID).Scan(&approved); err != nil {
		return nil, err
	}
	if approved > 0 {
		status = statusAccepted
	}
	up := &upload{ID: newID(), OrgID: u.OrgID, UserID: u.ID, Created: a.now(), Status: status}
	if _, err := a.db.ExecContext(ctx, `INSERT INTO uploads (id, org_id, user_id, created_at, status) VALUES ($1, $2, $3, $4, $5)`,
		up.ID, up.OrgID, up.UserID, usec(up.Created), string(up.Status)); err != nil {
		return nil, err
	}
	report, err := a.pseudonymiseInto(ctx, up.ID, file)
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) || ctx.Err() != nil {
		// Nothing of a cut-off file is kept.
		_, _ = a.db.ExecContext(context.WithoutCancel(ctx), `DELETE FROM uploads WHERE id = $1`, up.ID)
		return nil, err
	}
	if errors.Is(err, pseudonym.ErrHeader) || (err == nil && report.Rows.Written == 0) {
		up.Status = statusRejected
		up.Error = "De kolommen van het bestand zijn niet die van de CBS-dataset: " + uploadHeader
		if err == nil {
			up.Error = "Het bestand bevat geen bruikbare rijen."
		}
		err = nil
	}
	if err != nil {
		_, _ = a.db.ExecContext(context.WithoutCancel(ctx), `DELETE FROM uploads WHERE id = $1`, up.ID)
		return nil, err
	}
	js, err := json.Marshal(qualityReport(report))
	if err != nil {
		return nil, err
	}
	if _, err := a.db.ExecContext(ctx, `UPDATE uploads SET status = $2, rows_read = $3, rows_written = $4, rows_rejected = $5, rows_flagged = $6, report = $7, error = $8 WHERE id = $1`,
		up.ID, string(up.Status), report.Rows.Read, report.Rows.Written, report.Rows.Rejected, report.Rows.Flagged, string(js), up.Error); err != nil {
		return nil, err
	}
	a.metrics.upload(report.Rows.Read, report.Rows.Written, report.Rows.Rejected, report.Rows.Flagged)
	a.log.InfoContext(ctx, "upload received", "upload", up.ID, "org", u.OrgID, "status", string(up.Status),
		"read", report.Rows.Read, "written", report.Rows.Written, "rejected", report.Rows.Rejected)
	return up, nil
}

// pseudonymiseInto streams file through the column policy into
// upload_chunks, inside one transaction: a file is stored whole or not at
// all.
func (a *app) pseudonymiseInto(ctx context.Context, uploadID string, file io.Reader) (*pseudonym.Report, error) {
	p := &pseudonym.Processor{
		Keyring:   a.keyring,
		Columns:   uploadColumns,
		Header:    true,
		OnInvalid: pseudonym.RejectRow,
		AgeOn:     a.now(),
	}
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	chunks := newChunkWriter(ctx, tx, uploadID)
	report, err := p.ProcessRows(ctx, file, func(row pseudonym.Row) error { return chunks.write(row.Fields) })
	if err != nil {
		return report, err
	}
	if err := chunks.flush(); err != nil {
		return report, err
	}
	return report, tx.Commit()
}

// chunkWriter stores an upload's rows as CSV with ';' in chunks of about
// chunkSize bytes, one database row each.
type chunkWriter struct {
	ctx      context.Context
	tx       *sql.Tx
	uploadID string
	buf      bytes.Buffer
	w        *csv.Writer
	seq      int
	rows     int
}

const chunkSize = 256 << 10

func newChunkWriter(ctx context.Context, tx *sql.Tx, uploadID string) *chunkWriter {
	c := &chunkWriter{ctx: ctx, tx: tx, uploadID: uploadID}
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
	_, err := c.tx.ExecContext(c.ctx, `INSERT INTO upload_chunks (upload_id, seq, rows, data) VALUES ($1, $2, $3, $4)`,
		c.uploadID, c.seq, c.rows, c.buf.String())
	c.seq++
	c.rows = 0
	c.buf.Reset()
	return err
}

// qualityReportJSON is the stored quality report: counts and problems, by
// line, column and reason; never a cell's value.
type qualityReportJSON struct {
	Counts   pseudonym.Counts `json:"counts"`
	Problems []problemJSON    `json:"problems"`
	Omitted  int              `json:"omitted"`
	ByCode   map[string]int   `json:"byCode"`
}

type problemJSON struct {
	Line     int    `json:"line"`
	Column   string `json:"column"`
	Code     string `json:"code"`
	Text     string `json:"text"`
	Rejected bool   `json:"rejected"`
}

func qualityReport(r *pseudonym.Report) qualityReportJSON {
	q := qualityReportJSON{Counts: r.Rows, Omitted: r.Omitted, ByCode: map[string]int{}}
	for c, n := range r.ByCode {
		q.ByCode[string(c)] = n
	}
	for _, p := range r.Problems {
		col := p.Name
		if col == "" && p.Column > 0 {
			col = fmt.Sprint("#", p.Column)
		}
		q.Problems = append(q.Problems, problemJSON{Line: p.Line, Column: col, Code: string(p.Code), Text: p.Code.Text(language.Dutch), Rejected: p.Rejected})
	}
	return q
}

type uploadReportPage struct {
	Upload  upload
	Quality qualityReportJSON
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
	a.render(w, r, http.StatusOK, "upload", uploadReportPage{Upload: *up, Quality: q})
}

// approveUpload is the portal owner's approval of a provider's test file; the
// provider is told to upload again, and that file counts.
func (a *app) approveUpload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	var orgID string
	err := a.db.QueryRowContext(ctx, `UPDATE uploads SET status = 'test-approved' WHERE id = $1 AND status = 'test' RETURNING org_id`, id).Scan(&orgID)
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
	for _, u := range users {
		if err := a.sender.Send(ctx, u, "Testbestand goedgekeurd",
			"Uw testbestand is goedgekeurd. Lever het bestand nogmaals aan; dat wordt verwerkt als uw eerste aanlevering in de rapportages."); err != nil {
			a.serverError(w, r, err)
			return
		}
	}
	a.log.InfoContext(ctx, "test upload approved", "upload", id, "org", orgID, "by", userFrom(ctx).ID)
	http.Redirect(w, r, "/owner/orgs", http.StatusSeeOther)
}

package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The quality report of an upload, downloadable as the source page promises
// ("kwaliteitsrapportages … die u kan downloaden"): as CSV for a spreadsheet
// and as a printable HTML page, from the upload page and the API, for the
// provider that sent the file and for the portal owner who approves a test
// file (the same report). Like the stored report, neither ever holds a
// cell's value: only counts, lines, columns and reasons.

// loadReport returns the upload the request names, if the user may see it,
// with its quality report; it answers the request itself when not.
func (a *app) loadReport(w http.ResponseWriter, r *http.Request) (*upload, *qualityReportJSON, bool) {
	ctx := r.Context()
	up, err := a.uploadFor(ctx, userFrom(ctx), r.PathValue("id"))
	if errors.Is(err, errNotFound) {
		http.NotFound(w, r)
		return nil, nil, false
	}
	if err != nil {
		a.serverError(w, r, err)
		return nil, nil, false
	}
	var q qualityReportJSON
	if up.Report != "" {
		if err := json.Unmarshal([]byte(up.Report), &q); err != nil {
			a.serverError(w, r, err)
			return nil, nil, false
		}
	}
	return up, &q, true
}

// uploadReportCSV sends the quality report as CSV: a summary, an empty
// line, then one line per problem. Delimiter ';', CRLF and a UTF-8
// byte-order mark, as Excel on Dutch Windows expects.
func (a *app) uploadReportCSV(w http.ResponseWriter, r *http.Request) {
	up, q, ok := a.loadReport(w, r)
	if !ok {
		return
	}
	var buf bytes.Buffer
	buf.WriteString("\uFEFF")
	cw := csv.NewWriter(&buf)
	cw.Comma, cw.UseCRLF = ';', true
	write := func(fields ...string) {
		for i, f := range fields {
			fields[i] = spreadsheetSafe(f)
		}
		cw.Write(fields)
	}
	write("aanlevering", up.ID)
	write("ontvangen", up.Created.Local().Format("2006-01-02 15:04"))
	write("status", string(up.Status))
	if up.Error != "" {
		write("melding", up.Error)
	}
	if q.Encoding != "" {
		write("tekenset", q.Encoding)
		if q.EncodingLine > 0 {
			write("tekenset besloten op regel", strconv.Itoa(q.EncodingLine))
		}
		write("scheidingsteken", q.Delimiter)
	}
	write("rijen gelezen", strconv.Itoa(q.Counts.Read))
	write("rijen verwerkt", strconv.Itoa(q.Counts.Written))
	write("rijen afgekeurd", strconv.Itoa(q.Counts.Rejected))
	write("rijen gemarkeerd", strconv.Itoa(q.Counts.Flagged))
	write("problemen niet afzonderlijk vermeld", strconv.Itoa(q.Omitted))
	for _, c := range sortedCodes(q.ByCode) {
		write("problemen met code "+c, strconv.Itoa(q.ByCode[c]))
	}
	cw.Write(nil)
	write("regel", "kolom", "code", "gevolg", "omschrijving")
	for _, p := range q.Problems {
		write(strconv.Itoa(p.Line), p.Column, p.Code, problemOutcome(p), p.Text)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		a.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="kwaliteitsrapport-`+up.ID+`.csv"`)
	_, _ = buf.WriteTo(w)
}

// spreadsheetSafe keeps a spreadsheet from reading a field as a formula
// (CSV injection): a column name comes from the uploaded file's header.
func spreadsheetSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func problemOutcome(p problemJSON) string {
	if p.Rejected {
		return "afgekeurd"
	}
	return "gemarkeerd"
}

func sortedCodes(m map[string]int) []string {
	codes := make([]string, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	return codes
}

// uploadReportPrint shows the quality report as a page of its own, without
// the portal's navigation, to print or save as PDF.
func (a *app) uploadReportPrint(w http.ResponseWriter, r *http.Request) {
	up, q, ok := a.loadReport(w, r)
	if !ok {
		return
	}
	var buf bytes.Buffer
	if err := a.pages["qualityreport"].ExecuteTemplate(&buf, "print", uploadReportPage{Upload: *up, Quality: *q, Codes: sortedCodes(q.ByCode)}); err != nil {
		a.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = buf.WriteTo(w)
}

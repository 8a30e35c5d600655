package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/pseudonym"
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

// uploadReportCSV sends the quality report as CSV, as package pseudonym
// writes it (Report.WriteCSV): one line per problem with its line, column,
// code, outcome (rejected, warning, no valid measurement) and description,
// in Dutch or, with ?lang=en, English. A UTF-8 byte-order mark goes first,
// so that Excel on Dutch Windows reads "ë" right.
func (a *app) uploadReportCSV(w http.ResponseWriter, r *http.Request) {
	up, q, ok := a.loadReport(w, r)
	if !ok {
		return
	}
	var buf bytes.Buffer
	buf.WriteString("\uFEFF")
	if err := storedReport(q).WriteCSV(&buf, reportLanguage(r)); err != nil {
		a.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="kwaliteitsrapport-`+up.ID+`.csv"`)
	_, _ = buf.WriteTo(w)
}

// reportLanguage is the language a download asks for: Dutch unless
// ?lang=en.
func reportLanguage(r *http.Request) language.Tag {
	if r.URL.Query().Get("lang") == "en" {
		return language.English
	}
	return language.Dutch
}

// storedReport turns a stored quality report back into the library's
// Report value, which renders it.
func storedReport(q *qualityReportJSON) *pseudonym.Report {
	rep := &pseudonym.Report{Rows: q.Counts, Omitted: q.Omitted, ByCode: map[pseudonym.Code]int{}, Columns: q.Columns, EncodingLine: q.EncodingLine}
	for c, n := range q.ByCode {
		rep.ByCode[pseudonym.Code(c)] = n
	}
	for _, e := range []pseudonym.Encoding{pseudonym.UTF8, pseudonym.Windows1252, pseudonym.UTF16} {
		if e.String() == q.Encoding {
			rep.Encoding = e
		}
	}
	for _, f := range []pseudonym.Format{pseudonym.Delimited, pseudonym.FixedWidth, pseudonym.XLSX} {
		if f.String() == q.Format {
			rep.Format = f
		}
	}
	for _, c := range []rune{';', ',', '\t'} {
		if delimiterName(c) == q.Delimiter {
			rep.Comma = c
		}
	}
	for _, p := range q.Problems {
		pr := pseudonym.Problem{Line: p.Line, Column: p.Pos, Name: p.Column, Code: pseudonym.Code(p.Code), Rejected: p.Rejected}
		if strings.HasPrefix(pr.Name, "#") {
			pr.Name = ""
		}
		switch {
		case p.Rejected:
			pr.Severity = pseudonym.SeverityReject
		case p.Severity == "measurement":
			pr.Severity = pseudonym.SeverityMeasurement
		default:
			pr.Severity = pseudonym.SeverityWarning
		}
		rep.Problems = append(rep.Problems, pr)
	}
	return rep
}

func sortedCodes(m map[string]int) []string {
	codes := make([]string, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	return codes
}

// uploadReportPrint shows the quality report as a printable page of its
// own (Report.WriteHTML: counts, how the file was read, problems by kind and
// by row), without the portal's navigation, to print or save as PDF.
func (a *app) uploadReportPrint(w http.ResponseWriter, r *http.Request) {
	up, q, ok := a.loadReport(w, r)
	if !ok {
		return
	}
	title := fmt.Sprintf("Kwaliteitsrapportage %s, aanlevering van %s (status: %s)", up.OrgName, up.Created.Local().Format("2006-01-02 15:04"), nameOr(uploadStatusNames, up.Status))
	var buf bytes.Buffer
	if err := storedReport(q).WriteHTML(&buf, reportLanguage(r), title); err != nil {
		a.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	allowStyleOf(w.Header(), buf.Bytes())
	_, _ = buf.WriteTo(w)
}

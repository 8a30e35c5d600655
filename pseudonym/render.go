package pseudonym

import (
	_ "embed"
	"encoding/csv"
	"html/template"
	"io"
	"slices"
	"strconv"

	"golang.org/x/text/language"
)

// The words of the rendered reports, in the catalog by their English text.
const (
	msgSeverityReject      = "row rejected"
	msgSeverityWarning     = "warning"
	msgSeverityMeasurement = "not a valid measurement"
	msgHeadLine            = "line"
	msgHeadColumn          = "column"
	msgHeadName            = "name"
	msgHeadCode            = "code"
	msgHeadSeverity        = "outcome"
	msgHeadText            = "description"
	msgHeadCount           = "number"
	msgTitle               = "Quality report"
	msgRowsRead            = "rows read"
	msgRowsWritten         = "rows accepted"
	msgRowsFlagged         = "of which with a warning"
	msgRowsRejected        = "rows rejected"
	msgFileFormat          = "file format"
	msgFileEncoding        = "character encoding"
	msgByCode              = "Problems by kind"
	msgProblems            = "Problems by row"
	msgNoProblems          = "No problems found."
	msgOmittedRows         = "Only the first %d problems are listed; %d more are counted above."
	msgPrivacy             = "This report names lines and columns, never the values of cells."
	msgSkip                = "Skip to content"
	msgSummaryTable        = "Summary"
)

// renderMessages are the texts of the rendered reports: key, Dutch,
// English.
var renderMessages = [][3]string{
	{msgSeverityReject, "rij afgewezen", msgSeverityReject},
	{msgSeverityWarning, "waarschuwing", msgSeverityWarning},
	{msgSeverityMeasurement, "geen geldige meting", msgSeverityMeasurement},
	{msgHeadLine, "regel", msgHeadLine},
	{msgHeadColumn, "kolom", msgHeadColumn},
	{msgHeadName, "naam", msgHeadName},
	{msgHeadCode, "code", msgHeadCode},
	{msgHeadSeverity, "gevolg", msgHeadSeverity},
	{msgHeadText, "omschrijving", msgHeadText},
	{msgHeadCount, "aantal", msgHeadCount},
	{msgTitle, "Kwaliteitsrapportage", msgTitle},
	{msgRowsRead, "rijen gelezen", msgRowsRead},
	{msgRowsWritten, "rijen geaccepteerd", msgRowsWritten},
	{msgRowsFlagged, "waarvan met een waarschuwing", msgRowsFlagged},
	{msgRowsRejected, "rijen afgewezen", msgRowsRejected},
	{msgFileFormat, "bestandsvorm", msgFileFormat},
	{msgFileEncoding, "tekenset", msgFileEncoding},
	{msgByCode, "Problemen per soort", msgByCode},
	{msgProblems, "Problemen per rij", msgProblems},
	{msgNoProblems, "Geen problemen gevonden.", msgNoProblems},
	{msgOmittedRows, "Alleen de eerste %d problemen staan hieronder; de %d andere zijn hierboven geteld.", msgOmittedRows},
	{msgPrivacy, "Deze rapportage noemt regels en kolommen, nooit de waarden van cellen.", msgPrivacy},
	{msgSkip, "Direct naar de inhoud", msgSkip}, // as the portal's pages say it
	{msgSummaryTable, "Samenvatting", msgSummaryTable},
}

// outcome is what a problem meant for its row, in words.
func (p Problem) outcome(tag language.Tag) string {
	pr := printer(tag)
	switch {
	case p.Rejected:
		return pr.Sprintf(msgSeverityReject)
	case p.Severity == SeverityMeasurement:
		return pr.Sprintf(msgSeverityMeasurement)
	}
	return pr.Sprintf(msgSeverityWarning)
}

// WriteCSV writes the problems of the report as a table for a spreadsheet,
// in the language closest to tag (Dutch by default): a header row, then
// per problem its line, column, column name, code, outcome (row rejected,
// warning, or not a valid measurement) and description, delimited by ';'
// as Dutch spreadsheets expect. It never writes a cell's value. The counts
// are in the report itself and on the page [Report.WriteHTML] makes.
//
// Column names come from the file's header: a name that a spreadsheet
// would read as a formula (starting with =, +, - or @) is written with a
// leading apostrophe.
func (r *Report) WriteCSV(w io.Writer, tag language.Tag) error {
	pr := printer(tag)
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.UseCRLF = true // as spreadsheets write CSV
	if err := cw.Write([]string{pr.Sprintf(msgHeadLine), pr.Sprintf(msgHeadColumn), pr.Sprintf(msgHeadName),
		pr.Sprintf(msgHeadCode), pr.Sprintf(msgHeadSeverity), pr.Sprintf(msgHeadText)}); err != nil {
		return err
	}
	for _, p := range r.Problems {
		col := ""
		if p.Column > 0 {
			col = strconv.Itoa(p.Column)
		}
		if err := cw.Write([]string{strconv.Itoa(p.Line), col, noFormula(p.Name), string(p.Code), p.outcome(tag), p.Code.Text(tag)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// noFormula keeps a spreadsheet from reading text as a formula (CSV
// injection, OWASP).
func noFormula(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}

//go:embed report.html
var reportHTML string

var reportTemplate = template.Must(template.New("report").Parse(reportHTML))

// WriteHTML writes the report as a printable HTML page (a whole document,
// with its own style sheet and print layout), in the language closest to
// tag (Dutch by default), under the title given (such as the provider and
// the date of the upload; "" gives "Kwaliteitsrapportage"): the counts, the
// file's format and encoding, the problems by kind, and the problems by
// row. Like every form of the report it never shows a cell's value; the
// title and the column names are escaped.
//
// The page has the structure of an accessible portal page (WCAG 2.1 AA): a
// skip link to its main landmark, one h1, and tables with a caption and
// header cells with a scope, each in a region of its own that scrolls
// sideways on a narrow screen rather than the page.
func (r *Report) WriteHTML(w io.Writer, tag language.Tag, title string) error {
	pr := printer(tag)
	matched, _, _ := languages.Match(tag)
	lang, _ := matched.Base()
	t := func(key string) string { return pr.Sprintf(key) }
	if title == "" {
		title = t(msgTitle)
	}
	type kind struct {
		Code  Code
		Text  string
		Count int
	}
	var kinds []kind
	for c, n := range r.ByCode {
		kinds = append(kinds, kind{c, c.Text(tag), n})
	}
	slices.SortFunc(kinds, func(a, b kind) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		if a.Code < b.Code {
			return -1
		}
		return 1
	})
	type row struct {
		Line, Column    int
		Name            string
		Code            Code
		Outcome, Text   string
		Rejected, Other bool
	}
	var rows []row
	for _, p := range r.Problems {
		rows = append(rows, row{p.Line, p.Column, p.Name, p.Code, p.outcome(tag), p.Code.Text(tag), p.Rejected, !p.Rejected})
	}
	format := r.Format.String()
	if r.Format == Delimited && r.Comma != 0 {
		format += " (" + strconv.QuoteRune(r.Comma) + ")"
	}
	encoding := r.Encoding.String()
	if r.EncodingLine > 0 {
		encoding += " (" + t(msgHeadLine) + " " + strconv.Itoa(r.EncodingLine) + ")"
	}
	data := map[string]any{
		"Lang": lang.String(), "Title": title, "T": t,
		"Rows": r.Rows, "Format": format, "Encoding": encoding,
		"Kinds": kinds, "Problems": rows, "Omitted": r.Omitted,
		"OmittedText": pr.Sprintf(msgOmittedRows, len(r.Problems), r.Omitted),
	}
	return reportTemplate.Execute(w, data)
}

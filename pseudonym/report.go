package pseudonym

import (
	"fmt"
	"io"
	"strconv"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// A Code names the reason for a problem with a row. Codes are stable: a
// portal may store them, count them and translate them. [Code.Text] gives
// the text for users, in Dutch by default.
type Code string

// The problem codes. A problem with a cell (a BSN, a date, a postcode)
// follows [Processor.OnInvalid]; a problem with the whole row (Column 0)
// always rejects the row.
const (
	CodeBSNMissing   Code = "bsn-missing"   // the BSN cell is empty
	CodeBSNLength    Code = "bsn-length"    // not 9 digits (or 8, from before 2007)
	CodeBSNCharacter Code = "bsn-character" // a character that is not a digit or separator
	CodeBSNChecksum  Code = "bsn-checksum"  // the eleven-proof fails: a typing error
	CodeDate         Code = "date"          // not a date in an accepted layout, or after the reference date
	CodePostcode     Code = "postcode"      // not a Dutch postcode
	CodeFieldCount   Code = "field-count"   // the row has another number of fields than the header
	CodeLineLength   Code = "line-length"   // a fixed-width line is longer than its layout
	CodeEncoding     Code = "encoding"      // the row is not valid UTF-8
	CodeQuote        Code = "quote"         // a quote where none may be: the row cannot be split into fields
	CodeRowTooLong   Code = "row-too-long"  // the row is longer than MaxRowBytes

	// Codes of a [Schema], such as a layout of package pseudonym/layout:
	// a value outside its column's domain, or rows whose columns disagree.
	CodeMissing      Code = "value-missing"       // a value the data set requires is empty
	CodeNotInList    Code = "value-not-in-list"   // not one of the column's codes
	CodeNumber       Code = "value-number"        // not a whole number
	CodeRange        Code = "value-range"         // a number outside the column's range
	CodeFormat       Code = "value-format"        // not of the column's format (length, characters)
	CodeDateRange    Code = "date-range"          // a date outside the column's range
	CodeDateOrder    Code = "date-order"          // a date before the date it may not precede (an end before its start)
	CodeRequiredWith Code = "value-required-with" // empty while another column of the row is filled
	CodeOneOf        Code = "value-one-of"        // of columns of which one is required, all are empty
	CodeAge          Code = "age-range"           // an age outside the data set's range on a date of the row

	// Codes of spreadsheet cells.
	CodeBSNNumberCell   Code = "bsn-number-cell"   // an 8-digit BSN in a number cell of a column not declared to allow it
	CodeBSNLegacyNumber Code = "bsn-legacy-number" // an 8-digit BSN in a number cell, read as 9 digits with a leading zero (a warning)
)

// codeTexts are the user texts of the codes: Dutch, then English.
var codeTexts = map[Code][2]string{
	CodeBSNMissing:   {"BSN ontbreekt; gebruik 999999999 als het BSN onbekend is", "BSN missing; use 999999999 if the BSN is unknown"},
	CodeBSNLength:    {"BSN heeft niet 9 cijfers (of 8 voor een nummer van vóór 2007)", "BSN does not have 9 digits (or 8 for a number from before 2007)"},
	CodeBSNCharacter: {"BSN bevat een teken dat geen cijfer, spatie, punt of streepje is", "BSN contains a character that is not a digit, space, dot or hyphen"},
	CodeBSNChecksum:  {"BSN klopt niet (elfproef); controleer het op een typefout", "BSN fails the eleven-proof; check it for a typing error"},
	CodeDate:         {"ongeldige datum, of een geboortedatum na de peildatum", "invalid date, or a date of birth after the reference date"},
	CodePostcode:     {"ongeldige postcode; verwacht vier cijfers en twee letters, zoals 1012 JS", "invalid postcode; expected four digits and two letters, such as 1012 JS"},
	CodeFieldCount:   {"aantal velden wijkt af van de kopregel", "number of fields differs from the header"},
	CodeLineLength:   {"regel is langer dan de vaste-breedte-indeling", "line is longer than the fixed-width layout"},
	CodeEncoding:     {"ongeldige tekens: het bestand is geen geldige UTF-8; sla het op als CSV UTF-8", "invalid characters: the file is not valid UTF-8; save it as CSV UTF-8"},
	CodeQuote:        {"aanhalingsteken op een onverwachte plaats; de rij is niet in velden te splitsen", "quote in an unexpected place; the row cannot be split into fields"},
	CodeRowTooLong:   {"rij is te lang; controleer of alle aanhalingstekens gesloten zijn", "row too long; check that every quote is closed"},

	CodeMissing:      {"waarde ontbreekt", "value missing"},
	CodeNotInList:    {"waarde staat niet in de codelijst van deze kolom", "value is not in this column's code list"},
	CodeNumber:       {"waarde is geen geheel getal", "value is not a whole number"},
	CodeRange:        {"getal buiten het toegestane bereik", "number outside the allowed range"},
	CodeFormat:       {"waarde heeft niet de vorm van deze kolom (lengte of tekens)", "value does not have this column's format (length or characters)"},
	CodeDateRange:    {"datum buiten het toegestane bereik", "date outside the allowed range"},
	CodeDateOrder:    {"datum ligt vóór een datum die eraan voorafgaat, zoals een einddatum vóór de begindatum", "date before a date that must precede it, such as an end before its start"},
	CodeRequiredWith: {"waarde ontbreekt terwijl een andere kolom van de rij die vereist", "value missing while another column of the row requires it"},
	CodeOneOf:        {"van deze kolommen moet er één gevuld zijn", "one of these columns must be filled"},
	CodeAge:          {"leeftijd buiten het bereik van de dataset", "age outside the data set's range"},

	CodeXLS:      {"Dit is een Excel 97-2003-bestand (.xls) of een met een wachtwoord beveiligd bestand; sla het op als Excel-werkmap (.xlsx) of als CSV, zonder wachtwoord, en lever het opnieuw aan", "This is an Excel 97-2003 file (.xls) or a password-protected file; save it as an Excel workbook (.xlsx) or as CSV, without a password, and upload it again"},
	CodeODS:      {"Dit is een OpenDocument-spreadsheet (.ods); sla het op als Excel-werkmap (.xlsx) of als CSV en lever het opnieuw aan", "This is an OpenDocument spreadsheet (.ods); save it as an Excel workbook (.xlsx) or as CSV and upload it again"},
	CodeXLSX:     {"Het Excel-bestand is niet te lezen (beschadigd of onvolledig); sla het opnieuw op als .xlsx of als CSV", "The Excel file cannot be read (damaged or incomplete); save it again as .xlsx or as CSV"},
	CodeBinary:   {"Dit is geen tekst- of Excel-bestand; lever de dataset aan als CSV of als Excel-werkmap (.xlsx)", "This is not a text or Excel file; upload the data set as CSV or as an Excel workbook (.xlsx)"},
	CodeTooLarge: {"Het Excel-bestand is te groot; lever het aan als CSV", "The Excel file is too large; upload it as CSV"},

	CodeBSNNumberCell:   {"BSN met 8 cijfers in een getalcel: de voorloopnul is mogelijk weggevallen; maak de kolom tekst", "8-digit BSN in a number cell: the leading zero may have been lost; format the column as text"},
	CodeBSNLegacyNumber: {"BSN met 8 cijfers uit een getalcel gelezen als BSN met voorloopnul (kolom toegestaan als getal)", "8-digit BSN from a number cell read as a BSN with a leading zero (column allowed as a number)"},
}

// Templates of the report, in the catalog by their English text.
const (
	msgProblemColumn = "line %s, column %d (%s): %s"
	msgProblemPos    = "line %s, column %d: %s"
	msgProblemRow    = "line %s: %s"
	msgFlagged       = " (kept, flagged)"
	msgNoMeasurement = " (kept; not a valid measurement)"
	msgSummary       = "rows read: %d, written: %d (of which flagged: %d), rejected: %d\n"
	msgOmitted       = "… and %d more problems\n"
	msgEncodingLate  = "character encoding: %s, decided at line %s (the lines before it are ASCII)\n"
)

var messages = newCatalog()

// languages are the languages of the texts, the default first.
var languages = language.NewMatcher([]language.Tag{language.Dutch, language.English})

func newCatalog() catalog.Catalog {
	b := catalog.NewBuilder(catalog.Fallback(language.Dutch))
	set := func(key, nl, en string) {
		if err := b.SetString(language.Dutch, key, nl); err != nil {
			panic(err)
		}
		if err := b.SetString(language.English, key, en); err != nil {
			panic(err)
		}
	}
	for code, texts := range codeTexts {
		set(string(code), texts[0], texts[1])
	}
	set(msgProblemColumn, "regel %s, kolom %d (%s): %s", msgProblemColumn)
	set(msgProblemPos, "regel %s, kolom %d: %s", msgProblemPos)
	set(msgProblemRow, "regel %s: %s", msgProblemRow)
	set(msgFlagged, " (behouden, gemarkeerd)", msgFlagged)
	set(msgNoMeasurement, " (behouden; geen geldige meting)", msgNoMeasurement)
	set(msgSummary, "rijen gelezen: %d, geschreven: %d (waarvan gemarkeerd: %d), afgewezen: %d\n", msgSummary)
	set(msgOmitted, "… en nog %d problemen\n", msgOmitted)
	for _, m := range renderMessages {
		set(m[0], m[1], m[2])
	}
	set(msgEncodingLate, "tekenset: %s, vastgesteld op regel %s (de regels ervoor zijn ASCII)\n", msgEncodingLate)
	return b
}

// printer returns a printer for the supported language closest to tag:
// Dutch unless tag asks for English.
func printer(tag language.Tag) *message.Printer {
	matched, _, _ := languages.Match(tag)
	base, _ := matched.Base()
	return message.NewPrinter(language.Make(base.String()), message.Catalog(messages))
}

// Text returns the text of the code for users in the language closest to
// tag: Dutch, or English.
func (c Code) Text(tag language.Tag) string {
	if _, ok := codeTexts[c]; !ok {
		return string(c)
	}
	return printer(tag).Sprintf(string(c))
}

// Severity is what a problem means for its row.
type Severity uint8

const (
	// SeverityReject: the row is rejected.
	SeverityReject Severity = iota
	// SeverityWarning: the row is accepted, with a warning.
	SeverityWarning
	// SeverityMeasurement: the row is accepted, but is not a valid
	// measurement for the indicators that use the column.
	SeverityMeasurement
)

var severityNames = [...]string{"reject", "warning", "measurement"}

// String returns "reject", "warning" or "measurement".
func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return "Severity(" + strconv.Itoa(int(s)) + ")"
}

// A Problem is something wrong with one row of a file. It never holds the
// value of a cell: a report of problems with BSNs must not contain them.
type Problem struct {
	Line     int    // the line on which the row starts; the header is line 1
	Column   int    // the position of the cell, from 1; 0 for the whole row
	Name     string // the column's name from the header or layout, if any
	Code     Code
	Rejected bool // the row was rejected; false means it was kept, flagged
	// Severity is what the problem means for the row: SeverityReject
	// whenever Rejected is set.
	Severity Severity
}

// Text describes the problem in the language closest to tag (Dutch by
// default), such as "regel 12, kolom 1 (bsn): BSN klopt niet (elfproef); …".
func (p Problem) Text(tag language.Tag) string {
	pr := printer(tag)
	line := strconv.Itoa(p.Line)
	reason := p.Code.Text(tag)
	switch {
	case p.Rejected:
	case p.Severity == SeverityMeasurement:
		reason += pr.Sprintf(msgNoMeasurement)
	default:
		reason += pr.Sprintf(msgFlagged)
	}
	switch {
	case p.Column == 0:
		return pr.Sprintf(msgProblemRow, line, reason)
	case p.Name == "":
		return pr.Sprintf(msgProblemPos, line, p.Column, reason)
	}
	return pr.Sprintf(msgProblemColumn, line, p.Column, p.Name, reason)
}

// String describes the problem in Dutch.
func (p Problem) String() string { return p.Text(language.Dutch) }

// Counts counts the data rows of a file (the header is not a data row).
// Every row read is either written or rejected: Read == Written + Rejected.
// Flagged rows were written with a problem.
type Counts struct {
	Read, Written, Rejected, Flagged int
}

// A Report is the quality report of a file: what was read, written and
// rejected, and why. It never contains the value of a cell.
type Report struct {
	Rows Counts

	// Problems lists the problems in the order of the rows, at most
	// [Processor.MaxProblems] of them; Omitted counts the rest, which
	// [Processor.OnProblem] still saw. ByCode counts all problems by code.
	Problems []Problem
	Omitted  int
	ByCode   map[Code]int

	// Comma is the delimiter that was detected or configured (0 for a
	// fixed-width file), Encoding the character encoding read, and Columns
	// the names of the columns written (nil without a header).
	Comma    rune
	Encoding Encoding
	Columns  []string

	// Format is the kind of file read: delimited text, fixed-width text,
	// or an .xlsx workbook (whose Encoding is UTF-8, and Comma 0).
	Format Format

	// EncodingLine is set when DetectEncoding found the first 64 KiB of
	// the file ASCII and decided on the first byte that is not: the line
	// of that byte. Encoding then says what it decided.
	EncodingLine int
}

// WriteText writes the report for users in the language closest to tag
// (Dutch by default): the counts, then one line per problem.
func (r *Report) WriteText(w io.Writer, tag language.Tag) error {
	pr := printer(tag)
	if _, err := pr.Fprintf(w, msgSummary, r.Rows.Read, r.Rows.Written, r.Rows.Flagged, r.Rows.Rejected); err != nil {
		return err
	}
	if r.EncodingLine > 0 {
		if _, err := pr.Fprintf(w, msgEncodingLate, r.Encoding, strconv.Itoa(r.EncodingLine)); err != nil {
			return err
		}
	}
	for _, p := range r.Problems {
		if _, err := fmt.Fprintln(w, p.Text(tag)); err != nil {
			return err
		}
	}
	if r.Omitted > 0 {
		if _, err := pr.Fprintf(w, msgOmitted, r.Omitted); err != nil {
			return err
		}
	}
	return nil
}

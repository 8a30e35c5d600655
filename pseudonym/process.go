package pseudonym

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Errors of [Processor.Process] that stop the whole file. Problems with a
// single row do not stop it; they go into the [Report].
var (
	// ErrConfig means the Processor's settings are inconsistent. The
	// message says which setting.
	ErrConfig = errors.New("pseudonym: invalid processor settings")

	// ErrHeader means the file's header (or, without one, its first row)
	// does not fit the column policy: a column it names is missing, or a
	// column has no rule. The message names the column, never a cell.
	ErrHeader = errors.New("pseudonym: the file's columns do not match the column policy")

	// ErrNoRows means the file holds no data row: it is empty, or has
	// only a header or blank lines. Nothing was written but the header.
	ErrNoRows = errors.New("pseudonym: the file has no data rows")
)

// An Action is what a [Processor] does with a column.
type Action uint8

// The actions. The zero Action is no action: see [Processor.Other].
const (
	Keep           Action = iota + 1 // copy the value
	Drop                             // leave the column out of the output
	Pseudonymise                     // replace the BSN by its pseudonym (placeholders pass through)
	Encrypt                          // encrypt the value for this column (an empty value stays empty)
	CoarsenPC4                       // postcode → its four digits (an empty value stays empty)
	CoarsenYear                      // date → its year (an empty value stays empty)
	CoarsenAgeBand                   // date of birth → age band on AgeOn (an empty value stays empty)
)

var actionNames = [...]string{"none", "keep", "drop", "pseudonymise", "encrypt", "PC4", "year", "age band"}

// String returns the action's name, such as "pseudonymise".
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// A Column is a rule of the column policy: which column, by the name in its
// header or by its position, and what to do with it.
type Column struct {
	Name   string // the name in the header (case and surrounding spaces ignored), or
	Pos    int    // the position, from 1
	Action Action

	// NumericFromSpreadsheet declares that the column (to Pseudonymise)
	// may come from a spreadsheet as numbers: an 8-digit number cell of an
	// .xlsx is then a BSN whose leading zero the spreadsheet dropped, read
	// as 9 digits and listed with CodeBSNLegacyNumber (a warning). Without
	// it such a cell is a problem, CodeBSNNumberCell: a number cell may
	// have lost any digit a spreadsheet thought insignificant. A text cell,
	// and every line of a text file, is read by the rules of bsn.Parse.
	NumericFromSpreadsheet bool
}

// OnInvalid says what happens to a row with an invalid cell: a BSN that is
// not a BSN (nor a CBS placeholder), a date or a postcode that cannot be
// read.
type OnInvalid uint8

const (
	// RejectRow leaves the row out of the output and lists it as rejected.
	RejectRow OnInvalid = iota

	// KeepFlagged writes the row with the problem's [Code] in place of the
	// invalid cell (never the value itself), and lists the problem.
	KeepFlagged
)

// Encoding is the character encoding of an input file. The output is always
// UTF-8 without a byte-order mark.
type Encoding uint8

const (
	// DetectEncoding reads a file with a byte-order mark as what the mark
	// says (UTF-8 or UTF-16), a file whose first 64 KiB are valid UTF-8
	// with a character that is not ASCII as UTF-8, and one whose first 64
	// KiB are not valid UTF-8 as Windows-1252 (what Excel writes as "CSV"
	// on Dutch Windows). A file whose first 64 KiB are ASCII is decided on
	// its first byte that is not: UTF-8 if that byte starts a valid UTF-8
	// character, Windows-1252 otherwise; [Report.EncodingLine] says where.
	DetectEncoding Encoding = iota
	UTF8                    // UTF-8, with or without a byte-order mark
	Windows1252             // Windows-1252 (CP1252), as Dutch Windows writes text
	UTF16                   // only with a byte-order mark, as Excel's "Unicode text"
)

var encodingNames = [...]string{"detect", "UTF-8", "Windows-1252", "UTF-16"}

// String returns the encoding's name, such as "UTF-8".
func (e Encoding) String() string {
	if int(e) < len(encodingNames) {
		return encodingNames[e]
	}
	return "Encoding(" + strconv.Itoa(int(e)) + ")"
}

// A Field is a column of a fixed-width file: its name and where it is, in
// characters, not bytes.
type Field struct {
	Name  string
	Start int // the position of its first character, from 1
	Width int // its number of characters
}

// Defaults of the Processor's limits.
const (
	DefaultMaxRowBytes = 64 << 10
	DefaultMaxFields   = 1000
	DefaultMaxProblems = 10000
)

// A Processor pseudonymises files: it reads a delimited or fixed-width file,
// applies the column policy to every row, and writes the result as a
// delimited file in UTF-8 (or hands the rows to a function). Configure it by
// setting its fields; Keyring and the policy (Columns, or Other) are
// required, and the other zero values are useful defaults. A Processor may
// be used for several files, also concurrently, as long as its fields do not
// change.
//
// The rows are processed in batches by one goroutine per core, the
// caller's among them, and written in their input order. Memory use does not depend on the size of the file:
// it is bounded by the batch size, MaxRowBytes and MaxFields.
//
// Nothing is lost silently: every data row read is written, or rejected and
// listed in the [Report] with the reason. A BSN from a column to
// pseudonymise never reaches the output, the report or an error in clear.
type Processor struct {
	// Keyring makes the pseudonyms and encrypts, under its current key, for
	// Domain ("" is the key holder's own domain).
	Keyring *Keyring
	Domain  string

	// Columns is the column policy. Other is the action for the columns
	// that have no rule; if it is zero, every column needs a rule, so that
	// a new column in the file cannot slip through unnoticed.
	//
	// An encrypted value is bound to its column's name in lower case
	// without surrounding spaces (such as "postcode"), or to "#3" for
	// column 3 of a file without a header: pass that name to
	// [FieldCipher.Decrypt].
	Columns []Column
	Other   Action

	// OnInvalid says what happens to a row with an invalid cell.
	OnInvalid OnInvalid

	// Schema, if not nil, checks every row against a declared data set
	// before the column policy applies: each column's type and domain,
	// and rules across columns (package pseudonym/layout has one for the
	// CBS youth-care data set). Its problems have their own [Severity]:
	// a row with a problem of SeverityReject is rejected whatever
	// OnInvalid says; the others are written and listed.
	Schema Schema

	// Comma is the delimiter of a delimited file: ';', ',' or '\t'. If it
	// is 0, the delimiter is the one of these three that occurs most often
	// in the first line that is not blank (';', then '\t', then ',' on a
	// tie). A field may be quoted with '"' as in RFC 4180.
	Comma rune

	// Header means the first row names the columns. The output then has a
	// header too, without the dropped columns.
	Header bool

	// Layout, if not nil, makes the input a fixed-width file: one row per
	// line, cut into the Layout's fields, whose spaces around the value are
	// trimmed. The layout names the columns for the policy and for the
	// output, which is delimited by ';' and has a header. If Header is also
	// set, the first line is a header and is skipped. A line shorter than
	// the layout is read as if padded with spaces; a longer one is rejected
	// unless the rest is spaces.
	Layout []Field

	// Encoding is the character encoding of the input.
	Encoding Encoding

	// Sheet names the worksheet of an .xlsx to read; "" is the first.
	// MaxSpreadsheetBytes bounds the size of an .xlsx: a zip needs random
	// access, so one that is not an io.ReaderAt (such as an HTTP request
	// body) is held in memory, never written to a temporary file. Zero
	// means DefaultMaxSpreadsheetBytes.
	Sheet               string
	MaxSpreadsheetBytes int

	// DateLayouts are the accepted layouts of dates, in the notation of
	// package time. If nil: 2006-01-02, 20060102 and 02-01-2006.
	DateLayouts []string

	// AgeOn is the reference date of CoarsenAgeBand, such as the end of the
	// reporting period. AgeBands are the lower limits of the age bands
	// after 0; if nil, those of CBS youth-care statistics (see [AgeBand]).
	AgeOn    time.Time
	AgeBands []int

	// MaxRowBytes bounds the length of a row (a quoted field may span
	// lines); a longer row is rejected. MaxFields bounds the number of
	// fields of a row. MaxProblems bounds the problems kept in the Report.
	// Zero means the default.
	MaxRowBytes int
	MaxFields   int
	MaxProblems int

	// Workers is the number of goroutines that process rows; 0 means
	// GOMAXPROCS.
	Workers int

	// OnProblem, if not nil, is called for every problem, in row order; the
	// Report keeps only the first MaxProblems.
	OnProblem func(Problem)

	// Progress, if not nil, is called with the counts so far after each
	// batch of rows.
	//
	// The callbacks (OnProblem, Progress and the function of ProcessRows)
	// are called one at a time, in row order, but not always from the same
	// goroutine: the goroutines of Process, the caller's among them, take
	// turns at writing. With Workers 1, Process starts no goroutine.
	Progress func(Counts)
}

// A Schema checks the values of rows against a declared data set; package
// pseudonym/layout implements it for layouts that are data, such as the CBS
// youth-care data set.
type Schema interface {
	// Bind returns the check of the rows of a file with these column
	// names (nil for a file without a header: the columns are then taken
	// by position), or an error if the names do not fit the data set,
	// such as a required column that is missing; the Processor wraps it
	// in ErrHeader. The error names columns, never a cell.
	//
	// The check appends the problems of one row's fields to problems
	// and returns the extended slice, with Column, Name, Code and
	// Severity set (the Processor sets Line and Rejected). It never puts
	// a value in a problem. The fields are valid during the call only;
	// changing them changes nothing. The Processor calls it from several
	// goroutines at once.
	Bind(names []string) (check func(fields [][]byte, problems []Problem) []Problem, err error)
}

// A Row is a row of output handed to the function of
// [Processor.ProcessRows].
type Row struct {
	Line   int      // the line on which the row starts in the input
	Fields []string // the output values, in the order of Report.Columns
	// Flagged reports whether the row was written with a problem: a
	// cell holds a problem code (see KeepFlagged), or a Schema found a
	// problem of SeverityWarning or SeverityMeasurement.
	Flagged bool
}

// Process reads a file from in, applies the column policy, and writes the
// result to out as a delimited file. It returns the report, also with an
// error, which stops the file: an error from in or out, ctx's, ErrConfig,
// ErrHeader, or ErrNoRows for a file without data rows (never "0 rows read"
// and success). Rows written before an error stay written; the Report says
// how many.
//
// Process never creates a temporary file; in may be an HTTP request body.
// Cancelling ctx stops the work after the reads and writes in progress.
func (p *Processor) Process(ctx context.Context, in io.Reader, out io.Writer) (*Report, error) {
	return p.run(ctx, in, &csvSink{w: out})
}

// ProcessRows is [Processor.Process] for a caller that stores rows itself,
// such as in a database: it calls fn with every row written, one call at a
// time and in order (see [Processor.Progress]). The Row's Fields slice is
// reused after fn returns (the strings in it are not). An error from fn
// stops the file and is returned.
func (p *Processor) ProcessRows(ctx context.Context, in io.Reader, fn func(Row) error) (*Report, error) {
	return p.run(ctx, in, &rowSink{fn: fn})
}

// plan is a Processor compiled for one file: the settings checked and the
// defaults applied, and the policy resolved against the columns.
type plan struct {
	p            *Processor
	comma        byte
	fixed        []fixedField
	header       bool
	outComma     byte
	maxRow       int
	maxFields    int
	dates        []string
	defaultDates bool // dates are the default layouts
	ageBands     *ageBands
	ageOn        date

	check func(fields [][]byte, problems []Problem) []Problem // the bound Schema, or nil
	sheet bool                                                // a spreadsheet: cells may carry markNumber

	inFields int      // fields per row
	names    []string // input column names, nil without a header
	out      []outCol // output columns in order
	outNames []string // nil without a header
}

// fixedField is a Field in 0-based characters.
type fixedField struct{ start, end int }

// outCol is one column of the output.
type outCol struct {
	src    int // input field index
	action Action
	legacy bool   // NumericFromSpreadsheet
	field  string // the name bound into encrypted values
	name   string // for problems
	// kept is the number of output columns from this one on that are
	// kept input columns in a row (src, src+1, ...): a run a plain row
	// copies as one slice, delimiters and all.
	kept int
}

// check validates the settings that do not depend on the file.
func (p *Processor) check() (*plan, error) {
	pl := &plan{p: p, header: p.Header, maxRow: p.MaxRowBytes, maxFields: p.MaxFields, dates: p.DateLayouts}
	if p.Keyring == nil {
		return nil, fmt.Errorf("%w: no Keyring", ErrConfig)
	}
	if len(p.Domain) > maxDomainLen || !utf8.ValidString(p.Domain) {
		return nil, fmt.Errorf("%w: %w", ErrConfig, ErrDomain)
	}
	if pl.maxRow <= 0 {
		pl.maxRow = DefaultMaxRowBytes
	}
	if pl.maxFields <= 0 {
		pl.maxFields = DefaultMaxFields
	}
	if pl.dates == nil {
		pl.dates, pl.defaultDates = defaultDateLayouts, true
	}
	if len(pl.dates) == 0 {
		return nil, fmt.Errorf("%w: DateLayouts is empty", ErrConfig)
	}
	switch p.Comma {
	case 0, ';', ',', '\t':
		pl.comma = byte(p.Comma)
	default:
		return nil, fmt.Errorf("%w: Comma %q: use ';', ',' or '\\t'", ErrConfig, p.Comma)
	}
	if p.Encoding > UTF16 || p.OnInvalid > KeepFlagged {
		return nil, fmt.Errorf("%w: unknown Encoding or OnInvalid", ErrConfig)
	}
	if p.Other > CoarsenAgeBand {
		return nil, fmt.Errorf("%w: unknown Other action %v", ErrConfig, p.Other)
	}
	usesAge := p.Other == CoarsenAgeBand
	for _, c := range p.Columns {
		switch {
		case c.Action == 0 || c.Action > CoarsenAgeBand:
			return nil, fmt.Errorf("%w: column %s: unknown action %v", ErrConfig, c.label(), c.Action)
		case (c.Name == "") == (c.Pos == 0) || c.Pos < 0:
			return nil, fmt.Errorf("%w: column %s: give either a Name or a Pos from 1", ErrConfig, c.label())
		case c.Name != "" && !p.Header && p.Layout == nil:
			return nil, fmt.Errorf("%w: column %q is named, but the file has no Header", ErrConfig, c.Name)
		}
		usesAge = usesAge || c.Action == CoarsenAgeBand
	}
	if usesAge {
		if p.AgeOn.IsZero() {
			return nil, fmt.Errorf("%w: CoarsenAgeBand needs AgeOn, the reference date", ErrConfig)
		}
		b, err := newAgeBands(p.AgeBands)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		pl.ageBands = b
		y, m, d := p.AgeOn.Date()
		pl.ageOn = date{y, int(m), d}
	}
	if p.Layout != nil {
		if err := pl.compileLayout(p.Layout); err != nil {
			return nil, err
		}
	}
	return pl, nil
}

func (c Column) label() string {
	if c.Name != "" {
		return strconv.Quote(c.Name)
	}
	return strconv.Itoa(c.Pos)
}

var defaultDateLayouts = []string{time.DateOnly, "20060102", "02-01-2006"}

// compileLayout checks a fixed-width layout.
func (pl *plan) compileLayout(layout []Field) error {
	if len(layout) == 0 {
		return fmt.Errorf("%w: Layout has no fields", ErrConfig)
	}
	end := 0
	for _, f := range layout {
		if f.Name == "" || f.Start < 1 || f.Width < 1 {
			return fmt.Errorf("%w: layout field %q: give a Name, a Start from 1 and a Width from 1", ErrConfig, f.Name)
		}
		if f.Start-1 < end {
			return fmt.Errorf("%w: layout field %q overlaps the one before it: list the fields in order", ErrConfig, f.Name)
		}
		end = f.Start - 1 + f.Width
		pl.fixed = append(pl.fixed, fixedField{f.Start - 1, end})
		pl.names = append(pl.names, f.Name)
	}
	pl.comma, pl.outComma = 0, ';'
	pl.inFields = len(layout)
	return nil
}

// resolve applies the policy to the input columns (names, or only a count
// without a header) and makes the output columns.
func (pl *plan) resolve() error {
	p := pl.p
	actions := make([]Action, pl.inFields)
	legacy := make([]bool, pl.inFields)
	byName := make(map[string]int, len(pl.names))
	for i, n := range pl.names {
		key := foldName(n)
		if _, dup := byName[key]; dup {
			byName[key] = -1 // ambiguous: an error only if a rule names it
			continue
		}
		byName[key] = i
	}
	for _, c := range p.Columns {
		i := c.Pos - 1
		if c.Name != "" {
			j, ok := byName[foldName(c.Name)]
			switch {
			case !ok:
				return fmt.Errorf("%w: there is no column %q in the header", ErrHeader, c.Name)
			case j < 0:
				return fmt.Errorf("%w: the header has more than one column %q", ErrHeader, c.Name)
			}
			i = j
		}
		if i >= pl.inFields {
			return fmt.Errorf("%w: column %d is past the last column (%d)", ErrHeader, c.Pos, pl.inFields)
		}
		if actions[i] != 0 {
			return fmt.Errorf("%w: column %s has two rules", ErrConfig, pl.columnLabel(i))
		}
		actions[i] = c.Action
		legacy[i] = c.NumericFromSpreadsheet
	}
	for i, a := range actions {
		if a == 0 {
			if p.Other == 0 {
				return fmt.Errorf("%w: column %s has no rule: add it to Columns, or set Other", ErrHeader, pl.columnLabel(i))
			}
			actions[i] = p.Other
		}
		if pl.names != nil && pl.fixed == nil && looksLikeNumber(pl.names[i]) {
			// A header cell that holds a number as long as a BSN, in any
			// column: the first row is data (or the whole file was read
			// as one line), and would be copied to the output as a
			// header. Whatever the policy, it is never written.
			return fmt.Errorf("%w: the header of column %d holds a number as long as a BSN: does the file have a header row, and line ends? Set Header accordingly", ErrHeader, i+1)
		}
	}
	for i, a := range actions {
		if a == Drop {
			continue
		}
		col := outCol{src: i, action: a, legacy: legacy[i], field: "#" + strconv.Itoa(i+1)}
		if pl.names != nil {
			col.name = pl.names[i]
			col.field = foldName(pl.names[i])
			pl.outNames = append(pl.outNames, pl.names[i])
		}
		pl.out = append(pl.out, col)
	}
	if len(pl.out) == 0 {
		return fmt.Errorf("%w: every column is dropped", ErrConfig)
	}
	for i := len(pl.out) - 1; i >= 0; i-- {
		col := &pl.out[i]
		if col.action != Keep {
			continue
		}
		col.kept = 1
		if i+1 < len(pl.out) && pl.out[i+1].kept > 0 && pl.out[i+1].src == col.src+1 {
			col.kept += pl.out[i+1].kept
		}
	}
	return nil
}

// columnLabel names input column i in an error: by its name, unless the
// name may be a number from a data row mistaken for a header.
func (pl *plan) columnLabel(i int) string {
	if pl.names != nil && !looksLikeNumber(pl.names[i]) {
		return strconv.Quote(pl.names[i]) + " (position " + strconv.Itoa(i+1) + ")"
	}
	return strconv.Itoa(i + 1)
}

// looksLikeNumber reports whether s has as many digits as a BSN (8 or
// more), in any form: such a text never goes into an error message.
func looksLikeNumber(s string) bool {
	n := 0
	for _, r := range s {
		if unicode.IsDigit(r) {
			n++
		}
	}
	return n >= 8
}

// foldName is the form of a column name that rules match: case and
// surrounding spaces ignored.
func foldName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// workers returns the number of worker goroutines.
func (p *Processor) workers() int {
	if p.Workers > 0 {
		return p.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// maxProblems returns the number of problems kept in the report.
func (p *Processor) maxProblems() int {
	if p.MaxProblems > 0 {
		return p.MaxProblems
	}
	return DefaultMaxProblems
}

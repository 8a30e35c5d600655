package layout

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/zorgkit/zorgkit/pseudonym"
)

// ErrLayout means a layout file does not follow the format [Parse]
// documents, or contradicts itself. The message says where.
var ErrLayout = errors.New("layout: invalid layout")

// ErrIndicator means [Layout.Valid] or [Layout.Applies] was asked about an
// indicator the layout does not have.
var ErrIndicator = errors.New("layout: unknown indicator")

// Limits of a layout file, so that a layout from elsewhere cannot make
// Parse or the checks do unbounded work.
const (
	maxLayoutBytes = 1 << 20
	maxColumns     = 200
	maxCodes       = 5000
	maxRules       = 200
)

// A Layout describes a data set: its columns, each with a type and a
// domain, the rules between columns, and the indicators measured from it.
// It is read from a file by [Parse] (so that a new version of a data set is
// data, not code), and checks the rows of a [pseudonym.Processor] as its
// [pseudonym.Schema]. A Layout is immutable and safe for concurrent use.
type Layout struct {
	name, version string
	dateFormats   []dateFormat
	columns       []column
	rules         []rule
	indicators    []indicator
	byName        map[string]int // folded column names and aliases
}

// A Column is a column of a layout, as [Layout.Columns] describes it.
type Column struct {
	Name     string
	Required bool // the header must have it
	// Mandatory means the value may not be empty; Severity says what an
	// empty or invalid value means for the row.
	Mandatory bool
	Type      string
	Severity  pseudonym.Severity
	// Codes are the allowed values of a column of type "code".
	Codes []Code
}

// A Code is an allowed value of a column of type "code", with its meaning.
type Code struct {
	Code string `json:"code"`
	NL   string `json:"nl"`
	EN   string `json:"en"`
}

// An Indicator is an outcome measured from the data set, such as the
// client's satisfaction. It applies to a row (the row is in the denominator
// of its response rate) if the columns it requires are filled and valid;
// the row is a valid measurement of it if it applies and the indicator's
// columns are filled and valid. See [Layout.Applies] and [Layout.Valid].
type Indicator struct {
	Name     string
	NL, EN   string   // what it measures
	Columns  []string // the values that make the measurement
	Requires []string // columns that must be filled and valid, such as the end date
}

// The file format, in JSON. Unknown fields are an error, so that a typing
// error in a layout does not silently drop a check.
type fileLayout struct {
	Name        string          `json:"name"`
	Version     string          `json:"version"`
	Sources     []string        `json:"sources"`
	DateFormats []string        `json:"dateFormats"`
	Columns     []fileColumn    `json:"columns"`
	Rules       []fileRule      `json:"rules"`
	Indicators  []fileIndicator `json:"indicators"`
}

type fileColumn struct {
	Name      string   `json:"name"`
	Aliases   []string `json:"aliases"`
	Required  bool     `json:"required"`
	Mandatory bool     `json:"mandatory"`
	Type      string   `json:"type"`
	Severity  string   `json:"severity"`
	Codes     []Code   `json:"codes"`
	Min       *int64   `json:"min"`
	Max       *int64   `json:"max"`
	MinDate   string   `json:"minDate"`
	MaxDate   string   `json:"maxDate"`
	MinLength int      `json:"minLength"`
	MaxLength int      `json:"maxLength"`
	Chars     string   `json:"chars"`
	Note      string   `json:"note"`
}

type fileRule struct {
	Kind     string   `json:"kind"`
	Columns  []string `json:"columns"`
	Min      *int64   `json:"min"`
	Max      *int64   `json:"max"`
	Severity string   `json:"severity"`
	Note     string   `json:"note"`
}

type fileIndicator struct {
	Name     string   `json:"name"`
	NL       string   `json:"nl"`
	EN       string   `json:"en"`
	Columns  []string `json:"columns"`
	Requires []string `json:"requires"`
}

//go:embed jeugdhulp.json
var jeugdhulpFile []byte

var jeugdhulp = sync.OnceValue(func() *Layout {
	l, err := Parse(jeugdhulpFile)
	if err != nil {
		panic(err) // the embedded file is tested
	}
	return l
})

// Jeugdhulp returns the layout of the CBS youth-care data set (jeugdhulp in
// the Informatieprotocol Beleidsinformatie Jeugd) with the outcome
// indicators the portal measures, as embedded in this package: the file
// jeugdhulp.json, whose sources are listed in the package documentation.
func Jeugdhulp() *Layout { return jeugdhulp() }

// Parse reads a layout file: a JSON object with
//
//	name, version   the data set and the version of its layout
//	sources         where the definitions come from (free text)
//	dateFormats     accepted date formats, such as "YYYY-MM-DD", "YYYYMMDD",
//	                "DD-MM-YYYY" or "D-M-YYYY" (D and M: one or two digits)
//	columns         in the order of a file without header, each with
//	    name, aliases   its header name and other names (case and
//	                    surrounding spaces ignored)
//	    required        the header must have the column
//	    mandatory       the value may not be empty
//	    type            "bsn", "date", "integer", "code", "postcode",
//	                    "text"
//	    severity        what an empty (if mandatory) or invalid value means:
//	                    "reject", "warning" or "measurement"
//	    codes           for "code": [{"code", "nl", "en"}]
//	    min, max        for "integer": the range
//	    minDate, maxDate for "date": the range, as YYYY-MM-DD
//	    minLength, maxLength, chars  for "text": the length in characters and
//	                    the characters allowed: "digits", "alnum" or "" (any)
//	rules           between columns of a row, each with kind, columns,
//	                severity:
//	    "order"         [a, b]: b is not before a (when both are dates)
//	    "requiredWith"  [a, b]: b is filled when a is
//	    "oneOf"         [a, b, ...]: at least one is filled
//	    "age"           [birth, date] with min and max: the age in whole
//	                    years on date
//	indicators      each with name, nl, en, columns (the values of the
//	                measurement) and requires (columns that must be filled
//	                and valid for the indicator to apply to a row)
//
// Unknown fields, unknown types and severities, rules or indicators that
// name a column the layout does not have, and ranges whose minimum exceeds
// their maximum are errors wrapping [ErrLayout].
func Parse(data []byte) (*Layout, error) {
	if len(data) > maxLayoutBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrLayout, maxLayoutBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f fileLayout
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLayout, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the layout", ErrLayout)
	}
	return compile(&f)
}

// compile checks a layout file and makes the Layout.
func compile(f *fileLayout) (*Layout, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrLayout}, args...)...)
	}
	l := &Layout{name: f.Name, version: f.Version, byName: map[string]int{}}
	if f.Name == "" {
		return nil, bad("no name")
	}
	if len(f.Columns) == 0 || len(f.Columns) > maxColumns {
		return nil, bad("give 1 to %d columns", maxColumns)
	}
	if len(f.Rules) > maxRules {
		return nil, bad("more than %d rules", maxRules)
	}
	formats := f.DateFormats
	if len(formats) == 0 {
		formats = []string{"YYYY-MM-DD"}
	}
	for _, s := range formats {
		df, ok := parseDateFormat(s)
		if !ok {
			return nil, bad("date format %q: use YYYY, MM or M, DD or D and separators", s)
		}
		l.dateFormats = append(l.dateFormats, df)
	}
	for i, fc := range f.Columns {
		c, err := compileColumn(fc)
		if err != nil {
			return nil, bad("column %d (%q): %s", i+1, fc.Name, err)
		}
		c.names = append([]string{fc.Name}, fc.Aliases...)
		for _, n := range c.names {
			key := fold(n)
			if _, dup := l.byName[key]; dup || key == "" {
				return nil, bad("column %d: the name %q is empty or used twice", i+1, n)
			}
			l.byName[key] = i
		}
		l.columns = append(l.columns, c)
	}
	col := func(name string) (int, error) {
		i, ok := l.byName[fold(name)]
		if !ok {
			return 0, fmt.Errorf("no column %q", name)
		}
		return i, nil
	}
	for i, fr := range f.Rules {
		r, err := compileRule(fr, col, l)
		if err != nil {
			return nil, bad("rule %d (%s): %s", i+1, fr.Kind, err)
		}
		l.rules = append(l.rules, r)
	}
	seen := map[string]bool{}
	for i, fi := range f.Indicators {
		if fi.Name == "" || seen[fi.Name] || len(fi.Columns) == 0 {
			return nil, bad("indicator %d: give a name of its own and its columns", i+1)
		}
		seen[fi.Name] = true
		in := indicator{Indicator: Indicator(fi)}
		for _, n := range fi.Columns {
			j, err := col(n)
			if err != nil {
				return nil, bad("indicator %q: %s", fi.Name, err)
			}
			in.cols = append(in.cols, j)
		}
		for _, n := range fi.Requires {
			j, err := col(n)
			if err != nil {
				return nil, bad("indicator %q: %s", fi.Name, err)
			}
			in.requires = append(in.requires, j)
		}
		in.read = append(slices.Clone(in.cols), in.requires...)
		for k, r := range l.rules {
			if slices.ContainsFunc(r.cols, func(c int) bool { return slices.Contains(in.cols, c) }) {
				in.rules = append(in.rules, k)
				in.read = append(in.read, r.cols...)
			}
		}
		slices.Sort(in.read)
		in.read = slices.Compact(in.read)
		l.indicators = append(l.indicators, in)
	}
	return l, nil
}

// Name returns the name of the data set and the version of its layout.
func (l *Layout) Name() (name, version string) { return l.name, l.version }

// Columns describes the columns, in the order of a file without a header.
// Each call returns new slices.
func (l *Layout) Columns() []Column {
	out := make([]Column, len(l.columns))
	for i, c := range l.columns {
		out[i] = Column{Name: c.name, Required: c.required, Mandatory: c.mandatory, Type: c.typ.String(),
			Severity: c.severity, Codes: append([]Code(nil), c.codes...)}
	}
	return out
}

// Indicators describes the indicators. Each call returns new slices.
func (l *Layout) Indicators() []Indicator {
	out := make([]Indicator, len(l.indicators))
	for i, in := range l.indicators {
		out[i] = in.Indicator
		out[i].Columns = append([]string(nil), in.Columns...)
		out[i].Requires = append([]string(nil), in.Requires...)
	}
	return out
}

// severityOf reads a severity; "" is "reject".
func severityOf(s string) (pseudonym.Severity, error) {
	switch s {
	case "", "reject":
		return pseudonym.SeverityReject, nil
	case "warning":
		return pseudonym.SeverityWarning, nil
	case "measurement":
		return pseudonym.SeverityMeasurement, nil
	}
	return 0, fmt.Errorf("severity %q: use reject, warning or measurement", s)
}

// fold is the form of a column name that names match: case and
// surrounding spaces ignored.
func fold(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

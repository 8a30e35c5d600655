package disclosure

import "fmt"

// Status is the publication status of a cell.
type Status uint8

// The statuses.
const (
	// Published: the value is shown.
	Published Status = iota

	// PrimarySuppressed: withheld by a primary rule; see the Reason.
	PrimarySuppressed

	// SecondarySuppressed: withheld so that no primary cell can be
	// derived (or, for a rate, because its numerator or denominator is
	// withheld).
	SecondarySuppressed
)

var statusCodes = [...]string{
	Published:           "published",
	PrimarySuppressed:   "primary",
	SecondarySuppressed: "secondary",
}

// String returns the status's stable code: "published", "primary" or
// "secondary".
func (s Status) String() string {
	if int(s) < len(statusCodes) {
		return statusCodes[s]
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// MarshalText implements [encoding.TextMarshaler] with the stable code.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Cell is one value of a report.
type Cell struct {
	// Value is the cell's value when Status is Published, and zero
	// otherwise: a withheld value never leaves the package. A rate
	// without decisions is NaN.
	Value float64

	// Status says whether the value is shown.
	Status Status

	// Reason says why a withheld cell is withheld; NoReason when
	// published.
	Reason Reason
}

// Withheld reports whether the cell's value is not shown.
func (c Cell) Withheld() bool { return c.Status != Published }

// Row is one row of a report: a combination of categories (a category,
// group or total per dimension) and one cell per measure.
type Row struct {
	Categories []string
	Cells      []Cell
}

// The measures (columns) of the kinds of tables. A Response table shows
// "applicable" when some record has a non-nil Record.Applies
// (responseApplicable), and its rate, named for what it divides by, is
// "measured" over "applicable", the records to which the indicator
// applies; otherwise its "rate" is "measured" over "decisions".
var measures = [...][]string{
	Count:    {"count"},
	Sum:      {"sum"},
	Response: {"decisions", "measured", "rate"},
}

var responseApplicable = []string{"decisions", "applicable", "measured", "rate_of_applicable"}

// IndicatorDimension is the name of the last column of the categories of a
// Response table, which holds the indicator.
const IndicatorDimension = "indicator"

// table is the content of a report; PublicTable and OwnerTable give it
// their audience.
type table struct {
	name       string
	kind       Kind
	dimensions []string
	measures   []string
	rows       []Row
}

// Name returns the table's name.
func (t *table) Name() string { return t.name }

// Kind returns the kind of table.
func (t *table) Kind() Kind { return t.kind }

// Dimensions returns the names of the table's dimensions, in the order of
// Row.Categories; a Response table ends with IndicatorDimension.
func (t *table) Dimensions() []string { return append([]string(nil), t.dimensions...) }

// Measures returns the names of the table's measures, in the order of
// Row.Cells: "count", "sum", or "decisions", "measured" and "rate"; a
// Response table whose records state to which of them an indicator
// applies (Record.Applies) has "decisions", "applicable", "measured" and
// "rate_of_applicable", the measured over the applicable records.
func (t *table) Measures() []string { return append([]string(nil), t.measures...) }

// Rows returns the rows of the table. Groups come before their members
// and every dimension starts with its total.
func (t *table) Rows() []Row {
	out := make([]Row, len(t.rows))
	for i, r := range t.rows {
		out[i] = Row{Categories: append([]string(nil), r.Categories...), Cells: append([]Cell(nil), r.Cells...)}
	}
	return out
}

// PublicTable is a report protected for everyone but the data owner, such
// as the municipality. Only [Tables.Protect] makes one.
type PublicTable struct{ table }

// OwnerTable is a report of a data owner's own records, unprotected: for
// that owner only. Only [Tables.OwnerView] makes one.
type OwnerTable struct{ table }

package disclosure

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors. The typed errors below wrap them; test with [errors.Is].
var (
	// ErrDimension means a Dimension is not well defined.
	ErrDimension = errors.New("disclosure: invalid dimension")

	// ErrSpec means a table specification is not valid.
	ErrSpec = errors.New("disclosure: invalid table specification")

	// ErrRecord means a record or aggregate cell does not fit the
	// dimensions or has an invalid value.
	ErrRecord = errors.New("disclosure: invalid record")

	// ErrRules means the protection rules are not valid.
	ErrRules = errors.New("disclosure: invalid rules")

	// ErrTooLarge means the tables would have more cells than MaxCells.
	ErrTooLarge = errors.New("disclosure: tables too large")

	// ErrIntervals means that Rules.Intervals could not be met: some
	// reader narrows a primary cell down further than the rules allow
	// even with every other cell withheld (say, a provider that knows
	// most of a total knows a lower bound of its other parts).
	ErrIntervals = errors.New("disclosure: interval protection cannot be met: lower Rules.Margin, Width, Below or Above")

	// ErrCSV means a CSV file cannot be read as a table: see [*CSVError].
	ErrCSV = errors.New("disclosure: invalid CSV file")

	// ErrNoContributor means an owner view was asked for without naming
	// a contributor.
	ErrNoContributor = errors.New("disclosure: owner view needs a contributor")

	// ErrUnknownContributor means an owner view was asked for a
	// contributor of none of the records (or aggregates): a typing error,
	// or a provider that has not delivered data yet. The view would be
	// all zeros, which reads as data.
	ErrUnknownContributor = errors.New("disclosure: no records of this contributor")

	// ErrEmpty means there is nothing to tabulate: no records, or no
	// aggregates. A table of zeros is made from aggregates whose Count is
	// zero.
	ErrEmpty = errors.New("disclosure: no records to tabulate")
)

// StoppedError reports that [Tables.Protect] stopped before it finished,
// because its context was canceled or its deadline passed, and how far it
// got. It unwraps to the context's error.
type StoppedError struct {
	// Stage is what Protect was doing: "secondary" (choosing the
	// secondary suppressions), "intervals" (the interval protection) or
	// "clean-up" (publishing again what the interval protection does not
	// need).
	Stage string

	// Done of Total of the stage's units were handled: candidate cells
	// (counted twice: a second pass tries again what the first refused),
	// or primary cells for the intervals.
	Done, Total int

	Err error
}

// The stages of Protect.
const (
	stageSecondary = "secondary"
	stageIntervals = "intervals"
	stageCleanUp   = "clean-up"
)

func (e *StoppedError) Error() string {
	return fmt.Sprintf("disclosure: stopped at %s after %d of %d: %v", e.Stage, e.Done, e.Total, e.Err)
}

// Unwrap returns the context's error.
func (e *StoppedError) Unwrap() error { return e.Err }

// DimensionError describes what is wrong with a [Dimension].
type DimensionError struct {
	Dimension string // the dimension's name
	Code      string // the category concerned, if any
	Problem   string
}

func (e *DimensionError) Error() string {
	s := "disclosure: dimension " + quoteOrEmpty(e.Dimension)
	if e.Code != "" {
		s += ", category " + fmt.Sprintf("%q", e.Code)
	}
	return s + ": " + e.Problem
}

// Unwrap returns ErrDimension.
func (e *DimensionError) Unwrap() error { return ErrDimension }

// SpecError describes what is wrong with a table specification.
type SpecError struct {
	Table   string // the table's name
	Problem string
}

func (e *SpecError) Error() string {
	return "disclosure: table " + quoteOrEmpty(e.Table) + ": " + e.Problem
}

// Unwrap returns ErrSpec.
func (e *SpecError) Unwrap() error { return ErrSpec }

// RecordError describes a record (or aggregate cell) that cannot be
// tabulated. Index is its position in the input.
type RecordError struct {
	Index   int
	Problem string
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("disclosure: record %d: %s", e.Index, e.Problem)
}

// Unwrap returns ErrRecord.
func (e *RecordError) Unwrap() error { return ErrRecord }

// CSVError describes a problem with a CSV file (see [ReadCSV]): the line it
// is on (1 is the header), the column's name if it concerns one, and what
// is wrong. Values from the file are quoted in Problem with every run of
// eight or more digits masked, so that an identifying number that ended up
// in the wrong file does not reach a log.
type CSVError struct {
	Line    int
	Column  string
	Problem string
}

func (e *CSVError) Error() string {
	s := fmt.Sprintf("disclosure: CSV line %d", e.Line)
	if e.Column != "" {
		s += ", column " + shown(e.Column)
	}
	return s + ": " + e.Problem
}

// Unwrap returns ErrCSV.
func (e *CSVError) Unwrap() error { return ErrCSV }

// shown quotes a value from a file for an error message: at most 40
// characters, runs of eight or more digits masked.
func shown(v string) string {
	r := []rune(v)
	if len(r) > 40 {
		r = append(r[:40], '…')
	}
	for i := 0; i < len(r); {
		j := i
		for j < len(r) && r[j] >= '0' && r[j] <= '9' {
			j++
		}
		if j-i >= 8 {
			for k := i; k < j; k++ {
				r[k] = '•'
			}
		}
		i = max(j, i+1)
	}
	return strconv.Quote(string(r))
}

func quoteOrEmpty(s string) string {
	if s == "" {
		return "(unnamed)"
	}
	return fmt.Sprintf("%q", s)
}

// Package audit checks published statistical tables for disclosure: it finds
// every withheld cell that a reader can compute, exactly or within a narrow
// range, from what is published and from the tables' additive structure.
//
// The audit is deliberately independent of the code that chose the
// suppressions (package disclosure): it is written separately and knows
// nothing of how a pattern was made, so that it can prove a pattern safe
// rather than repeat the reasoning that produced it.
//
// # The system a reader sees
//
// A [System] describes what a reader sees: cells, published or withheld, and
// the linear relations between them (totals are sums of their parts; a
// published ratio ties its numerator to its denominator). Cells shared by
// several linked tables appear once, so that differencing one table against
// another is covered. Each relation is an equation that is zero for the true
// values:
//
//	Sums[k]:   Total − Σ Parts                = 0
//	Ratios[k]: Numerator − r·Denominator      = 0   (r the published ratio)
//	Ratios[k]: Denominator                    = 0   (a published ratio shown as undefined)
//
// A published ratio is taken to be exact, r = Numerator/Denominator: it
// publishes the numerator when the denominator is known and not zero, and the
// denominator when the numerator is known and not zero, and it combines with
// the sums like any other linear equation. A ratio whose denominator is zero
// is shown as undefined, which tells the reader that the denominator is zero.
//
// A response table publishes differences as well as its cells: with the
// decisions, the decisions to which an outcome indicator applies and the
// valid measurements, a reader has the non-response (applicable minus
// measured) and the decisions the indicator does not apply to (care still
// running: decisions minus applicable). State each as a cell of its own,
// withheld and sensitive where it is small, with the Sums decisions =
// applicable + not applicable and applicable = measured + non-response,
// and the rate as a Ratio of the measurements to the applicable
// decisions: an audit without those cells and Sums would pass a pattern
// that gives a small one away (see the example of [Exact]).
//
// An [Attacker] is a reader with inside knowledge, such as a care provider
// that knows its own contributions: the audit treats the cells it knows as
// published to it.
//
// # Exact audit
//
// [Exact] reports every withheld cell whose value is the same in every
// solution of the relations, given the published values: a cell x is
// determined if and only if its unit vector lies in the row space of the
// relations restricted to the unknown cells. Relations left with one unknown
// cell are solved first, one after the other (peeling); what remains splits
// into independent components, each reduced by sparse Gauss–Jordan elimination
// with a Markowitz pivot order. Determined cells are then the pivot columns
// whose reduced row has no other entry. All arithmetic is exact: integers that
// widen to [math/big] when they would overflow, so a finding is never a
// rounding artefact and no finding is missed by one. Each [Finding] carries its
// derivation, a linear combination of relations that isolates the cell, which
// anyone can check.
//
// # Interval audit
//
// [Intervals] computes, for each sensitive withheld cell, the smallest and
// largest value consistent with the published values, the relations and the
// fact that cells are not negative, by linear programming, per component. It
// reports whether that range protects the cell as [Cell.Margin],
// [Cell.Below] and [Cell.Above] require. Non-negativity makes it stronger
// than the exact audit: two withheld zeros in a row whose total is 0 are both
// disclosed, though no equation pins either.
//
// The linear programs are solved by a revised simplex method in floating
// point (a sparse LU factorization of the basis, updated in product form;
// each program starts from the previous one's optimal basis), and every
// optimum is then certified in exact arithmetic by the audit itself: the
// solution, read as fractions, must satisfy every relation exactly, and the
// dual solution, read likewise, must prove that no point of the polyhedron
// does better; an unbounded maximum needs a ray that is checked the same way.
// The floating-point solver is shared with the protection in package
// disclosure, which uses it to choose its pattern; the certificates are not:
// no verdict of the audit rests on rounding or on code the protection
// decides with. When a certificate fails, the optimum is computed by an exact
// simplex method in rational arithmetic instead.
//
// Both audits handle systems of 100,000 cells; see BENCHMARKS.md in the
// repository. Both take a [context.Context] and stop with a [*StoppedError]
// that says how far they got when it ends.
//
// # Values
//
// Cell values are float64, as tables hold them, but the audit computes with
// exact rationals: a value is read as the shortest decimal that rounds to it
// (0.1 is one tenth, not the nearest binary fraction), so that decimal
// figures such as hours of care add up exactly.
package audit

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// System is a set of linked published tables as a reader sees them.
//
// Indices in Sums, Ratios and [Attacker.Knows] refer to Cells. Use
// [System.Validate] to check a System before use; [Exact] and [Intervals]
// validate it themselves.
type System struct {
	// Cells are all cells of all linked tables; a cell that appears in
	// several tables (the same group of records) appears here once.
	Cells []Cell

	// Sums are the additive relations: Cells[Total] equals the sum of
	// Cells[Parts].
	Sums []Sum

	// Ratios are derived figures, such as response rates.
	Ratios []Ratio
}

// Cell is one cell of a table.
type Cell struct {
	// Name identifies the cell in findings, such as
	// "gemeente=Almere;zorgvorm=jeugdhulp". It must be unique in a System
	// and not empty.
	Name string

	// Value is the true value. The auditor knows it; a reader knows it
	// only when Published is true.
	Value float64

	// Published reports whether the reader sees the value.
	Published bool

	// Sensitive marks a cell that failed a primary rule: the reader must
	// not be able to compute it.
	Sensitive bool

	// Margin, Below and Above are the protection required of a sensitive
	// cell in the interval audit (τ-ARGUS's sliding, lower and upper
	// protection levels): the range of values a reader can deduce for it
	// must be at least Margin wide, reach down to Value − Below (or to
	// zero, when Below is more than the value: cells are not negative)
	// and up to Value + Above. All zero asks only that the cell is not
	// exact.
	Margin, Below, Above float64
}

// Sum states that Cells[Total] equals the sum of Cells[Parts]. Parts must
// not repeat a cell or contain Total. A Sum with no parts states that the
// total is zero.
type Sum struct {
	Total int
	Parts []int
}

// Ratio is a derived figure Cells[Numerator] / Cells[Denominator]. When
// Published is true the reader sees the ratio; it then ties the two cells
// together (see the package documentation). A ratio that is not published
// states nothing.
type Ratio struct {
	Numerator, Denominator int
	Published              bool
}

// Attacker is a reader with inside knowledge: typically a data owner (a care
// provider) who knows its own contributions. Knows lists the indices of
// withheld cells whose value this attacker knows, such as cells to which it
// is the only contributor. Name identifies the attacker in findings; it must
// not be empty, nor repeat another attacker's name.
type Attacker struct {
	Name  string
	Knows []int
}

// Errors returned (wrapped in a [*SystemError]) for a System or Attacker that
// cannot be audited. Test for them with [errors.Is].
var (
	// ErrInvalid means the System or an Attacker is malformed: an index
	// out of range, a missing or repeated name, a value that is not a
	// finite number.
	ErrInvalid = errors.New("audit: invalid system")

	// ErrInconsistent means the values do not satisfy a relation: a total
	// is not the sum of its parts. The tables were not built from the
	// same records, or the conversion to a System mixed up cells.
	ErrInconsistent = errors.New("audit: values do not satisfy the relations")

	// ErrNegative means a withheld cell has a negative value, while the
	// interval audit assumes, as a reader does, that cells are not
	// negative.
	ErrNegative = errors.New("audit: negative withheld value")
)

// StoppedError reports that an audit ended before it finished, because
// its context was canceled or its deadline passed, and how far it got. It
// unwraps to the context's error, so that errors.Is(err,
// context.DeadlineExceeded) works.
type StoppedError struct {
	// Stage is what the audit was examining when it stopped: "components,
	// for any reader" (Exact), "sensitive cells, for any reader"
	// (Intervals), or "attackers" (both, after any reader).
	Stage string

	// Done of Total of the stage's parts were examined.
	Done, Total int

	Err error
}

func (e *StoppedError) Error() string {
	return fmt.Sprintf("audit: stopped after %d of %d %s: %v", e.Done, e.Total, e.Stage, e.Err)
}

// Unwrap returns the context's error.
func (e *StoppedError) Unwrap() error { return e.Err }

// stop sets the context's error and returns e.
func (e *StoppedError) stop(err error) error {
	e.Err = err
	return e
}

// SystemError reports what is wrong with a System or an Attacker, and where.
// Err is [ErrInvalid], [ErrInconsistent] or [ErrNegative].
type SystemError struct {
	// Field is "Cells", "Sums", "Ratios" or "Attackers"; Index is the
	// position of the faulty element in it.
	Field string
	Index int

	// Problem says what is wrong, such as "part 12 is out of range".
	Problem string

	Err error
}

func (e *SystemError) Error() string {
	return "audit: " + e.Field + "[" + strconv.Itoa(e.Index) + "]: " + e.Problem
}

// Unwrap returns the sentinel error, so that errors.Is(err, ErrInvalid) and
// the like work.
func (e *SystemError) Unwrap() error { return e.Err }

// consistencyTolerance is the relative error a Sum may show before it is
// inconsistent: float64 totals accumulate rounding errors of the order of
// 1e-16 per addition, far below it, while any real mismatch of table cells is
// far above it.
const consistencyTolerance = 1e-9

// Validate reports the first problem that makes s unfit for an audit: an
// index out of range, a repeated or empty cell name, a value or margin that
// is not finite (or a negative margin), a Sum that repeats a part or contains
// its own total, a Ratio of a cell to itself, or values that do not satisfy a
// Sum. The error is a [*SystemError] wrapping [ErrInvalid] or
// [ErrInconsistent].
func (s *System) Validate() error {
	names := make(map[string]int, len(s.Cells))
	for i, c := range s.Cells {
		switch {
		case c.Name == "":
			return invalid("Cells", i, "the cell has no name: give every cell a unique name")
		case math.IsNaN(c.Value) || math.IsInf(c.Value, 0):
			return invalid("Cells", i, "the value is not a finite number")
		case !finiteNonNegative(c.Margin) || !finiteNonNegative(c.Below) || !finiteNonNegative(c.Above):
			return invalid("Cells", i, "the margin and the protection levels must be finite numbers, zero or more")
		}
		if j, dup := names[c.Name]; dup {
			return invalid("Cells", i, fmt.Sprintf("the name %q is also the name of cell %d: a cell shared by linked tables must appear once", c.Name, j))
		}
		names[c.Name] = i
	}
	n := len(s.Cells)
	seen := make(map[int]bool)
	for k, sum := range s.Sums {
		if !inRange(sum.Total, n) {
			return invalid("Sums", k, outOfRange("the total", sum.Total, n))
		}
		clear(seen)
		seen[sum.Total] = true
		for _, p := range sum.Parts {
			switch {
			case !inRange(p, n):
				return invalid("Sums", k, outOfRange("part", p, n))
			case p == sum.Total:
				return invalid("Sums", k, fmt.Sprintf("part %d is the total itself", p))
			case seen[p]:
				return invalid("Sums", k, fmt.Sprintf("part %d appears twice", p))
			}
			seen[p] = true
		}
		if err := s.checkSum(k); err != nil {
			return err
		}
	}
	for k, r := range s.Ratios {
		switch {
		case !inRange(r.Numerator, n):
			return invalid("Ratios", k, outOfRange("the numerator", r.Numerator, n))
		case !inRange(r.Denominator, n):
			return invalid("Ratios", k, outOfRange("the denominator", r.Denominator, n))
		case r.Numerator == r.Denominator:
			return invalid("Ratios", k, "the numerator and the denominator are the same cell")
		}
	}
	return nil
}

// checkSum reports whether Sums[k] holds for the values, within
// consistencyTolerance.
func (s *System) checkSum(k int) error {
	sum := s.Sums[k]
	total := s.Cells[sum.Total].Value
	diff, scale := total, math.Abs(total)
	for _, p := range sum.Parts {
		v := s.Cells[p].Value
		diff -= v
		scale += math.Abs(v)
	}
	if math.Abs(diff) > consistencyTolerance*scale || (scale == 0 && diff != 0) {
		return &SystemError{Field: "Sums", Index: k, Err: ErrInconsistent,
			Problem: fmt.Sprintf("the total (cell %d) is not the sum of its %d parts: check that all tables come from the same records", sum.Total, len(sum.Parts))}
	}
	return nil
}

// validateAttackers checks the attackers against s, which is valid.
func (s *System) validateAttackers(attackers []Attacker) error {
	names := make(map[string]int, len(attackers))
	for i, a := range attackers {
		if a.Name == "" {
			return invalid("Attackers", i, "the attacker has no name: name it, as findings for it carry its name")
		}
		if j, dup := names[a.Name]; dup {
			return invalid("Attackers", i, fmt.Sprintf("the name %q is also the name of attacker %d", a.Name, j))
		}
		names[a.Name] = i
		for _, c := range a.Knows {
			if !inRange(c, len(s.Cells)) {
				return invalid("Attackers", i, outOfRange("known cell", c, len(s.Cells)))
			}
		}
	}
	return nil
}

func invalid(field string, index int, problem string) *SystemError {
	return &SystemError{Field: field, Index: index, Problem: problem, Err: ErrInvalid}
}

func inRange(i, n int) bool { return 0 <= i && i < n }

func finiteNonNegative(f float64) bool { return f >= 0 && !math.IsInf(f, 0) }

func outOfRange(what string, i, n int) string {
	return fmt.Sprintf("%s %d is out of range: the System has %d cells", what, i, n)
}

package disclosure

import (
	"fmt"
	"math"
)

// DefaultMinFrequency is the frequency rule's threshold when
// [Rules.MinFrequency] is zero: fewer than 5, the Gemeenteportaal's rule.
const DefaultMinFrequency = 5

// Rules are the primary suppression rules. The zero value applies the
// frequency rule with threshold DefaultMinFrequency and treats empty cells
// as safe.
type Rules struct {
	// MinFrequency is the threshold N of the frequency rule: a cell with
	// fewer than N contributors is withheld. In a Count (or Response)
	// table the contributors are the records; in a Sum table they are the
	// distinct Contributors (each record without one counting as its
	// own). DefaultMinFrequency when zero; 1 withholds only empty cells
	// (and those only when ZerosSensitive).
	MinFrequency int

	// ZerosSensitive withholds empty cells: "nobody in this group" is
	// itself sensitive. When false, empty cells are published, and they
	// are never used to protect other cells.
	ZerosSensitive bool

	// RowMode withholds every cell of a report row (the cells that share
	// the table's Profile categories, in every measure) whose profile has
	// fewer than RowMinimum records: the Gemeenteportaal's rule that a
	// profile with fewer than 5 allocations is not shown. It adds to the
	// cell rules; with MinFrequency 1 it is the portal's rule alone.
	RowMode bool

	// RowMinimum is the row rule's threshold; DefaultMinFrequency when
	// zero.
	RowMinimum int

	// Dominance lists (n,k) rules for Sum tables: a cell is withheld when
	// its n largest contributors together have more than k percent of its
	// value.
	Dominance []Dominance

	// PPercent, when positive, is the p% rule for Sum tables: a cell is
	// withheld when its value minus its two largest contributions is less
	// than p percent of the largest, so that the second largest
	// contributor could estimate the largest within p percent.
	PPercent float64

	// Margin, Width, Below and Above are the interval protection a
	// primary cell needs: the range of values that a reader can deduce
	// for it (from the published cells, the relations between the cells,
	// what it knows itself, and the fact that cells are not negative)
	// must be
	//
	//   - at least Margin times the cell's value wide, and for a cell
	//     withheld by the p% rule at least p percent of its largest
	//     contribution;
	//   - at least Width wide: an absolute width, the same for every
	//     primary cell (τ-ARGUS's sliding protection level);
	//   - reach at least Below under the cell's value, or down to zero
	//     when Below is more than the value (cells are not negative), and
	//     at least Above over it (τ-ARGUS's lower and upper protection
	//     levels).
	//
	// So Width 5 asks that a withheld 2 cannot be narrowed down to less
	// than, say, [0, 5], and Below 3 with Above 3 that its range holds
	// [0, 5]. With all four zero a primary cell needs only not to be
	// exact; so does an empty primary cell (Rules.ZerosSensitive), as a
	// reader takes a withheld empty cell as empty. [Protected.AuditSystem] states the requirement of every
	// primary cell for audit.Intervals; Protect meets it only with
	// Intervals.
	Margin, Width, Below, Above float64

	// Intervals asks for interval protection: after the exact protection,
	// Protect withholds more cells around every primary cell that a
	// reader could narrow down further than Margin, Width, Below and Above
	// allow, chosen by linear programming, and then publishes again the
	// withheld cells that the protection does not need, as far as a
	// bounded search finds (see the package documentation).
	Intervals bool
}

// Dominance is an (n,k) dominance rule.
type Dominance struct {
	N int     // number of largest contributors
	K float64 // percentage of the cell's value
}

// maxDominanceN bounds Dominance.N.
const maxDominanceN = 100

func (r Rules) minFrequency() int {
	if r.MinFrequency == 0 {
		return DefaultMinFrequency
	}
	return r.MinFrequency
}

func (r Rules) rowMinimum() int {
	if r.RowMinimum == 0 {
		return DefaultMinFrequency
	}
	return r.RowMinimum
}

func (r Rules) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrRules}, args...)...)
	}
	if r.MinFrequency < 0 || r.RowMinimum < 0 {
		return bad("MinFrequency or RowMinimum is negative: use 0 for the default of %d", DefaultMinFrequency)
	}
	for _, d := range r.Dominance {
		if d.N < 1 || d.N > maxDominanceN || !(d.K > 0 && d.K <= 100) {
			return bad("dominance rule (%d,%g): n must be 1 to %d and k above 0 and at most 100", d.N, d.K, maxDominanceN)
		}
	}
	if !(r.PPercent >= 0 && r.PPercent < 100) || math.IsNaN(r.PPercent) {
		return bad("PPercent %g must be at least 0 and below 100", r.PPercent)
	}
	for _, v := range []struct {
		name  string
		value float64
	}{{"Margin", r.Margin}, {"Width", r.Width}, {"Below", r.Below}, {"Above", r.Above}} {
		if !(v.value >= 0) || math.IsInf(v.value, 0) {
			return bad("%s %g must be a finite number, zero or more", v.name, v.value)
		}
	}
	return nil
}

// topK is the number of largest contributions the rules need.
func (r Rules) topK() int {
	k := 2
	for _, d := range r.Dominance {
		k = max(k, d.N)
	}
	return k
}

// Reason says why a cell is withheld.
type Reason uint8

// The reasons.
const (
	// NoReason: the cell is published.
	NoReason Reason = iota

	// Frequency: fewer contributors than the frequency rule asks.
	Frequency

	// Empty: an empty cell, and zeros are sensitive.
	Empty

	// RowRule: the cell's report row has too few records (row mode).
	RowRule

	// Dominant: the largest contributors dominate the cell ((n,k) rule).
	Dominant

	// PPercent: the p% rule.
	PPercent

	// Complementary: withheld to protect other cells (a secondary
	// suppression).
	Complementary

	// Derived: a rate whose numerator or denominator is withheld.
	Derived
)

var reasonCodes = [...]string{
	NoReason:      "",
	Frequency:     "frequency",
	Empty:         "empty",
	RowRule:       "row",
	Dominant:      "dominance",
	PPercent:      "p-percent",
	Complementary: "secondary",
	Derived:       "derived",
}

// String returns the reason's stable code, such as "frequency".
func (r Reason) String() string {
	if int(r) < len(reasonCodes) {
		return reasonCodes[r]
	}
	return fmt.Sprintf("Reason(%d)", uint8(r))
}

// MarshalText implements [encoding.TextMarshaler] with the stable code.
func (r Reason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// primaryMask holds the primary reasons of a cell, one bit per Reason.
type primaryMask uint8

func (m primaryMask) has(r Reason) bool { return m&(1<<r) != 0 }

// first returns the reason to show for a primary cell.
func (m primaryMask) first() Reason {
	for _, r := range []Reason{Empty, Frequency, RowRule, Dominant, PPercent} {
		if m.has(r) {
			return r
		}
	}
	return NoReason
}

// levels is the interval protection a primary cell needs: its range must
// be width wide, and reach below under the value (or to zero) and above
// over it.
type levels struct{ width, below, above float64 }

// zero reports whether the cell needs only not to be exact.
func (l levels) zero() bool { return l.width == 0 && l.below == 0 && l.above == 0 }

// levels returns the interval protection required of primary cell c of f
// with primary reasons m.
func (r Rules) levels(f *family, c int, m primaryMask) levels {
	if f.records[c] == 0 {
		// A reader takes a withheld empty cell as empty (see the package
		// documentation): no range can be asked of it.
		return levels{}
	}
	width := max(r.Margin*math.Abs(f.value[c]), r.Width)
	if m.has(PPercent) && len(f.top[c]) > 0 {
		width = max(width, r.PPercent/100*f.top[c][0])
	}
	return levels{width, r.Below, r.Above}
}

// cellRules applies the cell rules of r to cell c of family f.
func (r Rules) cellRules(f *family, c int) primaryMask {
	var m primaryMask
	n := f.records[c]
	if n == 0 {
		if r.ZerosSensitive {
			m |= 1 << Empty
		}
		return m
	}
	contributors := n
	if f.measure == Sum {
		contributors = f.distinct[c]
	}
	if contributors < int64(r.minFrequency()) {
		m |= 1 << Frequency
	}
	if f.measure != Sum {
		return m
	}
	total := f.value[c]
	if total <= 0 {
		return m
	}
	top := f.top[c]
	for _, d := range r.Dominance {
		s := 0.0
		for _, v := range top[:min(d.N, len(top))] {
			s += v
		}
		if s > d.K/100*total {
			m |= 1 << Dominant
		}
	}
	if r.PPercent > 0 && len(top) > 0 {
		x1, x2 := top[0], 0.0
		if len(top) > 1 {
			x2 = top[1]
		}
		if total-x1-x2 < r.PPercent/100*x1 {
			m |= 1 << PPercent
		}
	}
	return m
}

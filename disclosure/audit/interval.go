package audit

import (
	"context"
	"math"
	"math/big"
	"slices"

	"github.com/zorgkit/zorgkit/disclosure/audit/internal/sparse"
)

// Interval is the range of values that a reader can deduce for a sensitive
// cell: every value in [Min, Max], and no other, is consistent with the
// published cells, the relations and the fact that no cell is negative.
type Interval struct {
	// Cell is the index of the cell in System.Cells; Name is its name.
	Cell int
	Name string

	// Attacker is "" for any reader, or the name of the [Attacker] whose
	// inside knowledge narrows the range.
	Attacker string

	// Value is the cell's true value.
	Value float64

	// Min and Max are the smallest and the largest value the reader
	// deems possible, rounded to float64; Max is +Inf when nothing bounds
	// the cell from above.
	Min, Max float64

	// Margin, Below and Above repeat the cell's required protection
	// (see [Cell]).
	Margin, Below, Above float64

	// Protected reports whether the range is more than a single value,
	// at least Margin wide, and reaches Below under the value (or down
	// to zero) and Above over it, compared exactly.
	Protected bool
}

// Exact reports whether the reader can compute the cell: Min == Max.
func (iv Interval) Exact() bool { return iv.Min == iv.Max }

// Intervals returns, for each sensitive cell, the range of values a reader
// can deduce for it, in the order of the cells; then, for each attacker in
// turn, the ranges that its inside knowledge makes narrower, except for
// cells that it knows itself. A cell whose Interval is not Protected needs
// more suppression around it (a published sensitive cell, which no
// protection should allow, has the single value it shows).
//
// The ranges are computed exactly by linear programming: each bound is the
// optimum of a linear program over the relations restricted to the unknown
// cells, with the unknown cells non-negative (see the package
// documentation). The linear programs of independent parts of the tables
// are solved separately, each cell of a part from the previous cell's
// optimal basis, and an attacker's from the basis the others left, with
// the cells it knows fixed. An attacker's bound is the same as any
// reader's where the certified optimum for any reader (a point, or for an
// unbounded maximum a ray) moves no cell the attacker knows: that point
// is one the attacker deems possible too. Only the other bounds are
// solved again.
//
// An error is a [*SystemError] that says what is wrong with s or an
// attacker; a withheld cell with a negative value gives [ErrNegative].
// When ctx ends first, Intervals stops with a [*StoppedError].
func Intervals(ctx context.Context, s *System, attackers ...Attacker) ([]Interval, error) {
	return intervals(ctx, s, attackers, true, true)
}

// intervals is Intervals; without presolve it also gives the linear
// programs the cells that a relation with a single unknown cell fixes,
// which tests use to check the linear programming alone; without reuse it
// solves every attacker's ranges afresh, as tests do to check the reuse.
func intervals(ctx context.Context, s *System, attackers []Attacker, presolve, reuse bool) ([]Interval, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if err := s.validateAttackers(attackers); err != nil {
		return nil, err
	}
	for c, cell := range s.Cells {
		if !cell.Published && cell.Value < 0 {
			return nil, &SystemError{Field: "Cells", Index: c, Err: ErrNegative,
				Problem: "a withheld cell has a negative value, but the interval audit assumes, as a reader does, that cells are not negative"}
		}
	}
	m := newModel(s)
	minUnknown := int32(1)
	if presolve {
		minUnknown = 2
	}
	kn := m.newKnowledge()
	if presolve {
		m.peel(kn, m.singles(kn), func(c, k int32) {})
	}
	all := make([]int32, len(m.rows))
	for k := range all {
		all[k] = int32(k)
	}
	comps := m.componentsOf(kn, all, minUnknown)
	progress := &StoppedError{Stage: "sensitive cells, for any reader"}
	for c, cell := range s.Cells {
		if cell.Sensitive && !kn.known[c] {
			progress.Total++
		}
	}
	stats := &lpStats{}
	lps := make([]*rangeLP, len(comps))
	ranges := make(map[int32]bounds)
	// The cells some attacker knows: the certificates of the ranges record
	// which of them they move, so that an attacker's range need only be
	// computed again where a certificate moves a cell it knows.
	knowable := map[int32]bool{}
	for _, a := range attackers {
		for _, c := range a.Knows {
			knowable[int32(c)] = true
		}
	}
	info := make(map[int32][2]optInfo)
	for i, comp := range comps {
		var targets []int32
		for _, c := range comp.cells {
			if s.Cells[c].Sensitive {
				targets = append(targets, c)
			}
		}
		if len(targets) == 0 {
			continue
		}
		lps[i] = newRangeLP(m, kn, comp, stats)
		if reuse {
			lps[i].setWatch(knowable)
		}
		for _, c := range targets {
			b, in, err := lps[i].bounds(ctx, int(lps[i].local[c]))
			if err != nil {
				return nil, progress.stop(err)
			}
			ranges[c] = b
			info[c] = in
			progress.Done++
		}
	}
	var out []Interval
	outsider := make(map[int32]bounds)
	for c, cell := range s.Cells {
		if !cell.Sensitive {
			continue
		}
		b := m.bounds(kn, int32(c), ranges)
		outsider[int32(c)] = b
		out = append(out, m.interval(int32(c), "", b))
	}

	// An attacker's knowledge fixes cells of the components it touches.
	compOf := make(map[int32]int, len(s.Cells))
	for i, comp := range comps {
		for _, c := range comp.cells {
			compOf[c] = i
		}
	}
	progress = &StoppedError{Stage: "attackers", Total: len(attackers)}
	for _, a := range attackers {
		own := make(map[int32]bool, len(a.Knows))
		byComp := map[int][]int32{}
		for _, c := range a.Knows {
			own[int32(c)] = true
			if i, ok := compOf[int32(c)]; ok && !kn.known[c] {
				byComp[i] = append(byComp[i], int32(c))
			}
		}
		for _, i := range sortedKeys(byComp) {
			r := lps[i]
			if r == nil {
				continue // no sensitive cell in it
			}
			r.restart()
			r.fix(byComp[i], true)
			for _, c := range comps[i].cells {
				if !s.Cells[c].Sensitive || own[c] {
					continue // not sensitive, or its own
				}
				// An end whose certificate moves no cell the attacker
				// knows is the same for it; the others are solved again.
				b := outsider[c]
				for end, sign := range []int64{1, -1} {
					if info[c][end].holdsFor(own) {
						continue
					}
					v, bounded, err := r.optimum(ctx, int(r.local[c]), sign)
					if err != nil {
						r.fix(byComp[i], false)
						return nil, progress.stop(err)
					}
					if end == 0 {
						b.lo = v
					} else if b.hi = v; !bounded {
						b.hi = nil
					}
				}
				if b.narrower(outsider[c]) {
					out = append(out, m.interval(c, a.Name, b))
				}
			}
			r.fix(byComp[i], false)
		}
		progress.Done++
	}
	return out, nil
}

// bounds is a range of values: [lo, hi], hi nil for +∞.
type bounds struct{ lo, hi *big.Rat }

// narrower reports whether b excludes a value that o admits.
func (b bounds) narrower(o bounds) bool {
	return b.lo.Cmp(o.lo) > 0 || (b.hi != nil && (o.hi == nil || b.hi.Cmp(o.hi) < 0))
}

// bounds returns the range of cell c for a reader who knows kn, with the
// ranges of the cells in linear programs.
func (m *model) bounds(kn *knowledge, c int32, ranges map[int32]bounds) bounds {
	switch {
	case kn.known[c]:
		return bounds{m.value(int(c)), m.value(int(c))}
	case ranges[c].lo != nil:
		return ranges[c]
	}
	return bounds{lo: new(big.Rat)} // in no relation: any value from 0
}

// interval makes the Interval of cell c.
func (m *model) interval(c int32, attacker string, b bounds) Interval {
	cell := m.s.Cells[c]
	iv := Interval{Cell: int(c), Name: cell.Name, Attacker: attacker, Value: cell.Value,
		Margin: cell.Margin, Below: cell.Below, Above: cell.Above, Max: math.Inf(1)}
	iv.Min, _ = b.lo.Float64()
	v := m.value(int(c))
	// The range must reach down to max(0, v − Below) ...
	low := new(big.Rat).Sub(v, sparse.Decimal(cell.Below))
	if low.Sign() < 0 {
		low.SetInt64(0)
	}
	iv.Protected = b.lo.Cmp(low) <= 0
	if b.hi != nil {
		iv.Max, _ = b.hi.Float64()
		width := new(big.Rat).Sub(b.hi, b.lo)
		// ... and up to v + Above, at least Margin wide.
		high := new(big.Rat).Add(v, sparse.Decimal(cell.Above))
		iv.Protected = iv.Protected && width.Sign() > 0 && width.Cmp(sparse.Decimal(cell.Margin)) >= 0 && b.hi.Cmp(high) >= 0
	}
	return iv
}

// sortedKeys returns the keys of m in increasing order.
func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

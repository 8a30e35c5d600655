package audit

import (
	"math"
	"math/big"

	"github.com/zorgkit/zorgkit/disclosure/audit/internal/lp"
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

	// Margin repeats Cells[Cell].Margin.
	Margin float64

	// Protected reports whether the range is at least Margin wide and
	// more than a single value, compared exactly.
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
// are solved separately, and every cell of a part is optimized from the
// previous cell's optimal basis.
//
// An error is a [*SystemError] that says what is wrong with s or an
// attacker; a withheld cell with a negative value gives [ErrNegative].
func Intervals(s *System, attackers ...Attacker) ([]Interval, error) {
	return intervals(s, attackers, true)
}

// intervals is Intervals; without presolve it also gives the linear
// programs the cells that a relation with a single unknown cell fixes,
// which tests use to check the linear programming alone.
func intervals(s *System, attackers []Attacker, presolve bool) ([]Interval, error) {
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
	ranges := make(map[int32]bounds)
	for _, comp := range comps {
		m.solveRanges(kn, comp, nil, ranges)
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

	for _, a := range attackers {
		akn := kn.clone()
		var queue []int32
		own := make(map[int32]bool, len(a.Knows))
		for _, c := range a.Knows {
			own[int32(c)] = true
			queue = m.learn(akn, int32(c), queue)
		}
		if presolve {
			m.peel(akn, queue, func(c, k int32) {})
		}
		ranges := make(map[int32]bounds)
		for _, comp := range m.componentsOf(akn, touched(kn, akn, comps), minUnknown) {
			m.solveRanges(akn, comp, own, ranges)
		}
		for c, cell := range s.Cells {
			c := int32(c)
			if cell.Published || !cell.Sensitive || own[c] || (!akn.known[c] && ranges[c].lo == nil) {
				continue // published, not sensitive, its own, or no different for it
			}
			if b := m.bounds(akn, c, ranges); b.narrower(outsider[c]) {
				out = append(out, m.interval(c, a.Name, b))
			}
		}
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
	iv := Interval{Cell: int(c), Name: cell.Name, Attacker: attacker, Value: cell.Value, Margin: cell.Margin, Max: math.Inf(1)}
	iv.Min, _ = b.lo.Float64()
	iv.Protected = true
	if b.hi != nil {
		iv.Max, _ = b.hi.Float64()
		width := new(big.Rat).Sub(b.hi, b.lo)
		iv.Protected = width.Sign() > 0 && width.Cmp(sparse.Decimal(cell.Margin)) >= 0
	}
	return iv
}

// solveRanges computes by linear programming the range of every sensitive
// cell of comp that is not in skip, for a reader who knows kn.
func (m *model) solveRanges(kn *knowledge, comp component, skip map[int32]bool, ranges map[int32]bounds) {
	var targets []int
	for i, c := range comp.cells {
		if m.s.Cells[c].Sensitive && !skip[c] {
			targets = append(targets, i)
		}
	}
	if len(targets) == 0 {
		return
	}
	local := make(map[int32]int32, len(comp.cells))
	for i, c := range comp.cells {
		local[c] = int32(i)
	}
	p := lp.Problem{NumVars: len(comp.cells), Start: make([]*big.Rat, len(comp.cells))}
	for i, c := range comp.cells {
		p.Start[i] = m.value(int(c))
	}
	for _, k := range comp.rels {
		// The row over the unknown cells, with the right-hand side that
		// the true values give it, so that they are a solution. For
		// consistent tables that is what the published cells give; it
		// also keeps float64 rounding in the totals from making the
		// program infeasible.
		src := m.rows[k]
		var row sparse.Vec
		rhs := new(big.Rat)
		for j, c := range src.Idx {
			if kn.known[c] {
				continue
			}
			row.Idx = append(row.Idx, local[c])
			row.Val = append(row.Val, src.Val[j])
			rhs.Add(rhs, new(big.Rat).Mul(sparse.Rat(src.Val[j], sparse.NewInt(1)), m.value(int(c))))
		}
		p.Rows = append(p.Rows, row)
		p.RHS = append(p.RHS, rhs)
	}
	solver, err := lp.New(p)
	if err != nil {
		// The start is a solution by construction.
		panic("audit: internal error: " + err.Error())
	}
	for _, i := range targets {
		lo := solver.Minimize(i)
		hi, bounded := solver.Maximize(i)
		if !bounded {
			hi = nil
		}
		ranges[comp.cells[i]] = bounds{lo, hi}
	}
}

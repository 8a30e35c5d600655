// Package lp is a primal simplex method in exact arithmetic, the fallback
// of the interval audit (whose linear programs are solved in floating
// point and certified; see package audit) and the reference its tests
// compare with: it finds the smallest and the largest value of single
// variables over the polyhedron
//
//	A x = b,  0 ≤ x ≤ u   (u may be +∞)
//
// in exact rational arithmetic, starting from a known point of it.
//
// The tableau is kept sparse, row by row, each row an integer vector (its
// entries share the row's denominator, so no fractions are stored): a row
// reads D·x_B + Σ a_j·x_j = R for its basic variable x_B, D > 0. A
// nonbasic variable sits at one of its bounds; one at its upper bound u is
// replaced by its complement u − x, so that every nonbasic variable is 0
// and R/D is the value of the basic variable.
//
// # Starting basis
//
// The audit always knows a solution, the true values, so no phase 1 is
// needed to find one. Instead, sparse Gauss–Jordan elimination with a
// Markowitz pivot order gives a basis with a sparse tableau, and a
// crossover moves from the known solution to a vertex: each nonbasic
// variable that is not at a bound is moved to one while the basic
// variables stay feasible; if a basic variable reaches its bound first, the
// two swap. That takes at most one step per nonbasic variable.
//
// # Optimizing
//
// Every objective after that starts from the optimal basis of the previous
// one, which is feasible for all of them: the audit asks for the minimum
// and the maximum of many cells over the same polyhedron, and most need
// only a few pivots. Pricing takes the largest reduced cost (Dantzig's
// rule) and switches to Bland's rule (the smallest index, for the entering
// and for the leaving variable) after a run of degenerate pivots, until
// the objective moves again; with exact arithmetic this excludes cycling,
// so the method always terminates.
package lp

import (
	"errors"
	"math/big"
	"slices"

	"github.com/zorgkit/zorgkit/disclosure/audit/internal/sparse"
)

// ErrStart means that the start point of a Problem is not a solution.
var ErrStart = errors.New("lp: the start point does not satisfy the constraints")

// Problem is the polyhedron {x : A x = b, 0 ≤ x ≤ u} over NumVars
// variables, with a point in it.
type Problem struct {
	NumVars int
	Rows    []sparse.Vec // the rows of A, over variable indices
	RHS     []*big.Rat   // b, one per row
	Upper   []*big.Rat   // u, one per variable, nil for +∞; a nil slice for none
	Start   []*big.Rat   // a solution, one value per variable
}

// Solver optimizes single variables over a Problem's polyhedron. It is not
// safe for concurrent use.
type Solver struct {
	nv         int
	zcol, rcol int32 // the objective's own column and the right-hand side's

	rows  []sparse.Vec
	basis []int32   // basic variable of each row
	where []int32   // row of each basic variable, -1 if nonbasic
	cols  [][]int32 // rows with an entry in each column; see rowsWith

	upper   []*big.Rat // nil for +∞
	flipped []bool     // the variable is replaced by its complement upper − x

	obj sparse.Vec // dz·z + Σ c_j·x_j = R, with dz > 0, at columns zcol and rcol

	degenerate int // consecutive degenerate pivots
	blandAfter int // degenerate pivots after which Bland's rule applies
	pivots     int // pivots so far, for tests and benchmarks

	mark []uint32 // per row, for rowsWith
	gen  uint32

	ws sparse.Workspace
}

// blandAfter is the default number of consecutive degenerate pivots after
// which the solver uses Bland's rule.
const blandAfter = 50

// New returns a Solver positioned at a vertex of p's polyhedron, or
// ErrStart if p.Start is not in it.
func New(p Problem) (*Solver, error) {
	if !p.feasible() {
		return nil, ErrStart
	}
	s := &Solver{
		nv:   p.NumVars,
		zcol: int32(p.NumVars), rcol: int32(p.NumVars + 1),
		where:      make([]int32, p.NumVars),
		cols:       make([][]int32, p.NumVars),
		upper:      make([]*big.Rat, p.NumVars),
		flipped:    make([]bool, p.NumVars),
		blandAfter: blandAfter,
	}
	for j, u := range p.Upper {
		if u != nil {
			s.upper[j] = new(big.Rat).Set(u)
		}
	}
	// The rows as integers, q·A_i x = p for b_i = p/q, with the right-hand
	// side as the last column; then reduced to a basis.
	rows := make([]sparse.Vec, len(p.Rows))
	for i, row := range p.Rows {
		num, den := sparse.Frac(p.RHS[i])
		rows[i] = sparse.Scale(den, row)
		if !num.IsZero() {
			rows[i].Idx = append(rows[i].Idx, s.rcol)
			rows[i].Val = append(rows[i].Val, num)
		}
	}
	pivot := sparse.GaussJordan(rows, s.zcol)
	for j := range s.where {
		s.where[j] = -1
	}
	for i, row := range rows {
		if pivot[i] < 0 {
			continue // a combination of the other rows
		}
		if row.Get(pivot[i]).Sign() < 0 {
			row = sparse.Scale(sparse.NewInt(-1), row)
		}
		r := int32(len(s.rows))
		s.rows = append(s.rows, row)
		s.basis = append(s.basis, pivot[i])
		s.where[pivot[i]] = r
		for _, j := range row.Idx {
			if j < s.zcol {
				s.cols[j] = append(s.cols[j], r)
			}
		}
	}
	s.mark = make([]uint32, len(s.rows))
	s.crossover(p.Start)
	return s, nil
}

// feasible reports whether p.Start is a solution of p.
func (p Problem) feasible() bool {
	if len(p.Start) != p.NumVars || len(p.RHS) != len(p.Rows) {
		return false
	}
	for j, x := range p.Start {
		if x.Sign() < 0 || (p.Upper != nil && p.Upper[j] != nil && x.Cmp(p.Upper[j]) > 0) {
			return false
		}
	}
	for i, row := range p.Rows {
		sum := new(big.Rat)
		for k, j := range row.Idx {
			sum.Add(sum, new(big.Rat).Mul(sparse.Rat(row.Val[k], sparse.NewInt(1)), p.Start[j]))
		}
		if sum.Cmp(p.RHS[i]) != 0 {
			return false
		}
	}
	return true
}

// crossover moves from the solution start to a vertex. First every
// nonbasic variable takes its value in start, as the complement of a
// temporary upper bound at that value, so that the basic variables take
// theirs; then each such variable is moved down to 0. Either it gets there,
// or a basic variable reaches a bound first and leaves the basis for it.
func (s *Solver) crossover(start []*big.Rat) {
	saved := map[int32]*big.Rat{}
	for j := range int32(s.nv) {
		if s.where[j] >= 0 || start[j].Sign() == 0 {
			continue
		}
		if u := s.upper[j]; u == nil || u.Cmp(start[j]) != 0 {
			saved[j] = u
			s.upper[j] = new(big.Rat).Set(start[j])
		}
		s.flip(j)
	}
	for j := range int32(s.nv) {
		u, ok := saved[j]
		if !ok {
			continue
		}
		// Raising the complement lowers x_j towards 0; its own bound stops
		// it at worst, so this always ends in a flip or a pivot.
		if err := s.step(j); err != nil {
			panic("lp: internal error: " + err.Error())
		}
		if s.where[j] >= 0 {
			s.unflipBasic(j)
		}
		s.upper[j] = u
	}
	s.degenerate = 0
}

// unflipBasic replaces the basic variable j, which is the complement of
// u − x_j, by x_j itself: D·(u − x_j) + Σ a·x = R becomes
// D·x_j − Σ a·x = D·u − R.
func (s *Solver) unflipBasic(j int32) {
	r := s.where[j]
	row := s.rows[r]
	num, den := sparse.Frac(s.upper[j])
	d := row.Get(j)
	out := sparse.Scale(den.Neg(), row)
	k, _ := out.Find(j)
	out.Val[k] = sparse.Mul(den, d)
	rhs := sparse.Vec{Idx: []int32{s.rcol}, Val: []sparse.Int{sparse.Mul(num, d)}}
	s.rows[r] = sparse.Combine(sparse.NewInt(1), out, sparse.NewInt(-1), rhs).Reduce()
	s.flipped[j] = false
}

// Minimize returns the smallest value of variable j.
func (s *Solver) Minimize(j int) *big.Rat {
	v, _ := s.extreme(int32(j), 1)
	return v
}

// Maximize returns the largest value of variable j, or bounded false if j
// has no largest value.
func (s *Solver) Maximize(j int) (v *big.Rat, bounded bool) {
	v, bounded = s.extreme(int32(j), -1)
	if bounded {
		v.Neg(v)
	}
	return v, bounded
}

// extreme minimizes sign·x_j.
func (s *Solver) extreme(j int32, sign int64) (*big.Rat, bool) {
	s.setObjective(j, sign)
	s.degenerate = 0
	for {
		q := s.entering()
		if q < 0 {
			return sparse.Rat(s.obj.Get(s.rcol), s.obj.Get(s.zcol)), true
		}
		if err := s.step(q); err != nil {
			return nil, false
		}
	}
}

// Value returns the current value of variable j.
func (s *Solver) Value(j int) *big.Rat {
	v := new(big.Rat)
	if i := s.where[j]; i >= 0 {
		v = sparse.Rat(s.rows[i].Get(s.rcol), s.rows[i].Get(int32(j)))
	}
	if s.flipped[j] {
		v.Sub(s.upper[j], v)
	}
	return v
}

// Pivots returns the number of pivots done so far.
func (s *Solver) Pivots() int { return s.pivots }

// setObjective makes the objective row z = sign·x_j, in terms of the
// nonbasic variables.
func (s *Solver) setObjective(j int32, sign int64) {
	sg := sparse.NewInt(sign)
	i := s.where[j]
	if i < 0 {
		// x_j = 0 when not flipped: z − sign·x_j = 0.
		// x_j = u − x̄_j when flipped: z + sign·x̄_j = sign·u.
		obj := map[int32]sparse.Int{s.zcol: sparse.NewInt(1), j: sg.Neg()}
		if s.flipped[j] {
			num, den := sparse.Frac(s.upper[j])
			obj = map[int32]sparse.Int{s.zcol: den, j: sparse.Mul(sg, den), s.rcol: sparse.Mul(sg, num)}
		}
		s.obj = fromMap(obj)
		return
	}
	// Row i: D·x̄_j + Σ a·x = R.
	// Not flipped: z = sign·x̄_j, so D·z + sign·Σ a·x = sign·R.
	// Flipped: z = sign·(u − x̄_j), so D·z − sign·Σ a·x = sign·(u·D − R).
	row := s.rows[i]
	d := row.Get(j)
	f := sg
	num, den := sparse.NewInt(0), sparse.NewInt(1)
	if s.flipped[j] {
		f = sg.Neg()
		num, den = sparse.Frac(s.upper[j])
	}
	obj := map[int32]sparse.Int{s.zcol: sparse.Mul(d, den)}
	for k, c := range row.Idx {
		if c != j {
			obj[c] = sparse.Mul(sparse.Mul(f, den), row.Val[k])
		}
	}
	if s.flipped[j] {
		obj[s.rcol] = sparse.Add(obj[s.rcol], sparse.Mul(sparse.Mul(sg, num), d))
	}
	s.obj = fromMap(obj)
}

var errUnbounded = errors.New("lp: unbounded")

// entering returns the nonbasic variable to increase, or -1 at an optimum:
// one whose objective coefficient is positive, so that increasing it lowers
// z, and which is not fixed.
func (s *Solver) entering() int32 {
	bland := s.degenerate >= s.blandAfter
	best := int32(-1)
	var bestC sparse.Int
	bestLen := 1
	for k, j := range s.obj.Idx {
		if j >= s.zcol {
			break
		}
		c := s.obj.Val[k]
		if c.Sign() <= 0 || s.fixed(j) {
			continue
		}
		if bland {
			return j // the smallest index
		}
		// Dantzig's rule, the largest coefficient, weighed by the length
		// of the column, which bounds the fill-in of the pivot.
		w := sparse.Mul(c, sparse.NewInt(int64(bestLen)))
		l := len(s.cols[j]) + 1
		if best < 0 || w.Cmp(sparse.Mul(bestC, sparse.NewInt(int64(l)))) > 0 {
			best, bestC, bestLen = j, c, l
		}
	}
	return best
}

func (s *Solver) fixed(j int32) bool { return s.upper[j] != nil && s.upper[j].Sign() == 0 }

// step increases nonbasic variable q as far as the bounds allow: to its
// own upper bound (a bound flip), or until a basic variable reaches one of
// its bounds and leaves the basis (a pivot). It returns errUnbounded if
// nothing stops q.
func (s *Solver) step(q int32) error {
	leave, atUpper := int32(-1), false
	var best ratio
	for _, i := range s.rowsWith(q) {
		row := s.rows[i]
		a := row.Get(q)
		b := s.basis[i]
		d, r := row.Get(b), row.Get(s.rcol)
		var t ratio
		up := false
		switch {
		case a.Sign() > 0: // x_B falls to 0 at θ = R/a
			t = ratio{r, a}
		case s.upper[b] != nil: // x_B rises to u at θ = (u·D − R)/(−a)
			num, den := sparse.Frac(s.upper[b])
			t = ratio{sparse.Sub(sparse.Mul(num, d), sparse.Mul(den, r)), sparse.Mul(den, a.Neg())}
			up = true
		default:
			continue
		}
		c := 1
		if leave >= 0 {
			c = t.cmp(best)
		}
		// Ties go to the shorter row, which fills in fewer others, and
		// then to the smallest basic variable; under Bland's rule only to
		// the smallest basic variable.
		if leave < 0 || c < 0 || (c == 0 && s.preferLeaving(i, leave)) {
			leave, atUpper, best = i, up, t
		}
	}
	if u := s.upper[q]; u != nil {
		num, den := sparse.Frac(u)
		if t := (ratio{num, den}); leave < 0 || t.cmp(best) <= 0 {
			s.flip(q)
			s.degenerate = 0
			return nil
		}
	}
	if leave < 0 {
		return errUnbounded
	}
	if best.num.IsZero() {
		s.degenerate++
	} else {
		s.degenerate = 0
	}
	s.pivot(leave, q, atUpper)
	return nil
}

// preferLeaving breaks a tie in the ratio test between rows i and j.
func (s *Solver) preferLeaving(i, j int32) bool {
	if s.degenerate < s.blandAfter {
		if li, lj := s.rows[i].Len(), s.rows[j].Len(); li != lj {
			return li < lj
		}
	}
	return s.basis[i] < s.basis[j]
}

// ratio is the fraction num/den with den > 0.
type ratio struct{ num, den sparse.Int }

func (x ratio) cmp(y ratio) int {
	return sparse.Mul(x.num, y.den).Cmp(sparse.Mul(y.num, x.den))
}

// pivot makes q basic in row r; the variable basic there leaves, at its
// upper bound if atUpper.
func (s *Solver) pivot(r, q int32, atUpper bool) {
	s.pivots++
	pr := s.rows[r]
	if pr.Get(q).Sign() < 0 {
		pr = sparse.Scale(sparse.NewInt(-1), pr)
		s.rows[r] = pr
	}
	for _, i := range s.rowsWith(q) {
		if i == r {
			continue
		}
		for _, j := range s.ws.EliminateInPlace(&s.rows[i], pr, q, s.zcol) {
			s.cols[j] = append(s.cols[j], i)
		}
	}
	s.ws.EliminateInPlace(&s.obj, pr, q, 0)
	s.cols[q] = append(s.cols[q][:0], r)
	leaving := s.basis[r]
	s.basis[r], s.where[q], s.where[leaving] = q, r, -1
	if atUpper {
		s.flip(leaving)
	}
}

// flip replaces nonbasic variable j, which has an upper bound u, by its
// complement u − x_j: in every row, a·x_j becomes a·u − a·x̄_j.
func (s *Solver) flip(j int32) {
	num, den := sparse.Frac(s.upper[j])
	update := func(row sparse.Vec) sparse.Vec {
		k, ok := row.Find(j)
		if !ok {
			return row
		}
		a := row.Val[k]
		out := sparse.Scale(den, row)
		out.Val[k] = out.Val[k].Neg()
		// Subtract a·num from the right-hand side, the last column.
		rhs := sparse.Vec{Idx: []int32{s.rcol}, Val: []sparse.Int{sparse.Mul(a, num)}}
		return sparse.Combine(sparse.NewInt(1), out, sparse.NewInt(1), rhs).Reduce()
	}
	for _, i := range s.rowsWith(j) {
		s.rows[i] = update(s.rows[i])
	}
	s.obj = update(s.obj)
	s.flipped[j] = !s.flipped[j]
}

// rowsWith returns the rows that have an entry in column j, each once. The
// lists in cols may hold rows that lost the entry by cancellation, and a
// row that regains it appears again; rowsWith compacts the list.
func (s *Solver) rowsWith(j int32) []int32 {
	s.gen++
	list := s.cols[j][:0]
	for _, i := range s.cols[j] {
		if s.mark[i] != s.gen && s.rows[i].Has(j) {
			s.mark[i] = s.gen
			list = append(list, i)
		}
	}
	s.cols[j] = list
	return list
}

// fromMap returns the entries of m, without zeros, as a Vec.
func fromMap(m map[int32]sparse.Int) sparse.Vec {
	var v sparse.Vec
	for j := range m {
		if !m[j].IsZero() {
			v.Idx = append(v.Idx, j)
		}
	}
	slices.Sort(v.Idx)
	for _, j := range v.Idx {
		v.Val = append(v.Val, m[j])
	}
	return v.Reduce()
}

// Package simplex is a revised simplex method in floating point for
// linear programs in bounded form,
//
//	minimize c·x  subject to  A·x = b,  lo ≤ x ≤ up,
//
// with A sparse, every lower bound finite and upper bounds finite or +∞.
// It is made for the linear programs of statistical disclosure control
// (the ranges a reader can deduce for a withheld cell; the cells that
// protect one), which are sparse, highly degenerate, and solved many times
// over one polyhedron with other objectives or bounds: a Solver keeps its
// basis between solves, so that each starts where the last ended.
//
// # Method
//
// Every row i has a logical variable s_i with bounds [0, 0]: the columns
// are those of [A I], so the logicals give a first basis, and a basis
// always exists; from a known point of the polyhedron, Crash replaces
// them by structural variables that have room to move, so that the steps
// are not all degenerate. The basis is factorized (sparse LU with Markowitz pivot
// order and threshold partial pivoting, see factor) and updated in
// product form, with a fresh factorization every 64 changes. The
// right-hand sides of the solves with the factors are mostly sparse (a
// column of A, a unit row, a cost vector with a few entries): the solves
// skip the elimination steps that no nonzero reaches, and the ratio test
// and the reduced costs visit only the nonzero entries, each computed in
// the same order as a dense pass would. A solve
// that starts outside the polyhedron from a basis whose reduced costs
// are of the right sign (an optimal basis after a bound changed, or a
// point of the polyhedron with one variable moved to a goal, at a price
// for the others) uses the dual simplex method (see dual.go), which
// stays optimal and walks towards feasibility; otherwise, and wherever
// the dual method stops without an answer, the primal method. Phase 1
// minimizes the sum of infeasibilities of the basic variables; phase 2 the
// objective. Pricing is Dantzig's (the largest reduced cost); the ratio
// test is Harris's two-pass test, which prefers large pivots among the
// nearly tied; after a run of degenerate steps, Bland's rule (smallest
// index, entering and leaving) until the objective moves.
//
// Results are floating point, within tolerances. Callers that must be
// exact certify them: the final basis (Basis, Duals) gives a primal point
// and a dual bound that a caller checks in exact arithmetic.
package simplex

import (
	"context"
	"errors"
	"math"
	"slices"
)

// Status is the outcome of Solve.
type Status uint8

// The outcomes.
const (
	Optimal Status = iota
	Infeasible
	Unbounded
)

func (s Status) String() string {
	switch s {
	case Optimal:
		return "optimal"
	case Infeasible:
		return "infeasible"
	case Unbounded:
		return "unbounded"
	}
	return "unknown"
}

// ErrIterations means that Solve reached its limit of iterations without
// an answer: numerical trouble, or a problem too large for the limit.
var ErrIterations = errors.New("simplex: iteration limit")

// Entry is one coefficient of a row.
type Entry struct {
	Col int32
	Val float64
}

// Problem is a linear program's constraints: A·x = b, lo ≤ x ≤ up.
type Problem struct {
	NumVars int
	Rows    [][]Entry // A by rows; a column may appear at most once per row
	RHS     []float64 // b
	Lower   []float64 // per variable; nil for all zero
	Upper   []float64 // per variable, +Inf for none; nil for none at all
}

// Tolerances.
const (
	primalTol = 1e-9  // a bound may be violated by this much (relative to 1 + |bound|)
	dualTol   = 1e-9  // a reduced cost this small is zero
	pivotTol  = 1e-9  // the smallest entry of a column that may be a pivot
	refactor  = 64    // basis changes between factorizations
	blandRun  = 50    // degenerate steps before Bland's rule
	maxIterK  = 50    // iterations allowed per solve: maxIterK·(rows+columns), at least 10,000
	degenTol  = 1e-12 // a step this short is degenerate
)

// Solver solves linear programs over one set of constraints. It is not
// safe for concurrent use.
type Solver struct {
	m, n int // rows; structural variables (variable n+i is row i's logical)

	colStart []int32 // A by columns
	colRow   []int32
	colVal   []float64
	rowStart []int32 // A by rows
	rowCol   []int32
	rowVal   []float64
	b        []float64

	lo, up []float64 // per variable, n+m of them
	x      []float64 // values
	cost   []float64 // the objective, per variable
	head   []int32   // basis position → variable
	pos    []int32   // variable → basis position, or -1
	d      []float64 // reduced costs of nonbasic variables (phase 2)
	// The variables whose reduced cost may be nonzero, each once (inD):
	// every other one is zero. pricing makes the list afresh, the steps
	// add to it, and entering reads only it.
	dList []int32
	inD   []bool

	lu    *factor
	dirty bool // x of the basic variables must be recomputed

	// Scratch.
	alpha, rho, work, dense []float64
	alphaNZ                 []int32   // the positions where alpha is not zero, in order
	unitRow                 []int32   // 0, 1, …, m−1: the logicals' columns (shared, read only)
	ones                    []float64 // m ones (shared, read only)
	rowA                    []float64 // the dual method's pivot row, per variable
	touched                 []int32   // its nonzero entries

	mark mark // see Mark

	primalOnly bool // no dual method (for tests that compare the two)

	iterations int
	degenerate int
	// The last unbounded direction: variable q moving in direction dir,
	// the basic variables by −dir·rayAlpha.
	rayQ     int32
	rayDir   float64
	rayAlpha []float64
}

// mark is a state of the solver that Reset returns to.
type mark struct {
	head, pos []int32
	x, lo, up []float64
	lu        *factor
	etas      int
	set       bool
}

// New returns a Solver for p, with the logicals as its basis and the
// structural variables at their lower bounds. It panics if p is malformed
// (an index out of range, a lower bound that is not finite or above the
// upper bound): the caller builds p.
func New(p *Problem) *Solver {
	m, n := len(p.Rows), p.NumVars
	if len(p.RHS) != m {
		panic("simplex: RHS and Rows differ in length")
	}
	s := &Solver{m: m, n: n, b: append([]float64(nil), p.RHS...)}
	N := n + m
	// The arrays of floats in two allocations, one per length.
	perVar := make([]float64, 5*N)
	s.lo, s.up, s.x, s.cost, s.d = perVar[:N:N], perVar[N:2*N:2*N], perVar[2*N:3*N:3*N], perVar[3*N:4*N:4*N], perVar[4*N:]
	perRow := make([]float64, 4*m)
	s.alpha, s.rho, s.work, s.dense = perRow[:m:m], perRow[m:2*m:2*m], perRow[2*m:3*m:3*m], perRow[3*m:]
	for j := range n {
		if p.Lower != nil {
			s.lo[j] = p.Lower[j]
		}
		s.up[j] = math.Inf(1)
		if p.Upper != nil {
			s.up[j] = p.Upper[j]
		}
		if math.IsInf(s.lo[j], 0) || math.IsNaN(s.lo[j]) || !(s.up[j] >= s.lo[j]) {
			panic("simplex: bad bounds")
		}
	}
	// Rows, then columns from them.
	s.rowStart = make([]int32, m+1)
	count := make([]int32, n+1)
	nnz := 0
	for _, row := range p.Rows {
		nnz += len(row)
	}
	s.rowCol = make([]int32, 0, nnz)
	s.rowVal = make([]float64, 0, nnz)
	for i, row := range p.Rows {
		for _, e := range row {
			if e.Col < 0 || int(e.Col) >= n {
				panic("simplex: column out of range")
			}
			if e.Val == 0 {
				continue
			}
			s.rowCol = append(s.rowCol, e.Col)
			s.rowVal = append(s.rowVal, e.Val)
			count[e.Col+1]++
		}
		s.rowStart[i+1] = int32(len(s.rowCol))
	}
	for j := range n {
		count[j+1] += count[j]
	}
	s.colStart = count
	s.colRow = make([]int32, len(s.rowCol))
	s.colVal = make([]float64, len(s.rowCol))
	fill := append([]int32(nil), count[:n]...)
	for i := range m {
		for t := s.rowStart[i]; t < s.rowStart[i+1]; t++ {
			j := s.rowCol[t]
			s.colRow[fill[j]] = int32(i)
			s.colVal[fill[j]] = s.rowVal[t]
			fill[j]++
		}
	}
	copy(s.x, s.lo[:n])
	s.head = make([]int32, m)
	s.pos = make([]int32, N)
	for j := range s.pos {
		s.pos[j] = -1
	}
	for i := range m {
		s.head[i] = int32(n + i)
		s.pos[n+i] = int32(i)
	}
	s.unitRow, s.ones, _ = constants(m)
	s.lu = identity(m) // the logicals
	s.dirty = true
	return s
}

// NumRows returns the number of constraints.
func (s *Solver) NumRows() int { return s.m }

// column returns variable j's column of [A I].
func (s *Solver) column(j int32) ([]int32, []float64) {
	if int(j) < s.n {
		a, b := s.colStart[j], s.colStart[j+1]
		return s.colRow[a:b], s.colVal[a:b]
	}
	i := j - int32(s.n)
	return s.unitRow[i : i+1 : i+1], s.ones[i : i+1 : i+1]
}

// factorize factorizes the basis, replacing columns that make it singular
// by logicals.
func (s *Solver) factorize() {
	f, cols, rows := pooledFactorize(s.m, func(p int) ([]int32, []float64) { return s.column(s.head[p]) })
	s.lu = f
	if len(cols) == 0 {
		return
	}
	for k, p := range cols {
		j := s.head[p]
		s.pos[j] = -1
		s.toBound(j)
		l := int32(s.n) + rows[k]
		if s.pos[l] >= 0 {
			panic("simplex: internal error: logical of an unpivoted row is basic")
		}
		s.head[p] = l
		s.pos[l] = p
	}
	s.dirty = true
}

// toBound puts nonbasic variable j at the bound nearest its value.
func (s *Solver) toBound(j int32) {
	switch {
	case math.IsInf(s.up[j], 1) || s.x[j]-s.lo[j] <= s.up[j]-s.x[j]:
		s.x[j] = s.lo[j]
	default:
		s.x[j] = s.up[j]
	}
}

// SetBounds changes variable j's bounds (j < NumVars). A nonbasic
// variable keeps its value if the new bounds allow it, and moves to the
// nearest bound otherwise.
func (s *Solver) SetBounds(j int, lo, up float64) {
	if math.IsInf(lo, 0) || math.IsNaN(lo) || !(up >= lo) {
		panic("simplex: bad bounds")
	}
	s.lo[j], s.up[j] = lo, up
	if s.pos[j] < 0 {
		if x := min(max(s.x[j], lo), up); x != s.x[j] {
			s.x[j] = x
			s.dirty = true
		}
	}
}

// Bounds returns variable j's bounds.
func (s *Solver) Bounds(j int) (lo, up float64) { return s.lo[j], s.up[j] }

// SetValue sets nonbasic variable j (j < NumVars) to x, which may lie
// between its bounds: a solve then starts from there, and moves it only
// as far as the objective asks. Starting from a known point of the
// polyhedron (all variables nonbasic at their values, the logicals basic
// at zero) needs no phase 1. It panics if j is basic or x is outside the
// bounds.
func (s *Solver) SetValue(j int, x float64) {
	if s.pos[j] >= 0 || x < s.lo[j] || x > s.up[j] {
		panic("simplex: SetValue of a basic variable, or outside its bounds")
	}
	if s.x[j] != x {
		s.x[j] = x
		s.dirty = true
	}
}

// Crash replaces the basis by one of structural variables where it can:
// the nonbasic structural variables that lie strictly between their
// bounds (those with the most room first), as many as are linearly
// independent, and logicals for the other rows. The basic solution is the
// same point. From a point of the polyhedron given by SetValue, the first
// basis is all logicals, each fixed at zero, so that nearly every step of
// a solve would be degenerate until the structural variables have taken
// their places one by one; after Crash the basic variables have room to
// move. It does nothing unless every basic variable is within its bounds
// and every nonbasic logical is at zero.
func (s *Solver) Crash() {
	s.update()
	for _, j := range s.head {
		if s.infeasibility(j) != 0 {
			return
		}
	}
	for i := range s.m {
		if l := s.n + i; s.pos[l] < 0 && s.x[l] != 0 {
			return
		}
	}
	type cand struct {
		j    int32
		room float64
	}
	cands := make([]cand, 0, s.n)
	for j := range int32(s.n) {
		if s.pos[j] >= 0 {
			continue
		}
		room := min(s.x[j]-s.lo[j], s.up[j]-s.x[j])
		if room > primalTol*(1+math.Abs(s.x[j])) {
			cands = append(cands, cand{j, room})
		}
	}
	if len(cands) == 0 {
		return
	}
	slices.SortFunc(cands, func(a, b cand) int { // rooms are finite: no NaN to order
		switch {
		case a.room > b.room:
			return -1
		case a.room < b.room:
			return 1
		}
		return int(a.j - b.j)
	})
	cols := make([]int32, s.m)
	for p := range cols {
		cols[p] = -1 // an empty column, never pivoted: a logical takes its place
	}
	for p := range min(len(cands), s.m) {
		cols[p] = cands[p].j
	}
	f, bad, rows := pooledFactorize(s.m, func(p int) ([]int32, []float64) {
		if cols[p] < 0 {
			return nil, nil
		}
		return s.column(cols[p])
	})
	for k, p := range bad {
		cols[p] = int32(s.n) + rows[k]
	}
	for _, j := range s.head {
		s.pos[j] = -1 // at its value, which is within its bounds
	}
	copy(s.head, cols)
	for p, j := range s.head {
		s.pos[j] = int32(p)
	}
	s.lu = f // of the basis with the logicals in place of bad
	s.dirty = true
}

// Mark remembers the current basis, basic solution and bounds, for Reset.
func (s *Solver) Mark() {
	s.update()
	m := &s.mark
	m.head = append(m.head[:0], s.head...)
	m.pos = append(m.pos[:0], s.pos...)
	m.x = append(m.x[:0], s.x...)
	m.lo = append(m.lo[:0], s.lo...)
	m.up = append(m.up[:0], s.up...)
	m.lu = s.lu
	m.etas = len(s.lu.etaPos)
	m.set = true
}

// Reset returns to the basis, basic solution and bounds of the last Mark
// (the objective stays as it is), so that many programs over one
// polyhedron, each with some bounds of its own, start from one point. It
// panics without a Mark.
func (s *Solver) Reset() {
	m := &s.mark
	if !m.set {
		panic("simplex: Reset without Mark")
	}
	copy(s.head, m.head)
	copy(s.pos, m.pos)
	copy(s.x, m.x)
	copy(s.lo, m.lo)
	copy(s.up, m.up)
	// The marked factorization is as it was but for the etas added since.
	f := m.lu
	f.etaPos = f.etaPos[:m.etas]
	f.etaPiv = f.etaPiv[:m.etas]
	f.etaStart = f.etaStart[:m.etas+1]
	f.etaIdx = f.etaIdx[:f.etaStart[m.etas]]
	f.etaVal = f.etaVal[:f.etaStart[m.etas]]
	s.lu = f
	s.dirty = false
}

// SetCost sets the objective coefficient of variable j (j < NumVars).
func (s *Solver) SetCost(j int, c float64) { s.cost[j] = c }

// ClearCosts sets every objective coefficient to zero.
func (s *Solver) ClearCosts() { clear(s.cost) }

// Value returns the value of variable j in the current basic solution.
func (s *Solver) Value(j int) float64 {
	s.update()
	return s.x[j]
}

// Objective returns c·x for the current basic solution.
func (s *Solver) Objective() float64 {
	s.update()
	z := 0.0
	for j, c := range s.cost[:s.n] {
		if c != 0 {
			z += c * s.x[j]
		}
	}
	return z
}

// Basic reports whether variable j is basic.
func (s *Solver) Basic(j int) bool { return s.pos[j] >= 0 }

// Iterations returns the number of simplex iterations done so far.
func (s *Solver) Iterations() int { return s.iterations }

// Duals returns y with Bᵀ·y = c_B for the current basis, one per row: the
// simplex multipliers. The reduced cost of variable j is c_j − y·A_j.
func (s *Solver) Duals() []float64 {
	y := make([]float64, s.m)
	for p, j := range s.head {
		y[p] = s.cost[j]
	}
	s.lu.btran(y, s.work)
	return y
}

// Ray returns, after Solve reported Unbounded, the direction in which the
// objective decreases without end: a vector r over the structural
// variables (nonzero entries only, as a map) with A·r = 0.
func (s *Solver) Ray() map[int]float64 {
	r := map[int]float64{}
	if s.rayQ < int32(s.n) {
		r[int(s.rayQ)] = s.rayDir
	}
	for p, a := range s.rayAlpha {
		if j := s.head[p]; a != 0 && int(j) < s.n {
			r[int(j)] = -s.rayDir * a
		}
	}
	return r
}

// update recomputes the basic variables from the nonbasic ones when
// needed: x_B = B⁻¹(b − N·x_N).
func (s *Solver) update() {
	if !s.dirty {
		return
	}
	s.dirty = false
	r := s.dense
	copy(r, s.b)
	for j := range s.n {
		if s.pos[j] >= 0 || s.x[j] == 0 {
			continue
		}
		for t := s.colStart[j]; t < s.colStart[j+1]; t++ {
			r[s.colRow[t]] -= s.colVal[t] * s.x[j]
		}
	}
	for i := range s.m {
		if l := s.n + i; s.pos[l] < 0 {
			r[i] -= s.x[l]
		}
	}
	s.lu.ftran(r, s.work)
	for p, j := range s.head {
		s.x[j] = r[p]
	}
}

// infeasibility returns how far basic variable j is outside its bounds:
// negative below, positive above, zero within the tolerance.
func (s *Solver) infeasibility(j int32) float64 {
	x := s.x[j]
	if lo := s.lo[j]; x < lo-primalTol*(1+math.Abs(lo)) {
		return x - lo
	}
	if up := s.up[j]; x > up+primalTol*(1+math.Abs(up)) {
		return x - up
	}
	return 0
}

// Solve minimizes the objective from the current basis. If the basic
// solution is infeasible and the reduced costs are of the right sign, the
// dual simplex method first (see dual.go); otherwise, or where it stops
// without an answer, the primal method: phase 1 if the basic solution is
// infeasible, then phase 2. ctx is checked now and then; its error ends
// the solve.
func (s *Solver) Solve(ctx context.Context) (Status, error) {
	if hook, ok := ctx.Value(solveHookKey{}).(func(*Solver)); ok {
		hook(s)
	}
	limit := max(10000, maxIterK*(s.m+s.n))
	start := s.iterations
	s.degenerate = 0
	phase1 := true
	if !s.primalOnly && !s.primalFeasible() {
		// Outside the polyhedron: if the reduced costs are of the right
		// sign, the dual method goes straight to the optimum; the primal
		// method confirms what it finds, and takes over where it stops.
		s.pricing()
		if s.dualFeasible() {
			st, decided, err := s.dual(ctx, limit/2) // half for the primal method
			if err != nil {
				return 0, err
			}
			if decided && st == Infeasible {
				return Infeasible, nil
			}
			if decided && st == Optimal {
				s.dirty = true
				if s.primalFeasible() {
					s.pricing()
					if s.entering() < 0 {
						return Optimal, nil
					}
				}
			}
		}
	}
	for {
		if (s.iterations-start)&255 == 255 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		if s.iterations-start > limit {
			return 0, ErrIterations
		}
		s.update()
		if phase1 {
			feasible, ok := s.phase1Step()
			switch {
			case feasible:
				phase1 = false
				s.degenerate = 0
				s.pricing()
			case !ok:
				return Infeasible, nil
			}
			continue
		}
		done, unbounded := s.phase2Step()
		switch {
		case unbounded:
			return Unbounded, nil
		case done:
			// Check the reduced costs afresh: updates drift.
			s.pricing()
			if s.entering() < 0 {
				return Optimal, nil
			}
		}
	}
}

// pricing computes the reduced costs of the nonbasic variables from
// scratch.
func (s *Solver) pricing() {
	y := s.rho
	for p, j := range s.head {
		y[p] = s.cost[j]
	}
	s.lu.btran(y, s.work)
	if s.inD == nil {
		s.inD = make([]bool, s.n+s.m)
	}
	for _, j := range s.dList {
		s.inD[j] = false
	}
	s.dList = s.dList[:0]
	// d_j = c_j − Σ_i y_i·a_ij, by the rows where y is not zero (mostly
	// few): the terms of each d_j come in the order of their rows, as
	// they would column by column.
	for j := range s.n {
		if s.pos[j] >= 0 {
			s.d[j] = 0
		} else {
			s.d[j] = s.cost[j]
			if s.cost[j] != 0 {
				s.noteD(int32(j))
			}
		}
	}
	for i, yi := range y {
		if yi == 0 {
			continue
		}
		for t := s.rowStart[i]; t < s.rowStart[i+1]; t++ {
			if j := s.rowCol[t]; s.pos[j] < 0 {
				s.d[j] -= yi * s.rowVal[t]
				s.noteD(j)
			}
		}
	}
	for i := range s.m {
		l := s.n + i
		if s.pos[l] >= 0 {
			s.d[l] = 0
		} else {
			s.d[l] = s.cost[l] - y[i]
			if s.d[l] != 0 {
				s.noteD(int32(l))
			}
		}
	}
}

// noteD records that the reduced cost of variable j may not be zero.
func (s *Solver) noteD(j int32) {
	if !s.inD[j] {
		s.inD[j] = true
		s.dList = append(s.dList, j)
	}
}

// movable reports in which direction nonbasic variable j may move to
// lower the objective, given its reduced cost dj: +1 up, −1 down, 0 not.
func (s *Solver) movable(j int, dj float64) float64 {
	if s.lo[j] == s.up[j] {
		return 0
	}
	switch {
	case dj < -dualTol && s.x[j] < s.up[j]:
		return 1
	case dj > dualTol && s.x[j] > s.lo[j]:
		return -1
	}
	return 0
}

// entering returns the nonbasic variable to move, by Dantzig's rule or,
// after a run of degenerate steps, Bland's; -1 if there is none. Among
// equal reduced costs the first variable wins, and Bland's rule takes
// the first that may move: the variables are read from dList (every
// other reduced cost is zero), in any order, with those ties broken by
// the index.
func (s *Solver) entering() int {
	best, bestD := -1, 0.0
	bland := s.degenerate >= blandRun
	for _, j32 := range s.dList {
		j := int(j32)
		dj := s.d[j]
		if (dj >= -dualTol && dj <= dualTol) || s.pos[j] >= 0 || s.movable(j, dj) == 0 {
			continue
		}
		if bland {
			if best < 0 || j < best {
				best = j
			}
			continue
		}
		if a := math.Abs(dj); a > bestD || (a == bestD && j < best) {
			best, bestD = j, a
		}
	}
	return best
}

// loadColumn sets s.alpha to B⁻¹·a_q.
func (s *Solver) loadColumn(q int32) {
	clear(s.alpha)
	idx, val := s.column(q)
	for k, i := range idx {
		s.alpha[i] = val[k]
	}
	s.lu.ftran(s.alpha, s.work)
	nz := s.alphaNZ[:0]
	for p, a := range s.alpha {
		if a != 0 {
			nz = append(nz, int32(p))
		}
	}
	s.alphaNZ = nz
}

// ratio chooses how far entering variable q moves in direction dir (+1,
// −1): the step theta, and the basis position that leaves (-1 for a bound
// flip of q, or when nothing stops q: theta is +Inf). In phase 1, a basic
// variable outside its bounds stops at the bound it moves towards, and
// one moving away is not stopped.
func (s *Solver) ratio(q int32, dir float64, phase1 bool) (theta float64, leave int, toLower bool) {
	// Pass 1: the longest step that violates no bound by more than the
	// tolerance.
	limit := math.Inf(1)
	// bound returns the step at which basic position p reaches a bound,
	// and whether it is the lower one.
	bound := func(p int, a float64) (float64, bool, bool) {
		// x_B changes by −dir·a per unit of step.
		j := s.head[p]
		delta := -dir * a
		x := s.x[j]
		lo, up := s.lo[j], s.up[j]
		if phase1 {
			switch inf := s.infeasibility(j); {
			case inf < 0: // below lo
				if delta > 0 {
					return (lo - x) / delta, true, true
				}
				return 0, false, false
			case inf > 0: // above up
				if delta < 0 {
					return (up - x) / delta, true, false
				}
				return 0, false, false
			}
		}
		if delta < 0 {
			return (x - lo) / -delta, true, true
		}
		if !math.IsInf(up, 1) {
			return (up - x) / delta, true, false
		}
		return 0, false, false
	}
	bland := s.degenerate >= blandRun
	for _, p32 := range s.alphaNZ {
		p, a := int(p32), s.alpha[p32]
		if math.Abs(a) < pivotTol {
			continue
		}
		t, ok, _ := bound(p, a)
		if !ok {
			continue
		}
		j := s.head[p]
		tol := primalTol * (1 + math.Abs(s.x[j]))
		if bland {
			tol = 0
		}
		limit = min(limit, max(0, t)+tol/math.Abs(a))
	}
	// How far q itself may go: to its other bound, or, from a value
	// between its bounds (see SetValue), to the one it moves towards.
	span := s.up[q] - s.x[q]
	if dir < 0 {
		span = s.x[q] - s.lo[q]
	}
	if span <= limit {
		return span, -1, false // q reaches a bound first
	}
	if math.IsInf(limit, 1) {
		return limit, -1, false
	}
	// Pass 2: among the steps within the limit, the largest pivot; under
	// Bland's rule the smallest variable among the shortest steps.
	leave = -1
	bestA := 0.0
	for _, p32 := range s.alphaNZ {
		p, a := int(p32), s.alpha[p32]
		if math.Abs(a) < pivotTol {
			continue
		}
		t, ok, lower := bound(p, a)
		if !ok || t > limit {
			continue
		}
		switch {
		case bland:
			if leave < 0 || t < theta || (t == theta && s.head[p] < s.head[leave]) {
				leave, theta, toLower = p, t, lower
			}
		case math.Abs(a) > bestA:
			leave, theta, bestA, toLower = p, t, math.Abs(a), lower
		}
	}
	return max(0, theta), leave, toLower
}

// phase1Step makes one step towards feasibility. It reports feasible when
// no basic variable is outside its bounds, and ok false when the sum of
// infeasibilities cannot be lowered: the problem is infeasible.
func (s *Solver) phase1Step() (feasible, ok bool) {
	// The costs of phase 1: −1 below, +1 above.
	y := s.rho
	any := false
	for p, j := range s.head {
		y[p] = 0
		switch inf := s.infeasibility(j); {
		case inf < 0:
			y[p], any = -1, true
		case inf > 0:
			y[p], any = 1, true
		}
	}
	if !any {
		return true, true
	}
	s.lu.btran(y, s.work)
	// d_j = −y·a_j; the entering variable by Dantzig's rule.
	q, best, dir := int32(-1), 0.0, 0.0
	bland := s.degenerate >= blandRun
	for j := range int32(s.n + s.m) {
		if s.pos[j] >= 0 {
			continue
		}
		dj := 0.0
		idx, val := s.column(j)
		for k, i := range idx {
			dj -= y[i] * val[k]
		}
		mv := s.movable(int(j), dj)
		if mv == 0 {
			continue
		}
		if bland {
			q, dir = j, mv
			break
		}
		if math.Abs(dj) > best {
			q, best, dir = j, math.Abs(dj), mv
		}
	}
	if q < 0 {
		return false, false
	}
	s.loadColumn(q)
	theta, leave, toLower := s.ratio(q, dir, true)
	if math.IsInf(theta, 1) {
		// Nothing stops q; in phase 1 that happens only when every basic
		// variable it moves heads away from its bounds, which cannot
		// lower the infeasibility. Treat as stuck.
		return false, false
	}
	s.step(q, dir, theta, leave, toLower, false)
	return false, true
}

// phase2Step makes one step of phase 2. It reports done at an optimum
// (by the maintained reduced costs) and unbounded when nothing stops the
// entering variable.
func (s *Solver) phase2Step() (done, unbounded bool) {
	q := s.entering()
	if q < 0 {
		return true, false
	}
	dir := s.movable(q, s.d[q])
	s.loadColumn(int32(q))
	theta, leave, toLower := s.ratio(int32(q), dir, false)
	if math.IsInf(theta, 1) {
		s.rayQ, s.rayDir = int32(q), dir
		s.rayAlpha = append(s.rayAlpha[:0], s.alpha...)
		return false, true
	}
	s.step(int32(q), dir, theta, leave, toLower, true)
	return false, false
}

// step moves q by theta in direction dir; the basis position leave (if
// any) leaves for the bound it reached, the lower one if toLower. With
// duals, the reduced costs are updated.
func (s *Solver) step(q int32, dir, theta float64, leave int, toLower, duals bool) {
	s.iterations++
	if theta <= degenTol {
		s.degenerate++
	} else {
		s.degenerate = 0
	}
	s.x[q] += dir * theta
	if theta != 0 {
		for _, p := range s.alphaNZ {
			s.x[s.head[p]] -= dir * theta * s.alpha[p]
		}
	}
	if leave < 0 {
		// A bound flip: q lands exactly on its other bound.
		if dir > 0 {
			s.x[q] = s.up[q]
		} else {
			s.x[q] = s.lo[q]
		}
		return
	}
	l := s.head[leave]
	// The leaving variable lands exactly on the bound it reached.
	if toLower {
		s.x[l] = s.lo[l]
	} else {
		s.x[l] = s.up[l]
	}
	if duals {
		// The pivot row ρ = B⁻ᵀe_leave, before the basis changes, and
		// d_j −= (d_q/α_rq)·α_rj.
		rho := s.rho
		clear(rho)
		rho[leave] = 1
		s.lu.btran(rho, s.work)
		td := s.d[q] / s.alpha[leave]
		if td != 0 {
			for i, r := range rho {
				if r == 0 {
					continue
				}
				for t := s.rowStart[i]; t < s.rowStart[i+1]; t++ {
					j := s.rowCol[t]
					if s.pos[j] < 0 {
						s.d[j] -= td * r * s.rowVal[t]
						s.noteD(j)
					}
				}
				if lj := s.n + i; s.pos[lj] < 0 {
					s.d[lj] -= td * r
					s.noteD(int32(lj))
				}
			}
		}
		s.d[l] = -td
		s.noteD(l)
		s.d[q] = 0
	}
	s.pos[l] = -1
	s.pos[q] = int32(leave)
	s.head[leave] = q
	s.lu.update(leave, s.alpha, s.alphaNZ)
	if n, _ := s.lu.updates(); n >= refactor {
		s.factorize()
		s.dirty = true
		if duals {
			s.update()
			s.pricing()
		}
	}
}

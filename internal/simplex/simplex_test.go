package simplex

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var inf = math.Inf(1)

// checkOptimal checks the optimality conditions of the solver's solution
// of p with costs c: A·x = b, the bounds, and reduced costs c − Aᵀy of
// the right sign for every variable not strictly between its bounds (zero
// for those that are).
func checkOptimal(t *testing.T, s *Solver, p *Problem, c []float64) {
	t.Helper()
	const tol = 1e-6
	bounds := func(j int) (float64, float64) {
		lo, up := 0.0, inf
		if p.Lower != nil {
			lo = p.Lower[j]
		}
		if p.Upper != nil {
			up = p.Upper[j]
		}
		return lo, up
	}
	x := make([]float64, p.NumVars)
	for j := range x {
		x[j] = s.Value(j)
		if lo, up := bounds(j); x[j] < lo-tol || x[j] > up+tol {
			t.Fatalf("x%d = %g is outside [%g, %g]", j, x[j], lo, up)
		}
	}
	y := s.Duals()
	d := append([]float64(nil), c...) // c − Aᵀy
	for i, row := range p.Rows {
		sum := 0.0
		for _, e := range row {
			sum += e.Val * x[e.Col]
			d[e.Col] -= y[i] * e.Val
		}
		if math.Abs(sum-p.RHS[i]) > tol {
			t.Fatalf("row %d: %g, want %g", i, sum, p.RHS[i])
		}
	}
	for j := range x {
		lo, up := bounds(j)
		atLo, atUp := math.Abs(x[j]-lo) < tol, math.Abs(x[j]-up) < tol
		switch {
		case atLo && atUp:
		case atLo && d[j] < -tol:
			t.Fatalf("x%d is at its lower bound with reduced cost %g", j, d[j])
		case atUp && d[j] > tol:
			t.Fatalf("x%d is at its upper bound with reduced cost %g", j, d[j])
		case !atLo && !atUp && math.Abs(d[j]) > tol:
			t.Fatalf("x%d is between its bounds with reduced cost %g", j, d[j])
		}
	}
}

func solve(t *testing.T, s *Solver, c []float64) Status {
	t.Helper()
	s.ClearCosts()
	for j, v := range c {
		s.SetCost(j, v)
	}
	st, err := s.Solve(context.Background())
	require.NoError(t, err)
	return st
}

func TestKnownAnswers(t *testing.T) {
	tests := []struct {
		name   string
		p      Problem
		c      []float64
		status Status
		x      []float64
	}{
		{
			name: "min x0 with x0 + x1 = 10", c: []float64{1, 0},
			p:      Problem{NumVars: 2, Rows: [][]Entry{{{0, 1}, {1, 1}}}, RHS: []float64{10}},
			status: Optimal, x: []float64{0, 10},
		},
		{
			name: "max x0 with x0 + x1 = 10, x1 ≥ 3", c: []float64{-1, 0},
			p:      Problem{NumVars: 2, Rows: [][]Entry{{{0, 1}, {1, 1}}}, RHS: []float64{10}, Lower: []float64{0, 3}},
			status: Optimal, x: []float64{7, 3},
		},
		{
			name: "max x0 with x0 − x1 = 1: unbounded", c: []float64{-1, 0},
			p:      Problem{NumVars: 2, Rows: [][]Entry{{{0, 1}, {1, -1}}}, RHS: []float64{1}},
			status: Unbounded,
		},
		{
			name: "x0 + x1 = −1 with x ≥ 0: infeasible", c: []float64{0, 0},
			p:      Problem{NumVars: 2, Rows: [][]Entry{{{0, 1}, {1, 1}}}, RHS: []float64{-1}},
			status: Infeasible,
		},
		{
			name: "2×2 table with margins 5, 7 and 4, 8: max x11", c: []float64{0, 0, 0, 0, -1},
			// x11 + x12 = 5, x21 + x22 = 7, x11 + x21 = 4, x12 + x22 = 8; x4 = x11 copy via x4 − x11 = 0
			p: Problem{NumVars: 5, Rows: [][]Entry{
				{{0, 1}, {1, 1}}, {{2, 1}, {3, 1}}, {{0, 1}, {2, 1}}, {{1, 1}, {3, 1}}, {{4, 1}, {0, -1}},
			}, RHS: []float64{5, 7, 4, 8, 0}},
			status: Optimal, x: []float64{4, 1, 0, 7, 4},
		},
		{
			name: "upper bounds bind", c: []float64{-1, -1, 0},
			p: Problem{NumVars: 3, Rows: [][]Entry{{{0, 1}, {1, 1}, {2, 1}}}, RHS: []float64{6},
				Upper: []float64{2, 3, inf}},
			status: Optimal, x: []float64{2, 3, 1},
		},
		{
			name: "redundant rows", c: []float64{1, 0},
			p:      Problem{NumVars: 2, Rows: [][]Entry{{{0, 1}, {1, 1}}, {{0, 2}, {1, 2}}}, RHS: []float64{4, 8}},
			status: Optimal, x: []float64{0, 4},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(&tt.p)
			st := solve(t, s, tt.c)
			require.Equal(t, tt.status, st)
			if st != Optimal {
				return
			}
			for j, want := range tt.x {
				assert.InDelta(t, want, s.Value(j), 1e-9, "x%d", j)
			}
			checkOptimal(t, s, &tt.p, tt.c)
		})
	}
}

// randomProblem returns a feasible problem: sparse small integer
// coefficients, bounds around a point, b = A·x₀.
func randomProblem(r *rand.Rand, m, n int) *Problem {
	p := &Problem{NumVars: n, Lower: make([]float64, n), Upper: make([]float64, n)}
	x0 := make([]float64, n)
	for j := range n {
		x0[j] = float64(r.IntN(10))
		p.Lower[j] = 0
		p.Upper[j] = inf
		switch r.IntN(4) {
		case 0:
			p.Upper[j] = x0[j] + float64(r.IntN(5))
		case 1:
			p.Lower[j] = x0[j] - float64(r.IntN(3))
		}
	}
	for range m {
		var row []Entry
		for j := range n {
			if r.IntN(3) == 0 {
				v := float64(r.IntN(5) - 2)
				if v != 0 {
					row = append(row, Entry{int32(j), v})
				}
			}
		}
		sum := 0.0
		for _, e := range row {
			sum += e.Val * x0[e.Col]
		}
		p.Rows = append(p.Rows, row)
		p.RHS = append(p.RHS, sum)
	}
	return p
}

// On random feasible problems, every objective in turn (warm-started)
// ends optimal, or unbounded along a checked ray.
func TestRandomWarmStarts(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for k := range 200 {
		m, n := 1+r.IntN(8), 2+r.IntN(12)
		p := randomProblem(r, m, n)
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			s := New(p)
			for range 6 {
				c := make([]float64, n)
				for j := range c {
					if r.IntN(2) == 0 {
						c[j] = float64(r.IntN(7) - 3)
					}
				}
				switch st := solve(t, s, c); st {
				case Optimal:
					checkOptimal(t, s, p, c)
				case Unbounded:
					checkRay(t, s, p, c)
				default:
					t.Fatalf("a feasible problem is %v", st)
				}
				// Now and then change a bound, keeping x₀ inside.
				if j := r.IntN(n); r.IntN(3) == 0 && p.Upper[j] == inf {
					p.Upper[j] = p.Lower[j] + 20
					s.SetBounds(j, p.Lower[j], p.Upper[j])
				}
			}
		})
	}
}

// checkRay checks that the solver's ray r keeps A·r = 0, respects the
// bounds for every step (it can only increase variables without upper
// bound, or decrease ... none: lower bounds are finite) and lowers c.
func checkRay(t *testing.T, s *Solver, p *Problem, c []float64) {
	t.Helper()
	ray := s.Ray()
	for i, row := range p.Rows {
		sum := 0.0
		for _, e := range row {
			sum += e.Val * ray[int(e.Col)]
		}
		require.InDelta(t, 0, sum, 1e-9, "row %d", i)
	}
	cr := 0.0
	for j, v := range ray {
		require.GreaterOrEqual(t, v, -1e-9, "x%d decreases along the ray, but its lower bound is finite", j)
		if v > 1e-9 {
			require.True(t, math.IsInf(p.Upper[j], 1), "x%d increases along the ray, but has an upper bound", j)
		}
		cr += c[j] * v
	}
	require.Less(t, cr, 0.0)
}

// Infeasible problems are recognized.
func TestRandomInfeasible(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for k := range 100 {
		m, n := 1+r.IntN(6), 2+r.IntN(8)
		p := randomProblem(r, m, n)
		// x₀'s row sums, then a row that demands a negative total of
		// non-negative variables with non-negative coefficients.
		row := []Entry{}
		for j := range n {
			p.Lower[j] = max(p.Lower[j], 0)
			row = append(row, Entry{int32(j), 1})
		}
		p.Rows = append(p.Rows, row)
		p.RHS = append(p.RHS, -1)
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			assert.Equal(t, Infeasible, solve(t, New(p), make([]float64, n)))
		})
	}
}

// A larger problem: the cells of a two-dimensional table with totals,
// each cell's range by two linear programs, as the interval audit asks.
func TestTableRanges(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const R, C = 30, 40
	cell := func(i, j int) int32 { return int32(i*C + j) }
	p := &Problem{NumVars: R * C}
	vals := make([]float64, R*C)
	for k := range vals {
		vals[k] = float64(r.IntN(20))
	}
	for i := range R {
		var row []Entry
		sum := 0.0
		for j := range C {
			row = append(row, Entry{cell(i, j), 1})
			sum += vals[cell(i, j)]
		}
		p.Rows = append(p.Rows, row)
		p.RHS = append(p.RHS, sum)
	}
	for j := range C {
		var row []Entry
		sum := 0.0
		for i := range R {
			row = append(row, Entry{cell(i, j), 1})
			sum += vals[cell(i, j)]
		}
		p.Rows = append(p.Rows, row)
		p.RHS = append(p.RHS, sum)
	}
	s := New(p)
	for range 40 {
		i, j := r.IntN(R), r.IntN(C)
		c := make([]float64, R*C)
		c[cell(i, j)] = 1
		require.Equal(t, Optimal, solve(t, s, c))
		checkOptimal(t, s, p, c)
		// A transportation problem: the smallest value of a cell is its
		// row total plus its column total minus the grand total, or 0.
		rowSum, colSum, total := p.RHS[i], p.RHS[R+j], 0.0
		for _, v := range p.RHS[:R] {
			total += v
		}
		assert.InDelta(t, max(0, rowSum+colSum-total), s.Value(int(cell(i, j))), 1e-9)
		c[cell(i, j)] = -1
		require.Equal(t, Optimal, solve(t, s, c))
		checkOptimal(t, s, p, c)
		assert.InDelta(t, min(rowSum, colSum), s.Value(int(cell(i, j))), 1e-9)
	}
}

func TestFactorSolves(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for k := range 100 {
		m := 1 + r.IntN(30)
		// A sparse matrix with a strong diagonal, permuted.
		perm := r.Perm(m)
		cols := make([][]Entry, m)
		for p := range m {
			cols[p] = append(cols[p], Entry{int32(perm[p]), float64(1 + r.IntN(3))})
			for range r.IntN(3) {
				if i := r.IntN(m); i != perm[p] {
					cols[p] = append(cols[p], Entry{int32(i), float64(r.IntN(5) - 2)})
				}
			}
		}
		dense := func(p int) ([]int32, []float64) {
			acc := map[int32]float64{}
			for _, e := range cols[p] {
				acc[e.Col] += e.Val
			}
			var idx []int32
			var val []float64
			for i, v := range acc {
				idx = append(idx, i)
				val = append(val, v)
			}
			return idx, val
		}
		if m > 2 && k%3 == 0 {
			// Singular on purpose: a column repeated, or one left empty.
			if k%2 == 0 {
				cols[1] = slices.Clone(cols[0])
			} else {
				cols[m-1] = nil
			}
		}
		f, bad, rows := factorize(m, dense)
		if k%3 == 0 && m > 2 {
			require.NotEmpty(t, bad, "singular")
		}
		require.Len(t, rows, len(bad))
		// The factorization is that of the matrix with the unit columns
		// of rows in place of bad.
		for q, p := range bad {
			cols[p] = []Entry{{rows[q], 1}}
		}
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			mul := func(x []float64) []float64 { // B·x
				out := make([]float64, m)
				for p := range m {
					idx, val := dense(p)
					for q, i := range idx {
						out[i] += val[q] * x[p]
					}
				}
				return out
			}
			mulT := func(y []float64) []float64 { // Bᵀ·y
				out := make([]float64, m)
				for p := range m {
					idx, val := dense(p)
					for q, i := range idx {
						out[p] += val[q] * y[i]
					}
				}
				return out
			}
			// Dense right-hand sides, and sparse ones (a unit vector, two
			// entries), whose solves skip the steps no nonzero reaches;
			// one factorization serves them all, in turn.
			for n := range 9 {
				a := make([]float64, m)
				switch {
				case n < 3:
					for i := range a {
						a[i] = float64(r.IntN(9) - 4)
					}
				case n < 6:
					a[r.IntN(m)] = 1
				default:
					a[r.IntN(m)] = float64(r.IntN(9) - 4)
					a[r.IntN(m)] = 0.5
				}
				x := append([]float64(nil), a...)
				f.ftran(x, make([]float64, m))
				assert.InDeltaSlice(t, a, mul(x), 1e-8)
				y := append([]float64(nil), a...)
				f.btran(y, make([]float64, m))
				assert.InDeltaSlice(t, a, mulT(y), 1e-8)
			}
		})
	}
}

// From a known point of the polyhedron (SetValue) the solver needs no
// phase 1, and ends at the same optimum.
func TestStartFromPoint(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for k := range 100 {
		m, n := 1+r.IntN(8), 2+r.IntN(12)
		p := randomProblem(r, m, n)
		// x₀ of randomProblem is not kept; find a point by a solve.
		s0 := New(p)
		require.Equal(t, Optimal, solve(t, s0, make([]float64, n)))
		x := make([]float64, n)
		for j := range x {
			x[j] = s0.Value(j)
		}
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			s := New(p)
			for j, v := range x {
				lo, up := s.Bounds(j)
				s.SetValue(j, min(max(v, lo), up)) // within the tolerances of the solve
			}
			c := make([]float64, n)
			for j := range c {
				c[j] = float64(r.IntN(5) - 2)
			}
			switch st := solve(t, s, c); st {
			case Optimal:
				checkOptimal(t, s, p, c)
			case Unbounded:
				checkRay(t, s, p, c)
			default:
				t.Fatalf("%v from a feasible point", st)
			}
		})
	}
}

// Crash from a point of the polyhedron keeps the point, puts structural
// variables into the basis, and the solve from there ends at the optimum
// a solve without it finds; from a basic solution that is not feasible
// it does nothing.
func TestCrash(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	crashed := 0
	for k := range 150 {
		m, n := 1+r.IntN(10), 2+r.IntN(14)
		p := randomProblem(r, m, n)
		s0 := New(p)
		require.Equal(t, Optimal, solve(t, s0, make([]float64, n)))
		// A point strictly inside the bounds where the polyhedron allows:
		// the middle of two vertices.
		c := make([]float64, n)
		for j := range c {
			c[j] = float64(r.IntN(5) - 2)
		}
		x := make([]float64, n)
		for j := range x {
			x[j] = s0.Value(j)
		}
		if solve(t, s0, c) == Optimal {
			for j := range x {
				x[j] = (x[j] + s0.Value(j)) / 2
			}
		}
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			plain, s := New(p), New(p)
			for j, v := range x {
				v = min(max(v, p.Lower[j]), p.Upper[j])
				plain.SetValue(j, v)
				s.SetValue(j, v)
			}
			s.Crash()
			basic := 0
			for j := range n {
				assert.InDelta(t, x[j], s.Value(j), 1e-7, "x%d moved", j)
				if s.Basic(j) {
					basic++
				}
			}
			if basic > 0 {
				crashed++
			}
			want := solve(t, plain, c)
			got := solve(t, s, c)
			require.Equal(t, want, got)
			switch got {
			case Optimal:
				checkOptimal(t, s, p, c)
				assert.InDelta(t, plain.Objective(), s.Objective(), 1e-6)
			case Unbounded:
				checkRay(t, s, p, c)
			}
		})
	}
	assert.Greater(t, crashed, 100, "structural variables entered the basis")

	// x = lower bounds does not satisfy these rows: the basic logicals are
	// not zero, and Crash leaves the basis alone.
	p := &Problem{NumVars: 2, Rows: [][]Entry{{{0, 1}, {1, 1}}}, RHS: []float64{5}}
	s := New(p)
	s.SetValue(0, 1)
	s.Crash()
	assert.False(t, s.Basic(0))
	assert.False(t, s.Basic(1))
	require.Equal(t, Optimal, solve(t, s, []float64{1, 2}))
	assert.InDelta(t, 5.0, s.Objective(), 1e-9)
}

// enteringByScan is entering as a pass over every variable in order:
// the first of the largest reduced costs, or under Bland's rule the first
// that may move.
func enteringByScan(s *Solver) int {
	best, bestD := -1, 0.0
	for j, dj := range s.d[:s.n+s.m] {
		if s.pos[j] >= 0 || s.movable(j, dj) == 0 {
			continue
		}
		if s.degenerate >= blandRun {
			return j
		}
		if a := math.Abs(dj); a > bestD {
			best, bestD = j, a
		}
	}
	return best
}

// entering reads only the list of reduced costs that may be nonzero; at
// every step of phase 2 it must choose what a pass over all variables
// chooses, under Dantzig's rule and Bland's.
func TestEnteringList(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for k := range 200 {
		m, n := 1+r.IntN(10), 2+r.IntN(16)
		p := randomProblem(r, m, n)
		s0 := New(p)
		require.Equal(t, Optimal, solve(t, s0, make([]float64, n)))
		s := New(p)
		for j := range n {
			lo, up := s.Bounds(j)
			s.SetValue(j, min(max(s0.Value(j), lo), up))
		}
		if k%2 == 0 {
			s.Crash()
		}
		for j := range n {
			s.SetCost(j, float64(r.IntN(5)-2)) // small integers: many ties
		}
		s.update()
		s.pricing()
		for step := 0; step < 100; step++ {
			if k%3 == 0 {
				s.degenerate = blandRun
			}
			require.Equal(t, enteringByScan(s), s.entering(), "program %d, step %d", k, step)
			done, unbounded := s.phase2Step()
			if done || unbounded {
				break
			}
			s.update()
		}
	}
}

package simplex

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// From an optimal basis, a basic variable fixed at another value (the
// way disclosure's cover asks for a primary cell at its goal) leaves the
// basis dual feasible but not primal feasible: the dual method solves it.
// It ends where the primal method alone ends: the same status and, when
// optimal, the same objective, with the optimality conditions checked.
func TestDualAgainstPrimal(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	counts := map[Status]int{}
	dualRuns := 0
	for k := range 300 {
		m, n := 1+r.IntN(10), 2+r.IntN(16)
		p := randomProblem(r, m, n)
		c := make([]float64, n)
		for j := range c {
			c[j] = float64(r.IntN(4)) // ≥ 0: bounded below on x ≥ lo
		}
		s := New(p)
		require.Equal(t, Optimal, solve(t, s, c))
		// A basic structural variable, fixed somewhere else.
		var basic []int
		for j := range n {
			if s.Basic(j) {
				basic = append(basic, j)
			}
		}
		if len(basic) == 0 {
			continue
		}
		j := basic[r.IntN(len(basic))]
		goal := max(0, s.Value(j)+float64(r.IntN(9)-4))
		if r.IntN(3) == 0 {
			goal = s.Value(j) + 0.5 // not an integer: the basis is not degenerate there
		}
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			q := *p
			q.Lower = append([]float64(nil), p.Lower...)
			q.Upper = append([]float64(nil), p.Upper...)
			q.Lower[j], q.Upper[j] = goal, goal
			s.SetBounds(j, goal, goal)
			s.pricing()
			require.True(t, s.dualFeasible(), "an optimal basis stays dual feasible")
			if !s.primalFeasible() {
				dualRuns++
			}
			st, err := s.Solve(context.Background())
			require.NoError(t, err)
			ref := New(&q)
			ref.primalOnly = true
			want := solve(t, ref, c)
			require.Equal(t, want, st, "status")
			counts[st]++
			if st == Optimal {
				checkOptimal(t, s, &q, c)
				assert.InDelta(t, ref.Objective(), s.Objective(), 1e-6, "objective")
			}
		})
	}
	t.Logf("statuses %v, %d from outside the polyhedron", counts, dualRuns)
	assert.Positive(t, counts[Optimal])
	assert.Positive(t, counts[Infeasible])
	assert.Greater(t, dualRuns, 200, "most start outside the polyhedron")
}

// The programs of disclosure's cover: a table with row and column totals
// in which some cells are withheld (a variable x ≥ 0 each, at its value),
// some published (value + p − q, with p ≥ 0 and 0 ≤ q ≤ value, at a
// price per unit) and the others known, constants; from the point of the true values (SetValue,
// Crash) one withheld cell is fixed a few units away. The dual method
// (the first solver) and the primal method alone (the second) end with
// the same status and, when optimal, the same least price.
func TestDualCover(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	counts := map[Status]int{}
	outside := 0
	for k := range 100 {
		R, C := 2+r.IntN(6), 2+r.IntN(8)
		// Cells (R+1)×(C+1): the last row and column hold the totals.
		val := make([][]float64, R+1)
		for i := range val {
			val[i] = make([]float64, C+1)
		}
		for i := range R {
			for j := range C {
				v := float64(r.IntN(12))
				val[i][j] = v
				val[i][C] += v
				val[R][j] += v
				val[R][C] += v
			}
		}
		// Variables: a withheld cell one, a published cell two.
		p := &Problem{}
		first := make([][]int32, R+1)
		withheld := make([][]bool, R+1)
		var lower, upper, cost, start []float64
		var cells [][2]int
		for i := range R + 1 {
			first[i] = make([]int32, C+1)
			withheld[i] = make([]bool, C+1)
			for j := range C + 1 {
				first[i][j] = int32(len(lower))
				kind := r.IntN(3)
				if kind == 1 {
					first[i][j] = -1 // published and not movable: a constant
					continue
				}
				if kind == 0 {
					withheld[i][j] = true
					cells = append(cells, [2]int{i, j})
					lower, upper, cost, start = append(lower, 0), append(upper, inf), append(cost, 0), append(start, val[i][j])
					continue
				}
				price := max(val[i][j], 1)
				lower, upper = append(lower, 0, 0), append(upper, inf, val[i][j])
				cost, start = append(cost, price, price), append(start, 0, 0)
			}
		}
		if len(cells) == 0 {
			continue
		}
		p.NumVars = len(lower)
		p.Lower, p.Upper = lower, upper
		// relation adds the row Σ coef·cell = 0 over the given cells.
		relation := func(cs [][2]int, coefs []float64) {
			var row []Entry
			rhs := 0.0
			for k, c := range cs {
				i, j, a := c[0], c[1], coefs[k]
				v := first[i][j]
				if v < 0 {
					rhs -= a * val[i][j]
					continue
				}
				if withheld[i][j] {
					row = append(row, Entry{v, a})
					continue
				}
				row = append(row, Entry{v, a}, Entry{v + 1, -a})
				rhs -= a * val[i][j]
			}
			p.Rows = append(p.Rows, row)
			p.RHS = append(p.RHS, rhs)
		}
		for i := range R + 1 {
			var cs [][2]int
			var coefs []float64
			for j := range C + 1 {
				cs, coefs = append(cs, [2]int{i, j}), append(coefs, 1)
			}
			coefs[C] = -1
			relation(cs, coefs)
		}
		for j := range C + 1 {
			var cs [][2]int
			var coefs []float64
			for i := range R + 1 {
				cs, coefs = append(cs, [2]int{i, j}), append(coefs, 1)
			}
			coefs[R] = -1
			relation(cs, coefs)
		}
		target := cells[r.IntN(len(cells))]
		tv := first[target[0]][target[1]]
		goal := max(0, val[target[0]][target[1]]+float64(r.IntN(11)-5))
		build := func(primalOnly bool) *Solver {
			s := New(p)
			s.primalOnly = primalOnly
			for j, x := range start {
				if x != 0 {
					s.SetValue(j, x)
				}
			}
			if k%2 == 0 {
				// Without Crash the withheld cells stay nonbasic between
				// their bounds: the dual method must let them enter.
				s.Crash()
			}
			s.SetBounds(int(tv), goal, goal)
			for j, c := range cost {
				s.SetCost(j, c)
			}
			return s
		}
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			s, ref := build(false), build(true)
			if !s.primalFeasible() {
				outside++
			}
			st, err := s.Solve(context.Background())
			require.NoError(t, err)
			want, err := ref.Solve(context.Background())
			require.NoError(t, err)
			require.Equal(t, want, st)
			counts[st]++
			if st == Optimal {
				q := *p
				q.Lower, q.Upper = slices.Clone(p.Lower), slices.Clone(p.Upper)
				q.Lower[tv], q.Upper[tv] = goal, goal
				checkOptimal(t, s, &q, cost)
				assert.InDelta(t, ref.Objective(), s.Objective(), 1e-6)
			}
		})
	}
	t.Logf("statuses %v, %d from outside the polyhedron", counts, outside)
	assert.Positive(t, counts[Optimal])
	assert.Positive(t, counts[Infeasible])
	assert.Greater(t, outside, 50)
}

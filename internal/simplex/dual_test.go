package simplex

import (
	"context"
	"fmt"
	"math/rand/v2"
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

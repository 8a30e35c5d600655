package simplex

import (
	"context"
	"flag"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// snapshotDir holds programs captured with disclosure's
// TestCapturePrograms, for BenchmarkSnapshots.
var snapshotDir = flag.String("snapshots", "", "directory of *.gob Snapshots for BenchmarkSnapshots")

func TestSnapshotRestore(t *testing.T) {
	p := randomProblem(rand.New(rand.NewPCG(70, 71)), 12, 20)
	s := New(p)
	c := make([]float64, p.NumVars)
	for j := range c {
		c[j] = float64(j%5) - 2
	}
	require.Equal(t, Optimal, solve(t, s, c))
	want := s.Objective()
	sn := s.Snapshot()
	r := Restore(sn)
	assert.InDelta(t, want, r.Objective(), 1e-9, "the restored solver is at the same point")
	st, err := r.Solve(context.Background())
	require.NoError(t, err)
	assert.Equal(t, Optimal, st)
	assert.InDelta(t, want, r.Objective(), 1e-9)
	checkOptimal(t, r, p, c)
}

// TestSolveHook: a hook on the context sees each solve that gets that
// context (or one derived from it) at its start, and no other.
func TestSolveHook(t *testing.T) {
	p := randomProblem(rand.New(rand.NewPCG(72, 73)), 8, 12)
	var seen []*Snapshot
	ctx := WithSolveHook(context.Background(), func(s *Solver) { seen = append(seen, s.Snapshot()) })
	derived, cancel := context.WithCancel(ctx)
	defer cancel()

	s := New(p)
	s.SetCost(0, 1)
	start := s.Snapshot()
	_, err := s.Solve(derived)
	require.NoError(t, err)
	require.Len(t, seen, 1, "the hook runs once per solve")
	require.NotEqual(t, start, s.Snapshot(), "the solve moved (else the next check proves nothing)")
	assert.Equal(t, start, seen[0], "the hook sees the solver before anything moved")

	_, err = New(p).Solve(context.Background())
	require.NoError(t, err)
	assert.Len(t, seen, 1, "a solve without the hook's context does not call it")
}

// BenchmarkSnapshots solves the programs in -snapshots (files
// phase1-*.gob and feasible-*.gob, see disclosure's TestCapturePrograms),
// each from the state it was captured in, and reports the simplex
// iterations per program by kind.
func BenchmarkSnapshots(b *testing.B) {
	for _, kind := range []string{"phase1", "feasible"} {
		b.Run("kind="+kind, func(b *testing.B) {
			sns := loadSnapshots(b, kind+"-*.gob")
			rows, vars := 0, 0
			for _, sn := range sns {
				rows += len(sn.Problem.Rows)
				vars += sn.Problem.NumVars
			}
			iters, optimal := 0, 0
			for b.Loop() {
				iters, optimal = 0, 0
				for _, sn := range sns {
					s := Restore(sn)
					st, err := s.Solve(context.Background())
					if err != nil {
						b.Fatal(strings.TrimSpace(err.Error()))
					}
					if st == Optimal {
						optimal++
					}
					iters += s.Iterations()
				}
			}
			n := float64(len(sns))
			b.ReportMetric(n, "programs")
			b.ReportMetric(float64(rows)/n, "rows/program")
			b.ReportMetric(float64(vars)/n, "vars/program")
			b.ReportMetric(float64(iters)/n, "iters/program")
			b.ReportMetric(float64(optimal), "optimal")
		})
	}
}

// BenchmarkFactorizeSnapshots factorizes the starting basis of each
// program in -snapshots.
func BenchmarkFactorizeSnapshots(b *testing.B) {
	var solvers []*Solver
	for _, sn := range loadSnapshots(b, "*.gob") {
		solvers = append(solvers, Restore(sn))
	}
	b.ResetTimer()
	for b.Loop() {
		for _, s := range solvers {
			s.factorize()
		}
	}
	b.ReportMetric(float64(len(solvers)), "bases")
}

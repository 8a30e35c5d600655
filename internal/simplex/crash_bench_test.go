package simplex

import (
	"context"
	"encoding/gob"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// loadSnapshots reads the Snapshots in -snapshots whose file names match
// pattern.
func loadSnapshots(b *testing.B, pattern string) []*Snapshot {
	if *snapshotDir == "" {
		b.Skip("no -snapshots directory")
	}
	files, _ := filepath.Glob(filepath.Join(*snapshotDir, pattern))
	if len(files) == 0 {
		b.Skip("no snapshots match " + pattern)
	}
	var sns []*Snapshot
	for _, name := range files {
		f, err := os.Open(name)
		require.NoError(b, err)
		var sn Snapshot
		require.NoError(b, gob.NewDecoder(f).Decode(&sn), name)
		f.Close()
		sns = append(sns, &sn)
	}
	return sns
}

// crashProblem returns the program of sn as its caller built it before
// the solve (disclosure's newLP): the structural variables at their
// captured values, with the bounds the solve's caller had not yet
// narrowed (a variable fixed at its value, or the one with a bound at
// its goal, is free above zero again).
func crashProblem(sn *Snapshot) (*Problem, []float64) {
	p := sn.Problem
	n := p.NumVars
	p.Lower = make([]float64, n)
	p.Upper = make([]float64, n)
	for j := range n {
		p.Upper[j] = sn.Upper[j]
		if sn.Lower[j] != 0 || sn.Lower[j] == sn.Upper[j] {
			p.Upper[j] = math.Inf(1)
		}
	}
	x := make([]float64, n)
	for j := range n {
		x[j] = min(max(sn.Value[j], p.Lower[j]), p.Upper[j])
	}
	return &p, x
}

// BenchmarkCrashSnapshots builds the programs in -snapshots the way
// disclosure's newLP does (New, every structural variable at its value,
// Crash) and reports the structural variables Crash puts into the basis
// (the same for any factorization that pivots alike).
func BenchmarkCrashSnapshots(b *testing.B) {
	sns := loadSnapshots(b, "*.gob")
	var probs []*Problem
	var xs [][]float64
	for _, sn := range sns {
		p, x := crashProblem(sn)
		probs, xs = append(probs, p), append(xs, x)
	}
	basic, headSum := 0, 0
	for b.Loop() {
		basic, headSum = 0, 0
		for k, p := range probs {
			s := New(p)
			for j, v := range xs[k] {
				s.SetValue(j, v)
			}
			s.Crash()
			for p, j := range s.head {
				if int(j) < s.n {
					basic++
				}
				headSum = (headSum*31 + (p+1)*int(j)) % 1000003
			}
		}
	}
	rows, vars := 0, 0
	for _, p := range probs {
		rows, vars = rows+len(p.Rows), vars+p.NumVars
	}
	b.ReportMetric(float64(len(probs)), "programs")
	b.ReportMetric(float64(rows)/float64(len(probs)), "rows/program")
	b.ReportMetric(float64(vars)/float64(len(probs)), "vars/program")
	b.ReportMetric(float64(basic)/float64(len(probs)), "structural/basis")
	b.ReportMetric(float64(headSum), "headsum")
}

// BenchmarkSolveSnapshots solves the programs in -snapshots from the
// state each was captured in (restored outside the timer) and reports the
// iterations per program, the sum of the optimal objectives and a hash
// of the final values and bases (which any change that computes alike
// leaves as they are).
func BenchmarkSolveSnapshots(b *testing.B) {
	for _, kind := range []string{"phase1", "feasible"} {
		b.Run("kind="+kind, func(b *testing.B) {
			sns := loadSnapshots(b, kind+"-*.gob")
			solvers := make([]*Solver, len(sns))
			iters, optimal, objSum := 0, 0, 0.0
			var hash uint64
			for b.Loop() {
				hash = 0
				b.StopTimer()
				for k, sn := range sns {
					solvers[k] = Restore(sn)
				}
				b.StartTimer()
				iters, optimal, objSum = 0, 0, 0
				for _, s := range solvers {
					st, err := s.Solve(context.Background())
					if err != nil {
						b.Fatal(err)
					}
					if st == Optimal {
						optimal++
						objSum += s.Objective()
					}
					iters += s.Iterations()
					for j := range s.n + s.m {
						hash = (hash*31 + math.Float64bits(s.x[j])%1000003 + uint64(s.pos[j]+1)) % 1000003
					}
				}
			}
			n := float64(len(sns))
			b.ReportMetric(n, "programs")
			b.ReportMetric(float64(iters)/n, "iters/program")
			b.ReportMetric(float64(optimal), "optimal")
			b.ReportMetric(objSum, "objsum")
			b.ReportMetric(float64(hash), "statehash")
		})
	}
}

package simplex

import "context"

// Snapshot is a linear program together with the state a solve starts
// from: the bounds, the objective, the values of the nonbasic variables
// and the basis. It is made for benchmarks: a hook set with WithSolveHook
// captures the programs a caller really solves, and Restore solves them
// again, with this solver or a later one.
type Snapshot struct {
	Problem Problem   // the constraints (Lower and Upper as given to New)
	Lower   []float64 // per variable, structural then logical, at the start
	Upper   []float64
	Value   []float64 // per variable; those of basic variables are ignored
	Cost    []float64 // per structural variable
	Head    []int32   // basis position → variable
}

// solveHookKey is the context key of the hook WithSolveHook sets.
type solveHookKey struct{}

// WithSolveHook returns a copy of ctx in which every Solve given it (or a
// context derived from it) calls hook with the solver at its start, before
// anything moves: a benchmark captures the programs a caller solves with
// Snapshot. The hook rides on the context, as net/http/httptrace's do, so
// that solves elsewhere, on other goroutines, are not touched; it is called
// on the goroutine of the Solve.
func WithSolveHook(ctx context.Context, hook func(*Solver)) context.Context {
	return context.WithValue(ctx, solveHookKey{}, hook)
}

// Snapshot returns the program and the state a solve would start from.
func (s *Solver) Snapshot() *Snapshot {
	s.update()
	p := Problem{NumVars: s.n, RHS: append([]float64(nil), s.b...)}
	p.Rows = make([][]Entry, s.m)
	for i := range s.m {
		for t := s.rowStart[i]; t < s.rowStart[i+1]; t++ {
			p.Rows[i] = append(p.Rows[i], Entry{s.rowCol[t], s.rowVal[t]})
		}
	}
	return &Snapshot{
		Problem: p,
		Lower:   append([]float64(nil), s.lo...),
		Upper:   append([]float64(nil), s.up...),
		Value:   append([]float64(nil), s.x...),
		Cost:    append([]float64(nil), s.cost[:s.n]...),
		Head:    append([]int32(nil), s.head...),
	}
}

// Restore returns a Solver in the state of sn: the same program, bounds,
// objective, nonbasic values and basis (factorized afresh).
func Restore(sn *Snapshot) *Solver {
	s := New(&sn.Problem)
	copy(s.lo, sn.Lower)
	copy(s.up, sn.Upper)
	copy(s.x, sn.Value)
	copy(s.cost, sn.Cost)
	for j := range s.pos {
		s.pos[j] = -1
	}
	copy(s.head, sn.Head)
	for p, j := range s.head {
		s.pos[j] = int32(p)
	}
	s.factorize()
	s.dirty = true
	return s
}

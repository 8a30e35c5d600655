package simplex

// Snapshot is a linear program together with the state a solve starts
// from: the bounds, the objective, the values of the nonbasic variables
// and the basis. It is made for benchmarks: OnSolve captures the
// programs a caller really solves, and Restore solves them again, with
// this solver or a later one.
type Snapshot struct {
	Problem Problem   // the constraints (Lower and Upper as given to New)
	Lower   []float64 // per variable, structural then logical, at the start
	Upper   []float64
	Value   []float64 // per variable; those of basic variables are ignored
	Cost    []float64 // per structural variable
	Head    []int32   // basis position → variable
}

// OnSolve, when not nil, is called at the start of every Solve with the
// solver, before anything moves: a benchmark sets it to capture programs
// with Snapshot. It must not be set while solvers are in use on other
// goroutines.
var OnSolve func(*Solver)

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

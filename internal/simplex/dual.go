package simplex

import (
	"context"
	"math"
)

// The dual simplex method, for a start that is dual feasible (every
// reduced cost of the right sign for the bound its variable is at) but
// not primal feasible: the programs that move one variable to a bound
// from a point of the polyhedron, at a price per unit for the others
// (disclosure's cover). Each step takes the basic variable furthest
// outside its bounds out of the basis, onto the bound it violates, and
// brings in the nonbasic variable whose reduced cost reaches zero first
// as the duals move (Harris's two-pass test, largest pivot among the
// nearly tied), so the reduced costs stay of the right sign and the
// objective only rises: the first primal feasible basis is optimal. The
// primal method, from a cold start, would first find any feasible point
// (phase 1, blind to the objective) and then walk from it to the optimum.

// refreshDual factorizes the basis again, recomputes the values and the
// reduced costs from the fresh factors, and reports whether the basis is
// still dual feasible (if not, the dual method hands over to the primal).
func (s *Solver) refreshDual() bool {
	s.factorize()
	s.dirty = true
	s.update()
	s.pricing()
	return s.dualFeasible()
}

// dualFeasible reports whether the reduced costs in s.d are of the
// right sign for every nonbasic variable: none could lower the
// objective by moving.
func (s *Solver) dualFeasible() bool {
	for j := range s.n + s.m {
		if s.pos[j] < 0 && s.movable(j, s.d[j]) != 0 {
			return false
		}
	}
	return true
}

// primalFeasible reports whether every basic variable is within its
// bounds.
func (s *Solver) primalFeasible() bool {
	s.update()
	for _, j := range s.head {
		if s.infeasibility(j) != 0 {
			return false
		}
	}
	return true
}

// dual runs the dual simplex method from the current basis, whose
// reduced costs s.d are fresh and dual feasible, for at most limit
// iterations. It returns Optimal when no basic variable is outside its
// bounds, Infeasible when one is and no nonbasic variable can move it
// towards them; decided is false when it stopped for another reason
// (the limit, a pivot too small to trust), and the primal method goes on
// from the basis it leaves.
func (s *Solver) dual(ctx context.Context, limit int) (st Status, decided bool, err error) {
	N := s.n + s.m
	if len(s.rowA) < N {
		s.rowA = make([]float64, N)
	}
	ar := s.rowA
	start := s.iterations
	for {
		if (s.iterations-start)&255 == 255 {
			if err := ctx.Err(); err != nil {
				return 0, false, err
			}
		}
		if s.iterations-start > limit {
			return 0, false, nil
		}
		s.update()
		// The leaving variable: the largest infeasibility.
		r, worst := -1, 0.0
		for p, j := range s.head {
			if inf := s.infeasibility(j); math.Abs(inf) > worst {
				r, worst = p, math.Abs(inf)
			}
		}
		if r < 0 {
			return Optimal, true, nil
		}
		l := s.head[r]
		sgn, bound := 1.0, s.up[l] // above its upper bound: x_l must fall
		if s.x[l] < s.lo[l] {
			sgn, bound = -1, s.lo[l]
		}
		// Row r of B⁻¹·[A I] over the nonbasic variables.
		rho := s.rho
		clear(rho)
		rho[r] = 1
		s.lu.btran(rho, s.work)
		touched := s.touched[:0]
		for i, v := range rho {
			if v == 0 {
				continue
			}
			for t := s.rowStart[i]; t < s.rowStart[i+1]; t++ {
				j := s.rowCol[t]
				if s.pos[j] >= 0 {
					continue
				}
				if ar[j] == 0 {
					touched = append(touched, j)
				}
				ar[j] += v * s.rowVal[t]
			}
			if lj := int32(s.n + i); s.pos[lj] < 0 {
				if ar[lj] == 0 {
					touched = append(touched, lj)
				}
				ar[lj] += v
			}
		}
		s.touched = touched
		// The ratio test: with ã_j = sgn·α_rj, the reduced costs become
		// d_j − t·ã_j; t stops where the first of them changes sign.
		// ratio returns the step of j, and whether j may enter.
		ratio := func(j int32, tol float64) (float64, bool) {
			a := sgn * ar[j]
			if math.Abs(a) < pivotTol || s.lo[j] == s.up[j] {
				return 0, false
			}
			x, d := s.x[j], s.d[j]
			switch {
			case x <= s.lo[j]:
				if a > 0 {
					return max(0, d+tol) / a, true
				}
			case x >= s.up[j]:
				if a < 0 {
					return max(0, -d+tol) / -a, true
				}
			default: // between its bounds: it may move either way
				return tol / math.Abs(a), true
			}
			return 0, false
		}
		limitT := math.Inf(1)
		for _, j := range touched {
			if t, ok := ratio(j, dualTol); ok {
				limitT = min(limitT, t)
			}
		}
		q, bestA, stepT := int32(-1), 0.0, 0.0
		if !math.IsInf(limitT, 1) {
			for _, j := range touched {
				t, ok := ratio(j, 0)
				if !ok || t > limitT {
					continue
				}
				if a := math.Abs(ar[j]); a > bestA {
					q, bestA, stepT = j, a, t
				}
			}
		}
		if q < 0 {
			for _, j := range touched {
				ar[j] = 0
			}
			if n, _ := s.lu.updates(); n == 0 || s.rowAccurate(r) {
				// Row r is a proof: x_l is a combination of nonbasic
				// variables, none of which can move it towards its
				// bounds.
				return Infeasible, true, nil
			}
			// Ask again from fresh factors.
			if !s.refreshDual() {
				return 0, false, nil
			}
			continue
		}
		thetaD := sgn * stepT
		// The entering column, checked against the row.
		s.loadColumn(q)
		arq := ar[q]
		for _, j := range touched {
			if s.pos[j] < 0 {
				s.d[j] -= thetaD * ar[j]
				s.noteD(j)
			}
			ar[j] = 0
		}
		ap := s.alpha[r]
		if math.Abs(ap) < pivotTol || math.Abs(ap-arq) > 1e-7*(1+math.Abs(ap)) {
			// The row and the column disagree: the factors have drifted,
			// or, if they are fresh, the basis is too ill-conditioned for
			// this method.
			if n, _ := s.lu.updates(); n == 0 {
				return 0, false, nil
			}
			if !s.refreshDual() {
				return 0, false, nil
			}
			continue
		}
		// The primal step: x_l lands on its bound.
		thetaP := (s.x[l] - bound) / ap
		s.iterations++
		if thetaP != 0 {
			s.x[q] += thetaP
			for _, p := range s.alphaNZ {
				s.x[s.head[p]] -= thetaP * s.alpha[p]
			}
		}
		s.x[l] = bound
		s.d[l] = -thetaD
		s.noteD(l)
		s.d[q] = 0
		s.pos[l] = -1
		s.pos[q] = int32(r)
		s.head[r] = q
		s.lu.update(r, s.alpha, s.alphaNZ)
		if n, _ := s.lu.updates(); n >= refactor {
			if !s.refreshDual() {
				return 0, false, nil
			}
		}
	}
}

// rowAccurate reports whether s.rho, computed as row r of B⁻¹, is one:
// ρ·B is the unit row e_r within a tolerance, whatever the updates since
// the factorization have made of the factors.
func (s *Solver) rowAccurate(r int) bool {
	rho := s.rho
	scale := 1.0
	for _, v := range rho {
		scale = max(scale, math.Abs(v))
	}
	tol := 1e-9 * scale
	for p, j := range s.head {
		want := 0.0
		if p == r {
			want = 1
		}
		got := 0.0
		if int(j) < s.n {
			for t := s.colStart[j]; t < s.colStart[j+1]; t++ {
				got += rho[s.colRow[t]] * s.colVal[t]
			}
		} else {
			got = rho[int(j)-s.n]
		}
		if math.Abs(got-want) > tol {
			return false
		}
	}
	return true
}

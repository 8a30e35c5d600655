package lp

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/disclosure/audit/internal/sparse"
)

// row makes a sparse row from dense integer coefficients.
func row(coefs ...int64) sparse.Vec {
	var v sparse.Vec
	for j, c := range coefs {
		if c != 0 {
			v.Idx = append(v.Idx, int32(j))
			v.Val = append(v.Val, sparse.NewInt(c))
		}
	}
	return v
}

func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return r
}

func rats(ss ...string) []*big.Rat {
	out := make([]*big.Rat, len(ss))
	for i, s := range ss {
		if s != "" {
			out[i] = rat(s)
		}
	}
	return out
}

func TestKnownAnswers(t *testing.T) {
	tests := []struct {
		name     string
		p        Problem
		min, max []string // per variable; max "inf" for unbounded
	}{
		{
			name: "x + y = 10",
			p:    Problem{NumVars: 2, Rows: []sparse.Vec{row(1, 1)}, RHS: rats("10"), Start: rats("4", "6")},
			min:  []string{"0", "0"}, max: []string{"10", "10"},
		},
		{
			name: "upper bound on x",
			p:    Problem{NumVars: 2, Rows: []sparse.Vec{row(1, 1)}, RHS: rats("10"), Upper: rats("3", ""), Start: rats("3", "7")},
			min:  []string{"0", "7"}, max: []string{"3", "10"},
		},
		{
			name: "difference: x - y = 1 has no largest x",
			p:    Problem{NumVars: 2, Rows: []sparse.Vec{row(1, -1)}, RHS: rats("1"), Start: rats("5", "4")},
			min:  []string{"1", "0"}, max: []string{"inf", "inf"},
		},
		{
			name: "negative and fractional right-hand side",
			p: Problem{NumVars: 3, Rows: []sparse.Vec{row(-2, -1, 0), row(0, 1, 1)}, RHS: rats("-7/2", "1"),
				Start: rats("3/2", "1/2", "1/2")},
			min: []string{"5/4", "0", "0"}, max: []string{"7/4", "1", "1"},
		},
		{
			name: "2×2 table with margins 5, 7 and 4, 8",
			// x11 + x12 = 5, x21 + x22 = 7, x11 + x21 = 4, x12 + x22 = 8
			p: Problem{NumVars: 4, Rows: []sparse.Vec{row(1, 1, 0, 0), row(0, 0, 1, 1), row(1, 0, 1, 0), row(0, 1, 0, 1)},
				RHS: rats("5", "7", "4", "8"), Start: rats("2", "3", "2", "5")},
			min: []string{"0", "1", "0", "3"}, max: []string{"4", "5", "4", "7"},
		},
		{
			name: "fixed by an upper bound of zero",
			p: Problem{NumVars: 3, Rows: []sparse.Vec{row(1, 1, 1)}, RHS: rats("6"), Upper: rats("0", "5/2", ""),
				Start: rats("0", "5/2", "7/2")},
			min: []string{"0", "0", "7/2"}, max: []string{"0", "5/2", "6"},
		},
		{
			name: "redundant rows",
			p: Problem{NumVars: 3, Rows: []sparse.Vec{row(1, 1, 0), row(0, 1, 1), row(1, 2, 1), row(2, 2, 0)},
				RHS: rats("3", "4", "7", "6"), Start: rats("1", "2", "2")},
			min: []string{"0", "0", "1"}, max: []string{"3", "3", "4"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.p)
			require.NoError(t, err)
			for j := range tt.p.NumVars {
				lo := s.Minimize(j)
				assert.Equal(t, rat(tt.min[j]).String(), lo.String(), "min x%d", j)
				checkFeasible(t, tt.p, s)
				hi, bounded := s.Maximize(j)
				if tt.max[j] == "inf" {
					assert.False(t, bounded, "max x%d should be unbounded", j)
				} else {
					require.True(t, bounded, "max x%d", j)
					assert.Equal(t, rat(tt.max[j]).String(), hi.String(), "max x%d", j)
				}
				checkFeasible(t, tt.p, s)
			}
		})
	}
}

func TestBadStart(t *testing.T) {
	for _, p := range []Problem{
		{NumVars: 2, Rows: []sparse.Vec{row(1, 1)}, RHS: rats("5"), Start: rats("2", "2")},
		{NumVars: 2, Rows: []sparse.Vec{row(1, 1)}, RHS: rats("5"), Start: rats("6", "-1")},
		{NumVars: 2, Rows: []sparse.Vec{row(1, 1)}, RHS: rats("5"), Upper: rats("2", ""), Start: rats("3", "2")},
		{NumVars: 2, Rows: []sparse.Vec{row(1, 1)}, RHS: rats("5"), Start: rats("5")},
	} {
		_, err := New(p)
		assert.ErrorIs(t, err, ErrStart)
	}
}

// TestBeale runs Beale's example, on which Dantzig's rule with the
// textbook choice of leaving variable cycles for ever:
//
//	min −3/4 x4 + 20 x5 − 1/2 x6 + 6 x7
//	x1 + 1/4 x4 −  8 x5 −    x6 + 9 x7 = 0
//	x2 + 1/2 x4 − 12 x5 − 1/2 x6 + 3 x7 = 0
//	x3 +                      x6        = 1
//
// with optimum −5/4. Here the objective is a variable of its own, shifted
// to keep it non-negative: x0 = 2 + objective, that is
// 4 x0 + 3 x4 − 80 x5 + 2 x6 − 24 x7 = 8.
func TestBeale(t *testing.T) {
	p := Problem{
		NumVars: 8,
		Rows: []sparse.Vec{
			row(4, 0, 0, 0, 3, -80, 2, -24),
			row(0, 4, 0, 0, 1, -32, -4, 36),
			row(0, 0, 2, 0, 1, -24, -1, 6),
			row(0, 0, 0, 1, 0, 0, 1, 0),
		},
		RHS:   rats("8", "0", "0", "1"),
		Start: rats("2", "0", "0", "1", "0", "0", "0", "0"),
	}
	s, err := New(p)
	require.NoError(t, err)
	lo := s.Minimize(0)
	assert.Equal(t, rat("3/4").String(), lo.String(), "2 + (−5/4)")
	checkFeasible(t, p, s)
}

// checkFeasible verifies that the solver's current point satisfies p.
func checkFeasible(t *testing.T, p Problem, s *Solver) {
	t.Helper()
	x := make([]*big.Rat, p.NumVars)
	for j := range x {
		x[j] = s.Value(j)
		require.GreaterOrEqual(t, x[j].Sign(), 0, "x%d < 0", j)
		if p.Upper != nil && p.Upper[j] != nil {
			require.LessOrEqual(t, x[j].Cmp(p.Upper[j]), 0, "x%d above its bound", j)
		}
	}
	for i, r := range p.Rows {
		sum := new(big.Rat)
		for k, j := range r.Idx {
			sum.Add(sum, new(big.Rat).Mul(sparse.Rat(r.Val[k], sparse.NewInt(1)), x[j]))
		}
		require.Equal(t, p.RHS[i].String(), sum.String(), "row %d", i)
	}
}

// vertexExtremes computes by brute force the smallest and largest value of
// every variable over a bounded polyhedron: an optimum is attained at a
// vertex, where the nonbasic variables sit at a bound and the basic ones
// solve the equations. Every choice of basis and of bounds is tried.
func vertexExtremes(p Problem) (lo, hi []*big.Rat) {
	n := p.NumVars
	lo, hi = make([]*big.Rat, n), make([]*big.Rat, n)
	for mask := 0; mask < 1<<n; mask++ { // basic variables
		for upperMask := 0; upperMask < 1<<n; upperMask++ { // nonbasic at upper
			if upperMask&mask != 0 {
				continue
			}
			x, ok := solveBasis(p, mask, upperMask)
			if !ok {
				continue
			}
			for j := range n {
				if lo[j] == nil || x[j].Cmp(lo[j]) < 0 {
					lo[j] = x[j]
				}
				if hi[j] == nil || x[j].Cmp(hi[j]) > 0 {
					hi[j] = x[j]
				}
			}
		}
	}
	return lo, hi
}

// solveBasis returns the unique feasible point with the nonbasic variables
// at the bounds given, if there is one.
func solveBasis(p Problem, mask, upperMask int) ([]*big.Rat, bool) {
	n := p.NumVars
	x := make([]*big.Rat, n)
	var basic []int
	for j := range n {
		x[j] = new(big.Rat)
		switch {
		case mask&(1<<j) != 0:
			basic = append(basic, j)
		case upperMask&(1<<j) != 0:
			x[j].Set(p.Upper[j])
		}
	}
	// Dense system over the basic variables.
	m := len(p.Rows)
	a := make([][]*big.Rat, m)
	for i, r := range p.Rows {
		a[i] = make([]*big.Rat, len(basic)+1)
		rhs := new(big.Rat).Set(p.RHS[i])
		for k := range basic {
			a[i][k] = new(big.Rat)
		}
		for k, j := range r.Idx {
			c := sparse.Rat(r.Val[k], sparse.NewInt(1))
			if mask&(1<<j) != 0 {
				for bk, b := range basic {
					if b == int(j) {
						a[i][bk] = c
					}
				}
			} else {
				rhs.Sub(rhs, new(big.Rat).Mul(c, x[j]))
			}
		}
		a[i][len(basic)] = rhs
	}
	// Gauss–Jordan; the basis must give a unique solution.
	row := 0
	for col := range basic {
		piv := -1
		for i := row; i < m; i++ {
			if a[i][col].Sign() != 0 {
				piv = i
				break
			}
		}
		if piv < 0 {
			return nil, false
		}
		a[row], a[piv] = a[piv], a[row]
		for i := range m {
			if i == row || a[i][col].Sign() == 0 {
				continue
			}
			f := new(big.Rat).Quo(a[i][col], a[row][col])
			for k := col; k <= len(basic); k++ {
				a[i][k] = new(big.Rat).Sub(a[i][k], new(big.Rat).Mul(f, a[row][k]))
			}
		}
		row++
	}
	for i := row; i < m; i++ {
		if a[i][len(basic)].Sign() != 0 {
			return nil, false // inconsistent
		}
	}
	for k, j := range basic {
		x[j] = new(big.Rat).Quo(a[k][len(basic)], a[k][k])
		if x[j].Sign() < 0 || (p.Upper[j] != nil && x[j].Cmp(p.Upper[j]) > 0) {
			return nil, false
		}
	}
	return x, true
}

// TestAgainstVertexEnumeration compares the solver with brute force on
// random bounded problems that have a solution.
func TestAgainstVertexEnumeration(t *testing.T) {
	t.Run("Dantzig", func(t *testing.T) { testAgainstVertexEnumeration(t, blandAfter) })
	t.Run("Bland", func(t *testing.T) { testAgainstVertexEnumeration(t, 0) })
}

func testAgainstVertexEnumeration(t *testing.T, bland int) {
	r := rand.New(rand.NewPCG(7, uint64(bland)))
	n := 200
	if testing.Short() {
		n = 50
	}
	for c := range n {
		nv := 2 + r.IntN(4)
		x0 := make([]*big.Rat, nv)
		p := Problem{NumVars: nv, Upper: make([]*big.Rat, nv), Start: x0}
		for j := range nv {
			p.Upper[j] = big.NewRat(int64(r.IntN(7)), int64(1+r.IntN(2)))
			x0[j] = new(big.Rat).Mul(p.Upper[j], big.NewRat(int64(r.IntN(3)), 2))
		}
		for range 1 + r.IntN(3) {
			coefs := make([]int64, nv)
			for j := range coefs {
				coefs[j] = int64(r.IntN(5) - 2)
			}
			rw := row(coefs...)
			if rw.Len() == 0 {
				continue
			}
			b := new(big.Rat)
			for k, j := range rw.Idx {
				b.Add(b, new(big.Rat).Mul(sparse.Rat(rw.Val[k], sparse.NewInt(1)), x0[j]))
			}
			p.Rows = append(p.Rows, rw)
			p.RHS = append(p.RHS, b)
		}
		lo, hi := vertexExtremes(p)
		s, err := New(p)
		require.NoError(t, err, "case %d", c)
		s.blandAfter = bland
		for _, j := range r.Perm(nv) {
			got := s.Minimize(j)
			require.Equal(t, lo[j].String(), got.String(), "case %d: min x%d of %+v", c, j, p)
			checkFeasible(t, p, s)
			got, bounded := s.Maximize(j)
			require.True(t, bounded)
			require.Equal(t, hi[j].String(), got.String(), "case %d: max x%d", c, j)
			checkFeasible(t, p, s)
		}
	}
}

package elim_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// langsrud is a port of the main loop of GaussSuppression (R package
// SSBtools, GaussSuppression1 with singletonMethod "none") for comparison:
// the model matrix has a column per cell over the inner cells it adds up;
// candidates are taken in order, and a candidate whose reduced column is
// proportional to a reduced primary column is withheld; otherwise it
// becomes a pivot on its first row and is eliminated, eagerly, from every
// remaining candidate and primary column. Forced cells are pivots first.
// As in the R code, every column is scanned for the pivot row.
func langsrud(columns [][]int32, forced, candidates, primary []int32) []int32 {
	type vec struct {
		r []int32
		x []int64
	}
	unit := func(c int32) vec {
		v := vec{r: slices.Clone(columns[c]), x: make([]int64, len(columns[c]))}
		for i := range v.x {
			v.x[i] = 1
		}
		return v
	}
	order := append(slices.Clone(forced), candidates...)
	A := make([]vec, len(order))
	for i, c := range order {
		A[i] = unit(c)
	}
	B := make([]vec, len(primary))
	for i, c := range primary {
		B[i] = unit(c)
	}
	proportional := func(a, b vec) bool {
		if len(a.r) != len(b.r) || !slices.Equal(a.r, b.r) {
			return false
		}
		for i := range a.x {
			if a.x[i]*b.x[0] != b.x[i]*a.x[0] {
				return false
			}
		}
		return true
	}
	reduce := func(v vec, p vec, row int32) vec {
		i, ok := slices.BinarySearch(v.r, row)
		if !ok {
			return v
		}
		out := vec{}
		a, b := p.x[0], v.x[i] // v·a − p·b cancels row
		j, k := 0, 0
		for j < len(v.r) || k < len(p.r) {
			switch {
			case k == len(p.r) || (j < len(v.r) && v.r[j] < p.r[k]):
				out.r, out.x = append(out.r, v.r[j]), append(out.x, a*v.x[j])
				j++
			case j == len(v.r) || p.r[k] < v.r[j]:
				out.r, out.x = append(out.r, p.r[k]), append(out.x, -b*p.x[k])
				k++
			default:
				if w := a*v.x[j] - b*p.x[k]; w != 0 {
					out.r, out.x = append(out.r, v.r[j]), append(out.x, w)
				}
				j++
				k++
			}
		}
		return out
	}
	var secondary []int32
	for j := range A {
		a := A[j]
		if len(a.r) == 0 {
			continue
		}
		if j >= len(forced) && slices.ContainsFunc(B, func(b vec) bool { return len(b.r) > 0 && proportional(a, b) }) {
			secondary = append(secondary, order[j])
			A[j] = vec{}
			continue
		}
		row := a.r[0]
		for i := j + 1; i < len(A); i++ {
			A[i] = reduce(A[i], a, row)
		}
		for i := range B {
			B[i] = reduce(B[i], a, row)
		}
		A[j] = vec{}
	}
	return secondary
}

// columns returns, per cell of t, the inner cells it adds up.
func (t *table) columns() [][]int32 {
	inner := map[int]int32{}
	for i, c := range t.cells {
		if t.isInner(c) {
			inner[i] = int32(len(inner))
		}
	}
	cols := make([][]int32, len(t.cells))
	for i, c := range t.cells {
		for j, d := range t.cells {
			if t.isInner(d) && t.covers(c, d) {
				cols[i] = append(cols[i], inner[j])
			}
		}
		slices.Sort(cols[i])
	}
	return cols
}

// Without inside knowledge the engine and GaussSuppression's algorithm
// decide alike: whether a candidate discloses a primary cell depends only
// on what is published before it, not on how the system is reduced.
func TestSolveAgreesWithGaussSuppression(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for iter := range 40 {
		in := randomInstance(t, r, false, false)
		t.Run(fmt.Sprintf("iter%d/cells=%d", iter, len(in.t.cells)), func(t *testing.T) {
			var primary []int32
			for c, p := range in.p.Protected {
				if p {
					primary = append(primary, int32(c))
				}
			}
			want := langsrud(in.t.columns(), in.p.Forced, in.p.Candidates, primary)
			require.Empty(t, in.res.Exposed)
			assert.Equal(t, want, in.res.Secondary)
		})
	}
}

// cubeColumns returns the columns of the cube of bigProblem.
func cubeColumns(fanout []int) [][]int32 {
	h := hier(fanout...)
	m := len(h)
	leavesUnder := make([][]int32, m)
	leafIndex := map[int]int32{}
	for x := range m {
		if !slices.Contains(h, x) {
			leafIndex[x] = int32(len(leafIndex))
		}
	}
	for x := range m {
		for y := x; y >= 0; y = h[y] {
			if i, ok := leafIndex[x]; ok {
				leavesUnder[y] = append(leavesUnder[y], i)
			}
		}
	}
	nl := int32(len(leafIndex))
	cols := make([][]int32, m*m*m)
	for a := range m {
		for b := range m {
			for c := range m {
				var rows []int32
				for _, i := range leavesUnder[a] {
					for _, j := range leavesUnder[b] {
						for _, k := range leavesUnder[c] {
							rows = append(rows, (i*nl+j)*nl+k)
						}
					}
				}
				slices.Sort(rows)
				cols[(a*m+b)*m+c] = rows
			}
		}
	}
	return cols
}

// BenchmarkGaussSuppression runs the port of GaussSuppression's algorithm
// on the smaller table of BenchmarkSolve, for comparison.
func BenchmarkGaussSuppression(b *testing.B) {
	f := []int{3, 4}
	p, n := bigProblem(f, 1)
	cols := cubeColumns(f)
	var primary []int32
	for c, prot := range p.Protected {
		if prot {
			primary = append(primary, int32(c))
		}
	}
	b.Run(fmt.Sprint(n), func(b *testing.B) {
		var sec []int32
		for b.Loop() {
			sec = langsrud(cols, p.Forced, p.Candidates, primary)
		}
		b.ReportMetric(float64(len(sec)), "secondary")
	})
}

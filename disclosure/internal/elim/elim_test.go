package elim_test

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/disclosure/internal/elim"
)

// table is a small hierarchical table for tests: every combination of the
// nodes of its dimensions is a cell.
type table struct {
	dims   [][]int // per dimension: parent of each node (-1 for the total, node 0)
	cells  [][]int // cell → node per dimension
	index  map[string]int
	values []int
}

func key(nodes []int) string { return fmt.Sprint(nodes) }

// newTable builds the cells of a table whose inner cells hold values drawn
// by inner.
func newTable(dims [][]int, inner func() int) *table {
	t := &table{dims: dims, index: map[string]int{}}
	var rec func(d int, cur []int)
	rec = func(d int, cur []int) {
		if d == len(dims) {
			t.index[key(cur)] = len(t.cells)
			t.cells = append(t.cells, slices.Clone(cur))
			return
		}
		for n := range dims[d] {
			rec(d+1, append(cur, n))
		}
	}
	rec(0, nil)
	t.values = make([]int, len(t.cells))
	for i, c := range t.cells {
		if t.isInner(c) {
			t.values[i] = inner()
		}
	}
	for i, c := range t.cells {
		if !t.isInner(c) {
			for j, d := range t.cells {
				if t.isInner(d) && t.covers(c, d) {
					t.values[i] += t.values[j]
				}
			}
		}
	}
	return t
}

func (t *table) leaf(d, n int) bool { return !slices.Contains(t.dims[d], n) }

func (t *table) isInner(c []int) bool {
	for d, n := range c {
		if !t.leaf(d, n) {
			return false
		}
	}
	return true
}

func (t *table) ancestor(d, a, n int) bool {
	for ; n >= 0; n = t.dims[d][n] {
		if n == a {
			return true
		}
	}
	return false
}

func (t *table) covers(c, d []int) bool {
	for i := range c {
		if !t.ancestor(i, c[i], d[i]) {
			return false
		}
	}
	return true
}

// relations returns, for every cell and every dimension in which it is a
// group, the relation cell = sum of its children.
func (t *table) relations() [][]elim.Term {
	var rels [][]elim.Term
	for i, c := range t.cells {
		for d, n := range c {
			if t.leaf(d, n) {
				continue
			}
			rel := []elim.Term{{Col: int32(i), Coef: 1}}
			for child, parent := range t.dims[d] {
				if parent == n {
					cc := slices.Clone(c)
					cc[d] = child
					rel = append(rel, elim.Term{Col: int32(t.index[key(cc)]), Coef: -1})
				}
			}
			rels = append(rels, rel)
		}
	}
	return rels
}

// determined returns, by dense exact elimination, which cells are linear
// functions of the known cells under the relations: e_b is in the row space
// of the relations restricted to the unknown cells exactly when the reduced
// row echelon form has the row e_b.
func determined(rels [][]elim.Term, n int, known []bool) []bool {
	var rows [][]*big.Rat
	for _, rel := range rels {
		r := make([]*big.Rat, n)
		for i := range r {
			r[i] = new(big.Rat)
		}
		for _, t := range rel {
			if !known[t.Col] {
				r[t.Col].Add(r[t.Col], big.NewRat(t.Coef, 1))
			}
		}
		rows = append(rows, r)
	}
	rk := 0
	pivots := []int{}
	for c := 0; c < n && rk < len(rows); c++ {
		p := -1
		for i := rk; i < len(rows); i++ {
			if rows[i][c].Sign() != 0 {
				p = i
				break
			}
		}
		if p < 0 {
			continue
		}
		rows[rk], rows[p] = rows[p], rows[rk]
		inv := new(big.Rat).Inv(rows[rk][c])
		for j := c; j < n; j++ {
			rows[rk][j].Mul(rows[rk][j], inv)
		}
		for i := range rows {
			if i == rk || rows[i][c].Sign() == 0 {
				continue
			}
			f := new(big.Rat).Set(rows[i][c])
			for j := c; j < n; j++ {
				if rows[rk][j].Sign() != 0 {
					rows[i][j].Sub(rows[i][j], new(big.Rat).Mul(f, rows[rk][j]))
				}
			}
		}
		pivots = append(pivots, c)
		rk++
	}
	det := make([]bool, n)
	for i, c := range pivots {
		single := true
		for j := range n {
			if j != c && rows[i][j].Sign() != 0 {
				single = false
				break
			}
		}
		det[c] = single
	}
	return det
}

type instance struct {
	t    *table
	p    elim.Problem
	res  elim.Result
	pubd []bool
}

func randomHierarchy(r *rand.Rand) []int {
	// node 0 is the total; 2–4 children, some of which have 2–3 children.
	parents := []int{-1}
	kids := 2 + r.IntN(3)
	for range kids {
		me := len(parents)
		parents = append(parents, 0)
		if r.IntN(3) == 0 {
			for range 2 + r.IntN(2) {
				parents = append(parents, me)
			}
		}
	}
	return parents
}

func randomInstance(t *testing.T, r *rand.Rand, readers bool, zeros bool) instance {
	return randomInstanceWith(t, r, readers, false, zeros)
}

// randomInstanceWith is randomInstance; with singles, every inner cell
// with one record (value 1) is known to a reader of its own, as a record
// without contributor alone in its cell.
func randomInstanceWith(t *testing.T, r *rand.Rand, readers, singles, zeros bool) instance {
	t.Helper()
	var dims [][]int
	for {
		dims = dims[:0]
		size := 1
		for range 2 + r.IntN(2) {
			h := randomHierarchy(r)
			dims = append(dims, h)
			size *= len(h)
		}
		if size <= 120 {
			break
		}
	}
	tab := newTable(dims, func() int {
		switch r.IntN(4) {
		case 0:
			return r.IntN(5)
		default:
			return r.IntN(40)
		}
	})
	n := len(tab.cells)
	p := elim.Problem{
		NumCols:   n,
		Relations: tab.relations(),
		Protected: make([]bool, n),
		Knower:    make([]int32, n),
		Owner:     make([]int32, n),
	}
	nReaders := 0
	if readers {
		nReaders = 3
	}
	single := map[int]int32{} // cell → its reader
	if singles {
		for i, c := range tab.cells {
			if tab.isInner(c) && tab.values[i] == 1 {
				single[i] = int32(nReaders)
				nReaders++
			}
		}
	}
	zeroReader := int32(-1)
	if zeros {
		zeroReader = int32(nReaders)
		nReaders++
	}
	p.Nonneg = make([]bool, nReaders)
	if zeros {
		p.Nonneg[zeroReader] = true
	}
	for i := range p.Knower {
		p.Knower[i], p.Owner[i] = -1, -1
	}
	for i, c := range tab.cells {
		v := tab.values[i]
		inner := tab.isInner(c)
		switch {
		case v == 0 && zeros:
			p.Protected[i] = true
			p.Owner[i] = zeroReader
			if inner {
				p.Knower[i] = zeroReader
			}
		case v == 0:
			p.Forced = append(p.Forced, int32(i))
			continue
		case v < 5:
			p.Protected[i] = true
		}
		if k, ok := single[i]; ok {
			p.Knower[i] = k
			if p.Protected[i] {
				p.Owner[i] = k
			}
		}
		if inner && readers && v > 0 && r.IntN(3) == 0 {
			k := int32(r.IntN(3))
			p.Knower[i] = k
			if p.Protected[i] {
				p.Owner[i] = k
			}
		}
	}
	// A protected group whose non-empty parts all belong to one reader is
	// that reader's own data.
	for i, c := range tab.cells {
		if !p.Protected[i] || tab.isInner(c) || tab.values[i] == 0 {
			continue
		}
		owner := int32(-2)
		for j, d := range tab.cells {
			if !tab.isInner(d) || !tab.covers(c, d) || tab.values[j] == 0 {
				continue
			}
			if k := p.Knower[j]; k < 0 || (owner != -2 && k != owner) {
				owner = -1
			} else {
				owner = k
			}
		}
		if owner >= 0 {
			p.Owner[i] = owner
		}
	}
	// Reader 0, when it knows several cells, is checked in a view of its
	// own.
	if readers && r.IntN(2) == 0 {
		in := elim.Insider{Reader: 0}
		for c, k := range p.Knower {
			if k == 0 {
				in.Knows = append(in.Knows, int32(c))
				p.Knower[c] = -1
			}
		}
		p.Insiders = []elim.Insider{in}
	}
	for i := range n {
		if !p.Protected[i] && !slices.Contains(p.Forced, int32(i)) {
			p.Candidates = append(p.Candidates, int32(i))
		}
	}
	slices.SortStableFunc(p.Candidates, func(a, b int32) int { return tab.values[b] - tab.values[a] })
	res, err := elim.Solve(context.Background(), &p)
	require.NoError(t, err)
	pubd := make([]bool, n)
	for _, c := range p.Forced {
		pubd[c] = true
	}
	for _, c := range p.Candidates {
		pubd[c] = !slices.Contains(res.Secondary, c)
	}
	return instance{tab, p, res, pubd}
}

// readerKnows returns the cells reader k knows (published ones and its own).
func (in instance) readerKnows(k int32) []bool {
	known := slices.Clone(in.pubd)
	if k >= 0 {
		for i, kk := range in.p.Knower {
			if kk == k {
				known[i] = true
			}
		}
		for _, ins := range in.p.Insiders {
			if ins.Reader == k {
				for _, c := range ins.Knows {
					known[c] = true
				}
			}
		}
	}
	return known
}

func TestSolveProtectsAgainstEveryReader(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := range 200 {
		readers := iter%2 == 1
		singles := iter%4 >= 2
		zeros := iter%3 == 2
		in := randomInstanceWith(t, r, readers, singles, zeros)
		name := fmt.Sprintf("iter%d/readers=%v/singles=%v/zeros=%v/cells=%d", iter, readers, singles, zeros, len(in.t.cells))
		t.Run(name, func(t *testing.T) {
			require.Empty(t, in.res.Exposed)
			for k := int32(-1); k < int32(len(in.p.Nonneg)); k++ {
				known := in.readerKnows(k)
				det := determined(in.p.Relations, in.p.NumCols, known)
				for b, prot := range in.p.Protected {
					if !prot || in.p.Owner[b] == k && k >= 0 || known[b] {
						continue
					}
					assert.False(t, det[b], "reader %d determines protected cell %v", k, in.t.cells[b])
				}
			}
			// Suppressed zeros cannot protect each other: a reader who
			// knows every other empty cell is empty still cannot
			// determine an empty cell.
			for k, nonneg := range in.p.Nonneg {
				if !nonneg {
					continue
				}
				for b, kb := range in.p.Knower {
					if kb != int32(k) {
						continue
					}
					known := in.readerKnows(int32(k))
					known[b] = false
					assert.False(t, determined(in.p.Relations, in.p.NumCols, known)[b],
						"empty cell %v determined from the other empty cells", in.t.cells[b])
				}
			}
		})
	}
}

// Without readers' knowledge the engine's test is exact, so every secondary
// suppression is needed: publishing it as well would disclose a primary.
func TestSolveWithholdsNoMoreThanNeeded(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for iter := range 30 {
		in := randomInstance(t, r, false, false)
		t.Run(fmt.Sprintf("iter%d/cells=%d/secondary=%d", iter, len(in.t.cells), len(in.res.Secondary)), func(t *testing.T) {
			for _, s := range in.res.Secondary {
				known := slices.Clone(in.pubd)
				known[s] = true
				disclosing := false
				det := determined(in.p.Relations, in.p.NumCols, known)
				for b, prot := range in.p.Protected {
					if prot && det[b] {
						disclosing = true
						break
					}
				}
				assert.True(t, disclosing, "secondary %v is not needed", in.t.cells[s])
			}
		})
	}
}

// With readers that each know a single cell (records alone in their
// cells), the engine's test is exact too (knowledge rows): every secondary
// suppression is needed, as publishing it would disclose a primary cell to
// everyone or to one of the readers.
func TestSolveWithSinglesWithholdsNoMoreThanNeeded(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for iter := range 60 {
		in := randomInstanceWith(t, r, false, true, false)
		t.Run(fmt.Sprintf("iter%d/cells=%d/secondary=%d", iter, len(in.t.cells), len(in.res.Secondary)), func(t *testing.T) {
			for _, s := range in.res.Secondary {
				disclosing := false
				for k := int32(-1); k < int32(len(in.p.Nonneg)) && !disclosing; k++ {
					known := in.readerKnows(k)
					known[s] = true
					det := determined(in.p.Relations, in.p.NumCols, known)
					for b, prot := range in.p.Protected {
						if prot && det[b] && !(k >= 0 && in.p.Owner[b] == k) && !in.readerKnows(k)[b] {
							disclosing = true
							break
						}
					}
				}
				assert.True(t, disclosing, "secondary %v is not needed", in.t.cells[s])
			}
		})
	}
}

// The index from columns to rows (a pivot's list is set at once when it
// is eliminated from the other rows) lists exactly the rows that contain
// each column after every change.
func TestSolveKeepsColumnIndex(t *testing.T) {
	elim.CheckIndex(true)
	defer elim.CheckIndex(false)
	r := rand.New(rand.NewPCG(7, 8))
	for iter := range 40 {
		readers, singles, zeros := iter%2 == 1, iter%4 >= 2, iter%3 == 2
		t.Run(fmt.Sprintf("iter%d/readers=%v/singles=%v/zeros=%v", iter, readers, singles, zeros), func(t *testing.T) {
			assert.NotPanics(t, func() { randomInstanceWith(t, r, readers, singles, zeros) })
		})
	}
}

// When Refuses says that Allow refuses every candidate left, Solve does
// not look at them, and its result is the one Allow's refusals give.
func TestSolveRefusesSkipsWhatAllowRefuses(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for iter := range 20 {
		in := randomInstance(t, r, iter%2 == 0, false)
		limit := r.IntN(len(in.p.Candidates) + 1)
		t.Run(fmt.Sprintf("iter%d/candidates=%d/limit=%d", iter, len(in.p.Candidates), limit), func(t *testing.T) {
			solve := func(skip bool) (elim.Result, int) {
				p := in.p
				allowed, asked := 0, 0
				done := func() bool { return allowed >= limit }
				p.Allow = func(int32) bool {
					asked++
					if done() {
						return false
					}
					allowed++
					return true
				}
				if skip {
					p.Refuses = done
				}
				res, err := elim.Solve(context.Background(), &p)
				require.NoError(t, err)
				return res, asked
			}
			want, askedAll := solve(false)
			got, asked := solve(true)
			assert.Equal(t, want.Secondary, got.Secondary)
			assert.LessOrEqual(t, asked, askedAll)
			assert.LessOrEqual(t, asked, limit)
		})
	}
}

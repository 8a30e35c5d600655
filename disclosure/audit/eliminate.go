package audit

import (
	"github.com/zorgkit/zorgkit/disclosure/audit/internal/sparse"
)

// determined is a cell that a combination of relations isolates:
// Σ Coef[i]·rows[Rels[i]] = Den·e_cell + (terms in known cells).
type determined struct {
	cell int32
	den  sparse.Int
	rels []int32
	coef []sparse.Int
}

// solveComponent finds every unknown cell of comp that the relations
// determine, by Gauss–Jordan elimination in exact integer arithmetic.
//
// A cell x is determined if and only if the unit vector e_x lies in the row
// space of the relations restricted to the unknown cells. In reduced row
// echelon form that holds exactly when x is a pivot column whose row has no
// other entry: a free column, or an entry in one, gives a solution of the
// homogeneous system that moves x. Each row carries, in columns beyond the
// unknowns, the combination of relations it is, so a determined cell comes
// with its derivation.
func (m *model) solveComponent(kn *knowledge, comp component) []determined {
	n := int32(len(comp.cells))
	local := make(map[int32]int32, len(comp.cells))
	for i, c := range comp.cells {
		local[c] = int32(i)
	}
	e := &eliminator{n: n, rows: make([]sparse.Vec, len(comp.rels))}
	one := sparse.NewInt(1)
	for i, k := range comp.rels {
		src := m.rows[k]
		row := sparse.Vec{Idx: make([]int32, 0, kn.unknown[k]+1), Val: make([]sparse.Int, 0, kn.unknown[k]+1)}
		for j, c := range src.Idx {
			if !kn.known[c] {
				row.Idx = append(row.Idx, local[c])
				row.Val = append(row.Val, src.Val[j])
			}
		}
		row.Idx = append(row.Idx, n+int32(i)) // the relation itself
		row.Val = append(row.Val, one)
		e.rows[i] = row
	}
	e.run()
	var out []determined
	for i, row := range e.rows {
		if e.pivot[i] < 0 || row.CountBelow(n) != 1 {
			continue
		}
		d := determined{cell: comp.cells[row.Idx[0]], den: row.Val[0]}
		for j := 1; j < row.Len(); j++ {
			d.rels = append(d.rels, comp.rels[row.Idx[j]-n])
			d.coef = append(d.coef, row.Val[j])
		}
		out = append(out, d)
	}
	return out
}

// eliminator is sparse Gauss–Jordan elimination with a Markowitz-style
// pivot order: the shortest remaining row, and in it the column that
// appears in the fewest rows, to limit fill-in.
type eliminator struct {
	n     int32        // columns below n are unknowns; the rest is bookkeeping
	rows  []sparse.Vec // the rows, reduced in place
	pivot []int32      // pivot column of each row; -1 while active, -2 once empty
	cols  [][]int32    // rows with an entry in each unknown column (may be stale)

	// length[i] is the number of unknowns in active row i when last
	// queued; buckets[l] holds rows queued with length l (may be stale).
	length  []int32
	buckets [][]int32
	lowest  int
}

const (
	active = -1
	empty  = -2
)

func (e *eliminator) run() {
	e.pivot = make([]int32, len(e.rows))
	e.length = make([]int32, len(e.rows))
	e.cols = make([][]int32, e.n)
	for i, row := range e.rows {
		for _, c := range row.Idx[:row.CountBelow(e.n)] {
			e.cols[c] = append(e.cols[c], int32(i))
		}
		e.pivot[i] = active
		e.queue(int32(i))
	}
	for {
		r := e.next()
		if r < 0 {
			return
		}
		row := e.rows[r]
		best := int32(-1)
		for _, c := range row.Idx[:row.CountBelow(e.n)] {
			if best < 0 || len(e.cols[c]) < len(e.cols[best]) {
				best = c
			}
		}
		e.eliminate(r, best)
	}
}

// queue files active row i under its current number of unknowns, or marks
// it empty: a row with no unknowns left restates other rows.
func (e *eliminator) queue(i int32) {
	l := e.rows[i].CountBelow(e.n)
	if l == 0 {
		e.pivot[i] = empty
		return
	}
	for len(e.buckets) <= l {
		e.buckets = append(e.buckets, nil)
	}
	e.length[i] = int32(l)
	e.buckets[l] = append(e.buckets[l], i)
	e.lowest = min(e.lowest, l)
}

// next returns the active row with the fewest unknowns, or -1.
func (e *eliminator) next() int32 {
	for ; e.lowest < len(e.buckets); e.lowest++ {
		b := e.buckets[e.lowest]
		for len(b) > 0 {
			i := b[len(b)-1]
			b = b[:len(b)-1]
			if e.pivot[i] == active && int(e.length[i]) == e.lowest {
				e.buckets[e.lowest] = b
				return i
			}
		}
		e.buckets[e.lowest] = b
	}
	return -1
}

// eliminate makes column c the pivot of row r and removes it from every
// other row.
func (e *eliminator) eliminate(r, c int32) {
	e.pivot[r] = c
	pr := e.rows[r]
	for _, i := range e.cols[c] {
		if i == r || !e.rows[i].Has(c) {
			continue
		}
		old := e.rows[i]
		e.rows[i] = sparse.Eliminate(old, pr, c)
		// Fill-in can appear only in the columns of the pivot row.
		for _, j := range pr.Idx[:pr.CountBelow(e.n)] {
			if j != c && !old.Has(j) && e.rows[i].Has(j) {
				e.cols[j] = append(e.cols[j], i)
			}
		}
		if e.pivot[i] == active {
			e.queue(i)
		}
	}
	e.cols[c] = append(e.cols[c][:0], r)
}

package audit

import (
	"slices"

	"github.com/zorgkit/zorgkit/disclosure/audit/internal/sparse"
)

// determined is a cell that a combination of relations isolates:
// Σ coef[i]·rows[rels[i]] = den·e_cell + (terms in known cells).
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
	rows := make([]sparse.Vec, len(comp.rels))
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
		rows[i] = row
	}
	pivot := sparse.GaussJordan(rows, n)
	var out []determined
	for i, row := range rows {
		if pivot[i] < 0 || row.CountBelow(n) != 1 {
			continue
		}
		d := determined{cell: comp.cells[row.Idx[0]], den: row.Val[0]}
		for j := 1; j < row.Len(); j++ {
			d.rels = append(d.rels, comp.rels[row.Idx[j]-n])
			d.coef = append(d.coef, row.Val[j])
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b determined) int { return int(a.cell - b.cell) })
	return out
}

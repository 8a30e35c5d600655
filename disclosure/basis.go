package disclosure

import (
	"slices"

	"github.com/zorgkit/zorgkit/disclosure/internal/elim"
)

// expansion returns, for the additive relations of the cube of f, a
// function that writes every cell as a combination of independent cells.
//
// In every dimension one child of each group is dropped: it equals its
// group minus its other children. A cell with a dropped node in some
// dimension is then the product of these expansions, a combination of cells
// without dropped nodes; those cells are independent, and these relations
// span all additive relations of the cube. The relations are sparse (a
// cell's expansion has as many terms as the product of the sizes of its
// dropped nodes' families), and they let the engine start without any
// elimination.
//
// The dropped child is the one whose slice holds the fewest cells that
// readers know (the engine must move pivots off those), then the one with
// the smallest value (published late, so re-pivoted late).
func (f *family) expansion(t *Tables, known []int32) func(c int) []elim.Term {
	nd := len(f.dims)
	// Known base cells per node, per dimension.
	knownIn := make([][]int, nd)
	for j := range nd {
		knownIn[j] = make([]int, f.size[j])
	}
	coords := make([]int32, nd)
	for c, k := range known {
		if k < 0 {
			continue
		}
		coords = f.coords(c, coords)
		for j, d := range f.dims {
			for x := coords[j]; x >= 0; x = t.dims[d].parent[x] {
				knownIn[j][x]++
			}
		}
	}
	type term struct {
		node int32
		coef int64
	}
	expansion := make([][][]term, nd)
	dropped := make([][]bool, nd)
	for j, d := range f.dims {
		dm := t.dims[d]
		dropped[j] = make([]bool, f.size[j])
		for _, kids := range dm.children {
			if len(kids) == 0 {
				continue
			}
			best := kids[0]
			for _, k := range kids[1:] {
				kb, kk := knownIn[j][best], knownIn[j][k]
				vk, vb := f.value[int(k)*f.stride[j]], f.value[int(best)*f.stride[j]]
				if kk < kb || (kk == kb && vk < vb) {
					best = k
				}
			}
			dropped[j][best] = true
		}
		expansion[j] = make([][]term, f.size[j])
		for x := range f.size[j] { // parents before children
			if !dropped[j][x] {
				expansion[j][x] = []term{{int32(x), 1}}
				continue
			}
			p := dm.parent[x]
			e := slices.Clone(expansion[j][p])
			for _, s := range dm.children[p] {
				if s != int32(x) {
					e = append(e, term{s, -1})
				}
			}
			expansion[j][x] = e
		}
	}
	return func(c int) []elim.Term {
		coords := f.coords(c, make([]int32, 0, nd))
		size := 1
		for j, x := range coords {
			size *= len(expansion[j][x])
		}
		out := make([]elim.Term, 0, size)
		var prod func(j, cell int, coef int64)
		prod = func(j, cell int, coef int64) {
			if j == nd {
				out = append(out, elim.Term{Col: int32(cell), Coef: coef})
				return
			}
			for _, e := range expansion[j][coords[j]] {
				prod(j+1, cell+int(e.node)*f.stride[j], coef*e.coef)
			}
		}
		prod(0, 0, 1)
		return out
	}
}

// basis returns the additive relations of the cube of f in reduced form,
// each with its pivot first: a cell with a dropped node, minus its
// expansion (see expansion).
func (f *family) basis(t *Tables, known []int32) [][]elim.Term {
	expand := f.expansion(t, known)
	var rows [][]elim.Term
	for c := range f.n {
		e := expand(c)
		if len(e) == 1 && e[0].Col == int32(c) {
			continue // no dropped node: an independent cell
		}
		row := make([]elim.Term, 1, len(e)+1)
		row[0] = elim.Term{Col: int32(c), Coef: 1}
		for _, x := range e {
			row = append(row, elim.Term{Col: x.Col, Coef: -x.Coef})
		}
		rows = append(rows, row)
	}
	return rows
}

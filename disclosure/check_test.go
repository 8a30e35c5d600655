package disclosure_test

import (
	"math/big"
	"slices"

	"github.com/zorgkit/zorgkit/disclosure/audit"
)

// finding is a sensitive cell that a viewer can compute.
type finding struct {
	Viewer string // "" for any reader
	Cell   string
}

// exactFindings is the test suite's own exact audit, independent of the
// package's engine: per viewer (any reader, then each attacker) it marks
// the published cells and the attacker's knowledge as known, brings the
// relations to reduced row echelon form over the unknown cells with exact
// rationals, and reports every sensitive cell the viewer does not know
// that a row pins down alone. Published ratios carry knowledge from a
// known denominator to the numerator and back. Dense: small systems only.
func exactFindings(sys audit.System, attackers []audit.Attacker) []finding {
	viewers := append([]audit.Attacker{{}}, attackers...)
	var out []finding
	for _, v := range viewers {
		known := make([]bool, len(sys.Cells))
		for i, c := range sys.Cells {
			known[i] = c.Published
		}
		for _, k := range v.Knows {
			known[k] = true
		}
		for {
			changed := false
			for _, r := range sys.Ratios {
				if !r.Published {
					continue
				}
				switch {
				case known[r.Denominator] && !known[r.Numerator] && sys.Cells[r.Denominator].Value != 0:
					known[r.Numerator], changed = true, true
				case known[r.Numerator] && !known[r.Denominator] && sys.Cells[r.Numerator].Value != 0:
					known[r.Denominator], changed = true, true
				}
			}
			for _, c := range determinedCells(sys, known) {
				if !known[c] {
					known[c], changed = true, true
				}
			}
			if !changed {
				break
			}
		}
		for i, c := range sys.Cells {
			if c.Sensitive && known[i] && !c.Published && !slices.Contains(v.Knows, i) {
				out = append(out, finding{v.Name, c.Name})
			}
		}
	}
	return out
}

// determinedCells returns the unknown cells that the relations determine.
func determinedCells(sys audit.System, known []bool) []int {
	var cols []int // unknown cells in use
	col := map[int]int{}
	use := func(i int) {
		if _, ok := col[i]; !ok && !known[i] {
			col[i] = len(cols)
			cols = append(cols, i)
		}
	}
	for _, s := range sys.Sums {
		use(s.Total)
		for _, p := range s.Parts {
			use(p)
		}
	}
	n := len(cols)
	var rows [][]*big.Rat
	for _, s := range sys.Sums {
		r := make([]*big.Rat, n)
		for i := range r {
			r[i] = new(big.Rat)
		}
		nz := false
		add := func(cell int, v int64) {
			if j, ok := col[cell]; ok {
				r[j].Add(r[j], big.NewRat(v, 1))
				nz = true
			}
		}
		add(s.Total, 1)
		for _, p := range s.Parts {
			add(p, -1)
		}
		if nz {
			rows = append(rows, r)
		}
	}
	rank := 0
	var pivots []int
	for c := 0; c < n && rank < len(rows); c++ {
		p := -1
		for i := rank; i < len(rows); i++ {
			if rows[i][c].Sign() != 0 {
				p = i
				break
			}
		}
		if p < 0 {
			continue
		}
		rows[rank], rows[p] = rows[p], rows[rank]
		inv := new(big.Rat).Inv(rows[rank][c])
		for j := c; j < n; j++ {
			rows[rank][j].Mul(rows[rank][j], inv)
		}
		for i := range rows {
			if i == rank || rows[i][c].Sign() == 0 {
				continue
			}
			f := new(big.Rat).Set(rows[i][c])
			for j := c; j < n; j++ {
				if rows[rank][j].Sign() != 0 {
					rows[i][j].Sub(rows[i][j], new(big.Rat).Mul(f, rows[rank][j]))
				}
			}
		}
		pivots = append(pivots, c)
		rank++
	}
	var det []int
	for i, c := range pivots {
		alone := true
		for j := range n {
			if j != c && rows[i][j].Sign() != 0 {
				alone = false
				break
			}
		}
		if alone {
			det = append(det, cols[c])
		}
	}
	return det
}

package audit

import (
	"math/big"
	"strconv"
	"testing"
)

// This file checks audit results from first principles, with code that
// shares nothing with the audit: dense matrices of big.Rat.

// ratValue is a cell value as an exact decimal.
func ratValue(v float64) *big.Rat {
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(v, 'g', -1, 64))
	if !ok {
		panic("bad value")
	}
	return r
}

// relationRows returns every relation of s as a map from cell to
// coefficient, in the form of the package documentation, in the order
// Sums, then Ratios; unpublished ratios give an empty map.
func relationRows(s *System) []map[int]*big.Rat {
	var rows []map[int]*big.Rat
	for _, sum := range s.Sums {
		row := map[int]*big.Rat{sum.Total: big.NewRat(1, 1)}
		for _, p := range sum.Parts {
			row[p] = big.NewRat(-1, 1)
		}
		rows = append(rows, row)
	}
	for _, r := range s.Ratios {
		row := map[int]*big.Rat{}
		if r.Published {
			den := ratValue(s.Cells[r.Denominator].Value)
			if den.Sign() == 0 {
				row[r.Denominator] = big.NewRat(1, 1)
			} else {
				ratio := new(big.Rat).Quo(ratValue(s.Cells[r.Numerator].Value), den)
				row[r.Numerator] = big.NewRat(1, 1)
				if ratio.Sign() != 0 {
					row[r.Denominator] = ratio.Neg(ratio)
				}
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func relationIndex(s *System, r Relation) int {
	if r.Kind == RatioRelation {
		return len(s.Sums) + r.Index
	}
	return r.Index
}

// checkDerivations verifies every finding: its derivation isolates the cell
// using only cells the reader knows at that point, and gives its value.
func checkDerivations(t testing.TB, s *System, attackers []Attacker, findings []Finding) {
	t.Helper()
	rows := relationRows(s)
	known := map[string]map[int]bool{"": {}}
	for c, cell := range s.Cells {
		if cell.Published {
			known[""][c] = true
		}
	}
	for _, a := range attackers {
		known[a.Name] = map[int]bool{}
		for _, c := range a.Knows {
			known[a.Name][c] = true
		}
	}
	knows := func(reader string, c int) bool { return known[""][c] || known[reader][c] }
	for _, f := range findings {
		if len(f.Derivation) == 0 {
			cell := s.Cells[f.Cell]
			if f.Attacker != "" || !cell.Published || !cell.Sensitive || f.Value != cell.Value {
				t.Errorf("%v: a finding without derivation that is not a published sensitive cell", f)
			}
			continue
		}
		if knows(f.Attacker, f.Cell) {
			t.Errorf("%v: the reader knew the cell already", f)
			continue
		}
		if s.Cells[f.Cell].Published || f.Name != s.Cells[f.Cell].Name || f.Sensitive != s.Cells[f.Cell].Sensitive {
			t.Errorf("%v: does not describe cell %d", f, f.Cell)
		}
		combo := map[int]*big.Rat{}
		for _, term := range f.Derivation {
			for c, coef := range rows[relationIndex(s, term.Relation)] {
				if combo[c] == nil {
					combo[c] = new(big.Rat)
				}
				combo[c].Add(combo[c], new(big.Rat).Mul(term.Coef, coef))
			}
		}
		value := new(big.Rat)
		ok := true
		for c, coef := range combo {
			switch {
			case coef.Sign() == 0:
			case c == f.Cell:
				if coef.Cmp(big.NewRat(1, 1)) != 0 {
					t.Errorf("%v: the derivation gives the cell coefficient %v", f, coef)
					ok = false
				}
			case !knows(f.Attacker, c):
				t.Errorf("%v: the derivation uses cell %q, which the reader does not know", f, s.Cells[c].Name)
				ok = false
			default:
				value.Sub(value, new(big.Rat).Mul(coef, ratValue(s.Cells[c].Value)))
			}
		}
		if ok && combo[f.Cell] == nil {
			t.Errorf("%v: the derivation does not contain the cell", f)
		}
		if got, _ := value.Float64(); ok && got != f.Value {
			t.Errorf("%v: the derivation gives %v", f, got)
		}
		known[f.Attacker][f.Cell] = true
	}
}

// determinedByRank returns the withheld cells that the reader who knows the
// published cells and the cells in extra can compute: x is determined if
// and only if deleting its column from the matrix of the relations
// restricted to unknown cells lowers the rank.
func determinedByRank(s *System, extra map[int]bool) map[int]bool {
	var unknown []int
	for c, cell := range s.Cells {
		if !cell.Published && !extra[c] {
			unknown = append(unknown, c)
		}
	}
	rows := relationRows(s)
	matrix := func(skip int) [][]*big.Rat {
		var m [][]*big.Rat
		for _, row := range rows {
			var r []*big.Rat
			for _, c := range unknown {
				if c == skip {
					continue
				}
				v := new(big.Rat)
				if x := row[c]; x != nil {
					v.Set(x)
				}
				r = append(r, v)
			}
			m = append(m, r)
		}
		return m
	}
	full := rank(matrix(-1))
	out := map[int]bool{}
	for _, c := range unknown {
		if rank(matrix(c)) < full {
			out[c] = true
		}
	}
	return out
}

// rank is the rank of m by Gaussian elimination; it destroys m.
func rank(m [][]*big.Rat) int {
	if len(m) == 0 {
		return 0
	}
	r := 0
	for col := 0; col < len(m[0]) && r < len(m); col++ {
		p := -1
		for i := r; i < len(m); i++ {
			if m[i][col].Sign() != 0 {
				p = i
				break
			}
		}
		if p < 0 {
			continue
		}
		m[r], m[p] = m[p], m[r]
		for i := r + 1; i < len(m); i++ {
			if m[i][col].Sign() == 0 {
				continue
			}
			f := new(big.Rat).Quo(m[i][col], m[r][col])
			for j := col; j < len(m[i]); j++ {
				m[i][j].Sub(m[i][j], new(big.Rat).Mul(f, m[r][j]))
			}
		}
		r++
	}
	return r
}

// expectedFindings returns, by brute force, the cells each reader can
// compute that it did not know, and the published sensitive cells, as
// findingNames would list them (in any order).
func expectedFindings(s *System, attackers []Attacker) map[string]bool {
	out := map[string]bool{}
	for _, c := range s.Cells {
		if c.Published && c.Sensitive {
			out[c.Name] = true
		}
	}
	outsider := determinedByRank(s, nil)
	for c := range outsider {
		out[s.Cells[c].Name] = true
	}
	for _, a := range attackers {
		extra := map[int]bool{}
		for _, c := range a.Knows {
			extra[c] = true
		}
		for c := range determinedByRank(s, extra) {
			if !outsider[c] && !extra[c] {
				out[a.Name+":"+s.Cells[c].Name] = true
			}
		}
	}
	return out
}

package audit

import (
	"math/big"
	"slices"

	"github.com/zorgkit/zorgkit/disclosure/audit/internal/sparse"
)

// model is a System turned into integer equations over its cells, the form
// both audits work on. Relation k is Sums[k] for k < len(Sums) and
// Ratios[k-len(Sums)] beyond.
type model struct {
	s *System

	// rows[k] is relation k as an integer row over cell indices, zero for
	// the true values; it is empty for a ratio that is not published.
	rows []sparse.Vec

	// scale[k] is the factor by which rows[k] is the relation as the
	// package documentation writes it (1 for a Sum).
	scale []sparse.Int

	// rels[c] lists the relations with an entry for cell c, ascending.
	rels [][]int32

	values []*big.Rat // exact cell values, made on demand by value
}

func newModel(s *System) *model {
	m := &model{
		s:      s,
		rows:   make([]sparse.Vec, len(s.Sums)+len(s.Ratios)),
		scale:  make([]sparse.Int, len(s.Sums)+len(s.Ratios)),
		rels:   make([][]int32, len(s.Cells)),
		values: make([]*big.Rat, len(s.Cells)),
	}
	one, minusOne := sparse.NewInt(1), sparse.NewInt(-1)
	for k, sum := range s.Sums {
		row := sparse.Vec{Idx: make([]int32, 0, len(sum.Parts)+1), Val: make([]sparse.Int, 0, len(sum.Parts)+1)}
		row.Idx = append(row.Idx, int32(sum.Total))
		for _, p := range sum.Parts {
			row.Idx = append(row.Idx, int32(p))
		}
		slices.Sort(row.Idx)
		for _, c := range row.Idx {
			if int(c) == sum.Total {
				row.Val = append(row.Val, one)
			} else {
				row.Val = append(row.Val, minusOne)
			}
		}
		m.rows[k], m.scale[k] = row, one
	}
	for i, r := range s.Ratios {
		k := len(s.Sums) + i
		m.scale[k] = one
		if !r.Published {
			continue
		}
		den := m.value(r.Denominator)
		if den.Sign() == 0 {
			// The ratio shows as undefined: the denominator is zero.
			m.rows[k] = sparse.Vec{Idx: []int32{int32(r.Denominator)}, Val: []sparse.Int{one}}
			continue
		}
		// Numerator − (p/q)·Denominator = 0, times q: q·N − p·D = 0.
		p, q := sparse.Frac(new(big.Rat).Quo(m.value(r.Numerator), den))
		m.scale[k] = q
		entries := []struct {
			cell int
			val  sparse.Int
		}{{r.Numerator, q}, {r.Denominator, p.Neg()}}
		if r.Denominator < r.Numerator {
			entries[0], entries[1] = entries[1], entries[0]
		}
		var row sparse.Vec
		for _, e := range entries {
			if !e.val.IsZero() {
				row.Idx = append(row.Idx, int32(e.cell))
				row.Val = append(row.Val, e.val)
			}
		}
		m.rows[k] = row
	}
	for k, row := range m.rows {
		for _, c := range row.Idx {
			m.rels[c] = append(m.rels[c], int32(k))
		}
	}
	return m
}

// value returns the exact value of cell c.
func (m *model) value(c int) *big.Rat {
	if m.values[c] == nil {
		m.values[c] = sparse.Decimal(m.s.Cells[c].Value)
	}
	return m.values[c]
}

// relation returns the public name of relation k.
func (m *model) relation(k int32) Relation {
	if int(k) < len(m.s.Sums) {
		return Relation{Kind: SumRelation, Index: int(k)}
	}
	return Relation{Kind: RatioRelation, Index: int(k) - len(m.s.Sums)}
}

// knowledge is what a reader knows: which cells, and for each relation how
// many of its cells remain unknown.
type knowledge struct {
	known   []bool
	unknown []int32
}

// newKnowledge returns the knowledge of a reader who sees the published
// cells.
func (m *model) newKnowledge() *knowledge {
	kn := &knowledge{known: make([]bool, len(m.s.Cells)), unknown: make([]int32, len(m.rows))}
	for c, cell := range m.s.Cells {
		kn.known[c] = cell.Published
	}
	for k, row := range m.rows {
		for _, c := range row.Idx {
			if !kn.known[c] {
				kn.unknown[k]++
			}
		}
	}
	return kn
}

func (kn *knowledge) clone() *knowledge {
	return &knowledge{known: slices.Clone(kn.known), unknown: slices.Clone(kn.unknown)}
}

// learn marks cell c known and appends to queue the relations that it
// leaves with a single unknown cell.
func (m *model) learn(kn *knowledge, c int32, queue []int32) []int32 {
	if kn.known[c] {
		return queue
	}
	kn.known[c] = true
	for _, k := range m.rels[c] {
		kn.unknown[k]--
		if kn.unknown[k] == 1 {
			queue = append(queue, k)
		}
	}
	return queue
}

// singles returns the relations with exactly one unknown cell.
func (m *model) singles(kn *knowledge) []int32 {
	var queue []int32
	for k, u := range kn.unknown {
		if u == 1 {
			queue = append(queue, int32(k))
		}
	}
	return queue
}

// peel solves the relations in queue, and those that become solvable, one
// at a time: a relation with a single unknown cell determines it. found is
// called for each cell so determined, with the relation that determines it,
// in the order of discovery.
func (m *model) peel(kn *knowledge, queue []int32, found func(cell, rel int32)) {
	for head := 0; head < len(queue); head++ {
		k := queue[head]
		if kn.unknown[k] != 1 {
			continue
		}
		for _, c := range m.rows[k].Idx {
			if !kn.known[c] {
				found(c, k)
				queue = m.learn(kn, c, queue)
				break
			}
		}
	}
}

// component is a set of relations that share unknown cells, with those
// cells: an independent part of what remains unknown.
type component struct {
	rels  []int32 // ascending
	cells []int32 // ascending
}

// components splits the relations in rels that still have two or more
// unknown cells into components, ordered by their first cell.
func (m *model) components(kn *knowledge, rels []int32) []component {
	return m.componentsOf(kn, rels, 2)
}

// componentsOf is components for the relations with at least minUnknown
// unknown cells.
func (m *model) componentsOf(kn *knowledge, rels []int32, minUnknown int32) []component {
	// Union-find over cells, by size with path halving; a cell is in the
	// forest once parent has an entry for it.
	parent := make(map[int32]int32)
	size := make(map[int32]int32)
	find := func(c int32) int32 {
		for parent[c] != c {
			parent[c] = parent[parent[c]]
			c = parent[c]
		}
		return c
	}
	var core []int32
	for _, k := range rels {
		if kn.unknown[k] < minUnknown {
			continue
		}
		core = append(core, k)
		root := int32(-1)
		for _, c := range m.rows[k].Idx {
			if kn.known[c] {
				continue
			}
			if _, ok := parent[c]; !ok {
				parent[c], size[c] = c, 1
			}
			r := find(c)
			switch {
			case root < 0:
				root = r
			case r != root:
				if size[r] > size[root] {
					r, root = root, r
				}
				parent[r] = root
				size[root] += size[r]
			}
		}
	}
	byRoot := make(map[int32]*component)
	for c := range parent {
		r := find(c)
		comp := byRoot[r]
		if comp == nil {
			comp = &component{}
			byRoot[r] = comp
		}
		comp.cells = append(comp.cells, c)
	}
	for _, k := range core {
		for _, c := range m.rows[k].Idx {
			if !kn.known[c] {
				comp := byRoot[find(c)]
				comp.rels = append(comp.rels, k)
				break
			}
		}
	}
	out := make([]component, 0, len(byRoot))
	for _, comp := range byRoot {
		slices.Sort(comp.cells)
		out = append(out, *comp)
	}
	slices.SortFunc(out, func(a, b component) int { return int(a.cells[0] - b.cells[0]) })
	return out
}

package audit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
)

// hierarchy is a classification tree, such as region > municipality: code 0
// is the total, and every code comes after its parent.
type hierarchy struct {
	name     string
	parent   []int // parent[0] == -1
	children [][]int
}

// balanced returns a hierarchy in which the total has fanouts[0] children,
// each of those fanouts[1], and so on.
func balanced(name string, fanouts ...int) hierarchy {
	h := hierarchy{name: name, parent: []int{-1}, children: [][]int{nil}}
	level := []int{0}
	for _, f := range fanouts {
		var next []int
		for _, p := range level {
			for range f {
				c := len(h.parent)
				h.parent = append(h.parent, p)
				h.children = append(h.children, nil)
				h.children[p] = append(h.children[p], c)
				next = append(next, c)
			}
		}
		level = next
	}
	return h
}

// randomHierarchy returns a small tree with up to depth levels below the
// total, each code having 1 to maxFan children (a code with one child is a
// subtotal equal to its only part, as real classifications have).
func randomHierarchy(r *rand.Rand, name string, depth, maxFan int) hierarchy {
	h := hierarchy{name: name, parent: []int{-1}, children: [][]int{nil}}
	level := []int{0}
	for d := 0; d < depth; d++ {
		var next []int
		for _, p := range level {
			if d > 0 && r.IntN(3) == 0 {
				continue // a leaf above the lowest level
			}
			for range 1 + r.IntN(maxFan) {
				c := len(h.parent)
				h.parent = append(h.parent, p)
				h.children = append(h.children, nil)
				h.children[p] = append(h.children[p], c)
				next = append(next, c)
			}
		}
		level = next
	}
	return h
}

// hierarchicalTable returns the System of a table with the given dimensions
// and every subtotal: one cell for each combination of codes, and for every
// cell and dimension in which its code has children, the Sum of the cells
// with those children. inner gives the value of each inner cell (all codes
// leaves); the other values are their sums. All cells are published.
func hierarchicalTable(dims []hierarchy, inner func() float64) *System {
	size := 1
	for _, d := range dims {
		size *= len(d.parent)
	}
	s := &System{Cells: make([]Cell, size)}
	codes := make([]int, len(dims))
	decode := func(i int) {
		for d := len(dims) - 1; d >= 0; d-- {
			codes[d] = i % len(dims[d].parent)
			i /= len(dims[d].parent)
		}
	}
	encode := func() int {
		i := 0
		for d := range dims {
			i = i*len(dims[d].parent) + codes[d]
		}
		return i
	}
	values := make([]float64, size)
	var name strings.Builder
	for i := range size {
		decode(i)
		leaf := true
		name.Reset()
		for d, c := range codes {
			if d > 0 {
				name.WriteByte(';')
			}
			fmt.Fprintf(&name, "%s=%d", dims[d].name, c)
			leaf = leaf && len(dims[d].children[c]) == 0
		}
		s.Cells[i] = Cell{Name: name.String(), Published: true}
		if leaf {
			values[i] = inner()
		}
	}
	// Sum up one dimension at a time, children before parents.
	for d := range dims {
		for i := size - 1; i >= 0; i-- {
			decode(i)
			if p := dims[d].parent[codes[d]]; p >= 0 && leafBelow(dims, codes, d) {
				child := values[i]
				codes[d] = p
				values[encode()] += child
			}
		}
	}
	for i := range size {
		s.Cells[i].Value = values[i]
		decode(i)
		for d := range dims {
			kids := dims[d].children[codes[d]]
			if len(kids) == 0 {
				continue
			}
			sum := Sum{Total: i}
			c := codes[d]
			for _, k := range kids {
				codes[d] = k
				sum.Parts = append(sum.Parts, encode())
			}
			codes[d] = c
			s.Sums = append(s.Sums, sum)
		}
	}
	return s
}

// leafBelow reports whether the codes of dimensions after d are leaves, so
// that adding the cell into its parent in dimension d counts each inner
// value once: dimension d sums cells that are already totals over the
// dimensions before it and inner in those after it.
func leafBelow(dims []hierarchy, codes []int, d int) bool {
	for e := d + 1; e < len(dims); e++ {
		if len(dims[e].children[codes[e]]) > 0 {
			return false
		}
	}
	return true
}

// frequencies returns inner values for a frequency table: a share small of
// the inner cells has fewer than threshold contributors (1 to threshold−1),
// the rest from threshold up to 20 times it.
func frequencies(r *rand.Rand, small float64, threshold int) func() float64 {
	return func() float64 {
		if r.Float64() < small {
			return float64(1 + r.IntN(threshold-1))
		}
		return float64(threshold + r.IntN(20*threshold))
	}
}

// suppressPrimaries withholds, naively, exactly the inner cells below
// threshold and marks them sensitive.
func suppressPrimaries(s *System, threshold float64) int {
	n := 0
	inner := innerCells(s)
	for i := range s.Cells {
		if inner[i] && s.Cells[i].Value < threshold {
			s.Cells[i].Published = false
			s.Cells[i].Sensitive = true
			n++
		}
	}
	return n
}

// innerCells reports which cells are no Sum's total.
func innerCells(s *System) []bool {
	inner := make([]bool, len(s.Cells))
	for i := range inner {
		inner[i] = true
	}
	for _, sum := range s.Sums {
		inner[sum.Total] = false
	}
	return inner
}

// protect withholds more cells until the exact audit finds nothing: a
// simple greedy secondary suppression, for tests and benchmarks that need a
// protected table (package disclosure does this properly). For each
// finding it withholds the smallest published cell of a relation in its
// derivation. It returns the number of rounds.
func protect(s *System) int {
	for round := 1; ; round++ {
		findings, err := Exact(context.Background(), s)
		if err != nil {
			panic(err)
		}
		if len(findings) == 0 {
			return round
		}
		inner := innerCells(s)
		hidden := 0
		for _, f := range findings {
			best := -1
			for _, t := range f.Derivation {
				if t.Relation.Kind != SumRelation {
					continue
				}
				sum := s.Sums[t.Relation.Index]
				for _, c := range sum.Parts {
					if s.Cells[c].Published && s.Cells[c].Value > 0 && (best < 0 || less(s, inner, c, best)) {
						best = c
					}
				}
			}
			if best >= 0 && s.Cells[best].Published {
				s.Cells[best].Published = false
				hidden++
			}
		}
		if hidden == 0 {
			panic("protect: no cell left to withhold")
		}
	}
}

// less orders candidates for secondary suppression: inner cells before
// subtotals, then smaller values first.
func less(s *System, inner []bool, a, b int) bool {
	if inner[a] != inner[b] {
		return inner[a]
	}
	return s.Cells[a].Value < s.Cells[b].Value
}

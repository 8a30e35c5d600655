package audit

import (
	"fmt"
	"testing"
)

// builder makes Systems by cell name, for readable tests.
type builder struct {
	s     System
	index map[string]int
}

func newBuilder() *builder { return &builder{index: map[string]int{}} }

// cell adds a cell; hidden cells are withheld, and sensitive if marked so.
func (b *builder) cell(name string, value float64) int {
	b.index[name] = len(b.s.Cells)
	b.s.Cells = append(b.s.Cells, Cell{Name: name, Value: value, Published: true})
	return b.index[name]
}

func (b *builder) id(name string) int {
	i, ok := b.index[name]
	if !ok {
		panic("no cell " + name)
	}
	return i
}

// hide withholds cells; primary marks them sensitive as well.
func (b *builder) hide(names ...string) *builder {
	for _, n := range names {
		b.s.Cells[b.id(n)].Published = false
	}
	return b
}

func (b *builder) primary(names ...string) *builder {
	for _, n := range names {
		c := &b.s.Cells[b.id(n)]
		c.Published, c.Sensitive = false, true
	}
	return b
}

func (b *builder) sum(total string, parts ...string) {
	s := Sum{Total: b.id(total)}
	for _, p := range parts {
		s.Parts = append(s.Parts, b.id(p))
	}
	b.s.Sums = append(b.s.Sums, s)
}

// grid adds an r×c table named prefix with cells prefix[i,j] (1-based), row
// totals prefix[i,T], column totals prefix[T,j] and grand total prefix[T,T],
// with the Sums that tie them.
func (b *builder) grid(prefix string, values [][]float64) {
	rows, cols := len(values), len(values[0])
	name := func(i, j int) string {
		is, js := "T", "T"
		if i > 0 {
			is = fmt.Sprint(i)
		}
		if j > 0 {
			js = fmt.Sprint(j)
		}
		return fmt.Sprintf("%s[%s,%s]", prefix, is, js)
	}
	colSum := make([]float64, cols)
	var grand float64
	for i := 1; i <= rows; i++ {
		var rowSum float64
		for j := 1; j <= cols; j++ {
			v := values[i-1][j-1]
			b.cell(name(i, j), v)
			rowSum += v
			colSum[j-1] += v
		}
		b.cell(name(i, 0), rowSum)
		grand += rowSum
	}
	for j := 1; j <= cols; j++ {
		b.cell(name(0, j), colSum[j-1])
	}
	b.cell(name(0, 0), grand)
	for i := 1; i <= rows; i++ {
		var parts []string
		for j := 1; j <= cols; j++ {
			parts = append(parts, name(i, j))
		}
		b.sum(name(i, 0), parts...)
	}
	for j := 0; j <= cols; j++ {
		var parts []string
		for i := 1; i <= rows; i++ {
			parts = append(parts, name(i, j))
		}
		b.sum(name(0, j), parts...)
	}
}

func (b *builder) system() *System { return &b.s }

// names returns the cell names of findings, with their attacker.
func findingNames(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		if f.Attacker == "" {
			out = append(out, f.Name)
		} else {
			out = append(out, f.Attacker+":"+f.Name)
		}
	}
	return out
}

var _ = testing.Short

// Package disclosuretest generates synthetic care tables for tests and
// benchmarks of package disclosure: three dimensions with two-level
// hierarchies (region > municipality, care category > care type, age group
// > age band), with about a third of the inner cells below the frequency
// threshold, as in the Gemeenteportaal's reports.
package disclosuretest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/zorgkit/zorgkit/disclosure"
)

// Table is a synthetic table: its dimensions, its specification, and its
// inner cells.
type Table struct {
	Dimensions []disclosure.Dimension
	Spec       disclosure.Spec
	Cells      []disclosure.Aggregate

	providers []string // per inner cell, the providers of its records, in turn
}

// Small returns a table of 16 × 16 × 21 = 5,376 cells.
func Small(seed uint64, providers int) *Table {
	return New(seed, providers, [3][2]int{{3, 4}, {3, 4}, {4, 4}})
}

// Large returns a table of 49 × 46 × 45 = 101,430 cells.
func Large(seed uint64, providers int) *Table {
	return New(seed, providers, [3][2]int{{6, 7}, {5, 8}, {4, 10}})
}

// New returns a table whose dimensions have fanout[d][0] groups of
// fanout[d][1] categories each. Inner cells hold counts: about 5% are
// empty, a third between 1 and 4, the rest between 5 and 60. With
// providers > 0, each region has a few of that many care providers, and
// each record has one of them as its Contributor, so that many small cells
// have a single provider.
func New(seed uint64, providers int, fanout [3][2]int) *Table {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	names := [3][2]string{{"regio", "gemeente"}, {"zorgcategorie", "zorgvorm"}, {"leeftijdsgroep", "leeftijd"}}
	t := &Table{Spec: disclosure.Spec{Name: "toewijzingen"}}
	var leaves [3][]string
	var region []int // per leaf of the first dimension, its group
	for d, f := range fanout {
		dim := disclosure.Dimension{Name: names[d][1]}
		for g := range f[0] {
			group := fmt.Sprintf("%s %d", names[d][0], g+1)
			dim.Categories = append(dim.Categories, disclosure.Category{Code: group})
			for c := range f[1] {
				leaf := fmt.Sprintf("%s %d.%d", names[d][1], g+1, c+1)
				dim.Categories = append(dim.Categories, disclosure.Category{Code: leaf, Parent: group})
				leaves[d] = append(leaves[d], leaf)
				if d == 0 {
					region = append(region, g)
				}
			}
		}
		t.Dimensions = append(t.Dimensions, dim)
		t.Spec.Dimensions = append(t.Spec.Dimensions, dim.Name)
	}
	// Providers per region: three or four of all providers.
	var regional [][]string
	if providers > 0 {
		regional = make([][]string, fanout[0][0])
		for g := range regional {
			for range 3 + r.IntN(2) {
				regional[g] = append(regional[g], fmt.Sprintf("aanbieder %d", 1+r.IntN(providers)))
			}
		}
	}
	for i, a := range leaves[0] {
		for _, b := range leaves[1] {
			for _, c := range leaves[2] {
				n := 5 + r.IntN(56)
				switch x := r.Float64(); {
				case x < 0.05:
					n = 0
				case x < 0.38:
					n = 1 + r.IntN(4)
				}
				cell := disclosure.Aggregate{Categories: []string{a, b, c}, Count: n}
				if n > 0 && regional != nil {
					// Small cells often have one provider.
					ps := regional[region[i]]
					if n < 5 && r.IntN(2) == 0 {
						ps = ps[r.IntN(len(ps)):][:1]
					}
					cell.Contributor = ps[0]
					for k := range n {
						if ps[k%len(ps)] != ps[0] {
							cell.Contributor = ""
						}
					}
					t.providers = append(t.providers, ps...)
					t.providers = append(t.providers, "")
				} else {
					t.providers = append(t.providers, "")
				}
				t.Cells = append(t.Cells, cell)
			}
		}
	}
	return t
}

// Skewed returns a table like New's whose inner counts are drawn from
// Poisson distributions with means that vary by municipality, care type
// and age band (log-normal factors, as the populations of municipalities
// and the use of care types do), so that small cells cluster in small
// municipalities and rare care types, and many subtotals are small too:
// sparser than New's tables, with more primary and fewer large cells.
// mean is the median of the cells' means.
func Skewed(seed uint64, providers int, fanout [3][2]int, mean float64) *Table {
	r := rand.New(rand.NewPCG(seed, 0x5ca1e))
	factors := make([][]float64, 3)
	for d, f := range fanout {
		factors[d] = make([]float64, f[0]*f[1])
		for i := range factors[d] {
			factors[d][i] = math.Exp(0.8 * r.NormFloat64())
		}
	}
	t := New(seed, providers, fanout)
	i := 0
	for a := range factors[0] {
		for b := range factors[1] {
			for c := range factors[2] {
				n := poisson(r, mean*factors[0][a]*factors[1][b]*factors[2][c])
				if t.Cells[i].Count > 0 && n == 0 {
					t.Cells[i].Contributor = ""
				}
				if n > 0 && t.Cells[i].Count == 0 {
					n = 0 // keep New's empty cells empty, and its providers
				}
				t.Cells[i].Count = n
				i++
			}
		}
	}
	return t
}

// Medium returns a skewed table (see Skewed) of 21 × 7 × 37 = 5,439 cells,
// 2,048 of them inner: four regions of four municipalities, two care
// categories of two care types, four age groups of eight age bands.
func Medium(seed uint64, providers int) *Table {
	return Skewed(seed, providers, [3][2]int{{4, 4}, {2, 2}, {4, 8}}, 1)
}

// Huge returns a skewed table (see Skewed) of 55 × 36 × 50 = 99,000
// cells, 60,480 of them inner.
func Huge(seed uint64, providers int) *Table {
	return Skewed(seed, providers, [3][2]int{{6, 8}, {5, 6}, {7, 6}}, 1)
}

// poisson draws from a Poisson distribution with mean m (Knuth's method,
// by parts for large means).
func poisson(r *rand.Rand, m float64) int {
	n := 0
	for m > 30 {
		n += poisson(r, 30)
		m -= 30
	}
	l, p := math.Exp(-m), 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return n
		}
		n++
	}
}

// Records returns the table's records: one per count of each inner cell,
// with Value 1 and the cell's providers in turn as Contributor.
func (t *Table) Records() []disclosure.Record {
	n := 0
	for _, c := range t.Cells {
		n += c.Count
	}
	out := make([]disclosure.Record, 0, n)
	p := 0
	for _, c := range t.Cells {
		start := p
		for t.providers[p] != "" {
			p++
		}
		ps := t.providers[start:p]
		p++
		for k := range c.Count {
			rec := disclosure.Record{Categories: c.Categories, Value: 1}
			if len(ps) > 0 {
				rec.Contributor = ps[k%len(ps)]
			}
			out = append(out, rec)
		}
	}
	return out
}

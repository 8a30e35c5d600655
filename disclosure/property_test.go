package disclosure_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/disclosure"
)

// randomDimension returns a dimension with 2–4 top categories, some of
// them groups of 2–3 leaves.
func randomDimension(r *rand.Rand, name string) disclosure.Dimension {
	d := disclosure.Dimension{Name: name}
	for i := range 2 + r.IntN(3) {
		top := fmt.Sprintf("%s%d", name, i)
		d.Categories = append(d.Categories, disclosure.Category{Code: top})
		if r.IntN(3) == 0 {
			for k := range 2 + r.IntN(2) {
				d.Categories = append(d.Categories, disclosure.Category{Code: fmt.Sprintf("%s.%d", top, k), Parent: top})
			}
		}
	}
	return d
}

// leaves returns the leaf codes of d.
func leaves(d disclosure.Dimension) []string {
	var out []string
	for _, c := range d.Categories {
		if !slices.ContainsFunc(d.Categories, func(o disclosure.Category) bool { return o.Parent == c.Code }) {
			out = append(out, c.Code)
		}
	}
	return out
}

// under reports whether leaf is category code or belongs to it.
func under(d disclosure.Dimension, code, leaf string) bool {
	if code == disclosure.DefaultTotal {
		return true
	}
	for c := leaf; c != ""; {
		if c == code {
			return true
		}
		i := slices.IndexFunc(d.Categories, func(o disclosure.Category) bool { return o.Code == c })
		c = d.Categories[i].Parent
	}
	return false
}

func nodes(d disclosure.Dimension) int { return len(d.Categories) + 1 }

type scenario struct {
	name    string
	dims    []disclosure.Dimension
	records []disclosure.Record
	specs   []disclosure.Spec
	rules   disclosure.Rules
}

// minFrequency is the smallest count the scenario's rules publish.
func (s scenario) minFrequency() int {
	if s.rules.MinFrequency == 0 {
		return disclosure.DefaultMinFrequency
	}
	return s.rules.MinFrequency
}

func randomScenario(r *rand.Rand, i int) scenario {
	s := scenario{name: fmt.Sprint(i)}
	for {
		s.dims = s.dims[:0]
		size := 1
		for k := range 2 + r.IntN(2) {
			d := randomDimension(r, string(rune('a'+k)))
			s.dims = append(s.dims, d)
			size *= nodes(d)
		}
		if size <= 150 {
			break
		}
	}
	names := func(ds []disclosure.Dimension) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.Name)
		}
		return out
	}
	contributors := []string{"", "", "p1", "p2", "p3"}
	if r.IntN(2) == 0 {
		contributors = []string{""}
	}
	nrec := 10 + r.IntN(60)
	for range nrec {
		rec := disclosure.Record{Value: float64(1 + r.IntN(100)), Contributor: contributors[r.IntN(len(contributors))]}
		for _, d := range s.dims {
			ls := leaves(d)
			// skewed, so that some cells are small and some empty
			rec.Categories = append(rec.Categories, ls[min(r.IntN(len(ls)), r.IntN(len(ls)))])
		}
		if r.IntN(3) > 0 {
			rec.Measured = []string{"ind"}
		}
		s.records = append(s.records, rec)
	}
	all := names(s.dims)
	switch r.IntN(5) {
	case 0: // one frequency table
		s.specs = []disclosure.Spec{{Name: "count", Dimensions: all}}
	case 1: // linked frequency tables over different dimensions
		s.specs = []disclosure.Spec{
			{Name: "first two", Dimensions: all[:2]},
			{Name: "last", Dimensions: all[len(all)-1:]},
		}
		if len(all) == 3 {
			s.specs = append(s.specs, disclosure.Spec{Name: "first and last", Dimensions: []string{all[0], all[2]}})
		}
	case 2: // magnitude
		s.specs = []disclosure.Spec{{Name: "sum", Kind: disclosure.Sum, Dimensions: all}}
		s.rules.Dominance = []disclosure.Dominance{{N: 1, K: 60}}
		s.rules.PPercent = 10
		s.rules.MinFrequency = 3
	case 3: // response rates with their counts
		s.specs = []disclosure.Spec{
			{Name: "count", Dimensions: all[:2]},
			{Name: "response", Kind: disclosure.Response, Dimensions: all[:2], Indicators: []string{"ind"}},
		}
	case 4: // row mode
		s.specs = []disclosure.Spec{{Name: "count", Dimensions: all, Profile: all[:1]}}
		s.rules.RowMode = true
		s.rules.MinFrequency = 3
	}
	s.rules.ZerosSensitive = r.IntN(4) == 0
	if !slices.ContainsFunc(s.specs, func(sp disclosure.Spec) bool { return sp.Kind == disclosure.Response }) {
		for i := range s.records {
			s.records[i].Measured = nil // no table declares the indicator
		}
	}
	return s
}

// TestProtectRandomTables: after protection the independent exact audit
// finds no disclosure, and every cell that fails the frequency rule is
// withheld.
func TestProtectRandomTables(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for i := range 150 {
		s := randomScenario(r, i)
		t.Run(s.name, func(t *testing.T) {
			tabs, err := disclosure.Tabulate(s.dims, s.records, s.specs...)
			require.NoError(t, err)
			p, err := tabs.Protect(context.Background(), s.rules)
			require.NoError(t, err)
			assertAuditClean(t, p)
			checkCounts(t, s, p)
		})
	}
}

// checkCounts recomputes every Count table from the records: published
// values are right and every small cell is withheld by a primary rule.
func checkCounts(t *testing.T, s scenario, p *disclosure.Protected) {
	t.Helper()
	minf := s.minFrequency()
	for _, spec := range s.specs {
		if spec.Kind != disclosure.Count {
			continue
		}
		tab := p.Table(spec.Name)
		for _, row := range tab.Rows() {
			n := 0
			for _, rec := range s.records {
				match := true
				for k, dn := range spec.Dimensions {
					d := slices.IndexFunc(s.dims, func(d disclosure.Dimension) bool { return d.Name == dn })
					if !under(s.dims[d], row.Categories[k], rec.Categories[d]) {
						match = false
					}
				}
				if match {
					n++
				}
			}
			c := row.Cells[0]
			switch {
			case n > 0 && n < minf || n == 0 && s.rules.ZerosSensitive:
				assert.Equal(t, disclosure.PrimarySuppressed, c.Status, "%v has %d records", row.Categories, n)
			case !c.Withheld():
				assert.Equal(t, float64(n), c.Value, "%v", row.Categories)
			}
			if c.Withheld() {
				assert.Zero(t, c.Value, "a withheld value leaked: %v", row.Categories)
			}
		}
	}
}

package disclosure_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/disclosure"
	"github.com/zorgkit/zorgkit/disclosure/audit"
	"github.com/zorgkit/zorgkit/disclosure/disclosuretest"
)

// records returns n records with the given categories and contributor.
func records(n int, contributor string, categories ...string) []disclosure.Record {
	out := make([]disclosure.Record, n)
	for i := range out {
		out[i] = disclosure.Record{Categories: categories, Contributor: contributor, Value: 1}
	}
	return out
}

// cells maps "cat1/cat2/..." to the table's first cell of that row.
func cells(t *testing.T, tab interface{ Rows() []disclosure.Row }) map[string]disclosure.Cell {
	t.Helper()
	require.NotNil(t, tab)
	out := map[string]disclosure.Cell{}
	for _, r := range tab.Rows() {
		out[strings.Join(r.Categories, "/")] = r.Cells[0]
	}
	return out
}

// statuses returns the status of every row as "P" (published), "p"
// (primary) or "s" (secondary), by row key.
func statuses(t *testing.T, tab interface{ Rows() []disclosure.Row }) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, c := range cells(t, tab) {
		out[k] = map[disclosure.Status]string{disclosure.Published: "P", disclosure.PrimarySuppressed: "p", disclosure.SecondarySuppressed: "s"}[c.Status]
	}
	return out
}

// assertAuditClean runs the independent exact audit on the protected
// tables: no reader, insiders included, can compute a primary cell, and
// every secondary cell protects something (no reader without inside
// knowledge can compute it). An insider may compute a secondary cell (say,
// its own): that discloses nothing.
func assertAuditClean(t *testing.T, p *disclosure.Protected) {
	t.Helper()
	sys, attackers := p.AuditSystem()
	findings, err := audit.Exact(context.Background(), &sys, attackers...)
	require.NoError(t, err)
	for _, f := range findings {
		assert.False(t, f.Sensitive, "disclosure: %v", f)
		if f.Attacker == "" && !strings.HasPrefix(f.Name, "unmeasured:") && !strings.HasPrefix(f.Name, "notapplicable:") {
			// The complements are no cells of a table: a reader may
			// compute them when they are not small.
			assert.Zero(t, f.Value, "a withheld cell any reader computes: %v", f)
		}
	}
}

var province = disclosure.Dimension{Name: "gemeente", Categories: []disclosure.Category{
	{Code: "Flevoland"}, {Code: "Almere", Parent: "Flevoland"}, {Code: "Lelystad", Parent: "Flevoland"},
	{Code: "Utrecht"},
}}

var careType = disclosure.Dimension{Name: "zorgvorm"} // flat, from the data

// The small two-way table with a hierarchy: one cell below 5 is protected
// by the cheapest rectangle inside its own province, because the province
// totals are published.
func TestProtectTwoWayTable(t *testing.T) {
	var recs []disclosure.Record
	recs = append(recs, records(20, "", "Almere", "jeugdhulp")...)
	recs = append(recs, records(3, "", "Almere", "wmo")...)
	recs = append(recs, records(12, "", "Lelystad", "jeugdhulp")...)
	recs = append(recs, records(9, "", "Lelystad", "wmo")...)
	recs = append(recs, records(30, "", "Utrecht", "jeugdhulp")...)
	recs = append(recs, records(25, "", "Utrecht", "wmo")...)
	tabs, err := disclosure.Tabulate([]disclosure.Dimension{province, careType}, recs,
		disclosure.Spec{Name: "toewijzingen", Dimensions: []string{"gemeente", "zorgvorm"}})
	require.NoError(t, err)
	p, err := tabs.Protect(context.Background(), disclosure.Rules{})
	require.NoError(t, err)
	want := map[string]string{
		"Totaal/Totaal": "P", "Totaal/jeugdhulp": "P", "Totaal/wmo": "P",
		"Flevoland/Totaal": "P", "Flevoland/jeugdhulp": "P", "Flevoland/wmo": "P",
		"Almere/Totaal": "P", "Almere/jeugdhulp": "s", "Almere/wmo": "p",
		"Lelystad/Totaal": "P", "Lelystad/jeugdhulp": "s", "Lelystad/wmo": "s",
		"Utrecht/Totaal": "P", "Utrecht/jeugdhulp": "P", "Utrecht/wmo": "P",
	}
	assert.Equal(t, want, statuses(t, p.Table("toewijzingen")))
	got := cells(t, p.Table("toewijzingen"))
	assert.Equal(t, disclosure.Frequency, got["Almere/wmo"].Reason)
	assert.Equal(t, disclosure.Complementary, got["Lelystad/wmo"].Reason)
	assert.Equal(t, 99.0, got["Totaal/Totaal"].Value)
	assert.Zero(t, got["Almere/wmo"].Value, "a withheld value leaves the package")
	assert.Equal(t, disclosure.Stats{Cells: 15, Primary: 1, Secondary: 3}, p.Stats())
	assertAuditClean(t, p)
}

// A contributor knows its own records. Two small cells in a line protect
// each other against outsiders, but not against the provider that alone
// makes up one of them: a third cell must be withheld.
func TestProtectAgainstInsiders(t *testing.T) {
	var recs []disclosure.Record
	recs = append(recs, records(2, "P", "A")...)
	recs = append(recs, records(2, "Q", "B")...)
	recs = append(recs, records(1, "R", "B")...)
	recs = append(recs, records(20, "Q", "C")...)
	recs = append(recs, records(30, "R", "D")...)
	dims := []disclosure.Dimension{{Name: "zorgvorm"}}
	spec := disclosure.Spec{Name: "t", Dimensions: []string{"zorgvorm"}}

	t.Run("anonymous records", func(t *testing.T) {
		anon := make([]disclosure.Record, len(recs))
		for i, r := range recs {
			r.Contributor = ""
			anon[i] = r
		}
		tabs, err := disclosure.Tabulate(dims, anon, spec)
		require.NoError(t, err)
		p, err := tabs.Protect(context.Background(), disclosure.Rules{})
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"Totaal": "P", "A": "p", "B": "p", "C": "P", "D": "P"}, statuses(t, p.Table("t")))
		assertAuditClean(t, p)
	})
	t.Run("provider P knows A", func(t *testing.T) {
		tabs, err := disclosure.Tabulate(dims, recs, spec)
		require.NoError(t, err)
		p, err := tabs.Protect(context.Background(), disclosure.Rules{})
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"Totaal": "P", "A": "p", "B": "p", "C": "s", "D": "P"}, statuses(t, p.Table("t")))
		_, attackers := p.AuditSystem()
		require.Len(t, attackers, 2, "P knows A, Q knows C")
		assert.Equal(t, `contributor "P"`, attackers[0].Name)
		assert.Equal(t, `contributor "Q"`, attackers[1].Name)
		assertAuditClean(t, p)
	})
}

// A record alone in its cell knows the cell (the singleton problem): two
// singletons in a line cannot protect each other.
func TestProtectSingletons(t *testing.T) {
	var recs []disclosure.Record
	recs = append(recs, records(1, "", "A")...)
	recs = append(recs, records(1, "", "B")...)
	recs = append(recs, records(20, "", "C")...)
	recs = append(recs, records(30, "", "D")...)
	tabs, err := disclosure.Tabulate([]disclosure.Dimension{{Name: "zorgvorm"}}, recs,
		disclosure.Spec{Name: "t", Dimensions: []string{"zorgvorm"}})
	require.NoError(t, err)
	p, err := tabs.Protect(context.Background(), disclosure.Rules{})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"Totaal": "P", "A": "p", "B": "p", "C": "s", "D": "P"}, statuses(t, p.Table("t")))
	assertAuditClean(t, p)
}

func TestProtectZeros(t *testing.T) {
	var recs []disclosure.Record
	recs = append(recs, records(10, "", "C")...)
	recs = append(recs, records(12, "", "D")...)
	dims := []disclosure.Dimension{{Name: "zorgvorm", Categories: []disclosure.Category{{Code: "A"}, {Code: "B"}, {Code: "C"}, {Code: "D"}}}}
	spec := disclosure.Spec{Name: "t", Dimensions: []string{"zorgvorm"}}
	tabs, err := disclosure.Tabulate(dims, recs, spec)
	require.NoError(t, err)
	tests := []struct {
		reason string
		rules  disclosure.Rules
		want   map[string]string
	}{
		{"empty cells are safe by default, and published", disclosure.Rules{},
			map[string]string{"Totaal": "P", "A": "P", "B": "P", "C": "P", "D": "P"}},
		{"sensitive empty cells cannot protect each other: a non-empty cell joins them", disclosure.Rules{ZerosSensitive: true},
			map[string]string{"Totaal": "P", "A": "p", "B": "p", "C": "s", "D": "P"}},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			p, err := tabs.Protect(context.Background(), tt.rules)
			require.NoError(t, err)
			assert.Equal(t, tt.want, statuses(t, p.Table("t")))
			assertAuditClean(t, p)
		})
	}
}

func TestMagnitudeRules(t *testing.T) {
	dims := []disclosure.Dimension{{Name: "zorgvorm"}}
	rec := func(cat, contributor string, v float64) disclosure.Record {
		return disclosure.Record{Categories: []string{cat}, Contributor: contributor, Value: v}
	}
	recs := []disclosure.Record{
		// A: dominated by p1 (90 of 100)
		rec("A", "p1", 90), rec("A", "p2", 4), rec("A", "p3", 3), rec("A", "p4", 2), rec("A", "p5", 1),
		// B: p% — the second largest estimates the largest too well
		rec("B", "p1", 50), rec("B", "p2", 46), rec("B", "p3", 2), rec("B", "p4", 1), rec("B", "p5", 1),
		// C: three contributors
		rec("C", "p1", 30), rec("C", "p2", 30), rec("C", "p3", 30),
		// D, E: safe
		rec("D", "p1", 20), rec("D", "p2", 20), rec("D", "p3", 20), rec("D", "p4", 20), rec("D", "p5", 20),
		rec("E", "p1", 30), rec("E", "p2", 25), rec("E", "p3", 20), rec("E", "p4", 15), rec("E", "p5", 15),
		// F: many records of one contributor count once
		rec("F", "p1", 10), rec("F", "p1", 10), rec("F", "p1", 10), rec("F", "p1", 10), rec("F", "p1", 10), rec("F", "p1", 10),
	}
	tabs, err := disclosure.Tabulate(dims, recs, disclosure.Spec{Name: "uren", Kind: disclosure.Sum, Dimensions: []string{"zorgvorm"}})
	require.NoError(t, err)
	p, err := tabs.Protect(context.Background(), disclosure.Rules{Dominance: []disclosure.Dominance{{N: 1, K: 80}}, PPercent: 10})
	require.NoError(t, err)
	got := cells(t, p.Table("uren"))
	assert.Equal(t, disclosure.Dominant, got["A"].Reason)
	assert.Equal(t, disclosure.PPercent, got["B"].Reason)
	assert.Equal(t, disclosure.Frequency, got["C"].Reason)
	assert.Equal(t, disclosure.Frequency, got["F"].Reason, "one contributor, six records")
	assert.Equal(t, disclosure.Published, got["Totaal"].Status)
	assert.Equal(t, 555.0, got["Totaal"].Value)
	assertAuditClean(t, p)
}

// The Gemeenteportaal's rule: a profile with fewer than 5 allocations is
// not shown to the municipality, in any measure; the provider sees all of
// its own data.
func TestSeedRowRule(t *testing.T) {
	var recs []disclosure.Record
	measured := func(rs []disclosure.Record, n int) []disclosure.Record {
		for i := range n {
			rs[i].Measured = []string{"kwaliteit"}
		}
		return rs
	}
	recs = append(recs, measured(records(4, "zorg-a", "Almere", "wmo"), 3)...)
	recs = append(recs, measured(records(4, "zorg-a", "Almere", "jeugdhulp"), 2)...)
	recs = append(recs, records(3, "zorg-d", "Almere", "jeugdhulp")...)
	recs = append(recs, measured(records(5, "zorg-b", "Lelystad", "wmo"), 5)...)
	recs = append(recs, measured(records(4, "zorg-d", "Lelystad", "wmo"), 4)...)
	recs = append(recs, measured(records(11, "zorg-b", "Lelystad", "jeugdhulp"), 6)...)
	recs = append(recs, measured(records(1, "zorg-d", "Lelystad", "jeugdhulp"), 1)...)
	recs = append(recs, measured(records(20, "zorg-c", "Utrecht", "wmo"), 20)...)
	recs = append(recs, records(10, "zorg-d", "Utrecht", "wmo")...)
	recs = append(recs, measured(records(23, "zorg-c", "Utrecht", "jeugdhulp"), 2)...)
	recs = append(recs, records(2, "zorg-d", "Utrecht", "jeugdhulp")...)
	dims := []disclosure.Dimension{province, careType}
	both := []string{"gemeente", "zorgvorm"}
	tabs, err := disclosure.Tabulate(dims, recs,
		disclosure.Spec{Name: "toewijzingen", Dimensions: both},
		disclosure.Spec{Name: "respons", Kind: disclosure.Response, Dimensions: both, Indicators: []string{"kwaliteit"}})
	require.NoError(t, err)

	t.Run("municipality", func(t *testing.T) {
		// Only the row rule: small counts inside a shown row are shown.
		p, err := tabs.Protect(context.Background(), disclosure.Rules{RowMode: true, MinFrequency: 1})
		require.NoError(t, err)
		counts := cells(t, p.Table("toewijzingen"))
		assert.Equal(t, disclosure.RowRule, counts["Almere/wmo"].Reason)
		for _, r := range p.Table("respons").Rows() {
			switch strings.Join(r.Categories[:2], "/") {
			case "Almere/wmo":
				for _, c := range r.Cells {
					assert.True(t, c.Withheld(), "the whole row is withheld: %v", r)
				}
				assert.Equal(t, disclosure.RowRule, r.Cells[1].Reason)
				assert.Equal(t, disclosure.Derived, r.Cells[2].Reason)
			case "Utrecht/jeugdhulp":
				assert.Equal(t, []disclosure.Cell{{Value: 25}, {Value: 2}, {Value: 2.0 / 25}}, r.Cells, "small numbers in a shown row are shown")
			}
		}
		// The withheld row is protected: its totals do not give it away.
		assert.True(t, counts["Almere/Totaal"].Withheld() || counts["Almere/jeugdhulp"].Withheld())
		assertAuditClean(t, p)
	})
	t.Run("provider", func(t *testing.T) {
		v, err := tabs.OwnerView("zorg-a")
		require.NoError(t, err)
		counts := cells(t, v.Table("toewijzingen"))
		assert.Equal(t, disclosure.Cell{Value: 4}, counts["Almere/wmo"], "the provider sees its small profile")
		assert.Equal(t, disclosure.Cell{Value: 8}, counts["Totaal/Totaal"], "and only its own records")
		assert.Equal(t, disclosure.Cell{Value: 0}, counts["Utrecht/wmo"])
		for _, r := range v.Table("respons").Rows() {
			for _, c := range r.Cells {
				assert.False(t, c.Withheld())
			}
		}
	})
	t.Run("no owner view without a contributor", func(t *testing.T) {
		_, err := tabs.OwnerView("")
		assert.ErrorIs(t, err, disclosure.ErrNoContributor)
	})
}

// Linked tables: a report per municipality and care type and one per care
// type and age are margins of one cross-classification; they are
// protected together, and a cell they share has one status.
func TestLinkedTables(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	dims := []disclosure.Dimension{province, careType, {Name: "leeftijd"}}
	var recs []disclosure.Record
	for _, g := range []string{"Almere", "Lelystad", "Utrecht"} {
		for _, z := range []string{"jeugdhulp", "wmo", "wlz"} {
			for _, a := range []string{"0-17", "18-64", "65+"} {
				recs = append(recs, records(r.IntN(9), "", g, z, a)...)
			}
		}
	}
	tabs, err := disclosure.Tabulate(dims, recs,
		disclosure.Spec{Name: "gemeente × zorgvorm", Dimensions: []string{"gemeente", "zorgvorm"}},
		disclosure.Spec{Name: "zorgvorm × leeftijd", Dimensions: []string{"zorgvorm", "leeftijd"}},
		disclosure.Spec{Name: "gemeente", Dimensions: []string{"gemeente"}})
	require.NoError(t, err)
	p, err := tabs.Protect(context.Background(), disclosure.Rules{})
	require.NoError(t, err)
	assertAuditClean(t, p)
	a := cells(t, p.Table("gemeente × zorgvorm"))
	b := cells(t, p.Table("zorgvorm × leeftijd"))
	c := cells(t, p.Table("gemeente"))
	for _, z := range []string{"Totaal", "jeugdhulp", "wmo", "wlz"} {
		assert.Equal(t, a["Totaal/"+z], b[z+"/Totaal"], "care type %s in both tables", z)
	}
	for _, g := range []string{"Totaal", "Flevoland", "Almere", "Lelystad", "Utrecht"} {
		assert.Equal(t, a[g+"/Totaal"], c[g], "municipality %s in both tables", g)
	}
	assert.Positive(t, p.Stats().Hidden, "the tables are linked by the hidden cross-classification")
}

// The same records in another order give the same pattern.
func TestProtectDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	s := randomScenario(r, 0)
	for s.specs[0].Kind != disclosure.Count {
		s = randomScenario(r, 0)
	}
	tabs, err := disclosure.Tabulate(s.dims, s.records, s.specs...)
	require.NoError(t, err)
	p1, err := tabs.Protect(context.Background(), s.rules)
	require.NoError(t, err)
	shuffled := append([]disclosure.Record(nil), s.records...)
	r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	tabs2, err := disclosure.Tabulate(s.dims, shuffled, s.specs...)
	require.NoError(t, err)
	p2, err := tabs2.Protect(context.Background(), s.rules)
	require.NoError(t, err)
	for i, tab := range p1.Tables() {
		assert.Equal(t, tab.Rows(), p2.Tables()[i].Rows())
	}
}

// The audit system carries what a reader sees: publishing the secondary
// suppressions again (naive suppression of the small cells only) lets the
// independent audit find the disclosures, by any reader and by an insider.
func TestAuditFindsNaiveSuppression(t *testing.T) {
	var recs []disclosure.Record
	recs = append(recs, records(2, "P", "A")...)
	recs = append(recs, records(3, "Q", "B")...)
	recs = append(recs, records(20, "Q", "C")...)
	recs = append(recs, records(30, "R", "D")...)
	recs = append(recs, records(12, "R", "E")...)
	tabs, err := disclosure.Tabulate([]disclosure.Dimension{{Name: "zorgvorm"}}, recs,
		disclosure.Spec{Name: "t", Dimensions: []string{"zorgvorm"}})
	require.NoError(t, err)
	p, err := tabs.Protect(context.Background(), disclosure.Rules{})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"Totaal": "P", "A": "p", "B": "p", "C": "P", "D": "P", "E": "s"}, statuses(t, p.Table("t")))
	assertAuditClean(t, p)

	sys, attackers := p.AuditSystem()
	for i, c := range sys.Cells {
		if c.Name == "count[zorgvorm=E]" {
			sys.Cells[i].Published = true
		}
	}
	findings, err := audit.Exact(context.Background(), &sys, attackers...)
	require.NoError(t, err)
	var got []string
	for _, f := range findings {
		if f.Sensitive {
			got = append(got, f.Attacker+": "+f.Name)
		}
	}
	assert.Equal(t, []string{`contributor "P": count[zorgvorm=B]`, `contributor "Q": count[zorgvorm=A]`}, got,
		"A and B protect each other against outsiders, not against P, who knows A, nor Q, who knows B")

	for i, c := range sys.Cells {
		if c.Name == "count[zorgvorm=A]" {
			sys.Cells[i].Published = true
		}
	}
	findings, err = audit.Exact(context.Background(), &sys, attackers...)
	require.NoError(t, err)
	require.NotEmpty(t, findings)
	var outsider []string // what any reader computes; a published A is itself a finding
	for _, f := range findings {
		if f.Attacker == "" && f.Name != "count[zorgvorm=A]" {
			outsider = append(outsider, f.Name)
		}
	}
	assert.Equal(t, []string{"count[zorgvorm=B]"}, outsider, "with A published, anyone computes B")
}

// The audit system states the interval protection each primary cell needs.
func TestAuditSystemMargins(t *testing.T) {
	rec := func(cat, contributor string, v float64) disclosure.Record {
		return disclosure.Record{Categories: []string{cat}, Contributor: contributor, Value: v}
	}
	recs := []disclosure.Record{
		rec("A", "p1", 50), rec("A", "p2", 46), rec("A", "p3", 2), rec("A", "p4", 1), rec("A", "p5", 1),
		rec("B", "p1", 2), rec("B", "p2", 2),
		rec("C", "p1", 20), rec("C", "p2", 20), rec("C", "p3", 20), rec("C", "p4", 20), rec("C", "p5", 20),
		rec("D", "p1", 20), rec("D", "p2", 25), rec("D", "p3", 20), rec("D", "p4", 20), rec("D", "p5", 20),
	}
	tabs, err := disclosure.Tabulate([]disclosure.Dimension{{Name: "z"}}, recs,
		disclosure.Spec{Name: "uren", Kind: disclosure.Sum, Dimensions: []string{"z"}})
	require.NoError(t, err)
	p, err := tabs.Protect(context.Background(), disclosure.Rules{PPercent: 10, Margin: 0.02})
	require.NoError(t, err)
	sys, _ := p.AuditSystem()
	margins := map[string]float64{}
	for _, c := range sys.Cells {
		if c.Sensitive {
			margins[c.Name] = c.Margin
		} else {
			assert.Zero(t, c.Margin, "only primary cells need a margin")
		}
	}
	assert.Equal(t, map[string]float64{
		"sum[z=A]": 5,   // p% rule: 10% of the largest (50) is more than 2% of 100
		"sum[z=B]": 0.2, // p% rule too: 10% of 2, more than 2% of 4
	}, margins)
}

// The order in which categories and dimensions are declared changes the
// display order of the rows and columns, never the pattern: ties between
// candidates are broken by the categories' codes and the dimensions'
// names.
func TestProtectIndependentOfDeclarationOrder(t *testing.T) {
	key := func(dims []string, cats []string) string {
		parts := make([]string, len(dims))
		for i := range dims {
			parts[i] = dims[i] + "=" + cats[i]
		}
		slices.Sort(parts)
		return strings.Join(parts, ";")
	}
	pattern := func(t *testing.T, tab *disclosuretest.Table, recs bool) map[string]disclosure.Status {
		t.Helper()
		var tabs *disclosure.Tables
		var err error
		if recs {
			tabs, err = disclosure.Tabulate(tab.Dimensions, tab.Records(), tab.Spec)
		} else {
			tabs, err = disclosure.FromAggregates(tab.Dimensions, tab.Spec, tab.Cells)
		}
		require.NoError(t, err)
		p, err := tabs.Protect(context.Background(), disclosure.Rules{})
		require.NoError(t, err)
		out := map[string]disclosure.Status{}
		pt := p.Tables()[0]
		for _, row := range pt.Rows() {
			out[key(pt.Dimensions(), row.Categories)] = row.Cells[0].Status
		}
		return out
	}
	for _, tt := range []struct {
		name      string
		providers int
		records   bool
	}{
		{"aggregates", 0, false},
		{"records of 6 providers", 6, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tab := disclosuretest.New(3, tt.providers, [3][2]int{{3, 3}, {3, 3}, {2, 4}})
			want := pattern(t, tab, tt.records)
			r := rand.New(rand.NewPCG(5, 6))
			for range 3 {
				shuffled := *tab
				perm := r.Perm(len(tab.Dimensions))
				shuffled.Dimensions = make([]disclosure.Dimension, len(perm))
				shuffled.Spec.Dimensions = make([]string, len(perm))
				for i, d := range perm {
					shuffled.Dimensions[i] = tab.Dimensions[d]
					shuffled.Spec.Dimensions[i] = tab.Dimensions[d].Name
				}
				shuffled.Cells = slices.Clone(tab.Cells)
				for c := range shuffled.Cells {
					cats := make([]string, len(perm))
					for i, d := range perm {
						cats[i] = tab.Cells[c].Categories[d]
					}
					shuffled.Cells[c].Categories = cats
				}
				for d := range shuffled.Dimensions {
					cats := slices.Clone(shuffled.Dimensions[d].Categories)
					r.Shuffle(len(cats), func(i, j int) { cats[i], cats[j] = cats[j], cats[i] })
					shuffled.Dimensions[d].Categories = cats
				}
				assert.Equal(t, want, pattern(t, &shuffled, tt.records))
			}
		})
	}
}

// Decisions minus valid measurements is the non-response, which a response
// table publishes implicitly: 8 decisions and 6 measurements would publish
// a 2. It follows the frequency rule like a cell of the table.
func TestNonResponseIsProtected(t *testing.T) {
	measured := func(rs []disclosure.Record, n int) []disclosure.Record {
		for i := range n {
			rs[i].Measured = []string{"kwaliteit"}
		}
		return rs
	}
	var recs []disclosure.Record
	recs = append(recs, measured(records(8, "", "Almere"), 6)...)
	recs = append(recs, measured(records(30, "", "Lelystad"), 20)...)
	recs = append(recs, measured(records(40, "", "Utrecht"), 25)...)
	tabs, err := disclosure.Tabulate([]disclosure.Dimension{province}, recs,
		disclosure.Spec{Name: "respons", Kind: disclosure.Response, Dimensions: []string{"gemeente"}, Indicators: []string{"kwaliteit"}})
	require.NoError(t, err)
	p, err := tabs.Protect(context.Background(), disclosure.Rules{})
	require.NoError(t, err)
	rows := map[string][]disclosure.Cell{}
	for _, r := range p.Table("respons").Rows() {
		rows[r.Categories[0]] = r.Cells
	}
	almere := rows["Almere"]
	assert.True(t, almere[0].Withheld() || almere[1].Withheld(), "decisions and measurements of Almere give its non-response of 2: %v", almere)
	assert.True(t, almere[2].Withheld(), "and so does the rate")
	for _, g := range []string{"Flevoland", "Lelystad"} {
		assert.False(t, rows[g][0].Withheld() && rows[g][1].Withheld() && rows["Totaal"][0].Withheld(), "%s", g)
	}
	assertAuditClean(t, p)

	// The audit system states the non-response, so the audit finds it in a
	// naive pattern.
	sys, _ := p.AuditSystem()
	i := slices.IndexFunc(sys.Cells, func(c audit.Cell) bool { return c.Name == "unmeasured:kwaliteit[gemeente=Almere]" })
	require.GreaterOrEqual(t, i, 0)
	assert.True(t, sys.Cells[i].Sensitive)
	assert.Equal(t, 2.0, sys.Cells[i].Value)
	for c := range sys.Cells {
		if !sys.Cells[c].Sensitive && !strings.HasPrefix(sys.Cells[c].Name, "unmeasured:") {
			sys.Cells[c].Published = true
		}
	}
	findings, err := audit.Exact(context.Background(), &sys)
	require.NoError(t, err)
	assert.True(t, slices.ContainsFunc(findings, func(f audit.Finding) bool {
		return f.Sensitive && f.Name == "unmeasured:kwaliteit[gemeente=Almere]" && f.Value == 2
	}), "%v", findings)
}

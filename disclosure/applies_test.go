package disclosure_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/disclosure"
	"github.com/zorgkit/zorgkit/disclosure/audit"
)

// response returns n records in gemeente of contributor: the indicator
// "doel" applies to the first applicable (finished care) and is measured
// for the first measured of those.
func response(n, applicable, measured int, contributor, gemeente string) []disclosure.Record {
	out := records(n, contributor, gemeente)
	for i := range out {
		out[i].Applies = []string{}
		if i < applicable {
			out[i].Applies = []string{"doel"}
		}
		if i < measured {
			out[i].Measured = []string{"doel"}
		}
	}
	return out
}

var responseSpec = disclosure.Spec{Name: "respons", Kind: disclosure.Response, Dimensions: []string{"gemeente"}, Indicators: []string{"doel"}}

// rowsOf maps a response table's first category to its cells.
func rowsOf(tab interface{ Rows() []disclosure.Row }) map[string][]disclosure.Cell {
	out := map[string][]disclosure.Cell{}
	for _, r := range tab.Rows() {
		out[r.Categories[0]] = r.Cells
	}
	return out
}

// Running care (the indicator does not apply yet) does not lower the
// response rate: it divides the measurements by the applicable records,
// and the table says so with a column of its own.
func TestResponseDividesByApplicable(t *testing.T) {
	var recs []disclosure.Record
	recs = append(recs, response(40, 20, 15, "zorg-a", "Almere")...)   // 20 running
	recs = append(recs, response(30, 30, 15, "zorg-b", "Lelystad")...) // all finished
	recs = append(recs, response(50, 40, 30, "zorg-c", "Utrecht")...)
	tabs, err := disclosure.Tabulate([]disclosure.Dimension{province}, recs, responseSpec)
	require.NoError(t, err)
	p, err := tabs.Protect(context.Background(), disclosure.Rules{})
	require.NoError(t, err)
	tab := p.Table("respons")
	assert.Equal(t, []string{"decisions", "applicable", "measured", "rate_of_applicable"}, tab.Measures(), "the rate says what it divides by")
	rows := rowsOf(tab)
	for _, c := range []struct {
		gemeente                       string
		decisions, applicable, measure float64
	}{
		{"Almere", 40, 20, 15},
		{"Lelystad", 30, 30, 15},
		{"Utrecht", 50, 40, 30},
		{"Flevoland", 70, 50, 30},
		{"Totaal", 120, 90, 60},
	} {
		got := rows[c.gemeente]
		require.Len(t, got, 4)
		for _, cell := range got {
			require.False(t, cell.Withheld(), "%s: %v", c.gemeente, got)
		}
		assert.Equal(t, []float64{c.decisions, c.applicable, c.measure, c.measure / c.applicable},
			[]float64{got[0].Value, got[1].Value, got[2].Value, got[3].Value}, c.gemeente)
	}
	assertAuditClean(t, p)

	// The provider's own view divides the same way.
	own, err := tabs.OwnerView("zorg-a")
	require.NoError(t, err)
	mine := rowsOf(own.Table("respons"))["Almere"]
	assert.Equal(t, []float64{40, 20, 15, 0.75}, []float64{mine[0].Value, mine[1].Value, mine[2].Value, mine[3].Value})

	// An indicator that applies to no record of a cell has no rate there.
	var none []disclosure.Record
	none = append(none, response(10, 0, 0, "", "Almere")...)
	none = append(none, response(10, 10, 5, "", "Utrecht")...)
	tabs, err = disclosure.Tabulate([]disclosure.Dimension{province}, none, responseSpec)
	require.NoError(t, err)
	own, err = tabs.OwnerView("x")
	require.ErrorIs(t, err, disclosure.ErrUnknownContributor)
	require.Nil(t, own)
	p, err = tabs.Protect(context.Background(), disclosure.Rules{})
	require.NoError(t, err)
	var csv strings.Builder
	require.NoError(t, p.Table("respons").WriteCSV(&csv, disclosure.Format{}))
	assert.Contains(t, csv.String(), "gemeente,indicator,decisions,applicable,measured,rate_of_applicable\n")
	assert.Contains(t, csv.String(), "Almere,doel,10,0,0,.\n", "0 of 0 applicable: undefined, not 0%")
	assertAuditClean(t, p)
}

// Listing every indicator in Applies is the same as leaving it nil: the
// same protection, with the applicable records equal to the decisions.
func TestAppliesToAllIsNil(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 60; i++ {
		s := randomScenario(r, i)
		if !slices.ContainsFunc(s.specs, func(sp disclosure.Spec) bool { return sp.Kind == disclosure.Response }) {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			plain, err := disclosure.Tabulate(s.dims, s.records, s.specs...)
			require.NoError(t, err)
			explicit := slices.Clone(s.records)
			for k := range explicit {
				explicit[k].Applies = []string{"ind"}
			}
			listed, err := disclosure.Tabulate(s.dims, explicit, s.specs...)
			require.NoError(t, err)
			a, err := plain.Protect(context.Background(), s.rules)
			require.NoError(t, err)
			b, err := listed.Protect(context.Background(), s.rules)
			require.NoError(t, err)
			assert.Equal(t, a.Stats(), b.Stats())
			for _, tab := range a.Tables() {
				other := b.Table(tab.Name()).Rows()
				for k, row := range tab.Rows() {
					if tab.Kind() != disclosure.Response {
						assert.Equal(t, row, other[k])
						continue
					}
					got := other[k].Cells
					// As text, where NaN (a rate of 0/0) equals NaN.
					assert.Equal(t, fmt.Sprint([]disclosure.Cell{row.Cells[0], row.Cells[0], row.Cells[1], row.Cells[2]}), fmt.Sprint(got), "%v", row.Categories)
				}
			}
		})
	}
}

// A measured indicator that does not apply, or an unknown or repeated one
// in Applies, is an invalid record, not a measurement silently counted.
func TestAppliesErrors(t *testing.T) {
	for _, c := range []struct {
		name    string
		applies []string
		measure []string
		problem string
	}{
		{"measured, does not apply (running care)", []string{}, []string{"doel"}, `indicator "doel" is measured but does not apply`},
		{"measured, another applies", []string{"tevredenheid"}, []string{"doel"}, `indicator "doel" is measured but does not apply`},
		{"undeclared indicator applies", []string{"doel", "elders"}, nil, `indicator "elders" is not an indicator of any response table`},
		{"applies twice", []string{"doel", "doel"}, nil, `indicator "doel" applies twice`},
	} {
		t.Run(c.name, func(t *testing.T) {
			recs := records(6, "", "Almere")
			recs[3].Applies, recs[3].Measured = c.applies, c.measure
			spec := responseSpec
			spec.Indicators = []string{"doel", "tevredenheid"}
			tabs, err := disclosure.Tabulate([]disclosure.Dimension{province}, recs, spec)
			require.Nil(t, tabs)
			require.ErrorIs(t, err, disclosure.ErrRecord)
			var re *disclosure.RecordError
			require.True(t, errors.As(err, &re))
			assert.Equal(t, 3, re.Index)
			assert.Contains(t, re.Problem, c.problem)
		})
	}
}

// Decisions minus applicable records (the running care) is published by a
// response table as surely as the non-response: 30 decisions of which 28
// apply publish a 2. Both complements follow the frequency rule, and the
// audit system states them, so that the audit catches a pattern that
// protects the non-response but publishes a small "not applicable".
func TestNotApplicableIsProtected(t *testing.T) {
	var recs []disclosure.Record
	recs = append(recs, response(30, 28, 20, "", "Almere")...) // 2 running, 8 unmeasured
	recs = append(recs, response(30, 20, 12, "", "Lelystad")...)
	recs = append(recs, response(40, 30, 22, "", "Utrecht")...)
	tabs, err := disclosure.Tabulate([]disclosure.Dimension{province}, recs, responseSpec)
	require.NoError(t, err)
	for _, rules := range []disclosure.Rules{{}, {Intervals: true, Margin: 1}} {
		p, err := tabs.Protect(context.Background(), rules)
		require.NoError(t, err)
		almere := rowsOf(p.Table("respons"))["Almere"]
		assert.True(t, almere[0].Withheld() || almere[1].Withheld(), "30 decisions and 28 applicable give 2 running: %v", almere)
		assertAuditClean(t, p)
		if rules.Intervals {
			assertIntervalsHold(t, p)
		}
	}

	p, err := tabs.Protect(context.Background(), disclosure.Rules{})
	require.NoError(t, err)
	sys, _ := p.AuditSystem()
	name := "notapplicable:doel[gemeente=Almere]"
	i := slices.IndexFunc(sys.Cells, func(c audit.Cell) bool { return c.Name == name })
	require.GreaterOrEqual(t, i, 0)
	assert.True(t, sys.Cells[i].Sensitive)
	assert.Equal(t, 2.0, sys.Cells[i].Value)
	// A leaking pattern: every cell of the tables published, the
	// non-response protected.
	for c := range sys.Cells {
		if !sys.Cells[c].Sensitive && !strings.Contains(sys.Cells[c].Name, "applicable:") && !strings.HasPrefix(sys.Cells[c].Name, "unmeasured:") {
			sys.Cells[c].Published = true
		}
		if strings.HasPrefix(sys.Cells[c].Name, "applicable:") {
			sys.Cells[c].Published = true
		}
	}
	findings, err := audit.Exact(context.Background(), &sys)
	require.NoError(t, err)
	assert.True(t, slices.ContainsFunc(findings, func(f audit.Finding) bool {
		return f.Sensitive && f.Name == name && f.Value == 2
	}), "%v", findings)
	assert.False(t, slices.ContainsFunc(findings, func(f audit.Finding) bool {
		return f.Sensitive && strings.HasPrefix(f.Name, "unmeasured:doel[gemeente=Almere]")
	}), "the non-response of 8 is not small")
}

// Random response tables in which the indicator applies to some records:
// the exact audit finds no disclosure, every published figure is right,
// and no published row gives away a small complement.
func TestProtectRandomApplicability(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	n := 0
	for i := 0; n < 40; i++ {
		s := randomScenario(r, i)
		if !slices.ContainsFunc(s.specs, func(sp disclosure.Spec) bool { return sp.Kind == disclosure.Response }) {
			continue
		}
		n++
		for k := range s.records {
			if slices.Contains(s.records[k].Measured, "ind") || r.IntN(3) > 0 {
				s.records[k].Applies = []string{"ind"}
			} else {
				s.records[k].Applies = []string{}
			}
		}
		t.Run(s.name, func(t *testing.T) {
			tabs, err := disclosure.Tabulate(s.dims, s.records, s.specs...)
			require.NoError(t, err)
			p, err := tabs.Protect(context.Background(), s.rules)
			require.NoError(t, err)
			assertAuditClean(t, p)
			checkCounts(t, s, p)
			checkResponse(t, s, p)
		})
	}
}

// checkResponse recomputes every Response table from the records.
func checkResponse(t *testing.T, s scenario, p *disclosure.Protected) {
	t.Helper()
	minf := s.minFrequency()
	small := func(n int) bool { return n > 0 && n < minf }
	for _, spec := range s.specs {
		if spec.Kind != disclosure.Response {
			continue
		}
		for _, row := range p.Table(spec.Name).Rows() {
			var decisions, applicable, measured int
			for _, rec := range s.records {
				match := true
				for k, dn := range spec.Dimensions {
					d := slices.IndexFunc(s.dims, func(d disclosure.Dimension) bool { return d.Name == dn })
					if !under(s.dims[d], row.Categories[k], rec.Categories[d]) {
						match = false
					}
				}
				if !match {
					continue
				}
				decisions++
				if rec.Applies == nil || slices.Contains(rec.Applies, "ind") {
					applicable++
				}
				if slices.Contains(rec.Measured, "ind") {
					measured++
				}
			}
			c := row.Cells
			want := []int{decisions, applicable, measured}
			for k := range want {
				if !c[k].Withheld() {
					assert.Equal(t, float64(want[k]), c[k].Value, "%v measure %d", row.Categories, k)
				} else {
					assert.Zero(t, c[k].Value)
				}
			}
			if !c[3].Withheld() && applicable > 0 {
				assert.InDelta(t, float64(measured)/float64(applicable), c[3].Value, 1e-12, "%v", row.Categories)
			}
			if !c[0].Withheld() && !c[1].Withheld() {
				assert.False(t, small(decisions-applicable), "%v publishes %d not applicable", row.Categories, decisions-applicable)
			}
			if !c[1].Withheld() && !c[2].Withheld() {
				assert.False(t, small(applicable-measured), "%v publishes a non-response of %d", row.Categories, applicable-measured)
			}
		}
	}
}

// Two indicators that apply to the same records (both to ended care)
// share the family of the applicable records, and are protected as one;
// indicators that apply to different records each have their own. Either
// way every rate divides by its own indicator's applicable records.
func TestIndicatorsShareApplicable(t *testing.T) {
	spec := disclosure.Spec{Name: "respons", Kind: disclosure.Response, Dimensions: []string{"gemeente"}, Indicators: []string{"doel", "tevr"}}
	for _, c := range []struct {
		name     string
		tevr     func(i int) bool // whether tevr applies to record i of a municipality (doel: i < 20)
		families []string
	}{
		{"the same records", func(i int) bool { return i < 20 }, []string{"applicable:doel", "notapplicable:doel"}},
		{"other records", func(i int) bool { return i < 25 }, []string{"applicable:doel", "applicable:tevr", "notapplicable:doel", "notapplicable:tevr"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var recs []disclosure.Record
			for _, g := range []string{"Almere", "Lelystad", "Utrecht"} {
				for i, r := range records(30, "", g) {
					if i < 20 {
						r.Applies = append(r.Applies, "doel")
					}
					if c.tevr(i) {
						r.Applies = append(r.Applies, "tevr")
					}
					if r.Applies == nil {
						r.Applies = []string{}
					}
					if i < 10 {
						r.Measured = []string{"doel", "tevr"}
					}
					recs = append(recs, r)
				}
			}
			tabs, err := disclosure.Tabulate([]disclosure.Dimension{province}, recs, spec)
			require.NoError(t, err)
			p, err := tabs.Protect(context.Background(), disclosure.Rules{})
			require.NoError(t, err)
			assertAuditClean(t, p)
			sys, _ := p.AuditSystem()
			var fams []string
			for _, cell := range sys.Cells {
				if f, _, _ := strings.Cut(cell.Name, "["); strings.Contains(f, "applicable:") && !slices.Contains(fams, f) {
					fams = append(fams, f)
				}
			}
			slices.Sort(fams)
			assert.Equal(t, c.families, fams)
			applicable := map[string]float64{"doel": 60, "tevr": 60}
			if c.name == "other records" {
				applicable["tevr"] = 75
			}
			for _, r := range p.Table("respons").Rows() {
				if r.Categories[0] == "Totaal" {
					ind := r.Categories[1]
					assert.Equal(t, []float64{90, applicable[ind], 30, 30 / applicable[ind]},
						[]float64{r.Cells[0].Value, r.Cells[1].Value, r.Cells[2].Value, r.Cells[3].Value}, ind)
				}
			}
		})
	}
}

package disclosure_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/disclosure"
)

func TestTabulateErrors(t *testing.T) {
	flat := disclosure.Dimension{Name: "zorgvorm"}
	spec := disclosure.Spec{Name: "t", Dimensions: []string{"gemeente"}}
	ok := []disclosure.Record{{Categories: []string{"Almere"}}}
	tests := []struct {
		reason  string
		dims    []disclosure.Dimension
		records []disclosure.Record
		specs   []disclosure.Spec
		err     error
		msg     string
	}{
		{"unnamed dimension", []disclosure.Dimension{{}}, nil, []disclosure.Spec{spec}, disclosure.ErrDimension, "no name"},
		{"duplicate dimension", []disclosure.Dimension{province, province}, nil, []disclosure.Spec{spec}, disclosure.ErrDimension, "two dimensions"},
		{"duplicate code", []disclosure.Dimension{{Name: "g", Categories: []disclosure.Category{{Code: "a"}, {Code: "a"}}}}, nil, []disclosure.Spec{spec}, disclosure.ErrDimension, "twice"},
		{"unknown parent", []disclosure.Dimension{{Name: "g", Categories: []disclosure.Category{{Code: "a", Parent: "b"}}}}, nil, []disclosure.Spec{spec}, disclosure.ErrDimension, "not a category"},
		{"cycle", []disclosure.Dimension{{Name: "g", Categories: []disclosure.Category{{Code: "a", Parent: "b"}, {Code: "b", Parent: "a"}}}}, nil, []disclosure.Spec{spec}, disclosure.ErrDimension, "cycle"},
		{"category named as the total", []disclosure.Dimension{{Name: "g", Categories: []disclosure.Category{{Code: "Totaal"}}}}, nil, []disclosure.Spec{spec}, disclosure.ErrDimension, "label of the total"},
		{"flat dimension without data", []disclosure.Dimension{province, flat}, ok, []disclosure.Spec{spec}, disclosure.ErrRecord, "categories for 2 dimensions"},
		{"no tables", []disclosure.Dimension{province}, ok, nil, disclosure.ErrSpec, "no tables"},
		{"unnamed table", []disclosure.Dimension{province}, ok, []disclosure.Spec{{Dimensions: []string{"gemeente"}}}, disclosure.ErrSpec, "no name"},
		{"unknown dimension", []disclosure.Dimension{province}, ok, []disclosure.Spec{{Name: "t", Dimensions: []string{"leeftijd"}}}, disclosure.ErrSpec, "does not exist"},
		{"profile outside the table", []disclosure.Dimension{province}, ok, []disclosure.Spec{{Name: "t", Dimensions: []string{"gemeente"}, Profile: []string{"x"}}}, disclosure.ErrSpec, "profile"},
		{"response without indicators", []disclosure.Dimension{province}, ok, []disclosure.Spec{{Name: "t", Kind: disclosure.Response, Dimensions: []string{"gemeente"}}}, disclosure.ErrSpec, "indicators"},
		{"indicators on a count table", []disclosure.Dimension{province}, ok, []disclosure.Spec{{Name: "t", Dimensions: []string{"gemeente"}, Indicators: []string{"k"}}}, disclosure.ErrSpec, "only response"},
		{"two tables with one name", []disclosure.Dimension{province}, ok, []disclosure.Spec{spec, spec}, disclosure.ErrSpec, "two tables"},
		{"unknown category", []disclosure.Dimension{province}, []disclosure.Record{{Categories: []string{"Zwolle"}}}, []disclosure.Spec{spec}, disclosure.ErrRecord, `"Zwolle" is not in dimension`},
		{"group instead of a leaf", []disclosure.Dimension{province}, []disclosure.Record{{Categories: []string{"Flevoland"}}}, []disclosure.Spec{spec}, disclosure.ErrRecord, "is a group"},
		{"wrong number of categories", []disclosure.Dimension{province}, []disclosure.Record{{Categories: []string{"Almere", "wmo"}}}, []disclosure.Spec{spec}, disclosure.ErrRecord, "2 categories for 1"},
		{"negative value in a sum", []disclosure.Dimension{province}, []disclosure.Record{{Categories: []string{"Almere"}, Value: -1}},
			[]disclosure.Spec{{Name: "t", Kind: disclosure.Sum, Dimensions: []string{"gemeente"}}}, disclosure.ErrRecord, "negative"},
		{"no records", []disclosure.Dimension{province}, nil, []disclosure.Spec{spec}, disclosure.ErrEmpty, "no records"},
		{"a measurement of an indicator no table declares", []disclosure.Dimension{province}, []disclosure.Record{{Categories: []string{"Almere"}, Measured: []string{"kwaliteit"}}},
			[]disclosure.Spec{spec}, disclosure.ErrRecord, `indicator "kwaliteit" is not an indicator of any response table`},
		{"a misspelt indicator", []disclosure.Dimension{province}, []disclosure.Record{{Categories: []string{"Almere"}, Measured: []string{"kwalitiet"}}},
			[]disclosure.Spec{{Name: "r", Kind: disclosure.Response, Dimensions: []string{"gemeente"}, Indicators: []string{"kwaliteit"}}}, disclosure.ErrRecord, `"kwalitiet"`},
		{"an indicator measured twice", []disclosure.Dimension{province}, []disclosure.Record{{Categories: []string{"Almere"}, Measured: []string{"kwaliteit", "kwaliteit"}}},
			[]disclosure.Spec{{Name: "r", Kind: disclosure.Response, Dimensions: []string{"gemeente"}, Indicators: []string{"kwaliteit"}}}, disclosure.ErrRecord, "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			_, err := disclosure.Tabulate(tt.dims, tt.records, tt.specs...)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.err)
			assert.Contains(t, err.Error(), tt.msg)
			assert.Regexp(t, "^disclosure: ", err.Error())
		})
	}
}

func TestFromAggregatesErrors(t *testing.T) {
	dims := []disclosure.Dimension{province}
	spec := disclosure.Spec{Name: "t", Kind: disclosure.Sum, Dimensions: []string{"gemeente"}}
	tests := []struct {
		reason string
		spec   disclosure.Spec
		cells  []disclosure.Aggregate
		err    error
	}{
		{"response tables need records", disclosure.Spec{Name: "t", Kind: disclosure.Response, Dimensions: []string{"gemeente"}, Indicators: []string{"k"}}, nil, disclosure.ErrSpec},
		{"no cells", spec, nil, disclosure.ErrEmpty},
		{"same cell twice", spec, []disclosure.Aggregate{{Categories: []string{"Almere"}, Count: 1}, {Categories: []string{"Almere"}, Count: 2}}, disclosure.ErrRecord},
		{"negative count", spec, []disclosure.Aggregate{{Categories: []string{"Almere"}, Count: -1}}, disclosure.ErrRecord},
		{"value without contributors", spec, []disclosure.Aggregate{{Categories: []string{"Almere"}, Value: 3}}, disclosure.ErrRecord},
		{"largest not descending", spec, []disclosure.Aggregate{{Categories: []string{"Almere"}, Count: 2, Value: 10, Largest: []float64{2, 8}}}, disclosure.ErrRecord},
		{"largest above the value", spec, []disclosure.Aggregate{{Categories: []string{"Almere"}, Count: 2, Value: 10, Largest: []float64{8, 7}}}, disclosure.ErrRecord},
		{"more largest than contributors", spec, []disclosure.Aggregate{{Categories: []string{"Almere"}, Count: 1, Value: 10, Largest: []float64{5, 5}}}, disclosure.ErrRecord},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			_, err := disclosure.FromAggregates(dims, tt.spec, tt.cells)
			assert.ErrorIs(t, err, tt.err)
		})
	}
}

func TestRulesErrors(t *testing.T) {
	tabs, err := disclosure.Tabulate([]disclosure.Dimension{province}, records(3, "", "Almere"),
		disclosure.Spec{Name: "t", Dimensions: []string{"gemeente"}})
	require.NoError(t, err)
	for _, r := range []disclosure.Rules{
		{MinFrequency: -1},
		{RowMinimum: -2},
		{Dominance: []disclosure.Dominance{{N: 0, K: 80}}},
		{Dominance: []disclosure.Dominance{{N: 2, K: 120}}},
		{PPercent: 100},
		{PPercent: -5},
	} {
		_, err := tabs.Protect(context.Background(), r)
		assert.ErrorIs(t, err, disclosure.ErrRules, "%+v", r)
	}
}

// An aggregated table gives the same protection as its records.
func TestFromAggregatesMatchesRecords(t *testing.T) {
	cells := []disclosure.Aggregate{
		{Categories: []string{"Almere", "wmo"}, Count: 3},
		{Categories: []string{"Almere", "jeugdhulp"}, Count: 17},
		{Categories: []string{"Lelystad", "wmo"}, Count: 23},
		{Categories: []string{"Lelystad", "jeugdhulp"}, Count: 29},
		{Categories: []string{"Utrecht", "wmo"}, Count: 41},
		{Categories: []string{"Utrecht", "jeugdhulp"}, Count: 43},
	}
	spec := disclosure.Spec{Name: "toewijzingen", Dimensions: []string{"gemeente", "zorgvorm"}}
	fromAggs, err := disclosure.FromAggregates([]disclosure.Dimension{province, careType}, spec, cells)
	require.NoError(t, err)
	p1, err := fromAggs.Protect(context.Background(), disclosure.Rules{})
	require.NoError(t, err)
	p2 := renderFixture(t)
	assert.Equal(t, p2.Table("toewijzingen").Rows(), p1.Table("toewijzingen").Rows())
	_, err = fromAggs.OwnerView("zorg-a")
	assert.ErrorIs(t, err, disclosure.ErrUnknownContributor, "no aggregate names a contributor")
}

func TestTooLarge(t *testing.T) {
	var dims []disclosure.Dimension
	var names []string
	rec := disclosure.Record{}
	for d := range 4 {
		dim := disclosure.Dimension{Name: fmt.Sprint("d", d)}
		for c := range 60 {
			dim.Categories = append(dim.Categories, disclosure.Category{Code: fmt.Sprint(c)})
		}
		dims = append(dims, dim)
		names = append(names, dim.Name)
		rec.Categories = append(rec.Categories, "0")
	}
	tabs, err := disclosure.Tabulate(dims, []disclosure.Record{rec}, disclosure.Spec{Name: "t", Dimensions: names})
	require.NoError(t, err)
	_, err = tabs.Protect(context.Background(), disclosure.Rules{})
	assert.ErrorIs(t, err, disclosure.ErrTooLarge)
	assert.Contains(t, err.Error(), "d0 × d1 × d2 × d3")
}

func TestOwnerView(t *testing.T) {
	var recs []disclosure.Record
	recs = append(recs, records(3, "zorg-a", "Almere", "wmo")...)
	recs = append(recs, records(7, "zorg-b", "Almere", "wmo")...)
	recs = append(recs, records(2, "zorg-b", "Utrecht", "jeugdhulp")...)
	spec := disclosure.Spec{Name: "t", Dimensions: []string{"gemeente", "zorgvorm"}}
	fromRecords, err := disclosure.Tabulate([]disclosure.Dimension{province, careType}, recs, spec)
	require.NoError(t, err)
	fromAggregates, err := disclosure.FromAggregates([]disclosure.Dimension{province, careType}, spec, []disclosure.Aggregate{
		{Categories: []string{"Almere", "wmo"}, Count: 3, Contributor: "zorg-a"},
		{Categories: []string{"Almere", "jeugdhulp"}, Count: 9},
		{Categories: []string{"Utrecht", "jeugdhulp"}, Count: 2, Contributor: "zorg-b"},
	})
	require.NoError(t, err)

	for _, tt := range []struct {
		reason string
		tables *disclosure.Tables
	}{
		{"records", fromRecords},
		{"aggregates with a contributor", fromAggregates},
	} {
		t.Run(tt.reason, func(t *testing.T) {
			v, err := tt.tables.OwnerView("zorg-a")
			require.NoError(t, err)
			assert.Equal(t, "zorg-a", v.Contributor())
			got := cells(t, v.Table("t"))
			assert.Equal(t, disclosure.Cell{Value: 3}, got["Almere/wmo"], "its own cell")
			assert.Equal(t, disclosure.Cell{Value: 3}, got["Totaal/Totaal"], "only its own records")
			assert.Equal(t, disclosure.Cell{Value: 0}, got["Utrecht/jeugdhulp"], "nothing of the others")

			_, err = tt.tables.OwnerView("Z-typo")
			require.ErrorIs(t, err, disclosure.ErrUnknownContributor, "a name without records is an error, not a view of zeros")
			assert.Contains(t, err.Error(), `"Z-typo"`)
			_, err = tt.tables.OwnerView("")
			assert.ErrorIs(t, err, disclosure.ErrNoContributor)
		})
	}
}

// A table of zeros is data, given explicitly: aggregates with Count 0.
func TestZeroTable(t *testing.T) {
	tabs, err := disclosure.FromAggregates([]disclosure.Dimension{province}, disclosure.Spec{Name: "t", Dimensions: []string{"gemeente"}},
		[]disclosure.Aggregate{{Categories: []string{"Almere"}}})
	require.NoError(t, err)
	p, err := tabs.Protect(context.Background(), disclosure.Rules{})
	require.NoError(t, err)
	for _, r := range p.Table("t").Rows() {
		assert.Equal(t, disclosure.Cell{Value: 0}, r.Cells[0], "empty cells are published by default: %v", r.Categories)
	}
	p, err = tabs.Protect(context.Background(), disclosure.Rules{ZerosSensitive: true})
	require.NoError(t, err)
	for _, r := range p.Table("t").Rows() {
		assert.Equal(t, disclosure.Empty, r.Cells[0].Reason, "with sensitive zeros every cell is withheld: %v", r.Categories)
	}
}

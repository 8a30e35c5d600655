package disclosure_test

import (
	"context"
	"testing"

	"github.com/zorgkit/zorgkit/disclosure"
	"github.com/zorgkit/zorgkit/disclosure/disclosuretest"
)

// BenchmarkProtect protects synthetic three-dimensional hierarchical tables
// (see package disclosuretest) with the default rules, from records or from
// aggregated inner cells, and reports the number of cells, primary and
// secondary suppressions, and the entries of the rows the elimination
// rebuilt (a measure of its work that does not depend on the machine).
var lastProtected *disclosure.Protected

func BenchmarkProtect(b *testing.B) {
	cases := []struct {
		name    string
		table   *disclosuretest.Table
		records bool
		rules   disclosure.Rules
	}{
		{"cells=5k/records", disclosuretest.Small(1, 0), true, disclosure.Rules{}},
		{"cells=5k/aggregates", disclosuretest.Small(1, 0), false, disclosure.Rules{}},
		{"cells=5k/providers=20", disclosuretest.Small(1, 20), true, disclosure.Rules{}},
		{"cells=5k/intervals", disclosuretest.Small(1, 0), false, disclosure.Rules{Margin: 1, Intervals: true}},
		{"cells=100k/aggregates", disclosuretest.Large(1, 0), false, disclosure.Rules{}},
	}
	for _, c := range cases {
		var recs []disclosure.Record
		if c.records {
			recs = c.table.Records()
		}
		b.Run(c.name, func(b *testing.B) {
			var stats disclosure.Stats
			for b.Loop() {
				var tabs *disclosure.Tables
				var err error
				if c.records {
					tabs, err = disclosure.Tabulate(c.table.Dimensions, recs, c.table.Spec)
				} else {
					tabs, err = disclosure.FromAggregates(c.table.Dimensions, c.table.Spec, c.table.Cells)
				}
				if err != nil {
					b.Fatal(err)
				}
				p, err := tabs.Protect(context.Background(), c.rules)
				if err != nil {
					b.Fatal(err)
				}
				stats = p.Stats()
				lastProtected = p
			}
			b.ReportMetric(float64(stats.Cells), "cells")
			b.ReportMetric(float64(stats.Primary), "primary")
			b.ReportMetric(float64(stats.Secondary), "secondary")
			b.ReportMetric(float64(disclosure.WorkOf(lastProtected).Entries), "entries")
		})
	}
}

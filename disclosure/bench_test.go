package disclosure_test

import (
	"context"
	"errors"
	"flag"
	"testing"
	"time"

	"github.com/zorgkit/zorgkit/disclosure"
	"github.com/zorgkit/zorgkit/disclosure/audit"
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

// BenchmarkProtectSkewed protects the skewed tables of disclosuretest
// (Medium: 5,439 cells, Huge: 99,000 cells; many small and empty cells)
// with the default rules, and reports the number of secondary cells and
// the sum of their values: what the reader loses.
func BenchmarkProtectSkewed(b *testing.B) {
	cases := []struct {
		name  string
		table *disclosuretest.Table
	}{
		{"cells=5439", disclosuretest.Medium(1, 0)},
		{"cells=99000", disclosuretest.Huge(1, 0)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var p *disclosure.Protected
			for b.Loop() {
				tabs, err := disclosure.FromAggregates(c.table.Dimensions, c.table.Spec, c.table.Cells)
				if err != nil {
					b.Fatal(err)
				}
				if p, err = tabs.Protect(context.Background(), disclosure.Rules{}); err != nil {
					b.Fatal(err)
				}
			}
			reportWithheld(b, p)
		})
	}
}

// reportWithheld reports the primary and secondary cells of p and the sum
// of the secondary cells' values.
func reportWithheld(b *testing.B, p *disclosure.Protected) {
	sys, _ := p.AuditSystem()
	sum := 0.0
	for _, c := range disclosure.SecondaryIndices(p) {
		sum += sys.Cells[c].Value
	}
	b.ReportMetric(float64(p.Stats().Primary), "primary")
	b.ReportMetric(float64(p.Stats().Secondary), "secondary")
	b.ReportMetric(sum, "withheld-value")
}

// intervalBudget is the time budget of BenchmarkProtectIntervals: the goal
// is 120 s for the 99,000-cell table; on a loaded machine a longer
// budget shows the time to the end.
var intervalBudget = flag.Duration("interval-budget", 120*time.Second, "time budget of one operation of BenchmarkProtectIntervals")

// intervalAudit makes BenchmarkProtectIntervals check its result with
// audit.Intervals, for every reader (after the timed part): it reports
// the ranges narrower than required ("audit-unprotected", the goal is 0)
// and the seconds the audit took.
var intervalAudit = flag.Bool("interval-audit", false, "check the result of BenchmarkProtectIntervals with audit.Intervals")

// intervalAuditBudget bounds that audit; when it runs out, the benchmark
// reports how far it got ("audit-stopped-at" attackers of
// "audit-attackers", or the primary cells for any reader).
var intervalAuditBudget = flag.Duration("interval-audit-budget", time.Hour, "time budget of the audit of -interval-audit")

// BenchmarkProtectIntervals protects the skewed tables of disclosuretest
// (Medium: 5,439 cells, Huge: 99,000 cells) with an absolute protection
// width of 5 for every primary cell, within a budget of 120 s per
// operation (-interval-budget). When the budget runs out it reports how far it got in the
// stage it stopped at instead of failing, so that the progress can be
// compared.
func BenchmarkProtectIntervals(b *testing.B) {
	cases := []struct {
		name  string
		table func() *disclosuretest.Table
	}{
		{"cells=5439", func() *disclosuretest.Table { return disclosuretest.Medium(1, 0) }},
		{"cells=99000", func() *disclosuretest.Table { return disclosuretest.Huge(1, 0) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			table := c.table()
			var p *disclosure.Protected
			var stopped *disclosure.StoppedError
			for b.Loop() {
				p, stopped = protectWithin(b, table, *intervalBudget, disclosure.Rules{Width: 5, Intervals: true})
			}
			if stopped != nil {
				// In the stage it stopped at: primary cells protected
				// ("intervals"), or candidates of the clean-up looked at,
				// after all primary cells were protected ("clean-up").
				b.ReportMetric(float64(stopped.Done), stopped.Stage+"-done")
				b.ReportMetric(float64(stopped.Total), stopped.Stage+"-total")
				return
			}
			reportWithheld(b, p)
			if *intervalAudit {
				b.StopTimer()
				auditIntervals(b, p)
			}
		})
	}
}

// auditIntervals checks p with audit.Intervals: first for a reader that
// knows nothing ("audit-unprotected-any": ranges narrower than required),
// then for every reader that knows cells of its own, within
// -interval-audit-budget ("audit-unprotected", or how many attackers it
// got through).
func auditIntervals(b *testing.B, p *disclosure.Protected) {
	count := func(ivs []audit.Interval) int {
		bad := 0
		for _, iv := range ivs {
			if !iv.Protected {
				bad++
			}
		}
		return bad
	}
	start := time.Now()
	sys, attackers := p.AuditSystem()
	ivs, err := audit.Intervals(context.Background(), &sys)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(count(ivs)), "audit-unprotected-any")
	b.ReportMetric(time.Since(start).Seconds(), "audit-any-s")
	b.ReportMetric(float64(len(attackers)), "audit-attackers")
	start = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), *intervalAuditBudget)
	defer cancel()
	ivs, err = audit.Intervals(ctx, &sys, attackers...)
	b.ReportMetric(time.Since(start).Seconds(), "audit-s")
	var stopped *audit.StoppedError
	if errors.As(err, &stopped) {
		if stopped.Stage == "attackers" {
			b.ReportMetric(float64(stopped.Done), "audit-attackers-done")
		}
		return
	}
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(count(ivs)), "audit-unprotected")
}

// protectWithin protects table within a time budget; when it runs out,
// it returns how far Protect got.
func protectWithin(b *testing.B, table *disclosuretest.Table, budget time.Duration, r disclosure.Rules) (*disclosure.Protected, *disclosure.StoppedError) {
	tabs, err := disclosure.FromAggregates(table.Dimensions, table.Spec, table.Cells)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	p, err := tabs.Protect(ctx, r)
	var stopped *disclosure.StoppedError
	if errors.As(err, &stopped) {
		return nil, stopped
	}
	if err != nil {
		b.Fatal(err)
	}
	return p, nil
}

package audit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// The synthetic tables of the benchmarks: three hierarchical dimensions
// (region > municipality, care category > care type, age group > age band)
// with every subtotal, about a third of the inner cells below the threshold
// of 5.
var benchTables = []struct {
	name string
	dims []hierarchy
}{
	// 21 × 21 × 11 = 4,851 cells, 1,792 of them inner.
	{"5k", []hierarchy{balanced("regio", 4, 4), balanced("zorg", 4, 4), balanced("leeftijd", 2, 4)}},
	// 55 × 36 × 50 = 99,000 cells, 60,480 of them inner.
	{"100k", []hierarchy{balanced("regio", 6, 8), balanced("zorg", 5, 6), balanced("leeftijd", 7, 6)}},
}

// benchPatterns are the suppression patterns audited: naive withholds the
// primary cells only, so that every finding is a disclosure; random10 also
// withholds a tenth of the other cells at random; protected withholds
// secondary cells until the exact audit finds nothing (see protect), the
// case of a table after protection.
var benchPatterns = []struct {
	name    string
	pattern func(s *System, r *rand.Rand)
}{
	{"naive", func(s *System, r *rand.Rand) {}},
	{"random10", func(s *System, r *rand.Rand) {
		for i := range s.Cells {
			if s.Cells[i].Published && r.Float64() < 0.10 {
				s.Cells[i].Published = false
			}
		}
	}},
	{"protected", func(s *System, r *rand.Rand) { protect(s) }},
}

// benchSystem makes a table with a pattern, deterministically.
func benchSystem(dims []hierarchy, pattern func(*System, *rand.Rand)) *System {
	r := rand.New(rand.NewPCG(2026, 11))
	s := hierarchicalTable(dims, frequencies(r, 1.0/3, 5))
	suppressPrimaries(s, 5)
	pattern(s, r)
	return s
}

func withheld(s *System) (n int) {
	for _, c := range s.Cells {
		if !c.Published {
			n++
		}
	}
	return n
}

func BenchmarkExact(b *testing.B) {
	for _, tab := range benchTables {
		for _, pat := range benchPatterns {
			b.Run(fmt.Sprintf("cells=%s/pattern=%s", tab.name, pat.name), func(b *testing.B) {
				s := benchSystem(tab.dims, pat.pattern)
				var findings []Finding
				for b.Loop() {
					var err error
					if findings, err = Exact(context.Background(), s); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(withheld(s)), "withheld")
				b.ReportMetric(float64(len(findings)), "findings")
			})
		}
	}
}

// BenchmarkExactAttackers audits the protected tables for 20 insiders,
// each the only contributor to five withheld cells.
func BenchmarkExactAttackers(b *testing.B) {
	for _, tab := range benchTables {
		b.Run("cells="+tab.name, func(b *testing.B) {
			s := benchSystem(tab.dims, benchPatterns[2].pattern)
			attackers := benchAttackers(s, 20)
			var findings []Finding
			for b.Loop() {
				var err error
				if findings, err = Exact(context.Background(), s, attackers...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(findings)), "findings")
		})
	}
}

// benchAttackers returns n insiders, each the only contributor to five
// withheld cells.
func benchAttackers(s *System, n int) []Attacker {
	r := rand.New(rand.NewPCG(1, 2))
	var hidden []int
	for i, c := range s.Cells {
		if !c.Published {
			hidden = append(hidden, i)
		}
	}
	attackers := make([]Attacker, n)
	for a := range attackers {
		attackers[a].Name = fmt.Sprint("aanbieder", a)
		for range 5 {
			attackers[a].Knows = append(attackers[a].Knows, hidden[r.IntN(len(hidden))])
		}
	}
	return attackers
}

func BenchmarkIntervals(b *testing.B) {
	for _, tab := range benchTables {
		for _, pat := range benchPatterns {
			b.Run(fmt.Sprintf("cells=%s/pattern=%s", tab.name, pat.name), func(b *testing.B) {
				s := benchSystem(tab.dims, pat.pattern)
				var ivs []Interval
				for b.Loop() {
					var err error
					if ivs, err = Intervals(context.Background(), s); err != nil {
						b.Fatal(err)
					}
				}
				unprotected := 0
				for _, iv := range ivs {
					if !iv.Protected {
						unprotected++
					}
				}
				b.ReportMetric(float64(withheld(s)), "withheld")
				b.ReportMetric(float64(len(ivs)), "intervals")
				b.ReportMetric(float64(unprotected), "unprotected")
			})
		}
	}
}

// BenchmarkIntervalsAttackers is BenchmarkIntervals on the protected
// pattern with 20 attackers that know five withheld cells each.
func BenchmarkIntervalsAttackers(b *testing.B) {
	for _, tab := range benchTables[:1] {
		b.Run("cells="+tab.name, func(b *testing.B) {
			s := benchSystem(tab.dims, benchPatterns[2].pattern)
			attackers := benchAttackers(s, 20)
			var ivs []Interval
			for b.Loop() {
				var err error
				if ivs, err = Intervals(context.Background(), s, attackers...); err != nil {
					b.Fatal(err)
				}
			}
			unprotected := 0
			for _, iv := range ivs {
				if !iv.Protected {
					unprotected++
				}
			}
			b.ReportMetric(float64(len(ivs)), "intervals")
			b.ReportMetric(float64(unprotected), "unprotected")
		})
	}
}

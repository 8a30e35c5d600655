package disclosure

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/zorgkit/zorgkit/disclosure/audit"
)

// widen runs the interval audit on p and, for every primary cell that a
// reader can narrow down to less than its margin, marks one more cell to
// withhold in extra: among the published cells that share a relation with
// the primary cell (or else with the withheld cells around it, nearest
// first), the smallest that is at least as large as the missing width, or
// else the largest. It reports whether it marked any.
func (p *Protected) widen(extra [][]bool) (bool, error) {
	sys, attackers := p.AuditSystem()
	ivs, err := audit.Intervals(context.Background(), &sys, attackers...)
	if err != nil {
		return false, fmt.Errorf("disclosure: interval audit: %w", err)
	}
	deficit := map[int]float64{} // failing cell → the width it lacks
	for _, iv := range ivs {
		if !iv.Protected {
			deficit[iv.Cell] = max(deficit[iv.Cell], iv.Margin-(iv.Max-iv.Min))
		}
	}
	failing := slices.Sorted(maps.Keys(deficit))
	if len(failing) == 0 {
		return false, nil
	}
	// Where each system cell lives.
	type place struct{ fam, cell int }
	places := make([]place, 0, len(sys.Cells))
	for i, f := range p.fams {
		for c := range f.n {
			places = append(places, place{i, c})
		}
	}
	sums := make([][]int, len(sys.Cells)) // per cell, the sums it is in
	for k, s := range sys.Sums {
		sums[s.Total] = append(sums[s.Total], k)
		for _, c := range s.Parts {
			sums[c] = append(sums[c], k)
		}
	}
	members := func(k int) []int { return append([]int{sys.Sums[k].Total}, sys.Sums[k].Parts...) }
	marked := false
	for _, b := range failing {
		seen := map[int]bool{b: true}
		level := []int{b}
		for len(level) > 0 {
			var next, candidates []int
			for _, c := range level {
				for _, k := range sums[c] {
					for _, m := range members(k) {
						if seen[m] {
							continue
						}
						seen[m] = true
						pl := places[m]
						switch {
						case p.fams[pl.fam].records[pl.cell] == 0:
							// Empty cells protect nothing.
						case sys.Cells[m].Published && !extra[pl.fam][pl.cell]:
							candidates = append(candidates, m)
						default:
							next = append(next, m)
						}
					}
				}
			}
			if len(candidates) > 0 {
				slices.SortFunc(candidates, func(x, y int) int {
					if c := cmp.Compare(sys.Cells[x].Value, sys.Cells[y].Value); c != 0 {
						return c
					}
					return cmp.Compare(x, y)
				})
				best := candidates[len(candidates)-1]
				if i := slices.IndexFunc(candidates, func(m int) bool { return sys.Cells[m].Value >= deficit[b] }); i >= 0 {
					best = candidates[i]
				}
				pl := places[best]
				extra[pl.fam][pl.cell] = true
				marked = true
				break
			}
			level = next
		}
	}
	if !marked {
		return false, ErrIntervals
	}
	return true, nil
}

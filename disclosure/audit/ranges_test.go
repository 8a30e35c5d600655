package audit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// checkRanges compares, for every withheld cell of s, the range the
// floating-point solver finds and certifies with the range of the exact
// simplex method, for any reader and with each attacker's cells fixed. It
// returns the number of linear programs and of fallbacks.
func checkRanges(t *testing.T, s *System, attackers []Attacker) (lps, fallbacks int) {
	t.Helper()
	if s.Validate() != nil || s.validateAttackers(attackers) != nil {
		return 0, 0
	}
	for _, c := range s.Cells {
		if !c.Published && c.Value < 0 {
			return 0, 0
		}
	}
	ctx := context.Background()
	m := newModel(s)
	kn := m.newKnowledge()
	m.peel(kn, m.singles(kn), func(c, k int32) {})
	all := make([]int32, len(m.rows))
	for k := range all {
		all[k] = int32(k)
	}
	stats := &lpStats{}
	for _, comp := range m.componentsOf(kn, all, 2) {
		r := newRangeLP(m, kn, comp, stats)
		check := func(who string) {
			for j := range r.cells {
				got, _, err := r.bounds(ctx, j)
				require.NoError(t, err)
				lo, _ := r.exactOptimum(j, 1)
				hi, bounded := r.exactOptimum(j, -1)
				require.Zero(t, got.lo.Cmp(lo), "%s: min of %s: %v, exactly %v", who, s.Cells[r.cells[j]].Name, got.lo, lo)
				if !bounded {
					require.Nil(t, got.hi, "%s: max of %s is unbounded", who, s.Cells[r.cells[j]].Name)
					continue
				}
				require.NotNil(t, got.hi, "%s: max of %s is %v", who, s.Cells[r.cells[j]].Name, hi)
				require.Zero(t, got.hi.Cmp(hi), "%s: max of %s: %v, exactly %v", who, s.Cells[r.cells[j]].Name, got.hi, hi)
			}
		}
		check("any reader")
		for _, a := range attackers {
			var cells []int32
			for _, c := range a.Knows {
				cells = append(cells, int32(c))
			}
			r.fix(cells, true)
			check(a.Name)
			r.fix(cells, false)
		}
		check("any reader again")
	}
	return stats.certified + stats.fallbacks, stats.fallbacks
}

// The floating-point linear programs, certified, agree exactly with the
// exact simplex method on random tables, and certification nearly always
// succeeds.
func TestRangesAgainstExact(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 13))
	n := 300
	if testing.Short() {
		n = 60
	}
	lps, fallbacks := 0, 0
	for i := range n {
		s, attackers := randomSystem(r, i%2 == 0)
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			l, f := checkRanges(t, s, attackers)
			lps += l
			fallbacks += f
		})
	}
	t.Logf("%d linear programs, %d fallbacks", lps, fallbacks)
	require.Positive(t, lps)
	require.Less(t, float64(fallbacks), 0.01*float64(lps), "%d of %d linear programs needed the exact method", fallbacks, lps)
}

// FuzzRangesAgainstExact is TestRangesAgainstExact on random tables from
// the fuzzer's seeds.
func FuzzRangesAgainstExact(f *testing.F) {
	f.Add(uint64(1), uint64(2), true)
	f.Add(uint64(3), uint64(4), false)
	f.Fuzz(func(t *testing.T, a, b uint64, positive bool) {
		s, attackers := randomSystem(rand.New(rand.NewPCG(a, b)), positive)
		checkRanges(t, s, attackers)
	})
}

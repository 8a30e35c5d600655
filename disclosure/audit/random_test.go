package audit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// randomSystem returns a small random System: a hierarchical table of one
// to three dimensions, sometimes with a linked table that groups some cells
// differently and a published ratio, with a random pattern of withheld
// cells, and up to two attackers. With positive, no inner value is zero.
func randomSystem(r *rand.Rand, positive bool) (*System, []Attacker) {
	dims := make([]hierarchy, 1+r.IntN(3))
	for d := range dims {
		depth, fan := 1+r.IntN(2), 3
		if len(dims) == 3 {
			depth, fan = 1, 2
		}
		dims[d] = randomHierarchy(r, fmt.Sprint("d", d), depth, fan)
	}
	s := hierarchicalTable(dims, func() float64 {
		if positive {
			return float64(1 + r.IntN(9))
		}
		return float64(r.IntN(10))
	})
	for len(s.Cells) > 40 || len(s.Sums) == 0 { // keep the brute force fast
		dims = []hierarchy{randomHierarchy(r, "d0", 2, 3)}
		s = hierarchicalTable(dims, func() float64 { return float64(1 + r.IntN(9)) })
	}
	// Linked reports that group some cells differently: a subset of the
	// parts of a Sum, or any few cells.
	for l := range r.IntN(4) {
		var parts []int
		if sum := s.Sums[r.IntN(len(s.Sums))]; l == 0 && len(sum.Parts) >= 3 {
			parts = append(parts, sum.Parts[:2+r.IntN(len(sum.Parts)-2)]...)
		} else {
			parts = r.Perm(len(s.Cells))[:min(len(s.Cells), 2+r.IntN(2))]
		}
		var v float64
		for _, p := range parts {
			v += s.Cells[p].Value
		}
		s.Cells = append(s.Cells, Cell{Name: fmt.Sprint("linked", l), Value: v, Published: true})
		s.Sums = append(s.Sums, Sum{Total: len(s.Cells) - 1, Parts: parts})
	}
	if r.IntN(3) == 0 {
		n, d := r.IntN(len(s.Cells)), r.IntN(len(s.Cells))
		if n != d {
			s.Ratios = append(s.Ratios, Ratio{Numerator: n, Denominator: d, Published: r.IntN(4) > 0})
		}
	}
	hide := 0.2 + 0.5*r.Float64()
	for i := range s.Cells {
		if r.Float64() < hide {
			s.Cells[i].Published = false
			s.Cells[i].Sensitive = r.IntN(2) == 0
			s.Cells[i].Margin = float64(r.IntN(3))
		}
	}
	var attackers []Attacker
	for a := range r.IntN(3) {
		att := Attacker{Name: fmt.Sprint("attacker", a)}
		for range 1 + r.IntN(2) {
			att.Knows = append(att.Knows, r.IntN(len(s.Cells)))
		}
		attackers = append(attackers, att)
	}
	return s, attackers
}

// TestExactAgainstBruteForce compares the exact audit with a dense rank
// computation on random small systems, and checks every derivation.
func TestExactAgainstBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 1))
	n := 400
	if testing.Short() {
		n = 100
	}
	for i := range n {
		s, attackers := randomSystem(r, i%2 == 0)
		require.NoError(t, s.Validate())
		got, err := Exact(context.Background(), s, attackers...)
		require.NoError(t, err)
		if !assert.ElementsMatch(t, keys(expectedFindings(s, attackers)), findingNames(got), "case %d", i) {
			t.Logf("system: %+v\nattackers: %+v", s, attackers)
		}
		checkDerivations(t, s, attackers, got)
	}
}

// TestDeterministic checks that both audits give the same result, in the
// same order, every time.
func TestDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 6))
	for i := range 50 {
		s, attackers := randomSystem(r, false)
		f1, err := Exact(context.Background(), s, attackers...)
		require.NoError(t, err)
		i1, err := Intervals(context.Background(), s, attackers...)
		require.NoError(t, err)
		for range 3 {
			f2, _ := Exact(context.Background(), s, attackers...)
			i2, _ := Intervals(context.Background(), s, attackers...)
			require.Equal(t, f1, f2, "case %d", i)
			require.Equal(t, i1, i2, "case %d", i)
		}
	}
}

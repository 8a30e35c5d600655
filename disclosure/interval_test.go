package disclosure_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/disclosure"
	"github.com/zorgkit/zorgkit/disclosure/audit"
)

// assertIntervalsHold runs the independent interval audit: no reader can
// narrow a primary cell down to less than its margin.
func assertIntervalsHold(t *testing.T, p *disclosure.Protected) {
	t.Helper()
	sys, attackers := p.AuditSystem()
	ivs, err := audit.Intervals(context.Background(), &sys, attackers...)
	require.NoError(t, err)
	for _, iv := range ivs {
		assert.True(t, iv.Protected, "%s: [%g, %g] for %q, margin %g", iv.Name, iv.Min, iv.Max, iv.Attacker, iv.Margin)
	}
}

// Exact protection hides A (4) behind B (5): a reader knows A + B = 9, so A
// is between 0 and 9. A margin of three times the value (12) asks for more.
func TestIntervalProtection(t *testing.T) {
	var recs []disclosure.Record
	recs = append(recs, records(4, "", "A")...)
	recs = append(recs, records(5, "", "B")...)
	recs = append(recs, records(40, "", "C")...)
	recs = append(recs, records(50, "", "D")...)
	tabs, err := disclosure.Tabulate([]disclosure.Dimension{{Name: "z"}}, recs,
		disclosure.Spec{Name: "t", Dimensions: []string{"z"}})
	require.NoError(t, err)

	exact, err := tabs.Protect(disclosure.Rules{Margin: 3})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"Totaal": "P", "A": "p", "B": "s", "C": "P", "D": "P"}, statuses(t, exact.Table("t")))
	sys, attackers := exact.AuditSystem()
	ivs, err := audit.Intervals(context.Background(), &sys, attackers...)
	require.NoError(t, err)
	require.Len(t, ivs, 1)
	assert.Equal(t, [2]float64{0, 9}, [2]float64{ivs[0].Min, ivs[0].Max})
	assert.False(t, ivs[0].Protected, "9 wide, 12 needed")

	// The smallest published cell next to A is C (40): withheld, it
	// protects A by itself, and B can be published again.
	wide, err := tabs.Protect(disclosure.Rules{Margin: 3, Intervals: true})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"Totaal": "P", "A": "p", "B": "P", "C": "s", "D": "P"}, statuses(t, wide.Table("t")))
	assertIntervalsHold(t, wide)
	assertAuditClean(t, wide)
}

// On random tables the interval option always ends with every primary
// cell protected by its margin, and stays exactly protected.
func TestIntervalProtectionRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for i := range 40 {
		s := randomScenario(r, i)
		s.rules.Intervals = true
		s.rules.Margin = 0.5
		t.Run(s.name, func(t *testing.T) {
			tabs, err := disclosure.Tabulate(s.dims, s.records, s.specs...)
			require.NoError(t, err)
			p, err := tabs.Protect(s.rules)
			require.NoError(t, err)
			assertIntervalsHold(t, p)
			assertAuditClean(t, p)
		})
	}
}

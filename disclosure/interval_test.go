package disclosure_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/disclosure"
	"github.com/zorgkit/zorgkit/disclosure/audit"
	"github.com/zorgkit/zorgkit/disclosure/disclosuretest"
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

	exact, err := tabs.Protect(context.Background(), disclosure.Rules{Margin: 3})
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
	wide, err := tabs.Protect(context.Background(), disclosure.Rules{Margin: 3, Intervals: true})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"Totaal": "P", "A": "p", "B": "P", "C": "s", "D": "P"}, statuses(t, wide.Table("t")))
	assertIntervalsHold(t, wide)
	assertAuditClean(t, wide)
}

// Absolute protection levels: A (3) and B (4) protect each other exactly,
// but a reader knows A + B = 7, so each lies in [0, 7]. A width of 8, or a
// range that reaches 5 above A's value, asks for a third cell: the
// smallest, C.
func TestIntervalProtectionLevels(t *testing.T) {
	var recs []disclosure.Record
	recs = append(recs, records(3, "", "A")...)
	recs = append(recs, records(4, "", "B")...)
	recs = append(recs, records(40, "", "C")...)
	recs = append(recs, records(50, "", "D")...)
	tabs, err := disclosure.Tabulate([]disclosure.Dimension{{Name: "z"}}, recs,
		disclosure.Spec{Name: "t", Dimensions: []string{"z"}})
	require.NoError(t, err)
	tests := []struct {
		reason string
		rules  disclosure.Rules
		want   map[string]string
	}{
		{"a range of 7 is wide enough", disclosure.Rules{Width: 7, Intervals: true},
			map[string]string{"Totaal": "P", "A": "p", "B": "p", "C": "P", "D": "P"}},
		{"a range of 8 needs C", disclosure.Rules{Width: 8, Intervals: true},
			map[string]string{"Totaal": "P", "A": "p", "B": "p", "C": "s", "D": "P"}},
		{"3 down and 3 up is met by A + B = 7", disclosure.Rules{Below: 3, Above: 3, Intervals: true},
			map[string]string{"Totaal": "P", "A": "p", "B": "p", "C": "P", "D": "P"}},
		{"5 above A needs C", disclosure.Rules{Below: 1, Above: 5, Intervals: true},
			map[string]string{"Totaal": "P", "A": "p", "B": "p", "C": "s", "D": "P"}},
		{"without Intervals the levels are only stated", disclosure.Rules{Width: 8},
			map[string]string{"Totaal": "P", "A": "p", "B": "p", "C": "P", "D": "P"}},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			p, err := tabs.Protect(context.Background(), tt.rules)
			require.NoError(t, err)
			assert.Equal(t, tt.want, statuses(t, p.Table("t")))
			assertAuditClean(t, p)
			sys, attackers := p.AuditSystem()
			ivs, err := audit.Intervals(context.Background(), &sys, attackers...)
			require.NoError(t, err)
			for _, iv := range ivs {
				assert.Equal(t, tt.rules.Intervals, iv.Protected, "%s: [%g, %g]", iv.Name, iv.Min, iv.Max)
			}
		})
	}
}

// A canceled Protect stops with an error that says where, and unwraps to
// the context's error.
func TestProtectStopped(t *testing.T) {
	tab := disclosuretest.Small(1, 0)
	tabs, err := disclosure.FromAggregates(tab.Dimensions, tab.Spec, tab.Cells)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p, err := tabs.Protect(ctx, disclosure.Rules{Width: 5, Intervals: true})
	assert.Nil(t, p)
	assert.ErrorIs(t, err, context.Canceled)
	var stopped *disclosure.StoppedError
	require.True(t, errors.As(err, &stopped), "%v", err)
	assert.Equal(t, "secondary", stopped.Stage)
	assert.Less(t, stopped.Done, stopped.Total)
}

// On random tables the interval option always ends with every primary
// cell protected as the rules ask, and stays exactly protected.
func TestIntervalProtectionRandom(t *testing.T) {
	testIntervalProtectionRandom(t, rand.New(rand.NewPCG(21, 22)), 24)
}

// The same with the order of large tables (cubes before the linear
// programs, see disclosure.ForceLargeGroups) on every table.
func TestIntervalProtectionRandomLarge(t *testing.T) {
	defer disclosure.ForceLargeGroups()()
	testIntervalProtectionRandom(t, rand.New(rand.NewPCG(23, 24)), 12)
}

func testIntervalProtectionRandom(t *testing.T, r *rand.Rand, n int) {
	levels := []disclosure.Rules{{Margin: 0.5}, {Width: 5}, {Below: 2, Above: 4}, {Margin: 1, Width: 3}}
	for i := range n {
		s := randomScenario(r, i)
		l := levels[i%len(levels)]
		s.rules.Intervals = true
		s.rules.Margin, s.rules.Width, s.rules.Below, s.rules.Above = l.Margin, l.Width, l.Below, l.Above
		t.Run(s.name, func(t *testing.T) {
			tabs, err := disclosure.Tabulate(s.dims, s.records, s.specs...)
			require.NoError(t, err)
			p, err := tabs.Protect(context.Background(), s.rules)
			if errors.Is(err, disclosure.ErrIntervals) {
				t.Logf("%+v cannot be met: %v", l, err)
				return
			}
			require.NoError(t, err)
			assertIntervalsHold(t, p)
			assertAuditClean(t, p)
		})
	}
}

// The pattern of the interval protection does not depend on the number of
// goroutines that look for certificates (the batches are applied in a
// fixed order, see protectBatch in parallel.go), also in the order of
// large groups. (The random tests above audit the parallel pattern.)
func TestIntervalProtectionParallelDeterministic(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	r := rand.New(rand.NewPCG(33, 34))
	levels := []disclosure.Rules{{Width: 5}, {Margin: 0.5}, {Below: 2, Above: 4}}
	for i := range 6 {
		s := randomScenario(r, i)
		l := levels[i%len(levels)]
		s.rules.Intervals = true
		s.rules.Margin, s.rules.Width, s.rules.Below, s.rules.Above = l.Margin, l.Width, l.Below, l.Above
		large := i%2 == 1
		t.Run(fmt.Sprintf("%s/large=%v", s.name, large), func(t *testing.T) {
			if large {
				defer disclosure.ForceLargeGroups()()
			}
			var want []int
			var wantStats disclosure.Stats
			var wantErr string
			for _, procs := range []int{1, 4} {
				runtime.GOMAXPROCS(procs)
				tabs, err := disclosure.Tabulate(s.dims, s.records, s.specs...)
				require.NoError(t, err)
				p, err := tabs.Protect(context.Background(), s.rules)
				var got []int
				var stats disclosure.Stats
				var msg string
				if errors.Is(err, disclosure.ErrIntervals) {
					msg = err.Error() // cannot be met: the same cell for any number
				} else {
					require.NoError(t, err)
					got, stats = disclosure.SecondaryIndices(p), p.Stats()
				}
				if procs == 1 {
					want, wantStats, wantErr = got, stats, msg
					continue
				}
				assert.Equal(t, want, got, "GOMAXPROCS=%d", procs)
				assert.Equal(t, wantStats, stats, "GOMAXPROCS=%d", procs)
				assert.Equal(t, wantErr, msg, "GOMAXPROCS=%d", procs)
			}
		})
	}
}

// When the clean-up of a large group gives up early (see cleanUpDone in
// intervals.go, here after the first program and the first candidate),
// the pattern still protects every primary cell as the rules ask, stays
// exactly protected, and does not depend on the number of goroutines;
// and the bound changes some pattern (it is not dead code).
func TestIntervalCleanUpBounded(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	defer disclosure.ForceLargeGroups()()
	r := rand.New(rand.NewPCG(41, 42))
	changed := 0
	for i := range 2 { // both patterns change; more cost seconds
		s := randomScenario(r, i)
		s.rules.Intervals, s.rules.Width = true, 5
		t.Run(s.name, func(t *testing.T) {
			protect := func(bounded bool, procs int) *disclosure.Protected {
				runtime.GOMAXPROCS(procs)
				if bounded {
					defer disclosure.SmallCleanUpWindows()()
				}
				tabs, err := disclosure.Tabulate(s.dims, s.records, s.specs...)
				require.NoError(t, err)
				p, err := tabs.Protect(context.Background(), s.rules)
				if errors.Is(err, disclosure.ErrIntervals) {
					t.Skipf("cannot be met: %v", err)
				}
				require.NoError(t, err)
				return p
			}
			full := protect(false, 1)
			bounded := protect(true, 1)
			assertIntervalsHold(t, bounded)
			assertAuditClean(t, bounded)
			assert.Equal(t, disclosure.SecondaryIndices(bounded), disclosure.SecondaryIndices(protect(true, 4)), "GOMAXPROCS=4")
			if !slices.Equal(disclosure.SecondaryIndices(full), disclosure.SecondaryIndices(bounded)) {
				changed++
			}
		})
	}
	assert.Positive(t, changed, "the bound changed no pattern")
}

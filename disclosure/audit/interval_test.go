package audit

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// span is an expected interval: attacker, name, min, max.
type span struct {
	attacker, name string
	min, max       float64
	protected      bool
}

func spans(ivs []Interval) []span {
	var out []span
	for _, iv := range ivs {
		out = append(out, span{iv.Attacker, iv.Name, iv.Min, iv.Max, iv.Protected})
	}
	return out
}

func TestIntervalsKnownAnswers(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name   string
		reason string
		build  func() (*System, []Attacker)
		want   []span
	}{
		{
			name:   "two in a line",
			reason: "B + D = 4: each anywhere from 0 to 4",
			build: func() (*System, []Attacker) {
				b := newBuilder()
				b.cell("B", 1)
				b.cell("D", 3)
				b.cell("F", 8)
				b.cell("T", 12)
				b.sum("T", "B", "D", "F")
				b.primary("B", "D")
				b.s.Cells[b.id("B")].Margin = 5
				b.s.Cells[b.id("D")].Margin = 4
				return b.system(), []Attacker{{Name: "provider of B", Knows: []int{b.id("B")}}}
			},
			want: []span{
				{"", "B", 0, 4, false}, // 4 is less than the margin 5
				{"", "D", 0, 4, true},
				{"provider of B", "D", 3, 3, false},
			},
		},
		{
			name:   "a rectangle",
			reason: "t[1,1] = a, t[1,3] = 10 − a, t[3,1] = 11 − a, t[3,3] = 1 + a, all ≥ 0: a in [0, 10]",
			build: func() (*System, []Attacker) {
				b := table3x3().primary("t[1,1]", "t[1,3]", "t[3,1]", "t[3,3]")
				return b.system(), []Attacker{{Name: "p", Knows: []int{b.id("t[3,3]")}}}
			},
			want: []span{
				{"", "t[1,1]", 0, 10, true},
				{"", "t[1,3]", 0, 10, true},
				{"", "t[3,1]", 1, 11, true},
				{"", "t[3,3]", 1, 11, true},
				{"p", "t[1,1]", 3, 3, false},
				{"p", "t[1,3]", 7, 7, false},
				{"p", "t[3,1]", 8, 8, false},
			},
		},
		{
			name:   "zeros do not protect each other",
			reason: "two zeros in a row with total 0: non-negativity pins both, though no equation does",
			build: func() (*System, []Attacker) {
				b := newBuilder()
				b.cell("a", 0)
				b.cell("b", 0)
				b.cell("c", 5)
				b.cell("T", 5)
				b.sum("T", "a", "b", "c")
				return b.primary("a", "b").system(), nil
			},
			want: []span{{"", "a", 0, 0, false}, {"", "b", 0, 0, false}},
		},
		{
			name:   "no upper bound",
			reason: "a withheld grand total with withheld parts is bounded below by the published parts only",
			build: func() (*System, []Attacker) {
				b := newBuilder()
				b.cell("a", 2)
				b.cell("b", 9)
				b.cell("T", 11)
				b.sum("T", "a", "b")
				return b.primary("a").hide("T").system(), nil
			},
			want: []span{{"", "a", 0, inf, true}},
		},
		{
			name:   "a cell in no relation",
			reason: "nothing ties it: any value from 0",
			build: func() (*System, []Attacker) {
				b := newBuilder()
				b.cell("lonely", 3)
				return b.primary("lonely").system(), nil
			},
			want: []span{{"", "lonely", 0, inf, true}},
		},
		{
			name:   "ratio",
			reason: "N = D/4 with D + E = 10: D in [0, 10], N in [0, 2.5]",
			build: func() (*System, []Attacker) {
				b := newBuilder()
				b.cell("N", 1)
				b.cell("D", 4)
				b.cell("E", 6)
				b.cell("T", 10)
				b.sum("T", "D", "E")
				s := b.primary("N", "D", "E").system()
				s.Ratios = []Ratio{{Numerator: b.id("N"), Denominator: b.id("D"), Published: true}}
				return s, nil
			},
			want: []span{{"", "N", 0, 2.5, true}, {"", "D", 0, 10, true}, {"", "E", 0, 10, true}},
		},
		{
			name:   "hierarchy",
			reason: "D and South hidden, E published: South = 52 − 35 = 17, D = 17 − 15 = 2",
			build: func() (*System, []Attacker) {
				return regions().primary("D", "South").system(), nil
			},
			want: []span{{"", "D", 2, 2, false}, {"", "South", 17, 17, false}},
		},
		{
			name:   "a fractional vertex",
			reason: "x+y = 1, y+z = 1, x+z = 1 with x, y, z hidden: each is exactly 1/2",
			build: func() (*System, []Attacker) {
				b := newBuilder()
				for _, n := range []string{"x", "y", "z"} {
					b.cell(n, 0.5)
				}
				for _, n := range []string{"x+y", "y+z", "x+z"} {
					b.cell(n, 1)
				}
				b.sum("x+y", "x", "y")
				b.sum("y+z", "y", "z")
				b.sum("x+z", "x", "z")
				return b.primary("x", "y", "z").system(), nil
			},
			want: []span{{"", "x", 0.5, 0.5, false}, {"", "y", 0.5, 0.5, false}, {"", "z", 0.5, 0.5, false}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, attackers := tt.build()
			for _, presolve := range []bool{true, false} {
				got, err := intervals(context.Background(), s, attackers, presolve, true)
				require.NoError(t, err)
				assert.Equal(t, tt.want, spans(got), "%s (presolve %v)", tt.reason, presolve)
			}
		})
	}
}

func TestIntervalsRejectNegative(t *testing.T) {
	b := newBuilder()
	b.cell("a", -1)
	b.cell("b", 3)
	b.cell("T", 2)
	b.sum("T", "a", "b")
	_, err := Intervals(context.Background(), b.primary("a").system())
	assert.ErrorIs(t, err, ErrNegative)
	var serr *SystemError
	require.True(t, errors.As(err, &serr))
	assert.Equal(t, "Cells", serr.Field)
	assert.Equal(t, 0, serr.Index)
	_, err = Exact(context.Background(), b.system())
	assert.NoError(t, err, "the exact audit does not need non-negative values")
}

// TestIntervalsAgainstExact compares the two audits, which share no
// algorithm: Gauss–Jordan elimination for the exact audit, the simplex
// method for the intervals. A cell that the equations determine has
// Min == Max. When every withheld value is positive, the true values lie
// in the interior of the region where cells are non-negative, so a cell
// with Min == Max is also determined by the equations alone; with zeros,
// non-negativity can pin a cell that the equations leave free.
func TestIntervalsAgainstExact(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 3))
	n := 300
	if testing.Short() {
		n = 80
	}
	for i := range n {
		positive := i%2 == 0
		s, attackers := randomSystem(r, positive)
		for c := range s.Cells {
			s.Cells[c].Sensitive = !s.Cells[c].Published // check every withheld cell
		}
		findings, err := Exact(context.Background(), s, attackers...)
		require.NoError(t, err)
		type key struct{ attacker, name string }
		exact := map[key]bool{}
		for _, f := range findings {
			exact[key{f.Attacker, f.Name}] = true
		}
		got, err := intervals(context.Background(), s, attackers, i%3 == 0, true)
		require.NoError(t, err)
		pinned := map[key]bool{}
		for _, iv := range got {
			k := key{iv.Attacker, iv.Name}
			assert.LessOrEqual(t, iv.Min, iv.Value, "case %d %v: the true value is below Min", i, k)
			assert.GreaterOrEqual(t, iv.Max, iv.Value, "case %d %v: the true value is above Max", i, k)
			if iv.Exact() {
				pinned[k] = true
				assert.False(t, iv.Protected, "case %d %v: an exact cell is protected", i, k)
			}
		}
		for k := range exact {
			// An attacker's interval is listed only if narrower than any
			// reader's, which may already be a single value when zeros
			// pin the cell.
			assert.True(t, pinned[k] || pinned[key{"", k.name}], "case %d: %v is exact, but its interval is not a single value", i, k)
		}
		if positive {
			for k := range pinned {
				assert.True(t, exact[k], "case %d: %v has Min == Max, but the exact audit does not find it", i, k)
			}
		}
	}
}

// TestIntervalsPresolve checks that the presolve, which fixes cells that a
// relation alone determines before any linear program, changes nothing.
func TestIntervalsPresolve(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 4))
	for i := range 150 {
		s, attackers := randomSystem(r, i%2 == 0)
		with, err := intervals(context.Background(), s, attackers, true, true)
		require.NoError(t, err)
		without, err := intervals(context.Background(), s, attackers, false, true)
		require.NoError(t, err)
		require.Equal(t, spans(without), spans(with), "case %d", i)
	}
}

// TestIntervalsReuse checks that an attacker's ranges taken over from any
// reader's, where their certificates move no cell the attacker knows, are
// those that solving them again gives.
func TestIntervalsReuse(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 5))
	reused := 0
	for i := range 150 {
		s, attackers := randomSystem(r, i%2 == 0)
		for c := range s.Cells {
			s.Cells[c].Sensitive = !s.Cells[c].Published
		}
		with, err := intervals(context.Background(), s, attackers, true, true)
		require.NoError(t, err)
		without, err := intervals(context.Background(), s, attackers, true, false)
		require.NoError(t, err)
		require.Equal(t, spans(without), spans(with), "case %d", i)
		reused += len(attackers)
	}
	require.Positive(t, reused, "no attackers to reuse ranges for")
}

// TestProtectedTable audits a three-dimensional hierarchical table after a
// (greedy) protection: the exact audit finds nothing, and, all values being
// positive, no interval is a single value.
func TestProtectedTable(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 5))
	dims := []hierarchy{balanced("a", 2, 2), balanced("b", 2, 2), balanced("c", 3)}
	s := hierarchicalTable(dims, frequencies(r, 1.0/3, 5))
	require.Positive(t, suppressPrimaries(s, 5))
	naive, err := Exact(context.Background(), s)
	require.NoError(t, err)
	require.NotEmpty(t, naive, "naive suppression discloses")
	protect(s)
	found, err := Exact(context.Background(), s)
	require.NoError(t, err)
	assert.Empty(t, found)
	ivs, err := Intervals(context.Background(), s)
	require.NoError(t, err)
	for _, iv := range ivs {
		assert.True(t, iv.Protected, "%s: [%v, %v]", iv.Name, iv.Min, iv.Max)
		assert.Less(t, iv.Min, iv.Max, iv.Name)
	}
}

// A withheld 4 and a withheld 5 add up to a published 9: the 4 lies
// anywhere in [0, 9]. The protection levels ask for a width, a reach below
// the value (capped at zero) and a reach above it.
func TestIntervalsProtectionLevels(t *testing.T) {
	tests := []struct {
		reason               string
		margin, below, above float64
		protected            bool
	}{
		{"no requirement: not exact", 0, 0, 0, true},
		{"9 wide is enough for a width of 9", 9, 0, 0, true},
		{"but not for 9.5", 9.5, 0, 0, false},
		{"down to 0 and up to 9", 0, 4, 5, true},
		{"down to 0, also when more is asked: cells are not negative", 0, 10, 0, true},
		{"not up to 10", 0, 0, 6, false},
		{"all three at once", 9, 4, 5, true},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			s := &System{
				Cells: []Cell{
					{Name: "a", Value: 4, Sensitive: true, Margin: tt.margin, Below: tt.below, Above: tt.above},
					{Name: "b", Value: 5},
					{Name: "total", Value: 9, Published: true},
				},
				Sums: []Sum{{Total: 2, Parts: []int{0, 1}}},
			}
			ivs, err := Intervals(context.Background(), s)
			require.NoError(t, err)
			require.Len(t, ivs, 1)
			assert.Equal(t, [2]float64{0, 9}, [2]float64{ivs[0].Min, ivs[0].Max})
			assert.Equal(t, tt.protected, ivs[0].Protected)
			assert.Equal(t, [3]float64{tt.margin, tt.below, tt.above}, [3]float64{ivs[0].Margin, ivs[0].Below, ivs[0].Above})
		})
	}
	bad := &System{Cells: []Cell{{Name: "a", Value: 1, Below: -1}}}
	_, err := Intervals(context.Background(), bad)
	assert.ErrorIs(t, err, ErrInvalid, "a negative protection level")
}

// A canceled audit stops with a StoppedError that says how far it got.
func TestAuditsStop(t *testing.T) {
	s := benchSystem(benchTables[0].dims, benchPatterns[2].pattern)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Intervals(ctx, s)
	var stopped *StoppedError
	require.ErrorAs(t, err, &stopped)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, "sensitive cells, for any reader", stopped.Stage)
	assert.Zero(t, stopped.Done)
	assert.Positive(t, stopped.Total)
	assert.Contains(t, err.Error(), "audit: stopped after 0 of")

	_, err = Exact(ctx, s)
	require.ErrorAs(t, err, &stopped)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, "components, for any reader", stopped.Stage)
}

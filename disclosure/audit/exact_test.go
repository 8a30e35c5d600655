package audit

import (
	"context"
	"errors"
	"math"
	"math/big"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// table3x3 is a 3×3 table with all margins; its cells are t[i,j], its row
// totals t[i,T], its column totals t[T,j] and its grand total t[T,T].
func table3x3() *builder {
	b := newBuilder()
	b.grid("t", [][]float64{{3, 10, 7}, {12, 2, 9}, {8, 11, 4}})
	return b
}

// regions is a hierarchical table: region North has municipalities A, B, C
// and region South has D, E; the country total is the sum of the regions.
func regions() *builder {
	b := newBuilder()
	for name, v := range map[string]float64{"A": 12, "B": 3, "C": 20, "D": 2, "E": 15} {
		b.cell(name, v)
	}
	b.cell("North", 35)
	b.cell("South", 17)
	b.cell("NL", 52)
	b.sum("North", "A", "B", "C")
	b.sum("South", "D", "E")
	b.sum("NL", "North", "South")
	return b
}

func TestExactFindsNaiveSuppression(t *testing.T) {
	tests := []struct {
		name   string
		reason string
		build  func() (*System, []Attacker)
		want   []string // findingNames, in any order
	}{
		{
			name:   "primary alone in a row",
			reason: "the row total minus the published cells gives it",
			build: func() (*System, []Attacker) {
				return table3x3().primary("t[2,2]").system(), nil
			},
			want: []string{"t[2,2]"},
		},
		{
			name:   "two in a row, the column pins one",
			reason: "t[1,1] is alone in column 1, and then t[1,2] is alone in row 1",
			build: func() (*System, []Attacker) {
				return table3x3().primary("t[1,1]", "t[1,2]", "t[2,2]", "t[3,2]").system(), nil
			},
			want: []string{"t[1,1]", "t[1,2]", "t[2,2]", "t[3,2]"},
		},
		{
			name:   "no cell alone, but the equations pin them",
			reason: "every relation has two unknowns, yet x+y, y+z and x+z together give each: elimination, not peeling, finds them",
			build: func() (*System, []Attacker) {
				b := newBuilder()
				b.cell("x", 2)
				b.cell("y", 3)
				b.cell("z", 4)
				b.cell("x+y", 5)
				b.cell("y+z", 7)
				b.cell("x+z", 6)
				b.sum("x+y", "x", "y")
				b.sum("y+z", "y", "z")
				b.sum("x+z", "x", "z")
				return b.primary("x", "y", "z").system(), nil
			},
			want: []string{"x", "y", "z"},
		},
		{
			name:   "differencing two linked tables",
			reason: "table 1 hides B and C under North; a second report publishes West = A + B, so B = West − A and C = North − A − B",
			build: func() (*System, []Attacker) {
				b := regions()
				b.cell("West", 15)
				b.sum("West", "A", "B")
				return b.primary("C").hide("B").system(), nil
			},
			want: []string{"B", "C"},
		},
		{
			name:   "hierarchical subtotals",
			reason: "South is withheld with D and E, but NL − North gives South, and then South − E gives D",
			build: func() (*System, []Attacker) {
				return regions().primary("D").hide("South").system(), nil
			},
			want: []string{"South", "D"},
		},
		{
			name:   "singleton insider",
			reason: "B and D are hidden in a line; the only contributor to B knows it and computes D",
			build: func() (*System, []Attacker) {
				b := newBuilder()
				b.cell("B", 1)
				b.cell("D", 3)
				b.cell("F", 8)
				b.cell("T", 12)
				b.sum("T", "B", "D", "F")
				s := b.primary("B", "D").system()
				return s, []Attacker{{Name: "provider of B", Knows: []int{b.id("B")}}}
			},
			want: []string{"provider of B:D"},
		},
		{
			name:   "ratio with a published denominator",
			reason: "a response rate 3/4 with 4 decisions published gives 3 measurements",
			build: func() (*System, []Attacker) {
				b := newBuilder()
				b.cell("metingen", 3)
				b.cell("beschikkingen", 4)
				s := b.primary("metingen").system()
				s.Ratios = []Ratio{{Numerator: 0, Denominator: 1, Published: true}}
				return s, nil
			},
			want: []string{"metingen"},
		},
		{
			name: "response with running care, complements stated",
			reason: "30 decisions and 28 to which the indicator applies, both published, give the 2 still in care; " +
				"the withheld measurements (20) protect the non-response (8) and the withheld rate 20/28",
			build: func() (*System, []Attacker) { return runningCare(true), nil },
			want:  []string{"nog in zorg"},
		},
		{
			name: "response with running care, complement not stated",
			reason: "the same pattern, by an audit that does not know the decisions are the applicable ones plus those still in care: " +
				"it passes a pattern that gives the 2 away (the case above)",
			build: func() (*System, []Attacker) { return runningCare(false), nil },
			want:  nil,
		},
		{
			name:   "ratio with a published numerator",
			reason: "a rate of 3/4 with 3 measurements published gives 4 decisions",
			build: func() (*System, []Attacker) {
				b := newBuilder()
				b.cell("metingen", 3)
				b.cell("beschikkingen", 4)
				s := b.primary("beschikkingen").system()
				s.Ratios = []Ratio{{Numerator: 0, Denominator: 1, Published: true}}
				return s, nil
			},
			want: []string{"beschikkingen"},
		},
		{
			name:   "ratio and sum together",
			reason: "both terms of a ratio are hidden, but their sum is published: N = rD and N + D = T give both",
			build: func() (*System, []Attacker) {
				b := newBuilder()
				b.cell("N", 2)
				b.cell("D", 6)
				b.cell("N+D", 8)
				b.sum("N+D", "N", "D")
				s := b.primary("N", "D").system()
				s.Ratios = []Ratio{{Numerator: 0, Denominator: 1, Published: true}}
				return s, nil
			},
			want: []string{"N", "D"},
		},
		{
			name:   "a zero ratio",
			reason: "a published rate of 0% says the numerator is 0, whatever the denominator",
			build: func() (*System, []Attacker) {
				b := newBuilder()
				b.cell("N", 0)
				b.cell("D", 7)
				s := b.primary("N", "D").system()
				s.Ratios = []Ratio{{Numerator: 0, Denominator: 1, Published: true}}
				return s, nil
			},
			want: []string{"N"},
		},
		{
			name:   "an undefined ratio",
			reason: "a ratio shown as undefined says the denominator is 0",
			build: func() (*System, []Attacker) {
				b := newBuilder()
				b.cell("N", 0)
				b.cell("D", 0)
				s := b.primary("N", "D").system()
				s.Ratios = []Ratio{{Numerator: 0, Denominator: 1, Published: true}}
				return s, nil
			},
			want: []string{"D"},
		},
		{
			name:   "insider and any reader",
			reason: "any reader computes t[2,2]; the insider who knows t[1,1] also computes t[1,3] and the rest of its row and column",
			build: func() (*System, []Attacker) {
				b := table3x3().primary("t[2,2]", "t[1,1]", "t[1,3]", "t[3,1]", "t[3,3]")
				return b.system(), []Attacker{{Name: "p", Knows: []int{b.id("t[1,1]")}}}
			},
			want: []string{"t[2,2]", "p:t[1,3]", "p:t[3,1]", "p:t[3,3]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, attackers := tt.build()
			got, err := Exact(context.Background(), s, attackers...)
			require.NoError(t, err)
			assert.ElementsMatch(t, tt.want, findingNames(got), tt.reason)
			assert.ElementsMatch(t, keys(expectedFindings(s, attackers)), findingNames(got), "brute force disagrees")
			checkDerivations(t, s, attackers, got)
		})
	}
}

func TestExactFindsNothingInProtectedTables(t *testing.T) {
	tests := []struct {
		name   string
		reason string
		build  func() (*System, []Attacker)
	}{
		{
			name:   "nothing withheld",
			reason: "no withheld cell, no finding",
			build:  func() (*System, []Attacker) { return table3x3().system(), nil },
		},
		{
			name:   "a rectangle",
			reason: "four cells at the corners of a rectangle: every line has two unknowns that move together",
			build: func() (*System, []Attacker) {
				return table3x3().primary("t[1,1]").hide("t[1,3]", "t[3,1]", "t[3,3]").system(), nil
			},
		},
		{
			name:   "two rectangles sharing a corner",
			reason: "a 3×3 diagonal pattern plus a cycle: still one degree of freedom per cell",
			build: func() (*System, []Attacker) {
				return table3x3().primary("t[1,1]", "t[2,2]").hide("t[1,2]", "t[2,1]").system(), nil
			},
		},
		{
			name:   "hierarchy protected at both levels",
			reason: "D and E hidden under South, and South with North hidden under NL, with C protecting North",
			build: func() (*System, []Attacker) {
				return regions().primary("D").hide("E", "South", "North", "C", "B").system(), nil
			},
		},
		{
			name:   "linked tables protected together",
			reason: "West = A + B and East = C + D are published; A, B, C, D hidden: A and B move together, as do C and D",
			build: func() (*System, []Attacker) {
				b := newBuilder()
				for _, c := range []struct {
					n string
					v float64
				}{{"A", 12}, {"B", 3}, {"C", 20}, {"D", 9}, {"North", 44}, {"West", 15}, {"East", 29}} {
					b.cell(c.n, c.v)
				}
				b.sum("North", "A", "B", "C", "D")
				b.sum("West", "A", "B")
				b.sum("East", "C", "D")
				return b.primary("B").hide("A", "C", "D").system(), nil
			},
		},
		{
			name:   "insider who knows a cell of a protected pair",
			reason: "the provider knows B, which is published anyway; the rectangle stays safe",
			build: func() (*System, []Attacker) {
				b := table3x3().primary("t[1,1]").hide("t[1,3]", "t[3,1]", "t[3,3]")
				return b.system(), []Attacker{{Name: "p", Knows: []int{b.id("t[2,2]")}}}
			},
		},
		{
			name:   "unpublished ratio",
			reason: "a ratio that is not published ties nothing",
			build: func() (*System, []Attacker) {
				b := newBuilder()
				b.cell("N", 3)
				b.cell("D", 4)
				s := b.primary("N").system()
				s.Ratios = []Ratio{{Numerator: 0, Denominator: 1}}
				return s, nil
			},
		},
		{
			name:   "ratio with both terms withheld",
			reason: "a ratio alone ties the numerator to the denominator, but fixes neither",
			build: func() (*System, []Attacker) {
				b := newBuilder()
				b.cell("N", 3)
				b.cell("D", 4)
				s := b.primary("N").hide("D").system()
				s.Ratios = []Ratio{{Numerator: 0, Denominator: 1, Published: true}}
				return s, nil
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, attackers := tt.build()
			got, err := Exact(context.Background(), s, attackers...)
			require.NoError(t, err)
			assert.Empty(t, findingNames(got), tt.reason)
			assert.Empty(t, expectedFindings(s, attackers), "brute force disagrees")
		})
	}
}

func TestExactDerivation(t *testing.T) {
	b := table3x3().primary("t[2,2]")
	s := b.system()
	got, err := Exact(context.Background(), s)
	require.NoError(t, err)
	require.Len(t, got, 1)
	f := got[0]
	assert.Equal(t, Finding{
		Cell: b.id("t[2,2]"), Name: "t[2,2]", Sensitive: true, Value: 2,
		Derivation: []Term{{Relation: Relation{Kind: SumRelation, Index: 1}, Coef: big.NewRat(-1, 1)}},
	}, f)
	assert.Equal(t, `"t[2,2]" = 2 for any reader, by -Sums[1]`, f.String())
}

func TestExactPublishedSensitive(t *testing.T) {
	b := table3x3()
	b.s.Cells[b.id("t[2,2]")].Sensitive = true
	got, err := Exact(context.Background(), b.system())
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, Finding{Cell: b.id("t[2,2]"), Name: "t[2,2]", Sensitive: true, Value: 2}, got[0])
	assert.Equal(t, `"t[2,2]" = 2 for any reader, published`, got[0].String())
	ivs, err := Intervals(context.Background(), b.system())
	require.NoError(t, err)
	assert.Equal(t, []span{{"", "t[2,2]", 2, 2, false}}, spans(ivs))
}

func TestExactDecimalValues(t *testing.T) {
	// Hours of care: 0.1 + 0.2 is 0.30000000000000004 in float64, but the
	// audit reads decimals and finds exactly 0.3.
	b := newBuilder()
	b.cell("a", 0.1)
	b.cell("b", 0.2)
	b.cell("c", 0.3)
	b.cell("total", 0.6)
	b.sum("total", "a", "b", "c")
	got, err := Exact(context.Background(), b.primary("c").system())
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, 0.3, got[0].Value)
}

func TestValidate(t *testing.T) {
	valid := func() *System {
		b := regions()
		s := b.system()
		s.Ratios = []Ratio{{Numerator: b.id("B"), Denominator: b.id("North"), Published: true}}
		return s
	}
	tests := []struct {
		name   string
		change func(s *System)
		err    error
		field  string
		index  int
	}{
		{"empty name", func(s *System) { s.Cells[2].Name = "" }, ErrInvalid, "Cells", 2},
		{"repeated name", func(s *System) { s.Cells[3].Name = s.Cells[1].Name }, ErrInvalid, "Cells", 3},
		{"NaN value", func(s *System) { s.Cells[0].Value = math.NaN() }, ErrInvalid, "Cells", 0},
		{"infinite value", func(s *System) { s.Cells[0].Value = math.Inf(-1) }, ErrInvalid, "Cells", 0},
		{"negative margin", func(s *System) { s.Cells[1].Margin = -1 }, ErrInvalid, "Cells", 1},
		{"total out of range", func(s *System) { s.Sums[1].Total = 99 }, ErrInvalid, "Sums", 1},
		{"negative part", func(s *System) { s.Sums[0].Parts[1] = -1 }, ErrInvalid, "Sums", 0},
		{"repeated part", func(s *System) { s.Sums[0].Parts[1] = s.Sums[0].Parts[0] }, ErrInvalid, "Sums", 0},
		{"total among the parts", func(s *System) { s.Sums[2].Parts[0] = s.Sums[2].Total }, ErrInvalid, "Sums", 2},
		{"inconsistent", func(s *System) { s.Cells[s.Sums[1].Total].Value++ }, ErrInconsistent, "Sums", 1},
		{"ratio out of range", func(s *System) { s.Ratios[0].Denominator = 7000 }, ErrInvalid, "Ratios", 0},
		{"ratio of a cell to itself", func(s *System) { s.Ratios[0].Denominator = s.Ratios[0].Numerator }, ErrInvalid, "Ratios", 0},
	}
	require.NoError(t, valid().Validate())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := valid()
			tt.change(s)
			err := s.Validate()
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.err)
			var serr *SystemError
			require.ErrorAs(t, err, &serr)
			assert.Equal(t, tt.field, serr.Field)
			assert.Equal(t, tt.index, serr.Index)
			assert.Regexp(t, `^audit: `+tt.field+`\[\d+\]: `, err.Error())
			_, err = Exact(context.Background(), s)
			assert.ErrorIs(t, err, tt.err, "Exact validates")
		})
	}
}

func TestValidateAttackers(t *testing.T) {
	s := regions().system()
	tests := []struct {
		name      string
		attackers []Attacker
		index     int
	}{
		{"no name", []Attacker{{Knows: []int{1}}}, 0},
		{"same name", []Attacker{{Name: "x"}, {Name: "x"}}, 1},
		{"unknown cell", []Attacker{{Name: "x", Knows: []int{len(s.Cells)}}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Exact(context.Background(), s, tt.attackers...)
			var serr *SystemError
			require.ErrorAs(t, err, &serr)
			assert.True(t, errors.Is(err, ErrInvalid))
			assert.Equal(t, "Attackers", serr.Field)
			assert.Equal(t, tt.index, serr.Index)
		})
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// runningCare is a row of a response table with care still running: 30
// decisions, 28 to which the indicator applies, 20 measured; the
// decisions and the applicable ones published. notApplicable states the
// relation decisions = applicable + not applicable.
func runningCare(notApplicable bool) *System {
	b := newBuilder()
	b.cell("beschikkingen", 30)
	b.cell("van toepassing", 28)
	b.cell("metingen", 20)
	b.cell("non-respons", 8)
	b.cell("nog in zorg", 2)
	if notApplicable {
		b.sum("beschikkingen", "van toepassing", "nog in zorg")
	}
	b.sum("van toepassing", "metingen", "non-respons")
	s := b.hide("metingen").primary("non-respons", "nog in zorg").system()
	s.Ratios = []Ratio{{Numerator: b.id("metingen"), Denominator: b.id("van toepassing")}}
	return s
}

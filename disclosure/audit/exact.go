package audit

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"

	"github.com/zorgkit/zorgkit/disclosure/audit/internal/sparse"
)

// Finding is a withheld cell that a reader can compute exactly, or a
// sensitive cell that is published.
type Finding struct {
	// Cell is the index of the cell in System.Cells; Name is its name.
	Cell int
	Name string

	// Attacker is the name of the reader who can compute the cell: "" for
	// any reader, or the name of an [Attacker] for a cell that only its
	// inside knowledge discloses.
	Attacker string

	// Sensitive repeats Cells[Cell].Sensitive: a sensitive finding is a
	// disclosure; any other finding is a withheld cell that protects
	// nothing.
	Sensitive bool

	// Value is the value the reader computes: the cell's true value, up
	// to the rounding of a float64.
	Value float64

	// Derivation is how the reader computes it: the weighted sum of the
	// relations (each written as in the package documentation, as an
	// expression that is zero) that has coefficient 1 for this cell and 0
	// for every cell the reader does not know. The cells it leaves are
	// published, known to the attacker, or computed in an earlier finding
	// for the same reader (or for any reader). It is empty for a
	// published cell.
	Derivation []Term
}

// Term is one relation of a derivation, with its weight.
type Term struct {
	Relation Relation
	Coef     *big.Rat
}

// Relation identifies one relation of a System.
type Relation struct {
	Kind  RelationKind
	Index int // index in System.Sums or System.Ratios
}

// RelationKind tells a Sum from a Ratio.
type RelationKind uint8

// The kinds of relation.
const (
	SumRelation   RelationKind = iota // System.Sums[Index]
	RatioRelation                     // System.Ratios[Index]
)

// String returns "Sums[i]" or "Ratios[i]".
func (r Relation) String() string {
	if r.Kind == RatioRelation {
		return fmt.Sprintf("Ratios[%d]", r.Index)
	}
	return fmt.Sprintf("Sums[%d]", r.Index)
}

// String describes the finding on one line, such as
// `"a" = 3 for any reader, by Sums[0] - Sums[2]`.
func (f Finding) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q = %g", f.Name, f.Value)
	if f.Attacker == "" {
		b.WriteString(" for any reader")
	} else {
		fmt.Fprintf(&b, " for %q", f.Attacker)
	}
	if len(f.Derivation) == 0 {
		b.WriteString(", published")
	}
	for i, t := range f.Derivation {
		switch {
		case i == 0 && t.Coef.Sign() < 0:
			b.WriteString(", by -")
		case i == 0:
			b.WriteString(", by ")
		case t.Coef.Sign() < 0:
			b.WriteString(" - ")
		default:
			b.WriteString(" + ")
		}
		if c := new(big.Rat).Abs(t.Coef); c.Cmp(big.NewRat(1, 1)) != 0 {
			b.WriteString(c.RatString() + "·")
		}
		b.WriteString(t.Relation.String())
	}
	return b.String()
}

// Exact returns every withheld cell that a reader can compute exactly from
// the published cells and the relations of s: first those any reader can
// compute (Attacker ""), then, for each attacker in turn, those that only
// its inside knowledge discloses. A cell an attacker knows itself is not a
// finding for it. A sensitive cell that is published, which no protection
// should allow, comes first, as a finding without derivation.
//
// The findings of one reader come in the order in which they were derived:
// a derivation uses only cells that are published, known to the attacker,
// or computed in an earlier finding. After a correct protection Exact
// returns no finding at all; a finding that is not Sensitive is a withheld
// cell that protects nothing.
//
// The result is exact (see the package documentation); an error is a
// [*SystemError] that says what is wrong with s or an attacker. When ctx
// ends first, Exact stops with a [*StoppedError].
func Exact(ctx context.Context, s *System, attackers ...Attacker) ([]Finding, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if err := s.validateAttackers(attackers); err != nil {
		return nil, err
	}
	m := newModel(s)
	kn := m.newKnowledge()
	all := make([]int32, len(m.rows))
	for k := range all {
		all[k] = int32(k)
	}
	var findings []Finding
	for c, cell := range s.Cells {
		if cell.Published && cell.Sensitive {
			findings = append(findings, Finding{Cell: c, Name: cell.Name, Sensitive: true, Value: cell.Value})
		}
	}
	progress := &StoppedError{Stage: "components, for any reader"}
	found, comps, err := m.exact(ctx, kn, "", m.singles(kn), all, progress)
	if err != nil {
		return nil, err
	}
	findings = append(findings, found...)

	progress = &StoppedError{Stage: "attackers", Total: len(attackers)}
	for _, a := range attackers {
		akn := kn.clone()
		var queue []int32
		for _, c := range a.Knows {
			queue = m.learn(akn, int32(c), queue)
		}
		found, _, err := m.exact(ctx, akn, a.Name, queue, touched(kn, akn, comps), nil)
		if err != nil {
			return nil, progress.stop(err)
		}
		findings = append(findings, found...)
		progress.Done++
	}
	return findings, nil
}

// exact finds the cells that the reader with knowledge kn can compute:
// first by peeling the relations in queue, then by elimination in the
// components of rels that remain. It updates kn and returns the findings
// and the components.
//
// It checks ctx before each component; progress, if not nil, counts them.
func (m *model) exact(ctx context.Context, kn *knowledge, attacker string, queue []int32, rels []int32, progress *StoppedError) ([]Finding, []component, error) {
	var findings []Finding
	m.peel(kn, queue, func(c, k int32) {
		findings = append(findings, m.finding(kn, c, attacker, determined{
			cell: c, den: m.rows[k].Get(c), rels: []int32{k}, coef: []sparse.Int{sparse.NewInt(1)},
		}))
	})
	comps := m.components(kn, rels)
	if progress != nil {
		progress.Total = len(comps)
	}
	var solved []determined
	for _, comp := range comps {
		if err := ctx.Err(); err != nil {
			if progress != nil {
				return nil, nil, progress.stop(err)
			}
			return nil, nil, err
		}
		solved = append(solved, m.solveComponent(kn, comp)...)
		if progress != nil {
			progress.Done++
		}
	}
	for _, d := range solved {
		findings = append(findings, m.finding(kn, d.cell, attacker, d))
	}
	for _, d := range solved {
		m.learn(kn, d.cell, nil) // known now, but a known cell determines nothing new
	}
	return findings, comps, nil
}

// touched returns the relations of the components of any reader in which
// the attacker, who knows akn, knows a cell that any reader, who knows kn,
// does not: only there can the attacker learn more than any reader.
func touched(kn, akn *knowledge, comps []component) []int32 {
	var rels []int32
	for _, comp := range comps {
		for _, c := range comp.cells {
			if akn.known[c] && !kn.known[c] {
				rels = append(rels, comp.rels...)
				break
			}
		}
	}
	slices.Sort(rels)
	return rels
}

// finding turns a determined cell into a Finding, with the value that its
// derivation gives.
func (m *model) finding(kn *knowledge, c int32, attacker string, d determined) Finding {
	cell := m.s.Cells[c]
	f := Finding{Cell: int(c), Name: cell.Name, Attacker: attacker, Sensitive: cell.Sensitive}
	// The combination Σ coef·row, over all cells: den·x + known terms.
	var sum sparse.Vec
	one := sparse.NewInt(1)
	for i, k := range d.rels {
		coef := sparse.Rat(sparse.Mul(d.coef[i], m.scale[k]), d.den)
		f.Derivation = append(f.Derivation, Term{Relation: m.relation(k), Coef: coef})
		sum = sparse.Combine(one, sum, d.coef[i].Neg(), m.rows[k])
	}
	// x = −(known terms)/den, in integers while the values are integers.
	var known sparse.Int
	var exact *big.Rat
	for i, j := range sum.Idx {
		if j == c {
			if sum.Val[i].Cmp(d.den) != 0 {
				panic("audit: internal error: a derivation does not isolate its cell")
			}
			continue
		}
		if !kn.known[j] {
			panic("audit: internal error: a derivation uses an unknown cell")
		}
		if v, ok := m.intValue(j); ok && exact == nil {
			known = sparse.Add(known, sparse.Mul(sum.Val[i], v))
			continue
		}
		if exact == nil {
			exact = sparse.Rat(known, one)
		}
		exact.Add(exact, new(big.Rat).Mul(sparse.Rat(sum.Val[i], one), m.value(int(j))))
	}
	if exact == nil {
		exact = sparse.Rat(known, one)
	}
	exact.Quo(exact, sparse.Rat(d.den.Neg(), one))
	f.Value, _ = exact.Float64()
	return f
}

// intValue returns the value of cell c as an Int if it is an integer that
// a float64 holds exactly.
func (m *model) intValue(c int32) (sparse.Int, bool) {
	v := m.s.Cells[c].Value
	if v != math.Trunc(v) || math.Abs(v) >= 1<<53 {
		return sparse.Int{}, false
	}
	return sparse.NewInt(int64(v)), true
}

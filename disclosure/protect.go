package disclosure

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/zorgkit/zorgkit/disclosure/internal/elim"
)

// zeroReader is the reader who knows that empty cells are empty.
const zeroReader = 0

// Protected is the protected version of linked tables, for everyone but
// the data owner. Every primary cell is withheld, and so are enough other
// cells that no primary cell can be computed from the published cells and
// the tables' totals and subtotals, not by any reader and not by a
// contributor from its own contributions.
type Protected struct {
	tables []*PublicTable
	stats  Stats

	// For AuditSystem; never rendered.
	t    *Tables
	fams []*protectedFamily
	cs   *contributors
}

// Stats counts the cells of protected tables. A cell shown by several
// tables counts once.
type Stats struct {
	Cells     int // cells of the tables
	Primary   int // withheld by a primary rule
	Secondary int // withheld to protect primary cells
	Hidden    int // cells of the hidden cross-classification linking the tables
}

type protectedFamily struct {
	*family
	status    []Status
	reason    []Reason
	known     []int32  // reader that knows a base cell, or -1
	sensitive []bool   // primary cells that need protection
	levels    []levels // the interval protection they need

	// determinedBy says, per withheld cell, who can compute it: a reader,
	// elim.Everyone or elim.Nobody; insiderKnows lists, per insider, the
	// withheld cells it can compute.
	determinedBy []int32
	insiderKnows map[int32][]int32
	work         elim.Work
}

// Tables returns the protected tables in the order of the specifications.
func (p *Protected) Tables() []*PublicTable { return slices.Clone(p.tables) }

// Table returns the protected table with the given name, or nil.
func (p *Protected) Table(name string) *PublicTable {
	for _, t := range p.tables {
		if t.name == name {
			return t
		}
	}
	return nil
}

// Stats returns the number of cells, primary and secondary suppressions.
func (p *Protected) Stats() Stats { return p.stats }

// Protect applies the rules to the tables and withholds, in addition,
// enough cells that no primary cell can be derived: the protected reports
// for everyone but the data owner. With Rules.Intervals it also withholds
// enough cells that no reader can narrow a primary cell down further than
// the rules allow.
//
// Protect checks ctx as it goes; when ctx ends first, it stops with a
// [*StoppedError] that says how far it got.
func (t *Tables) Protect(ctx context.Context, r Rules) (*Protected, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	cs := t.contributors()
	fams := t.families()
	for _, f := range fams {
		if err := f.build(t, cs, r.topK()); err != nil {
			return nil, err
		}
	}
	byName := func(name string) *family {
		if i := slices.IndexFunc(fams, func(f *family) bool { return f.name == name }); i >= 0 {
			return fams[i]
		}
		return nil
	}
	for _, f := range fams {
		switch f.pop {
		case popMeasured, popUnmeasured:
			f.linkDecisions(t, byName("count"), byName(t.applicableFamily(f.indicator)))
		case popApplicable, popNotApplicable:
			f.linkDecisions(t, byName("count"), nil)
		}
	}
	masks := t.primaries(r, fams)
	p := &Protected{t: t, cs: cs, fams: make([]*protectedFamily, len(fams))}
	anonymous := max(len(t.records), len(t.aggs))
	nonneg := make([]bool, 1+len(cs.names)+anonymous) // per reader
	nonneg[zeroReader] = true
	gs := groups(fams)
	problems := make([]*groupProblem, len(gs))
	for i, g := range gs {
		gp := newGroupProblem(t, r, g, fams, masks, nonneg)
		if err := gp.solve(ctx, stageSecondary); err != nil {
			return nil, err
		}
		problems[i] = gp
		for k, f := range g {
			p.fams[f] = gp.pfs[k]
		}
	}
	if r.Intervals {
		if err := t.intervals(ctx, problems); err != nil {
			return nil, err
		}
	}
	p.finish()
	return p, nil
}

// finish counts the cells and renders the tables.
func (p *Protected) finish() {
	p.stats = Stats{}
	for _, pf := range p.fams {
		for c := range pf.n {
			switch {
			case !pf.inTable[c]:
				if pf.complementOf == nil {
					p.stats.Hidden++
				}
				continue
			case pf.status[c] == PrimarySuppressed:
				p.stats.Primary++
			case pf.status[c] == SecondarySuppressed:
				p.stats.Secondary++
			}
			p.stats.Cells++
		}
	}
	p.tables = p.tables[:0]
	for _, s := range p.t.specs {
		p.tables = append(p.tables, &PublicTable{p.t.render(s, p.fams)})
	}
}

// groups returns the families that must be protected as one system, as
// indices into fams: the records' count with the measured, unmeasured,
// applicable and not applicable records of every indicator (decisions =
// applicable + not applicable, applicable = measured + not measured), and
// every other family alone.
func groups(fams []*family) [][]int {
	var out [][]int
	var counts []int
	for i, f := range fams {
		if f.measure == Count {
			counts = append(counts, i)
		} else {
			out = append(out, []int{i})
		}
	}
	if len(counts) > 0 {
		out = append(out, counts)
	}
	return out
}

// reader returns the reader of a contributor key.
func reader(key int64) int32 { return int32(key + 1) }

// primaries applies the primary rules to every cell of every table.
func (t *Tables) primaries(r Rules, fams []*family) [][]primaryMask {
	masks := make([][]primaryMask, len(fams))
	for i, f := range fams {
		masks[i] = make([]primaryMask, f.n)
		shown := f.inTable
		if f.complementOf != nil {
			// The non-response is published with the decisions and the
			// measurements: the rules apply to it as to a cell of the
			// table.
			shown = f.complementOf.inTable
		}
		for c := range f.n {
			if shown[c] {
				masks[i][c] = r.cellRules(f, c)
			}
		}
	}
	if !r.RowMode {
		return masks
	}
	defer func() {
		// The non-response of a withheld row is withheld with it.
		for i, f := range fams {
			if f.complementOf == nil {
				continue
			}
			m := masks[slices.Index(fams, f.complementOf)]
			for c := range f.n {
				masks[i][c] |= m[c] & (1 << RowRule)
			}
		}
	}()
	var all *family // the records of every family's rows
	for _, f := range fams {
		if f.measure == Count && f.indicator == "" {
			all = f
		}
	}
	nodes := make([]int32, len(t.dims))
	row := make([]int32, len(t.dims))
	for _, s := range t.specs {
		for i, f := range fams {
			if !slices.Contains(f.specs, s) {
				continue
			}
			rows := f
			if f.indicator != "" {
				rows = all
			}
			t.eachCell(s, nodes, func() {
				for d := range row {
					row[d] = 0
				}
				for _, d := range s.profile {
					row[d] = nodes[d]
				}
				n := rows.records[rows.index(row)]
				if n < int64(r.rowMinimum()) && (n > 0 || r.ZerosSensitive) {
					masks[i][f.index(nodes)] |= 1 << RowRule
				}
			})
		}
	}
	return masks
}

// eachCell calls fn for every cell of table s, with nodes set to its node
// per schema dimension (the total outside the table), in display order.
func (t *Tables) eachCell(s *spec, nodes []int32, fn func()) {
	for d := range nodes {
		nodes[d] = 0
	}
	var rec func(k int)
	rec = func(k int) {
		if k == len(s.dims) {
			fn()
			return
		}
		d := s.dims[k]
		for _, x := range t.dims[d].display {
			nodes[d] = x
			rec(k + 1)
		}
		nodes[d] = 0
	}
	rec(0)
}

// groupProblem is the secondary suppression of a group of families (see
// groups) as one system: an elimination problem over the group's cells,
// numbered family after family.
type groupProblem struct {
	t      *Tables
	g      []int // indices into fams
	fams   []*family
	pfs    []*protectedFamily
	offset []int
	n      int
	p      *elim.Problem
	forced []int32   // cells published whatever they disclose (empty cells)
	values []float64 // per column, for the order of candidates
	leaves []int     // per column: base cells covered, the same
}

func newGroupProblem(t *Tables, r Rules, g []int, fams []*family, masks [][]primaryMask, nonneg []bool) *groupProblem {
	gp := &groupProblem{t: t, g: g, offset: make([]int, len(g))}
	for k, i := range g {
		gp.offset[k] = gp.n
		gp.n += fams[i].n
		gp.fams = append(gp.fams, fams[i])
	}
	n := gp.n
	p := &elim.Problem{
		NumCols:   n,
		Protected: make([]bool, n),
		Owner:     make([]int32, n),
		Nonneg:    nonneg,
	}
	gp.p = p
	known := make([]int32, n) // who knows a base cell
	gp.pfs = make([]*protectedFamily, len(g))
	for k, i := range g {
		f, mask, o := fams[i], masks[i], gp.offset[k]
		pf := &protectedFamily{
			family:    f,
			status:    make([]Status, f.n),
			reason:    make([]Reason, f.n),
			known:     make([]int32, f.n),
			sensitive: make([]bool, f.n),
			levels:    make([]levels, f.n),
		}
		gp.pfs[k] = pf
		gp.values = append(gp.values, f.value...)
		gp.leaves = append(gp.leaves, f.leavesBelow(t)...)
		// Readers know base cells: the leaves of the cube, and of an
		// indicator's cubes only when they are leaves of the records'
		// cube too. A leaf of a coarser cube is a total of records'
		// cells, which a reader that alone contributes to it does not
		// know by itself (it cannot tell that nobody else contributed),
		// just as it does not know such a total of the records' cube.
		base := f.indicator == "" || slices.Equal(f.dims, whole(g, fams).dims)
		for c := range f.n {
			p.Owner[o+c] = -1
			pf.known[c] = -1
			if base && f.isLeaf(t, c) {
				pf.known[c] = f.knower(c)
			}
			known[o+c] = pf.known[c]
		}
		for c := range f.n {
			switch {
			case mask[c] != 0 && f.records[c] == 0 && !r.ZerosSensitive:
				// An empty cell of a row withheld in row mode: withheld
				// with its row, but empty cells are safe, so it needs no
				// protection, and it protects nothing: the engine takes
				// it as known.
				pf.status[c] = PrimarySuppressed
				pf.reason[c] = mask[c].first()
				gp.forced = append(gp.forced, int32(o+c))
			case mask[c] != 0:
				p.Protected[o+c] = true
				pf.sensitive[c] = true
				pf.levels[c] = r.levels(f, c, mask[c])
				pf.status[c] = PrimarySuppressed
				pf.reason[c] = mask[c].first()
				p.Owner[o+c] = f.knower(c)
			case !f.inTable[c]:
				pf.status[c] = SecondarySuppressed // hidden: never published
			case f.records[c] == 0:
				gp.forced = append(gp.forced, int32(o+c))
			default:
				p.Candidates = append(p.Candidates, int32(o+c))
			}
		}
	}
	p.Insiders, p.Knower = insiders(known)
	if !r.ZerosSensitive {
		// Empty cells are safe: treat every empty base cell, shown or
		// hidden, as known to all, so that no protection rests on one.
		for k, i := range g {
			f, o := fams[i], gp.offset[k]
			for c := range f.n {
				if f.records[c] == 0 && f.isLeaf(t, c) {
					p.Knower[o+c] = -1
					if !f.inTable[c] && gp.pfs[k].status[c] != PrimarySuppressed {
						gp.forced = append(gp.forced, int32(o+c))
					}
				}
			}
		}
	}
	p.Forced = slices.Clone(gp.forced)
	gp.sort(p.Candidates)
	p.Basis = groupBasis(t, g, fams, gp.offset, p.Knower)
	for i, in := range p.Insiders {
		kn := make([]int32, n)
		for c := range kn {
			kn[c] = -1
		}
		for _, c := range in.Knows {
			kn[c] = in.Reader
		}
		p.Insiders[i].Basis = groupBasis(t, g, fams, gp.offset, kn)
	}
	return gp
}

// sort orders candidates by what withholding them costs the reader: their
// value, so that large cells are published first and small ones withheld;
// among equal values, cells that cover more base cells first; then the
// cells' codes (the canonical numbering).
func (gp *groupProblem) sort(cells []int32) {
	slices.SortFunc(cells, func(a, b int32) int {
		if c := cmp.Compare(gp.values[b], gp.values[a]); c != 0 {
			return c
		}
		if c := cmp.Compare(gp.leaves[b], gp.leaves[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
}

// locate returns the family (index in gp.pfs) and cell of column col.
func (gp *groupProblem) locate(col int32) (int, int) {
	k, _ := slices.BinarySearch(gp.offset, int(col)+1)
	return k - 1, int(col) - gp.offset[k-1]
}

// solve runs the elimination and sets the candidates' statuses.
func (gp *groupProblem) solve(ctx context.Context, stage string) error {
	res, err := elim.Solve(ctx, gp.p)
	var stopped *elim.StoppedError
	switch {
	case errors.As(err, &stopped):
		return &StoppedError{Stage: stage, Done: stopped.Done, Total: stopped.Total, Err: stopped.Err}
	case err != nil:
		return fmt.Errorf("disclosure: table too complex for exact 64-bit arithmetic: %w", err)
	case len(res.Exposed) > 0:
		// Only empty cells are published unconditionally, and they add up
		// to zero; a primary cell they determine would be empty and safe.
		return fmt.Errorf("disclosure: internal error: %d primary cells disclosed by the cells published first", len(res.Exposed))
	}
	for _, col := range gp.p.Candidates {
		k, c := gp.locate(col)
		gp.pfs[k].status[c], gp.pfs[k].reason[c] = Published, NoReason
	}
	for _, col := range res.Secondary {
		k, c := gp.locate(col)
		gp.pfs[k].status[c], gp.pfs[k].reason[c] = SecondarySuppressed, Complementary
	}
	for k, pf := range gp.pfs {
		pf.determinedBy = res.DeterminedBy[gp.offset[k] : gp.offset[k]+pf.n]
		pf.insiderKnows = make(map[int32][]int32, len(gp.p.Insiders))
		pf.work = elim.Work{}
	}
	gp.pfs[0].work = res.Work
	for i, in := range gp.p.Insiders {
		for _, col := range res.InsiderKnows[i] {
			k, c := gp.locate(col)
			gp.pfs[k].insiderKnows[in.Reader] = append(gp.pfs[k].insiderKnows[in.Reader], int32(c))
		}
	}
	return nil
}

// whole returns the family of all records of group g (the decisions).
func whole(g []int, fams []*family) *family {
	for _, i := range g {
		if fams[i].indicator == "" {
			return fams[i]
		}
	}
	return nil
}

// groupBasis returns the additive relations of a group of families in
// reduced form, for readers who know the cells in known: each family's
// cube (see family.basis), and for each complement (the non-response, the
// records an indicator does not apply to), its cells as its total minus
// the complemented family, with both written in independent cells.
func groupBasis(t *Tables, g []int, fams []*family, offset []int, known []int32) [][]elim.Term {
	var rows [][]elim.Term
	expand := make(map[*family]func(int) []elim.Term, len(g))
	at := make(map[*family]int, len(g))
	for k, i := range g {
		f, o := fams[i], offset[k]
		at[f] = o
		if f.complementOf != nil {
			continue // its cube's relations follow from the others'
		}
		expand[f] = f.expansion(t, known[o:o+f.n])
		for _, row := range f.basis(t, known[o:o+f.n]) {
			for j := range row {
				row[j].Col += int32(o)
			}
			rows = append(rows, row)
		}
	}
	nodes := make([]int32, len(t.dims))
	coords := make([]int32, 0, len(t.dims))
	for _, i := range g {
		u := fams[i]
		m, total := u.complementOf, u.total
		if m == nil {
			continue
		}
		for c := range u.n {
			// u[c] = total[c'] − m[c], c' the same categories.
			coords = u.coords(c, coords)
			for j, d := range u.dims {
				nodes[d] = coords[j]
			}
			row := []elim.Term{{Col: int32(at[u] + c), Coef: 1}}
			for _, x := range expand[total](total.index(nodes)) {
				row = append(row, elim.Term{Col: int32(at[total]) + x.Col, Coef: -x.Coef})
			}
			for _, x := range expand[m](c) {
				row = append(row, elim.Term{Col: int32(at[m]) + x.Col, Coef: x.Coef})
			}
			rows = append(rows, row)
			for _, d := range u.dims {
				nodes[d] = 0
			}
		}
	}
	return rows
}

// maxInsiders bounds the number of readers checked in views of their own.
const maxInsiders = 32

// insiders picks the readers that know more than one base cell (at most
// maxInsiders, those that know most first) to be checked in views of their
// own, and returns the knowledge left for the main view. The zero reader
// stays in the main view, where any sum of empty cells alone is refused.
func insiders(known []int32) ([]elim.Insider, []int32) {
	cells := map[int32][]int32{}
	for c, k := range known {
		if k > zeroReader {
			cells[k] = append(cells[k], int32(c))
		}
	}
	var out []elim.Insider
	for k, cs := range cells {
		if len(cs) > 1 {
			out = append(out, elim.Insider{Reader: k, Knows: cs})
		}
	}
	slices.SortFunc(out, func(a, b elim.Insider) int {
		if c := cmp.Compare(len(b.Knows), len(a.Knows)); c != 0 {
			return c
		}
		return cmp.Compare(a.Reader, b.Reader)
	})
	out = out[:min(len(out), maxInsiders)]
	main := slices.Clone(known)
	for _, in := range out {
		for _, c := range in.Knows {
			main[c] = -1
		}
	}
	return out, main
}

// leavesBelow returns, per cell, the number of base cells it covers.
func (f *family) leavesBelow(t *Tables) []int {
	per := make([][]int, len(f.dims))
	for j, d := range f.dims {
		dm := t.dims[d]
		per[j] = make([]int, f.size[j])
		for x := f.size[j] - 1; x >= 0; x-- {
			if dm.isLeaf(int32(x)) {
				per[j][x] = 1
			}
			if p := dm.parent[x]; p >= 0 {
				per[j][p] += per[j][x]
			}
		}
	}
	out := make([]int, f.n)
	coords := make([]int32, len(f.dims))
	for c := range out {
		coords = f.coords(c, coords)
		n := 1
		for j, x := range coords {
			n *= per[j][x]
		}
		out[c] = n
	}
	return out
}

// render builds the rows of table s from the families' statuses.
func (t *Tables) render(s *spec, fams []*protectedFamily) table {
	out := table{name: s.name, kind: s.kind, measures: measures[s.kind]}
	if s.kind == Response && t.applies {
		out.measures = responseApplicable
	}
	for _, d := range s.dims {
		out.dimensions = append(out.dimensions, t.dims[d].name)
	}
	find := func(name string) *protectedFamily {
		for _, f := range fams {
			if f.name == name {
				return f
			}
		}
		return nil
	}
	cell := func(f *protectedFamily, c int) Cell {
		if f.status[c] != Published {
			return Cell{Status: f.status[c], Reason: f.reason[c]}
		}
		return Cell{Value: f.value[c]}
	}
	nodes := make([]int32, len(t.dims))
	categories := func() []string {
		cats := make([]string, 0, len(s.dims)+1)
		for _, d := range s.dims {
			cats = append(cats, t.dims[d].codes[nodes[d]])
		}
		return cats
	}
	switch s.kind {
	case Count, Sum:
		f := find(map[Kind]string{Count: "count", Sum: "sum"}[s.kind])
		t.eachCell(s, nodes, func() {
			out.rows = append(out.rows, Row{Categories: categories(), Cells: []Cell{cell(f, f.index(nodes))}})
		})
	case Response:
		all := find("count")
		out.dimensions = append(out.dimensions, IndicatorDimension)
		t.eachCell(s, nodes, func() {
			decisions := cell(all, all.index(nodes))
			for _, ind := range s.indicators {
				m := find("measured:" + ind)
				measured := cell(m, m.index(nodes))
				applicable := decisions
				if a := find(t.applicableFamily(ind)); a != nil {
					applicable = cell(a, a.index(nodes))
				}
				rate := Cell{Status: SecondarySuppressed, Reason: Derived}
				if !applicable.Withheld() && !measured.Withheld() {
					rate = Cell{Value: measured.Value / applicable.Value}
					if applicable.Value == 0 {
						rate.Value = math.NaN()
					}
				}
				cells := []Cell{decisions, measured, rate}
				if t.applies {
					cells = []Cell{decisions, applicable, measured, rate}
				}
				out.rows = append(out.rows, Row{Categories: append(categories(), ind), Cells: cells})
			}
		})
	}
	return out
}

// OwnerView returns the tables of one contributor's own records,
// unprotected: a care provider always sees all of its own data. The other
// contributors' records are left out entirely. For tables built from
// aggregates, the contributor's own data are the aggregates whose
// Contributor it is.
//
// A contributor of none of the records gives [ErrUnknownContributor]
// (never a view of zeros), an empty contributor [ErrNoContributor].
func (t *Tables) OwnerView(contributor string) (*OwnerView, error) {
	if contributor == "" {
		return nil, ErrNoContributor
	}
	own := &Tables{dims: t.dims, byName: t.byName, specs: t.specs, applies: t.applies, restricted: t.restricted, applicable: t.applicable}
	for _, r := range t.records {
		if r.Contributor == contributor {
			own.records = append(own.records, r)
		}
	}
	for _, a := range t.aggs {
		if a.Contributor == contributor {
			own.aggs = append(own.aggs, a)
		}
	}
	if own.records == nil && own.aggs == nil {
		return nil, fmt.Errorf("%w %q: check the name, or wait for its data", ErrUnknownContributor, contributor)
	}
	cs := own.contributors()
	var fams []*protectedFamily
	for _, f := range own.families() {
		if err := f.build(own, cs, 2); err != nil {
			return nil, err
		}
		fams = append(fams, &protectedFamily{family: f, status: make([]Status, f.n), reason: make([]Reason, f.n)})
	}
	v := &OwnerView{contributor: contributor}
	for _, s := range t.specs {
		v.tables = append(v.tables, &OwnerTable{own.render(s, fams)})
	}
	return v, nil
}

// OwnerView holds a data owner's own tables, unprotected.
type OwnerView struct {
	contributor string
	tables      []*OwnerTable
}

// Contributor returns the data owner the view is for.
func (v *OwnerView) Contributor() string { return v.contributor }

// Tables returns the owner's tables in the order of the specifications.
func (v *OwnerView) Tables() []*OwnerTable { return slices.Clone(v.tables) }

// Table returns the owner's table with the given name, or nil.
func (v *OwnerView) Table(name string) *OwnerTable {
	for _, t := range v.tables {
		if t.name == name {
			return t
		}
	}
	return nil
}

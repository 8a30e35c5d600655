// Package elim is the secondary-suppression engine of package disclosure.
//
// A table is modelled as unknowns (one column per cell) tied by linear
// relations (a total equals the sum of its parts). Publishing a cell makes
// its column known. A protected cell is disclosed to a reader when the
// relations, the published cells and what the reader knows by itself
// determine it. [Solve] publishes candidate cells greedily, in the order
// given, and withholds every candidate whose publication would disclose a
// protected cell to any reader: the approach of Langsrud's Gaussian
// elimination (R package SSBtools/GaussSuppression), reworked.
//
// # How it differs from GaussSuppression
//
// GaussSuppression eliminates on the columns of the model matrix from inner
// cells to published cells, so that publishing a large total early turns
// every column that shares a row with it into a dense vector. This engine
// keeps the relations instead, in reduced row echelon form over the
// unpublished cells: publishing a cell deletes its column. A protected cell b
// is determined exactly when some row reduces to b alone, so the safety of a
// candidate is decided by the few rows that contain its column, and a row is
// only re-pivoted when its pivot column is published. Pivots are chosen to
// keep rows short (Markowitz) and on cells published late.
//
// # Readers with inside knowledge
//
// They are handled exactly, in two ways.
//
// Readers that know few cells (a record alone in its cell; the reader who
// knows that empty cells are empty) share the main view: each column may be
// known to one of them (Knower). Known columns are never pivots, except in
// rows that consist only of one reader's columns and in knowledge rows (see
// below), and under that invariant a protected cell b is determined for a
// reader k that knows several cells exactly when b's row has, besides b,
// only columns known to k. (A vector of the row space is the combination of
// the rows whose pivots it contains; one whose support lies in {b} and k's
// columns can contain no pivot but b's.)
//
// A publication that would leave a row of columns known to several readers
// makes it a knowledge row when every one of those readers knows a single
// cell: the row pivots on one of the known columns. It tells each reader a
// combination of the others' cells, which discloses a protected cell b to
// the reader that knows s exactly when some vector of the row space has its
// support in {b, s}: such a vector combines at most b's row and s's row,
// so it is b's row alone (its other columns all s), the knowledge row of s
// alone (its other column b), or the two with proportional tails (the
// columns other than their pivots). These three cases are checked for every
// row a publication changes, so the test stays exact for such readers: the
// engine withholds no more than needed to protect against each of them (a
// test compares with Gaussian elimination per reader). When a row would
// hold the cells of a reader that knows several cells, or that empty cells
// are empty, the publication is refused, which is conservative, like
// GaussSuppression's "anySum"; for the reader of empty cells it is required,
// since non-negative cells that add up to zero are all zero.
//
// Readers that know many cells (a care provider that alone makes up many
// cells) are Insiders, each checked in a view of its own in which the
// cells it knows are published. A candidate is published only when every
// view allows it.
//
// Arithmetic is exact: integer coefficients, each row divided by the greatest
// common divisor of its entries.
package elim

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// Term is one coefficient of a relation.
type Term struct {
	Col  int32
	Coef int64
}

// Problem is a suppression problem.
type Problem struct {
	// NumCols is the number of cells.
	NumCols int

	// Relations are linear relations that hold between the cells: the
	// sum of Coef·cell[Col] over the terms is zero. Redundant relations
	// are allowed.
	Relations [][]Term

	// Basis, when not nil, is used instead of Relations: relations
	// already in reduced form, each with its pivot column as the first
	// term, no pivot column appearing in another row. It lets a caller
	// who knows the structure of its tables (such as the tensor product
	// of hierarchies) start from a sparse reduced system.
	Basis [][]Term

	// Protected marks the cells that no reader may determine (primary
	// suppressions). They are never published.
	Protected []bool

	// Knower gives, per cell, the reader of the main view that knows the
	// cell's value without it being published, or -1. Only cells that are
	// not the total of a relation should be known (the knowledge of
	// totals follows).
	Knower []int32

	// Owner gives, per protected cell, the reader whose own data the cell
	// is (who is therefore no threat to it), or -1.
	Owner []int32

	// Nonneg lists, per reader, whether its knowledge is that the cells
	// are zero. For such a reader any published combination of its cells
	// alone discloses them (non-negative values summing to a known total
	// of zero), so it is never allowed.
	Nonneg []bool

	// Insiders are readers checked in views of their own.
	Insiders []Insider

	// Forced cells are published first, whatever that discloses.
	Forced []int32

	// Candidates are published in this order, each unless its
	// publication would disclose a protected cell. Cells in neither list
	// and not protected stay unpublished (hidden).
	Candidates []int32

	// Allow, if not nil, is asked before a candidate that no view
	// refuses is published, and may refuse it for reasons of its own
	// (the interval protection of package disclosure). It is told of
	// candidates in order, and only publishes when it returns true.
	Allow func(c int32) bool

	// Refuses, if not nil, reports whether Allow now refuses every
	// candidate: those left are then not looked at (they stay
	// unpublished, as Allow would have them), which saves the views'
	// work for each.
	Refuses func() bool
}

// StoppedError reports that Solve stopped because its context ended,
// after Done of Total candidates.
type StoppedError struct {
	Done, Total int
	Err         error
}

func (e *StoppedError) Error() string {
	return fmt.Sprintf("elim: stopped after %d of %d candidates: %v", e.Done, e.Total, e.Err)
}

// Unwrap returns the context's error.
func (e *StoppedError) Unwrap() error { return e.Err }

// Insider is a reader with much inside knowledge, such as a care provider
// that alone makes up many cells. Its cells are not given in
// Problem.Knower.
type Insider struct {
	Reader int32   // as in Problem.Owner
	Knows  []int32 // the cells it knows

	// Basis, if not nil, replaces Problem.Basis in the insider's view: a
	// basis whose pivots avoid the cells the insider knows makes their
	// publication in its view cheap.
	Basis [][]Term
}

// Result is the outcome of [Solve].
type Result struct {
	// Secondary lists the candidates that were withheld, in candidate
	// order.
	Secondary []int32

	// Exposed lists protected cells that the forced cells disclose.
	Exposed []int32

	// DeterminedBy gives, per unpublished cell, who can compute it in the
	// main view: Everyone (from the published cells), a reader (with the
	// cells it knows), or Nobody. Cells a reader knows directly are not
	// marked.
	DeterminedBy []int32

	// InsiderKnows lists, per insider, the unpublished cells it can
	// compute, including those it knows.
	InsiderKnows [][]int32

	// Work counts the rows that were rebuilt and their entries: a measure
	// of effort independent of the machine.
	Work Work
}

// Work counts the effort of [Solve].
type Work struct {
	Rows    int // rows rebuilt by elimination
	Entries int // entries of those rows
}

// Values of Result.DeterminedBy besides readers.
const (
	Nobody   = -1
	Everyone = -2
)

// ErrOverflow reports that exact integer arithmetic exceeded 64 bits.
var ErrOverflow = errors.New("elim: coefficient overflow in exact arithmetic")

// overflowPanic is the panic value used internally for ErrOverflow.
type overflowPanic struct{}

// Solve decides which candidates can be published.
//
// Solve checks ctx now and then, and stops with a *StoppedError when it
// ends.
func Solve(ctx context.Context, p *Problem) (res Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(overflowPanic); ok {
				res, err = Result{}, ErrOverflow
				return
			}
			panic(r)
		}
	}()
	order := make([]int32, p.NumCols)
	for i := range order {
		order[i] = math.MaxInt32
	}
	pos := int32(0)
	for _, c := range p.Forced {
		order[c] = pos
		pos++
	}
	for _, c := range p.Candidates {
		order[c] = pos
		pos++
	}
	main := newView(p, order, p.Knower, p.Protected)
	views := []*view{main}
	for _, in := range p.Insiders {
		protected := make([]bool, p.NumCols)
		for c, prot := range p.Protected {
			protected[c] = prot && p.Owner[c] != in.Reader
		}
		views = append(views, newView(p, order, nil, protected))
	}
	for i, v := range views {
		switch {
		case i > 0 && p.Insiders[i-1].Basis != nil:
			v.load(p.Insiders[i-1].Basis)
		case p.Basis != nil:
			v.load(p.Basis)
		default:
			for _, rel := range p.Relations {
				v.addRelation(rel)
			}
		}
	}
	for i, in := range p.Insiders {
		v := views[i+1]
		ignore := make(map[int32]bool)
		for _, c := range in.Knows {
			v.prepare(c, ignore)
			v.commit()
		}
	}
	exposed := make(map[int32]bool)
	for _, c := range p.Forced {
		for _, v := range views {
			v.prepare(c, exposed)
			v.commit()
		}
	}
	total := 2 * len(p.Candidates)
	for i, c := range p.Candidates {
		if i&255 == 0 && ctx.Err() != nil {
			return Result{}, &StoppedError{Done: i, Total: total, Err: ctx.Err()}
		}
		if refuses(p) || !publishAll(p, views, c) {
			res.Secondary = append(res.Secondary, c)
		}
	}
	// Publishing a combination of cells that several readers know is
	// refused conservatively (see the package comment); what was refused
	// on that ground may be safe once more is published. Try again.
	secondary := res.Secondary[:0]
	for i, c := range res.Secondary {
		if i&255 == 0 && ctx.Err() != nil {
			return Result{}, &StoppedError{Done: len(p.Candidates) + i, Total: total, Err: ctx.Err()}
		}
		if !refuses(p) && publishAll(p, views, c) {
			continue
		}
		secondary = append(secondary, c)
	}
	res.Secondary = secondary
	for c := range exposed {
		res.Exposed = append(res.Exposed, c)
	}
	slices.Sort(res.Exposed)
	res.DeterminedBy = main.determinedBy()
	for _, v := range views {
		res.Work.Rows += v.work.Rows
		res.Work.Entries += v.work.Entries
	}
	for i, in := range p.Insiders {
		v := views[i+1]
		var knows []int32
		for c, by := range v.determinedBy() {
			if by == Everyone && !main.gone[c] {
				knows = append(knows, int32(c))
			}
		}
		for _, c := range in.Knows {
			if !main.gone[c] {
				knows = append(knows, c)
			}
		}
		slices.Sort(knows)
		res.InsiderKnows = append(res.InsiderKnows, slices.Compact(knows))
	}
	return res, nil
}

// refuses reports whether p.Refuses says p.Allow refuses every candidate
// left.
func refuses(p *Problem) bool {
	return p.Allow != nil && p.Refuses != nil && p.Refuses()
}

// publishAll publishes column c in every view, or, if any view or
// p.Allow refuses, in none, and reports whether it did.
func publishAll(p *Problem, views []*view, c int32) bool {
	for i, v := range views {
		if !v.prepare(c, nil) {
			for _, w := range views[:i] {
				w.discard()
			}
			return false
		}
	}
	if p.Allow != nil && !p.Allow(c) {
		for _, v := range views {
			v.discard()
		}
		return false
	}
	for _, v := range views {
		v.commit()
	}
	return true
}

// row is a relation in reduced form: its pivot column appears in no other
// row. Columns are sorted, coefficients non-zero. Published columns are
// left in place until the row is rebuilt (publishing a column then costs
// nothing per row); live counts the others and unknown those of them no
// reader knows, the pivot excluded, so that most checks need no scan.
type row struct {
	pivot   int32 // -1 for a removed row
	cols    []int32
	coefs   []int64
	live    int32
	unknown int32
}

// view is the reduced system as one set of readers sees it.
type view struct {
	p         *Problem
	knower    []int32 // nil: nobody knows anything
	protected []bool  // the cells this view protects
	order     []int32 // column → position in the publication order; MaxInt32 if never

	rows    []row
	pivotOf []int32   // column → row, or -1
	colRows [][]int32 // column → rows that contain it
	gone    []bool    // column published

	// Scratch space for staged rows: columns, coefficients, lists.
	ac []int32
	ak []int64
	al []int32

	pend pending
	work Work

	// single marks the readers that know exactly one cell of the view
	// (and whose knowledge is not that cells are zero): see knowledge
	// rows in the package comment.
	single []bool
}

// pending is a publication that prepare found safe and commit applies.
type pending struct {
	active bool
	mode   uint8
	col    int32
	ri     int32    // modePivot, modeRemove: the row whose pivot col is
	q      int32    // modePivot: its new pivot
	cols   []int32  // modePivot: its new entries
	coefs  []int64  //
	staged []staged // modePivot: other rows, with q eliminated
}

const (
	modeGone   = iota // nothing to change
	modeFree          // col leaves the rows that contain it
	modeRemove        // col was determined: its row goes
	modePivot         // col's row takes pivot q, eliminated from other rows
)

type staged struct {
	row            int32
	lazy           bool // to be built by commit
	cols           []int32
	coefs          []int64
	added, removed []int32 // columns that enter and leave the row
}

func newView(p *Problem, order []int32, knower []int32, protected []bool) *view {
	n := p.NumCols
	v := &view{
		p:         p,
		knower:    knower,
		protected: protected,
		order:     order,
		pivotOf:   make([]int32, n),
		colRows:   make([][]int32, n),
		gone:      make([]bool, n),
	}
	for i := range v.pivotOf {
		v.pivotOf[i] = -1
	}
	if knower != nil {
		count := make([]int, len(p.Nonneg))
		for _, k := range knower {
			if k >= 0 {
				count[k]++
			}
		}
		v.single = make([]bool, len(p.Nonneg))
		for k, n := range count {
			v.single[k] = n == 1 && !p.Nonneg[k]
		}
	}
	return v
}

// knowledgeRow reports whether row r's pivot is known to a reader that
// knows only that cell: the row is a relation between cells that readers
// know (see the package comment).
func (v *view) knowledgeRow(pivot int32) (int32, bool) {
	if pivot < 0 {
		return -1, false
	}
	k := v.known(pivot)
	return k, k >= 0 && v.single[k]
}

// allSingle reports whether every column of cols is known to a reader
// that knows only that cell.
func (v *view) allSingle(cols []int32) bool {
	for _, c := range cols {
		if k := v.known(c); k < 0 || !v.single[k] {
			return false
		}
	}
	return true
}

// tail returns the columns and coefficients of a row without its pivot,
// the columns published and skip, in the arena.
func (v *view) tail(cols []int32, coefs []int64, pivot, skip int32) ([]int32, []int64) {
	start := len(v.ac)
	for i, c := range cols {
		if c != pivot && c != skip && !v.gone[c] {
			v.ac = append(v.ac, c)
			v.ak = append(v.ak, coefs[i])
		}
	}
	return v.ac[start:len(v.ac):len(v.ac)], v.ak[start:len(v.ak):len(v.ak)]
}

// crossDisclosed reports, for a row with the given pivot and columns
// (after the pending change, without skip) whose other columns readers all
// know, whether it discloses a protected cell to a reader that knows a
// single cell together with another row (see knowledge rows in the
// package comment): a row of a protected pivot and a knowledge row with
// proportional tails, or a knowledge row whose tail is one protected cell.
// staged gives the rows the pending change rebuilds. It returns the cell
// disclosed, or -1.
func (v *view) crossDisclosed(pivot int32, cols []int32, coefs []int64, skip int32, staged map[int32]int) int32 {
	mark := len(v.ac)
	defer func() { v.ac, v.ak = v.ac[:mark], v.ak[:mark] }()
	tc, tk := v.tail(cols, coefs, pivot, skip)
	if len(tc) == 0 {
		return -1
	}
	reader, isKnowledge := v.knowledgeRow(pivot)
	if isKnowledge && len(tc) == 1 && v.protected[tc[0]] && v.p.Owner[tc[0]] != reader {
		return tc[0] // the reader of the pivot learns the other cell
	}
	if !isKnowledge && !v.protected[pivot] {
		return -1
	}
	// The other row contains every column of the tail: it is among the
	// rows of the column of the tail that is in the fewest rows, or among
	// the rows the pending change rebuilds.
	candidates := v.colRows[tc[0]]
	for _, c := range tc[1:] {
		if len(v.colRows[c]) < len(candidates) {
			candidates = v.colRows[c]
		}
	}
	if len(staged) > 0 {
		candidates = slices.Clone(candidates)
		for r2 := range staged {
			candidates = append(candidates, r2)
		}
	}
	for _, r2 := range candidates {
		rw := &v.rows[r2]
		if rw.pivot < 0 || rw.pivot == pivot {
			continue
		}
		c2, k2 := rw.cols, rw.coefs
		if i, ok := staged[r2]; ok {
			c2, k2 = v.pend.staged[i].cols, v.pend.staged[i].coefs
		}
		r2Reader, r2Knowledge := v.knowledgeRow(rw.pivot)
		var b int32 // the protected cell disclosed
		switch {
		case isKnowledge && v.protected[rw.pivot] && v.p.Owner[rw.pivot] != reader:
			b = rw.pivot // to the reader of pivot
		case v.protected[pivot] && r2Knowledge && v.p.Owner[pivot] != r2Reader:
			b = pivot // to the reader of rw.pivot
		default:
			continue
		}
		if v.tailProportional(tc, tk, c2, k2, rw.pivot, skip) {
			return b
		}
	}
	return -1
}

// tailProportional reports whether the tail of a row (its columns but
// pivot, skip and the columns gone) has the columns of tc and
// coefficients proportional to tk, without building the tail, stopping at the first difference (most rows
// differ in their first columns).
func (v *view) tailProportional(tc []int32, tk []int64, cols []int32, coefs []int64, pivot, skip int32) bool {
	var first int64
	i := 0
	for j, c := range cols {
		if c == pivot || c == skip || v.gone[c] {
			continue
		}
		if i == len(tc) || c != tc[i] {
			return false
		}
		if i == 0 {
			first = coefs[j]
		}
		if mul(tk[i], first) != mul(coefs[j], tk[0]) {
			return false
		}
		i++
	}
	return i == len(tc) && i > 0
}

// known reports the reader that knows column c, or -1.
func (v *view) known(c int32) int32 {
	if v.knower == nil {
		return -1
	}
	return v.knower[c]
}

// rowsWith returns the rows that contain column c.
func (v *view) rowsWith(c int32) []int32 { return v.colRows[c] }

// unindex removes row r from the rows of column c: the last row of the
// list takes its place. The row is in the list once, so the direction of
// the scan does not change the result.
func (v *view) unindex(c, r int32) {
	l := v.colRows[c]
	for i := len(l) - 1; i >= 0; i-- {
		if l[i] == r {
			l[i] = l[len(l)-1]
			v.colRows[c] = l[:len(l)-1]
			return
		}
	}
}

// newRow adds a row and indexes its columns.
func (v *view) newRow(pivot int32, cols []int32, coefs []int64) int32 {
	ri := int32(len(v.rows))
	v.rows = append(v.rows, row{pivot: pivot, cols: cols, coefs: coefs})
	v.count(&v.rows[ri])
	for _, c := range cols {
		v.colRows[c] = append(v.colRows[c], ri)
	}
	v.pivotOf[pivot] = ri
	return ri
}

// count sets the live and unknown counts of r.
func (v *view) count(r *row) {
	r.live, r.unknown = 0, 0
	for _, c := range r.cols {
		if v.gone[c] {
			continue
		}
		r.live++
		if c != r.pivot && v.known(c) < 0 {
			r.unknown++
		}
	}
}

// eliminate makes q, a column of row ri, its pivot, and eliminates it from
// the other rows.
func (v *view) eliminate(ri int32, q int32) {
	r := &v.rows[ri]
	if old := r.pivot; old >= 0 && v.pivotOf[old] == ri {
		v.pivotOf[old] = -1
	}
	r.pivot = q
	normalize(r.cols, r.coefs, q)
	v.count(r)
	v.pivotOf[q] = ri
	v.resetArena()
	others := slices.Clone(v.rowsWith(q))
	for _, r2 := range others {
		if r2 != ri {
			v.apply(v.combineInto(r2, v.rows[ri].cols, v.rows[ri].coefs, q), q)
		}
	}
	v.onlyRow(q, ri)
	if checkIndex {
		v.mustIndex()
	}
}

// addRelation adds a relation to the reduced system.
func (v *view) addRelation(rel []Term) {
	cols := make([]int32, 0, len(rel))
	coefs := make([]int64, 0, len(rel))
	sorted := slices.Clone(rel)
	slices.SortFunc(sorted, func(a, b Term) int { return int(a.Col) - int(b.Col) })
	for _, t := range sorted {
		if n := len(cols); n > 0 && cols[n-1] == t.Col {
			coefs[n-1] = add(coefs[n-1], t.Coef)
			continue
		}
		cols = append(cols, t.Col)
		coefs = append(coefs, t.Coef)
	}
	cols, coefs = dropZeros(cols, coefs)
	// Eliminate the pivot columns present. A pivot row has no other pivot
	// column, so one pass suffices.
	var pivots []int32
	for _, c := range cols {
		if v.pivotOf[c] >= 0 {
			pivots = append(pivots, c)
		}
	}
	for _, c := range pivots {
		r := &v.rows[v.pivotOf[c]]
		cols, coefs, _, _ = merge(nil, nil, nil, nil, cols, coefs, r.cols, r.coefs, c, v.gone)
	}
	if len(cols) == 0 {
		return // implied by the relations so far
	}
	q := v.choosePivot(cols)
	if q < 0 {
		// Only known columns remain: a relation between cells that some
		// readers know. Pivot on one anyway; callers give knowledge of
		// independent cells only, where this does not happen.
		q = v.cheapest(cols)
	}
	v.eliminate(v.newRow(q, cols, coefs), q)
}

// load sets up the rows of a reduced basis, and moves pivots off columns
// that readers know (see the package comment).
func (v *view) load(basis [][]Term) {
	v.rows = make([]row, 0, len(basis))
	for _, b := range basis {
		terms := slices.Clone(b)
		slices.SortFunc(terms, func(a, b Term) int { return int(a.Col) - int(b.Col) })
		cols, coefs := make([]int32, len(terms)), make([]int64, len(terms))
		for i, t := range terms {
			cols[i], coefs[i] = t.Col, t.Coef
		}
		normalize(cols, coefs, b[0].Col)
		v.newRow(b[0].Col, cols, coefs)
	}
	for ri := range v.rows {
		r := &v.rows[ri]
		if v.known(r.pivot) < 0 {
			continue
		}
		if q := v.choosePivot(r.cols); q >= 0 {
			v.eliminate(int32(ri), q)
		}
	}
}

// choosePivot picks the pivot of a row among cols: a column no reader
// knows, published as late as possible (so that the row is not re-pivoted
// soon), in few rows. It returns -1 if every column is known to some
// reader.
func (v *view) choosePivot(cols []int32) int32 {
	best := int32(-1)
	var bestCount int
	var bestOrder int32
	for _, c := range cols {
		if v.known(c) >= 0 || v.gone[c] {
			continue
		}
		n := len(v.colRows[c])
		o := v.order[c]
		if best < 0 || o > bestOrder || (o == bestOrder && n < bestCount) {
			best, bestCount, bestOrder = c, n, o
		}
	}
	return best
}

// cheapest picks the column in fewest rows, ignoring readers' knowledge.
func (v *view) cheapest(cols []int32) int32 {
	best := int32(-1)
	bestCount := 0
	for _, c := range cols {
		if v.gone[c] {
			continue
		}
		if n := len(v.colRows[c]); best < 0 || n < bestCount {
			best, bestCount = c, n
		}
	}
	return best
}

// disclosed reports whether a row with protected pivot b and other columns
// rest (skipping b and skip) lets some reader determine b: nobody else in
// the row (everyone), or only columns one reader knows, that reader not
// being b's owner.
func (v *view) disclosed(b int32, rest []int32, skip int32) bool {
	k := int32(-2)
	for _, c := range rest {
		if c == b || c == skip || v.gone[c] {
			continue
		}
		kc := v.known(c)
		if kc < 0 || (k != -2 && kc != k) {
			return false
		}
		k = kc
	}
	if k == -2 {
		return true
	}
	return k != v.p.Owner[b]
}

// prepare checks the publication of column c and stages it for commit.
// Unless exposed is non-nil (a forced publication, whose disclosures are
// recorded in exposed), it refuses, and returns false, when that would
// disclose a protected cell.
func (v *view) prepare(c int32, exposed map[int32]bool) bool {
	v.pend = pending{active: true, col: c, staged: v.pend.staged[:0]}
	v.resetArena()
	switch {
	case v.gone[c]:
		v.pend.mode = modeGone
		return true
	case v.pivotOf[c] >= 0:
		return v.preparePivot(c, v.pivotOf[c], exposed)
	}
	return v.prepareFree(c, exposed)
}

// reject clears the pending publication and reports whether a forced one
// goes ahead regardless.
func (v *view) reject(exposed map[int32]bool, cells ...int32) bool {
	if exposed == nil {
		v.pend.active = false
		return false
	}
	for _, b := range cells {
		exposed[b] = true
	}
	return true
}

// prepareFree stages the publication of a column that is no pivot: it
// leaves the rows that contain it, which keep their pivots.
func (v *view) prepareFree(c int32, exposed map[int32]bool) bool {
	v.pend.mode = modeFree
	unknownC := int32(0)
	if v.known(c) < 0 {
		unknownC = 1
	}
	for _, r := range v.rowsWith(c) {
		rw := &v.rows[r]
		_, isKnowledge := v.knowledgeRow(rw.pivot)
		if (!v.protected[rw.pivot] && !isKnowledge) || rw.unknown-unknownC > 0 {
			continue // another column no reader knows stays in the row
		}
		if v.protected[rw.pivot] && v.disclosed(rw.pivot, rw.cols, c) && !v.reject(exposed, rw.pivot) {
			return false
		}
		if b := v.crossDisclosed(rw.pivot, rw.cols, rw.coefs, c, nil); b >= 0 && !v.reject(exposed, b) {
			return false
		}
	}
	return true
}

// preparePivot stages the publication of the pivot column c of row ri: the
// row takes a new pivot, which is eliminated from the other rows.
func (v *view) preparePivot(c int32, ri int32, exposed map[int32]bool) bool {
	rw := &v.rows[ri]
	v.pend.ri = ri
	if rw.live == 1 {
		// c was determined already: publishing it tells nothing new.
		v.pend.mode = modeRemove
		return true
	}
	v.pend.mode = modePivot
	// The row without c, in the arena.
	start := len(v.ac)
	for i, x := range rw.cols {
		if x != c && !v.gone[x] {
			v.ac = append(v.ac, x)
			v.ak = append(v.ak, rw.coefs[i])
		}
	}
	cols, coefs := v.ac[start:len(v.ac):len(v.ac)], v.ak[start:len(v.ak):len(v.ak)]
	q := v.choosePivot(cols)
	if q < 0 {
		// Only columns known to readers remain: publishing c would
		// publish a combination of them. Allowed only when one ordinary
		// reader knows them all: then it learns nothing, and the others
		// learn a combination of that reader's cells, which keeps the
		// test exact (see the package comment).
		k := v.known(cols[0])
		for _, x := range cols[1:] {
			if v.known(x) != k {
				k = -1
				break
			}
		}
		switch {
		case k >= 0 && !v.p.Nonneg[k]:
			// One reader knows them all: it learns nothing.
		case k < 0 && v.allSingle(cols):
			// A knowledge row: the checks below are exact.
		default:
			if !v.reject(exposed, protectedIn(v.protected, cols)...) {
				return false
			}
		}
		q = v.cheapest(cols)
	}
	normalize(cols, coefs, q)
	if v.protected[q] && v.disclosed(q, cols, -1) && !v.reject(exposed, q) {
		return false
	}
	for _, r2 := range v.rowsWith(q) {
		if r2 == ri {
			continue
		}
		if p := v.rows[r2].pivot; !v.protected[p] {
			if _, ok := v.knowledgeRow(p); !ok {
				// No check reads this row as it will be: commit
				// builds it, if the publication goes ahead (most
				// are refused).
				v.pend.staged = append(v.pend.staged, staged{row: r2, lazy: true})
				continue
			}
		}
		s := v.combineInto(r2, cols, coefs, q)
		v.work.Rows++
		v.work.Entries += len(s.cols)
		if p := v.rows[r2].pivot; v.protected[p] && v.disclosed(p, s.cols, -1) && !v.reject(exposed, p) {
			return false
		}
		v.pend.staged = append(v.pend.staged, s)
	}
	v.pend.q, v.pend.cols, v.pend.coefs = q, cols, coefs
	if v.single != nil {
		// Rows that readers' knowledge makes a pair with (knowledge rows).
		staged := make(map[int32]int, len(v.pend.staged))
		for i, st := range v.pend.staged {
			staged[st.row] = i
		}
		check := func(pivot int32, cols []int32, coefs []int64) bool {
			if !v.protected[pivot] {
				if _, ok := v.knowledgeRow(pivot); !ok {
					return true
				}
			}
			for _, x := range cols {
				if x != pivot && x != c && !v.gone[x] && v.known(x) < 0 {
					return true // a column no reader knows
				}
			}
			b := v.crossDisclosed(pivot, cols, coefs, c, staged)
			return b < 0 || v.reject(exposed, b)
		}
		// The row of c, with its new pivot: its old entry is the row
		// as it will be.
		saved := v.rows[ri]
		v.rows[ri] = row{pivot: q, cols: cols, coefs: coefs}
		ok := check(q, cols, coefs)
		for _, st := range v.pend.staged {
			if !ok {
				break
			}
			ok = check(v.rows[st.row].pivot, st.cols, st.coefs)
		}
		v.rows[ri] = saved
		if !ok {
			return false
		}
	}
	return true
}

func protectedIn(protected []bool, cols []int32) []int32 {
	var out []int32
	for _, c := range cols {
		if protected[c] {
			out = append(out, c)
		}
	}
	return out
}

// discard drops a pending publication.
func (v *view) discard() { v.pend.active = false }

// commit applies the pending publication.
func (v *view) commit() {
	p := &v.pend
	if !p.active {
		return
	}
	p.active = false
	c := p.col
	switch p.mode {
	case modeFree:
		unknown := v.known(c) < 0
		for _, r := range v.colRows[c] {
			rw := &v.rows[r]
			rw.live--
			if unknown {
				rw.unknown--
			}
		}
	case modeRemove:
		v.rows[p.ri] = row{pivot: -1}
		v.pivotOf[c] = -1
	case modePivot:
		for _, s := range p.staged {
			if s.lazy {
				s = v.combineInto(s.row, p.cols, p.coefs, p.q)
				v.work.Rows++
				v.work.Entries += len(s.cols)
			}
			v.apply(s, p.q)
		}
		v.onlyRow(p.q, p.ri)
		r := &v.rows[p.ri]
		r.cols = append(r.cols[:0], p.cols...)
		r.coefs = append(r.coefs[:0], p.coefs...)
		r.pivot = p.q
		v.pivotOf[c] = -1
		v.pivotOf[p.q] = p.ri
	}
	v.colRows[c] = nil
	v.gone[c] = true
	if p.mode == modePivot {
		v.count(&v.rows[p.ri])
	}
	if checkIndex {
		v.mustIndex()
	}
}

// checkIndex makes every change check the column index (tests set it).
var checkIndex = false

// mustIndex panics unless colRows lists, for each column not published,
// exactly the rows that contain it, each once.
func (v *view) mustIndex() {
	want := make(map[[2]int32]bool)
	for ri, r := range v.rows {
		if r.pivot < 0 {
			continue
		}
		for _, c := range r.cols {
			if !v.gone[c] {
				want[[2]int32{c, int32(ri)}] = true
			}
		}
	}
	for c, l := range v.colRows {
		if v.gone[c] && l != nil {
			panic(fmt.Sprintf("elim: published column %d still lists rows", c))
		}
		for _, r := range l {
			k := [2]int32{int32(c), r}
			if !want[k] {
				panic(fmt.Sprintf("elim: column %d lists row %d, which lacks it or is listed twice", c, r))
			}
			delete(want, k)
		}
	}
	for k := range want {
		panic(fmt.Sprintf("elim: column %d does not list row %d, which contains it", k[0], k[1]))
	}
}

// resetArena empties the scratch space of staged rows.
func (v *view) resetArena() {
	v.ac, v.ak, v.al = v.ac[:0], v.ak[:0], v.al[:0]
}

// combineInto stages row r minus a multiple of the row (yc, yk) that
// makes column q cancel, in the arena, normalized for r's pivot, with the
// columns that enter and leave row r.
func (v *view) combineInto(r int32, yc []int32, yk []int64, q int32) staged {
	x := &v.rows[r]
	start, lstart := len(v.ac), len(v.al)
	var added []int32
	v.ac, v.ak, added, v.al = merge(v.ac, v.ak, added, v.al, x.cols, x.coefs, yc, yk, q, v.gone)
	s := staged{
		row:     r,
		cols:    v.ac[start:len(v.ac):len(v.ac)],
		coefs:   v.ak[start:len(v.ak):len(v.ak)],
		removed: v.al[lstart:len(v.al):len(v.al)],
	}
	// added is collected separately so that removed stays contiguous.
	lstart = len(v.al)
	v.al = append(v.al, added...)
	s.added = v.al[lstart:len(v.al):len(v.al)]
	normalize(s.cols, s.coefs, x.pivot)
	return s
}

// apply sets a staged row and updates the index, except for column q,
// the pivot eliminated from the row: the caller indexes it with
// [view.onlyRow] once all rows are applied.
func (v *view) apply(s staged, q int32) {
	r := &v.rows[s.row]
	if n := len(s.cols); cap(r.cols) < n {
		// Rows tend to grow: leave room.
		r.cols, r.coefs = make([]int32, 0, n+n/2), make([]int64, 0, n+n/2)
	}
	r.cols = append(r.cols[:0], s.cols...)
	r.coefs = append(r.coefs[:0], s.coefs...)
	v.count(r)
	for _, c := range s.added {
		v.colRows[c] = append(v.colRows[c], s.row)
	}
	for _, c := range s.removed {
		if c != q {
			v.unindex(c, s.row)
		}
	}
}

// onlyRow records that row ri is the only row that contains column q, its
// pivot, once q has been eliminated from the others. Removing the others
// one by one scanned the column's list once per row, quadratic in the rows
// of a column that many rows share (a total); the list that results is the
// same.
func (v *view) onlyRow(q, ri int32) {
	v.colRows[q] = append(v.colRows[q][:0], ri)
}

// determinedBy computes Result.DeterminedBy: under the invariant, an
// unpublished cell is determined exactly when it is the pivot of a row
// whose other columns one reader knows (or that has none).
func (v *view) determinedBy() []int32 {
	out := make([]int32, v.p.NumCols)
	for i := range out {
		out[i] = Nobody
	}
	// The knowledge rows by their tails: a row with the same tail, up to a
	// factor, is determined by the reader of the knowledge row's pivot.
	byTail := map[string][]int32{}
	for _, r := range v.rows {
		if reader, ok := v.knowledgeRow(r.pivot); ok {
			if sig, ok := v.signature(r); ok {
				byTail[sig] = append(byTail[sig], reader)
			}
		}
	}
	for _, r := range v.rows {
		if r.pivot < 0 {
			continue
		}
		k := int32(Everyone)
		for _, c := range r.cols {
			if c == r.pivot || v.gone[c] {
				continue
			}
			kc := v.known(c)
			if kc < 0 || (k != Everyone && kc != k) {
				k = Nobody
				break
			}
			k = kc
		}
		if k == Nobody && len(byTail) > 0 {
			if sig, ok := v.signature(r); ok {
				if readers := byTail[sig]; len(readers) > 0 {
					k = readers[0]
					if owner := v.p.Owner[r.pivot]; slices.Contains(readers, owner) {
						k = owner
					}
				}
			}
		}
		out[r.pivot] = k
	}
	return out
}

// signature returns the tail of row r (its live columns but the pivot),
// scaled to coprime coefficients with the first positive, as a map key;
// ok is false if a column of the tail is unknown to every reader.
func (v *view) signature(r row) (string, bool) {
	var b []byte
	g, first := int64(0), int64(0)
	for i, c := range r.cols {
		if c == r.pivot || v.gone[c] {
			continue
		}
		if v.known(c) < 0 {
			return "", false
		}
		g = gcd(g, abs(r.coefs[i]))
		if first == 0 {
			first = r.coefs[i]
		}
	}
	if g == 0 {
		return "", false
	}
	if first < 0 {
		g = -g
	}
	for i, c := range r.cols {
		if c == r.pivot || v.gone[c] {
			continue
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(c))
		b = binary.LittleEndian.AppendUint64(b, uint64(r.coefs[i]/g))
	}
	return string(b), true
}

// merge appends a·x − b·y to cols and coefs, where a and b make column q,
// which x and y both contain, cancel. It skips the columns marked gone,
// appends to added the columns of y that x lacks and to removed those of x
// that cancel (q among them).
func merge(cols []int32, coefs []int64, added, removed []int32,
	xc []int32, xk []int64, yc []int32, yk []int64, q int32, gone []bool) ([]int32, []int64, []int32, []int32) {
	xi, _ := slices.BinarySearch(xc, q)
	yi, _ := slices.BinarySearch(yc, q)
	xq, yq := xk[xi], yk[yi]
	g := gcd(abs(xq), abs(yq))
	a, b := yq/g, xq/g // a·xq − b·yq = 0
	i, j := 0, 0
	for i < len(xc) || j < len(yc) {
		switch {
		case j == len(yc) || (i < len(xc) && xc[i] < yc[j]):
			if !gone[xc[i]] {
				cols = append(cols, xc[i])
				coefs = append(coefs, mul(a, xk[i]))
			}
			i++
		case i == len(xc) || yc[j] < xc[i]:
			if !gone[yc[j]] {
				cols = append(cols, yc[j])
				coefs = append(coefs, neg(mul(b, yk[j])))
				added = append(added, yc[j])
			}
			j++
		default:
			if w := sub(mul(a, xk[i]), mul(b, yk[j])); w != 0 {
				cols = append(cols, xc[i])
				coefs = append(coefs, w)
			} else {
				removed = append(removed, xc[i])
			}
			i++
			j++
		}
	}
	return cols, coefs, added, removed
}

func dropZeros(cols []int32, coefs []int64) ([]int32, []int64) {
	k := 0
	for i := range cols {
		if coefs[i] != 0 {
			cols[k], coefs[k] = cols[i], coefs[i]
			k++
		}
	}
	return cols[:k], coefs[:k]
}

// normalize divides the coefficients by their greatest common divisor and
// makes the pivot's positive.
func normalize(cols []int32, coefs []int64, pivot int32) {
	g := int64(0)
	for _, v := range coefs {
		g = gcd(g, abs(v))
		if g == 1 {
			break
		}
	}
	if g == 0 {
		return
	}
	if i, ok := slices.BinarySearch(cols, pivot); ok && coefs[i] < 0 {
		g = -g
	}
	if g == 1 {
		return
	}
	for i := range coefs {
		coefs[i] /= g
	}
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func abs(v int64) int64 {
	if v < 0 {
		if v == math.MinInt64 {
			panic(overflowPanic{})
		}
		return -v
	}
	return v
}

func neg(v int64) int64 {
	if v == math.MinInt64 {
		panic(overflowPanic{})
	}
	return -v
}

func add(a, b int64) int64 {
	s := a + b
	if (a > 0 && b > 0 && s < 0) || (a < 0 && b < 0 && s >= 0) {
		panic(overflowPanic{})
	}
	return s
}

func sub(a, b int64) int64 { return add(a, neg(b)) }

func mul(a, b int64) int64 {
	if a == 1 {
		return b
	}
	if b == 1 {
		return a
	}
	neg := (a < 0) != (b < 0)
	hi, lo := bits.Mul64(uint64(abs(a)), uint64(abs(b)))
	if hi != 0 || lo > math.MaxInt64 {
		panic(overflowPanic{})
	}
	if neg {
		return -int64(lo)
	}
	return int64(lo)
}

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
// Readers with inside knowledge are handled exactly rather than by the
// conservative "any sum of singletons" rule. Each column may be known to one
// reader (Knower): a contributor that is the only one in an inner cell, or
// the reader who knows that empty cells are empty. Columns known to a reader
// are never pivots (except in rows that consist only of that reader's
// columns), and under that invariant a protected cell b is determined for
// reader k exactly when b's row has, besides b, only columns known to k. The
// proof is short: a vector in the row space is the combination of the rows
// whose pivot it contains; one whose support lies in {b} and k's columns
// can contain no pivot but b's.
//
// Arithmetic is exact: integer coefficients, each row divided by the greatest
// common divisor of its entries.
package elim

import (
	"errors"
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

	// Knower gives, per cell, the reader that knows the cell's value
	// without it being published, or -1. Only cells that are not the total
	// of a relation should be known (the knowledge of totals follows).
	Knower []int32

	// Owner gives, per protected cell, the reader whose own data the cell
	// is (who is therefore no threat to it), or -1.
	Owner []int32

	// Nonneg lists, per reader, whether its knowledge is that the cells
	// are zero. For such a reader any published combination of its cells
	// alone discloses them (non-negative values summing to a known total
	// of zero), so it is never allowed.
	Nonneg []bool

	// Forced cells are published first, whatever that discloses.
	Forced []int32

	// Candidates are published in this order, each unless its
	// publication would disclose a protected cell. Cells in neither list
	// and not protected stay unpublished (hidden).
	Candidates []int32
}

// Result is the outcome of [Solve].
type Result struct {
	// Secondary lists the candidates that were withheld, in candidate
	// order.
	Secondary []int32

	// Exposed lists protected cells that the forced cells disclose.
	Exposed []int32

	// DeterminedBy gives, per unpublished cell, who can compute it from
	// the published cells and the relations: Everyone, a reader (by its
	// own knowledge, Knower, besides the published cells), or Nobody.
	// Cells a reader knows directly are not marked.
	DeterminedBy []int32
}

// Values of Result.DeterminedBy besides readers.
const (
	Nobody   = -1
	Everyone = -2
)

// ErrOverflow reports that exact integer arithmetic exceeded 64 bits.
var ErrOverflow = errors.New("elim: coefficient overflow in exact arithmetic")

// errOverflow is the panic value used internally for ErrOverflow.
type overflowPanic struct{}

// Solve decides which candidates can be published.
func Solve(p *Problem) (res Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(overflowPanic); ok {
				res, err = Result{}, ErrOverflow
				return
			}
			panic(r)
		}
	}()
	e := newEngine(p)
	if p.Basis != nil {
		e.load(p.Basis)
	} else {
		for _, rel := range p.Relations {
			e.addRelation(rel)
		}
	}
	exposed := make(map[int32]bool)
	for _, c := range p.Forced {
		e.publish(c, exposed)
	}
	for _, c := range p.Candidates {
		if !e.publish(c, nil) {
			res.Secondary = append(res.Secondary, c)
		}
	}
	for c := range exposed {
		res.Exposed = append(res.Exposed, c)
	}
	slices.Sort(res.Exposed)
	res.DeterminedBy = e.determinedBy()
	return res, nil
}

// determinedBy computes Result.DeterminedBy: under the invariant, an
// unpublished cell is determined exactly when it is the pivot of a row
// whose other columns one reader knows (or that has none).
func (e *engine) determinedBy() []int32 {
	out := make([]int32, e.p.NumCols)
	for i := range out {
		out[i] = Nobody
	}
	for _, r := range e.rows {
		if r.pivot < 0 {
			continue
		}
		k := int32(Everyone)
		for _, c := range r.cols {
			if c == r.pivot {
				continue
			}
			kc := e.known(c)
			if kc < 0 || (k != Everyone && kc != k) {
				k = Nobody
				break
			}
			k = kc
		}
		out[r.pivot] = k
	}
	return out
}

// row is a relation in reduced form: its pivot column appears in no other
// row. Columns are sorted; coefficients are non-zero, with no common
// divisor, the pivot's positive.
type row struct {
	pivot int32 // -1 for a removed row
	cols  []int32
	coefs []int64
}

func (r *row) index(c int32) int {
	i, ok := slices.BinarySearch(r.cols, c)
	if !ok {
		return -1
	}
	return i
}

type engine struct {
	p       *Problem
	rows    []row
	pivotOf []int32   // column → row, or -1
	colRows [][]int32 // column → rows that contain it; may hold stale entries
	gone    []bool    // column published
	order   []int32   // column → position in the publication order; MaxInt32 if never

	nRepivot, nCombine, combineWork int

	// seen marks rows visited in epoch, to drop duplicates from colRows.
	seen  []uint32
	epoch uint32

	// scratch buffers
	staged []staged
}

type staged struct {
	row   int32
	cols  []int32
	coefs []int64
}

func newEngine(p *Problem) *engine {
	n := p.NumCols
	e := &engine{
		p:       p,
		pivotOf: make([]int32, n),
		colRows: make([][]int32, n),
		gone:    make([]bool, n),
		order:   make([]int32, n),
	}
	for i := range e.pivotOf {
		e.pivotOf[i] = -1
		e.order[i] = math.MaxInt32
	}
	pos := int32(0)
	for _, c := range p.Forced {
		e.order[c] = pos
		pos++
	}
	for _, c := range p.Candidates {
		e.order[c] = pos
		pos++
	}
	return e
}

// known reports the reader that knows column c, or -1.
func (e *engine) known(c int32) int32 { return e.p.Knower[c] }

// rowsWith returns the live rows that contain column c, and drops stale
// entries from the index.
func (e *engine) rowsWith(c int32) []int32 {
	list := e.colRows[c]
	e.epoch++
	k := 0
	for _, r := range list {
		if e.seen[r] == e.epoch {
			continue
		}
		e.seen[r] = e.epoch
		if e.rows[r].pivot >= 0 && e.rows[r].index(c) >= 0 {
			list[k] = r
			k++
		}
	}
	e.colRows[c] = list[:k]
	return e.colRows[c]
}

// addRelation adds a relation to the reduced system.
func (e *engine) addRelation(rel []Term) {
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
		if e.pivotOf[c] >= 0 {
			pivots = append(pivots, c)
		}
	}
	for _, c := range pivots {
		r := &e.rows[e.pivotOf[c]]
		cols, coefs = combine(cols, coefs, r.cols, r.coefs, c)
	}
	if len(cols) == 0 {
		return // implied by the relations so far
	}
	q := e.choosePivot(cols, -1)
	if q < 0 {
		// Only known columns remain: a relation between cells that some
		// readers know. Pivot on one anyway (see the package comment).
		q = e.cheapest(cols, -1)
	}
	normalize(cols, coefs, q)
	ri := int32(len(e.rows))
	e.rows = append(e.rows, row{pivot: q, cols: cols, coefs: coefs})
	e.seen = append(e.seen, 0)
	// Eliminate q from the other rows before indexing the new one.
	for _, r2 := range slices.Clone(e.rowsWith(q)) {
		o := &e.rows[r2]
		nc, nk := combine(o.cols, o.coefs, cols, coefs, q)
		e.replace(r2, nc, nk)
	}
	for _, c := range cols {
		e.colRows[c] = append(e.colRows[c], ri)
	}
	e.pivotOf[q] = ri
}

// load sets up the rows of a reduced basis, and moves pivots off columns
// that readers know (see the package comment).
func (e *engine) load(basis [][]Term) {
	e.rows = make([]row, 0, len(basis))
	e.seen = make([]uint32, len(basis))
	for _, b := range basis {
		ri := int32(len(e.rows))
		pivot := b[0].Col
		terms := slices.Clone(b)
		slices.SortFunc(terms, func(a, b Term) int { return int(a.Col) - int(b.Col) })
		r := row{pivot: pivot, cols: make([]int32, len(terms)), coefs: make([]int64, len(terms))}
		for i, t := range terms {
			r.cols[i], r.coefs[i] = t.Col, t.Coef
			e.colRows[t.Col] = append(e.colRows[t.Col], ri)
		}
		normalize(r.cols, r.coefs, pivot)
		e.rows = append(e.rows, r)
		e.pivotOf[pivot] = ri
	}
	for ri := range e.rows {
		r := &e.rows[ri]
		if e.known(r.pivot) < 0 {
			continue
		}
		q := e.choosePivot(r.cols, r.pivot)
		if q < 0 {
			continue // only known columns: see addRelation
		}
		e.pivotOf[r.pivot] = -1
		cols, coefs := r.cols, r.coefs
		normalize(cols, coefs, q)
		for _, r2 := range slices.Clone(e.rowsWith(q)) {
			if r2 == int32(ri) {
				continue
			}
			o := &e.rows[r2]
			nc, nk := combine(o.cols, o.coefs, cols, coefs, q)
			e.replace(r2, nc, nk)
		}
		e.rows[ri].pivot = q
		e.pivotOf[q] = int32(ri)
	}
}

// choosePivot picks the pivot of a row among cols (excluding skip): a
// column no reader knows, that appears in few rows, published as late as
// possible. It returns -1 if every column is known to some reader.
func (e *engine) choosePivot(cols []int32, skip int32) int32 {
	best := int32(-1)
	var bestCount int
	var bestOrder int32
	for _, c := range cols {
		if c == skip || e.known(c) >= 0 {
			continue
		}
		n := len(e.colRows[c])
		o := e.order[c]
		if best < 0 || better(n, o, bestCount, bestOrder) {
			best, bestCount, bestOrder = c, n, o
		}
	}
	return best
}

var pivotHeuristic = 3

func better(n int, o int32, bn int, bo int32) bool {
	switch pivotHeuristic {
	case 2:
		np, bp := o == math.MaxInt32, bo == math.MaxInt32
		if np != bp {
			return np
		}
		return n < bn || (n == bn && o > bo)
	case 3:
		return o > bo || (o == bo && n < bn)
	}
	return n < bn || (n == bn && o > bo)
}

// cheapest picks the column in fewest rows, ignoring readers' knowledge.
func (e *engine) cheapest(cols []int32, skip int32) int32 {
	best := int32(-1)
	bestCount := 0
	for _, c := range cols {
		if c == skip {
			continue
		}
		if n := len(e.colRows[c]); best < 0 || n < bestCount {
			best, bestCount = c, n
		}
	}
	return best
}

// replace sets the entries of row r and indexes columns new to it.
func (e *engine) replace(r int32, cols []int32, coefs []int64) {
	old := e.rows[r].cols
	i := 0
	for _, c := range cols {
		for i < len(old) && old[i] < c {
			i++
		}
		if i < len(old) && old[i] == c {
			continue
		}
		e.colRows[c] = append(e.colRows[c], r)
	}
	normalize(cols, coefs, e.rows[r].pivot)
	e.rows[r].cols = cols
	e.rows[r].coefs = coefs
}

// disclosed reports whether a row with protected pivot b and other columns
// rest lets some reader determine b: nobody else in the row (everyone), or
// only columns one reader knows, that reader not being b's owner.
func (e *engine) disclosed(b int32, rest []int32, skip int32) bool {
	k := int32(-2)
	for _, c := range rest {
		if c == b || c == skip {
			continue
		}
		kc := e.known(c)
		if kc < 0 || (k != -2 && kc != k) {
			return false
		}
		k = kc
	}
	if k == -2 {
		return true
	}
	return k != e.p.Owner[b]
}

// publish makes column c known. Unless exposed is non-nil (a forced
// publication, whose disclosures are recorded in exposed), it refuses, and
// returns false, when that would disclose a protected cell.
func (e *engine) publish(c int32, exposed map[int32]bool) bool {
	if e.gone[c] {
		return true
	}
	var ok bool
	if r := e.pivotOf[c]; r >= 0 {
		ok = e.publishPivot(c, r, exposed)
	} else {
		ok = e.publishFree(c, exposed)
	}
	if ok {
		e.gone[c] = true
	}
	return ok
}

// publishFree publishes a column that is no pivot: it leaves the rows that
// contain it, which keep their pivots.
func (e *engine) publishFree(c int32, exposed map[int32]bool) bool {
	rows := e.rowsWith(c)
	for _, r := range rows {
		rw := &e.rows[r]
		if e.p.Protected[rw.pivot] && e.disclosed(rw.pivot, rw.cols, c) {
			if exposed == nil {
				return false
			}
			exposed[rw.pivot] = true
		}
	}
	for _, r := range rows {
		rw := &e.rows[r]
		i := rw.index(c)
		rw.cols = slices.Delete(rw.cols, i, i+1)
		rw.coefs = slices.Delete(rw.coefs, i, i+1)
		normalize(rw.cols, rw.coefs, rw.pivot)
	}
	e.colRows[c] = nil
	return true
}

// publishPivot publishes the pivot column c of row ri: the row takes a new
// pivot, which is eliminated from the other rows.
func (e *engine) publishPivot(c int32, ri int32, exposed map[int32]bool) bool {
	rw := &e.rows[ri]
	i := rw.index(c)
	cols := slices.Delete(slices.Clone(rw.cols), i, i+1)
	coefs := slices.Delete(slices.Clone(rw.coefs), i, i+1)
	if len(cols) == 0 {
		// c was determined already: publishing it tells nothing new.
		e.removeRow(ri)
		e.pivotOf[c] = -1
		return true
	}
	q := e.choosePivot(cols, -1)
	if q < 0 {
		// Only columns known to readers remain: publishing c would
		// publish a combination of them. Allowed only when one ordinary
		// reader knows them all: then it learns nothing, and the others
		// learn a combination of that reader's cells, which stays exact
		// under the invariant (see the package comment).
		k := e.known(cols[0])
		for _, x := range cols[1:] {
			if e.known(x) != k {
				k = -1
				break
			}
		}
		if k < 0 || e.p.Nonneg[k] {
			if exposed == nil {
				return false
			}
			for _, x := range cols {
				if e.p.Protected[x] {
					exposed[x] = true
				}
			}
		}
		q = e.cheapest(cols, -1)
	}
	normalize(cols, coefs, q)
	if e.p.Protected[q] && e.disclosed(q, cols, -1) {
		if exposed == nil {
			return false
		}
		exposed[q] = true
	}
	e.nRepivot++
	e.staged = e.staged[:0]
	for _, r2 := range e.rowsWith(q) {
		if r2 == ri {
			continue
		}
		o := &e.rows[r2]
		nc, nk := combine(o.cols, o.coefs, cols, coefs, q)
		if e.p.Protected[o.pivot] && e.disclosed(o.pivot, nc, -1) {
			if exposed == nil {
				return false
			}
			exposed[o.pivot] = true
		}
		e.staged = append(e.staged, staged{r2, nc, nk})
		e.nCombine++
		e.combineWork += len(nc)
	}
	// Commit.
	for _, s := range e.staged {
		e.replace(s.row, s.cols, s.coefs)
	}
	e.rows[ri].pivot = q
	e.rows[ri].cols = cols
	e.rows[ri].coefs = coefs
	e.pivotOf[c] = -1
	e.pivotOf[q] = ri
	e.colRows[c] = nil
	return true
}

func (e *engine) removeRow(ri int32) {
	e.rows[ri] = row{pivot: -1}
}

// combine returns a·x − b·y without column q, where a and b make column q
// cancel: x and y both contain q.
func combine(xc []int32, xk []int64, yc []int32, yk []int64, q int32) ([]int32, []int64) {
	xi, _ := slices.BinarySearch(xc, q)
	yi, _ := slices.BinarySearch(yc, q)
	xq, yq := xk[xi], yk[yi]
	g := gcd(abs(xq), abs(yq))
	a, b := yq/g, xq/g // a·xq − b·yq = 0
	cols := make([]int32, 0, len(xc)+len(yc))
	coefs := make([]int64, 0, len(xc)+len(yc))
	i, j := 0, 0
	for i < len(xc) || j < len(yc) {
		switch {
		case j == len(yc) || (i < len(xc) && xc[i] < yc[j]):
			cols = append(cols, xc[i])
			coefs = append(coefs, mul(a, xk[i]))
			i++
		case i == len(xc) || yc[j] < xc[i]:
			cols = append(cols, yc[j])
			coefs = append(coefs, neg(mul(b, yk[j])))
			j++
		default:
			if v := sub(mul(a, xk[i]), mul(b, yk[j])); v != 0 {
				cols = append(cols, xc[i])
				coefs = append(coefs, v)
			}
			i++
			j++
		}
	}
	return cols, coefs
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

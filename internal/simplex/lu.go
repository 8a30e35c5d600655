package simplex

import (
	"math"
	"sync"
)

// factor is a sparse LU factorization of a basis matrix B (m × m, rows are
// the constraints, columns the basis positions), kept up to date in product
// form: B = B₀·E₁⋯E_k after k basis changes, each E an eta matrix.
//
// The factorization of B₀ is Gaussian elimination with a pivot order
// chosen to keep it sparse: column and row singletons first (the
// triangular part of a basis, which for the relations of statistical
// tables is most of it), then, in what remains, the pivot with the
// smallest Markowitz count (r−1)(c−1) among those at least a tenth of the
// largest entry of their column (threshold partial pivoting). Step k
// eliminates column pivCol[k] with row pivRow[k]: it subtracts multiples
// (L_k) of the pivot row from the other rows, and keeps the pivot row's
// remaining entries (U_k, the pivot first).
type factor struct {
	m int

	pivRow, pivCol []int32
	lStart         []int32 // step k's multipliers are l[lStart[k]:lStart[k+1]]
	lRow           []int32
	lVal           []float64
	uStart         []int32 // step k's row of U is u[uStart[k]:uStart[k+1]], the pivot first
	uCol           []int32
	uVal           []float64

	// Etas, one per basis change since the factorization: position
	// etaPos[e] took a column whose transformed entries are
	// eta[etaStart[e]:etaStart[e+1]], etaPiv[e] the one at etaPos[e].
	etaPos   []int32
	etaPiv   []float64
	etaStart []int32
	etaIdx   []int32
	etaVal   []float64

	// Where each value is read, for solves with sparse right-hand sides
	// (built on the first solve, see index): the steps whose row of U
	// holds basis position p, uUse[uUseStart[p]:uUseStart[p+1]], and the
	// steps that eliminated row i, lUse[lUseStart[i]:lUseStart[i+1]]. A
	// step none of whose inputs is nonzero is skipped: its result is
	// zero (ftran) or nothing changes (btran).
	uUseStart, uUse []int32
	lUseStart, lUse []int32
	stamp           []uint32 // per step: == gen if it has a nonzero input
	gen             uint32
}

// luThreshold is the threshold of partial pivoting: a pivot must be at
// least this fraction of the largest entry in its column.
const luThreshold = 0.1

// luZero is the size below which an entry of the elimination is dropped as
// cancelled.
const luZero = 1e-13

// column returns the entries of basis column p: row indices and values.
type columnFunc func(p int) ([]int32, []float64)

// factorize computes the factorization of the m × m matrix whose columns
// col gives. When the matrix is singular (numerically: no entry above
// luZero is left), it returns the positions it could not pivot and the
// rows left without a pivot, in equal numbers, and the factorization is
// that of the matrix with those columns replaced by the unit columns of
// those rows, in that order: the caller makes the same replacement in its
// basis.
func factorize(m int, col columnFunc) (*factor, []int32, []int32) {
	return new(luWork).factorize(m, col)
}

// luPool holds the working memory of factorizations, shared by all
// solvers: a solver kept for later (disclosure keeps hundreds) does not
// keep its own.
var luPool = sync.Pool{New: func() any { return new(luWork) }}

// pooledFactorize is factorize with working memory from luPool.
func pooledFactorize(m int, col columnFunc) (*factor, []int32, []int32) {
	w := luPool.Get().(*luWork)
	defer luPool.Put(w)
	return w.factorize(m, col)
}

// luEntry is an entry of a row of the active submatrix.
type luEntry struct {
	col int32
	val float64
}

// luColEntry is a row of a column of the active submatrix, with where
// the column's entry was in that row when last seen: rows change (an
// entry removed takes the last one's place), so the hint is checked, and
// the row searched if it is stale.
type luColEntry struct {
	row, hint int32
}

// luWork is the working memory of factorize, kept between
// factorizations (luPool) so that each does not allocate it again.
type luWork struct {
	rows                             [][]luEntry
	colRows                          [][]luColEntry
	rowBuf                           []luEntry
	colBuf                           []luColEntry
	perRow, rowCount, colCount       []int32
	bucketHead, next, prev, inBucket []int32
	rowQueue, touchedCols            []int32
	rowDone, colDone                 []bool
	at                               []int32 // column → 1 + its index in the row being eliminated, or 0
}

// grow returns s with length n, cleared, reallocated only if too small.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// factorize is factorize with the working memory w.
func (w *luWork) factorize(m int, col columnFunc) (*factor, []int32, []int32) {
	f := &factor{m: m, etaStart: []int32{0}}

	// The active submatrix by rows, with the rows of each column.
	// Each row and column gets room for twice its entries in one backing
	// array (fill-in beyond that moves it out on its own).
	w.rows = grow(w.rows, m)
	w.colRows = grow(w.colRows, m)
	w.perRow = grow(w.perRow, m)
	rows, colRows, perRow := w.rows, w.colRows, w.perRow
	total := 0
	for p := range m {
		idx, val := col(p)
		for k, i := range idx {
			if val[k] != 0 {
				perRow[i]++
				total++
			}
		}
	}
	w.rowBuf = grow(w.rowBuf, 2*total+m)
	w.colBuf = grow(w.colBuf, 2*total+m)
	rowBuf, colBuf := w.rowBuf, w.colBuf
	off := 0
	for i, c := range perRow {
		room := 2*int(c) + 1
		rows[i] = rowBuf[off : off : off+room]
		off += room
	}
	off = 0
	for p := range m {
		idx, val := col(p)
		room := 2*len(idx) + 1
		colRows[p] = colBuf[off:off:min(off+room, len(colBuf))]
		off = min(off+room, len(colBuf))
		for k, i := range idx {
			if val[k] == 0 {
				continue
			}
			colRows[p] = append(colRows[p], luColEntry{i, int32(len(rows[i]))})
			rows[i] = append(rows[i], luEntry{int32(p), val[k]})
		}
	}
	f.pivRow = make([]int32, 0, m)
	f.pivCol = make([]int32, 0, m)
	f.lStart = make([]int32, 1, m+1)
	f.uStart = make([]int32, 1, m+1)
	f.uCol = make([]int32, 0, total+m)
	f.uVal = make([]float64, 0, total+m)
	f.lRow = make([]int32, 0, total)
	f.lVal = make([]float64, 0, total)
	w.rowDone = grow(w.rowDone, m)
	w.colDone = grow(w.colDone, m)
	w.rowCount = grow(w.rowCount, m)
	w.colCount = grow(w.colCount, m)
	rowDone, colDone, rowCount, colCount := w.rowDone, w.colDone, w.rowCount, w.colCount
	w.at = grow(w.at, m)
	at := w.at
	for i := range m {
		rowCount[i] = int32(len(rows[i]))
	}
	for p := range m {
		colCount[p] = int32(len(colRows[p]))
	}
	find := func(i, p int32) int {
		for k, e := range rows[i] {
			if e.col == p {
				return k
			}
		}
		return -1
	}
	// lookup returns the index of column p's entry in row ce.row, or -1.
	lookup := func(ce luColEntry, p int32) int {
		if row := rows[ce.row]; uint(ce.hint) < uint(len(row)) && row[ce.hint].col == p {
			return int(ce.hint)
		}
		return find(ce.row, p)
	}

	// Buckets of active columns by count, for the Markowitz search, and
	// queues of singletons.
	w.bucketHead = grow(w.bucketHead, m+1)
	w.next = grow(w.next, m)
	w.prev = grow(w.prev, m)
	w.inBucket = grow(w.inBucket, m) // the count a column is filed under
	bucketHead, next, prev, inBucket := w.bucketHead, w.next, w.prev, w.inBucket
	for i := range bucketHead {
		bucketHead[i] = -1
	}
	unlink := func(p int32) {
		if prev[p] >= 0 {
			next[prev[p]] = next[p]
		} else {
			bucketHead[inBucket[p]] = next[p]
		}
		if next[p] >= 0 {
			prev[next[p]] = prev[p]
		}
	}
	link := func(p int32) {
		c := colCount[p]
		inBucket[p] = c
		prev[p] = -1
		next[p] = bucketHead[c]
		if next[p] >= 0 {
			prev[next[p]] = p
		}
		bucketHead[c] = p
	}
	for p := range int32(m) {
		link(p)
	}
	recount := func(p int32) {
		if !colDone[p] && inBucket[p] != colCount[p] {
			unlink(p)
			link(p)
		}
	}
	rowQueue, touchedCols := w.rowQueue[:0], w.touchedCols[:0]
	defer func() { w.rowQueue, w.touchedCols = rowQueue[:0], touchedCols[:0] }()
	for i := range int32(m) {
		if rowCount[i] == 1 {
			rowQueue = append(rowQueue, i)
		}
	}

	pivot := func(r, p int32) {
		// Eliminate column p from the other active rows with row r.
		rk := find(r, p)
		pv := rows[r][rk].val
		f.pivRow = append(f.pivRow, r)
		f.pivCol = append(f.pivCol, p)
		rowDone[r], colDone[p] = true, true
		unlink(p)
		// U_k: the pivot, then the other entries of row r.
		f.uCol = append(f.uCol, p)
		f.uVal = append(f.uVal, pv)
		for _, e := range rows[r] {
			if e.col != p {
				f.uCol = append(f.uCol, e.col)
				f.uVal = append(f.uVal, e.val)
				colCount[e.col]--
			}
		}
		touched := touchedCols[:0]
		for _, e := range rows[r] {
			if e.col != p {
				touched = append(touched, e.col)
			}
		}
		for _, ce := range colRows[p] {
			i := ce.row
			if rowDone[i] {
				continue
			}
			// at locates row i's entries by column while it changes:
			// each update of the row is then one lookup, not a search.
			row := rows[i]
			for k, e := range row {
				at[e.col] = int32(k + 1)
			}
			k := int(at[p]) - 1
			if k < 0 {
				for _, e := range row {
					at[e.col] = 0
				}
				continue // the entry cancelled
			}
			l := row[k].val / pv
			f.lRow = append(f.lRow, i)
			f.lVal = append(f.lVal, l)
			// row i −= l·row r, without column p. An entry removed takes
			// the last one's place, as before.
			remove := func(k int) {
				last := len(row) - 1
				at[row[k].col] = 0
				if k != last {
					row[k] = row[last]
					at[row[k].col] = int32(k + 1)
				}
				row = row[:last]
			}
			remove(k)
			for _, e := range rows[r] {
				if e.col == p {
					continue
				}
				if k := int(at[e.col]) - 1; k >= 0 {
					v := row[k].val - l*e.val
					if math.Abs(v) > luZero {
						row[k].val = v
						continue
					}
					remove(k)
					colCount[e.col]--
					continue
				}
				colRows[e.col] = append(colRows[e.col], luColEntry{i, int32(len(row))})
				row = append(row, luEntry{e.col, -l * e.val})
				at[e.col] = int32(len(row))
				colCount[e.col]++
			}
			for _, e := range row {
				at[e.col] = 0
			}
			rows[i] = row
			rowCount[i] = int32(len(rows[i]))
			if rowCount[i] == 1 {
				rowQueue = append(rowQueue, i)
			}
		}
		for _, c := range touched {
			recount(c)
		}
		touchedCols = touched
		f.lStart = append(f.lStart, int32(len(f.lRow)))
		f.uStart = append(f.uStart, int32(len(f.uCol)))
	}

	for len(f.pivRow) < m {
		// A column singleton: no elimination at all.
		if p := bucketHead[1]; p >= 0 {
			for _, ce := range colRows[p] {
				if !rowDone[ce.row] && lookup(ce, p) >= 0 {
					pivot(ce.row, p)
					break
				}
			}
			continue
		}
		// A row singleton: no fill-in.
		found := false
		for len(rowQueue) > 0 && !found {
			i := rowQueue[len(rowQueue)-1]
			rowQueue = rowQueue[:len(rowQueue)-1]
			if rowDone[i] || rowCount[i] != 1 {
				continue
			}
			e := rows[i][0]
			// Stable enough: the largest entry of its column, or not far below.
			big := 0.0
			for _, ce := range colRows[e.col] {
				if !rowDone[ce.row] {
					if k := lookup(ce, e.col); k >= 0 {
						big = max(big, math.Abs(rows[ce.row][k].val))
					}
				}
			}
			if math.Abs(e.val) >= luThreshold*big {
				pivot(i, e.col)
				found = true
			}
		}
		if found {
			continue
		}
		// Markowitz: among the columns of fewest entries, the pivot of
		// least (r−1)(c−1) that passes the threshold.
		bestR, bestP := int32(-1), int32(-1)
		bestCost := int64(math.MaxInt64)
		searched := 0
		for c := int32(1); c <= int32(m) && searched < 4; c++ {
			for p := bucketHead[c]; p >= 0 && searched < 4; p = next[p] {
				searched++
				big := 0.0
				// The rows of column p that are not done yet (the others
				// leave its list for good), with the index of p in each
				// (the hints made fresh; -1 where the entry cancelled).
				live := colRows[p][:0]
				for _, ce := range colRows[p] {
					if rowDone[ce.row] {
						continue
					}
					k := lookup(ce, p)
					if k >= 0 {
						big = max(big, math.Abs(rows[ce.row][k].val))
					}
					live = append(live, luColEntry{ce.row, int32(k)})
				}
				colRows[p] = live
				for _, ce := range live {
					i, k := ce.row, ce.hint
					if k < 0 || math.Abs(rows[i][k].val) < luThreshold*big {
						continue
					}
					cost := int64(rowCount[i]-1) * int64(colCount[p]-1)
					if cost < bestCost || (cost == bestCost && i < bestR) {
						bestR, bestP, bestCost = i, p, cost
					}
				}
			}
			if bestR >= 0 {
				break
			}
		}
		if bestR < 0 {
			break // singular: no entry left
		}
		pivot(bestR, bestP)
	}
	if len(f.pivRow) == m {
		return f, nil, nil
	}
	var cols, rws []int32
	for p := range int32(m) {
		if !colDone[p] {
			cols = append(cols, p)
		}
	}
	for i := range int32(m) {
		if !rowDone[i] {
			rws = append(rws, i)
		}
	}
	// Column cols[k] becomes the unit column of row rws[k]. No elimination
	// touched that row (it was never a pivot row), so the unit column is
	// unchanged by L and has a zero in every pivot row: the entries of the
	// replaced columns leave the rows of U, and each pair is a pivot of 1.
	u := f.uStart[0]
	for k := range f.pivRow {
		start, end := f.uStart[k], f.uStart[k+1]
		f.uStart[k] = u
		for t := start; t < end; t++ {
			if t == start || colDone[f.uCol[t]] {
				f.uCol[u], f.uVal[u] = f.uCol[t], f.uVal[t]
				u++
			}
		}
	}
	f.uStart[len(f.pivRow)] = u
	f.uCol, f.uVal = f.uCol[:u], f.uVal[:u]
	for k, p := range cols {
		f.pivRow = append(f.pivRow, rws[k])
		f.pivCol = append(f.pivCol, p)
		f.uCol = append(f.uCol, p)
		f.uVal = append(f.uVal, 1)
		f.lStart = append(f.lStart, int32(len(f.lRow)))
		f.uStart = append(f.uStart, int32(len(f.uCol)))
	}
	return f, cols, rws
}

// identity returns the factorization of the m × m identity matrix: the
// basis of logicals. Its arrays are shared (see constants): a
// factorization is never changed but for its etas, which are its own.
func identity(m int) *factor {
	count, ones, zeros := constants(m + 1)
	return &factor{
		m:        m,
		etaStart: []int32{0},
		pivRow:   count[:m:m],
		pivCol:   count[:m:m],
		uCol:     count[:m:m],
		uVal:     ones[:m:m],
		lStart:   zeros,
		uStart:   count,
	}
}

// shared holds read-only arrays for all solvers: 0, 1, 2, …; ones; zeros.
// They are replaced by longer ones when a larger program needs them, and
// never written once made.
var shared struct {
	sync.Mutex
	count []int32
	ones  []float64
	zeros []int32
}

// constants returns n entries of each of shared's arrays.
func constants(n int) (count []int32, ones []float64, zeros []int32) {
	shared.Lock()
	defer shared.Unlock()
	if len(shared.count) < n {
		size := max(n, 2*len(shared.count))
		shared.count = make([]int32, size)
		shared.ones = make([]float64, size)
		shared.zeros = make([]int32, size)
		for i := range size {
			shared.count[i], shared.ones[i] = int32(i), 1
		}
	}
	return shared.count[:n:n], shared.ones[:n:n], shared.zeros[:n:n]
}

// index builds uUse and lUse (once per factorization).
func (f *factor) index() {
	if f.stamp != nil {
		return
	}
	m := f.m
	f.uUseStart = make([]int32, m+2)
	f.lUseStart = make([]int32, m+2)
	for k := range f.pivRow {
		for t := f.uStart[k] + 1; t < f.uStart[k+1]; t++ {
			f.uUseStart[f.uCol[t]+2]++
		}
		for t := f.lStart[k]; t < f.lStart[k+1]; t++ {
			f.lUseStart[f.lRow[t]+2]++
		}
	}
	for i := 2; i < m+2; i++ {
		f.uUseStart[i] += f.uUseStart[i-1]
		f.lUseStart[i] += f.lUseStart[i-1]
	}
	f.uUse = make([]int32, f.uUseStart[m+1])
	f.lUse = make([]int32, f.lUseStart[m+1])
	for k := range f.pivRow {
		for t := f.uStart[k] + 1; t < f.uStart[k+1]; t++ {
			c := f.uCol[t] + 1
			f.uUse[f.uUseStart[c]] = int32(k)
			f.uUseStart[c]++
		}
		for t := f.lStart[k]; t < f.lStart[k+1]; t++ {
			i := f.lRow[t] + 1
			f.lUse[f.lUseStart[i]] = int32(k)
			f.lUseStart[i]++
		}
	}
	f.uUseStart = f.uUseStart[:m+1]
	f.lUseStart = f.lUseStart[:m+1]
	f.stamp = make([]uint32, m)
}

// nextGen returns a fresh generation for stamp.
func (f *factor) nextGen() uint32 {
	f.gen++
	if f.gen == 0 {
		clear(f.stamp)
		f.gen = 1
	}
	return f.gen
}

// ftran solves B·x = a in place: a holds the right-hand side by row on
// entry and the solution by basis position on return. work is scratch
// space of length m.
func (f *factor) ftran(a, work []float64) {
	// w = M_{m−1}⋯M₀·a
	for k, r := range f.pivRow {
		w := a[r]
		if w == 0 {
			continue
		}
		for t := f.lStart[k]; t < f.lStart[k+1]; t++ {
			a[f.lRow[t]] -= f.lVal[t] * w
		}
	}
	// U'·x = w, backwards. A step with a zero right-hand side whose row
	// of U meets no nonzero x gives zero; the others are computed as
	// they always were, term by term in the order of the row.
	f.index()
	gen := f.nextGen()
	stamp := f.stamp
	x := work
	for k := len(f.pivRow) - 1; k >= 0; k-- {
		s := a[f.pivRow[k]]
		p := f.pivCol[k]
		if s == 0 && stamp[k] != gen {
			x[p] = 0
			continue
		}
		for t := f.uStart[k] + 1; t < f.uStart[k+1]; t++ {
			s -= f.uVal[t] * x[f.uCol[t]]
		}
		xk := s / f.uVal[f.uStart[k]]
		x[p] = xk
		if xk != 0 {
			for _, k2 := range f.uUse[f.uUseStart[p]:f.uUseStart[p+1]] {
				stamp[k2] = gen
			}
		}
	}
	copy(a, x)
	// The etas, in order.
	for e, p := range f.etaPos {
		xp := a[p] / f.etaPiv[e]
		a[p] = xp
		if xp == 0 {
			continue
		}
		for t := f.etaStart[e]; t < f.etaStart[e+1]; t++ {
			a[f.etaIdx[t]] -= f.etaVal[t] * xp
		}
	}
}

// btran solves Bᵀ·y = c in place: c holds the right-hand side by basis
// position on entry and the solution by row on return. work is scratch
// space of length m.
func (f *factor) btran(c, work []float64) {
	// The etas' transposes, last first.
	for e := len(f.etaPos) - 1; e >= 0; e-- {
		p := f.etaPos[e]
		s := c[p]
		for t := f.etaStart[e]; t < f.etaStart[e+1]; t++ {
			s -= f.etaVal[t] * c[f.etaIdx[t]]
		}
		c[p] = s / f.etaPiv[e]
	}
	// U'ᵀ·v = c, forwards, by columns of U'ᵀ.
	v := work
	for k, r := range f.pivRow {
		ck := c[f.pivCol[k]]
		if ck == 0 {
			v[r] = 0
			continue
		}
		u0 := f.uStart[k]
		vk := ck / f.uVal[u0]
		v[r] = vk
		if vk == 0 {
			continue
		}
		for t := u0 + 1; t < f.uStart[k+1]; t++ {
			c[f.uCol[t]] -= f.uVal[t] * vk
		}
	}
	// y = M₀ᵀ⋯M_{m−1}ᵀ·v. Step k reads the rows it eliminated, which
	// later steps pivot on: their values are final when it comes, and
	// if none is nonzero the step changes nothing.
	f.index()
	gen := f.nextGen()
	stamp := f.stamp
	for k := len(f.pivRow) - 1; k >= 0; k-- {
		r := f.pivRow[k]
		if stamp[k] == gen {
			s := 0.0
			for t := f.lStart[k]; t < f.lStart[k+1]; t++ {
				s += f.lVal[t] * v[f.lRow[t]]
			}
			v[r] -= s
		}
		if v[r] != 0 {
			for _, k2 := range f.lUse[f.lUseStart[r]:f.lUseStart[r+1]] {
				stamp[k2] = gen
			}
		}
	}
	copy(c, v)
}

// update records a basis change: position p takes the column whose ftran
// is alpha (by basis position); nz lists the positions where alpha is not
// zero, in order.
func (f *factor) update(p int, alpha []float64, nz []int32) {
	f.etaPos = append(f.etaPos, int32(p))
	f.etaPiv = append(f.etaPiv, alpha[p])
	for _, i := range nz {
		if v := alpha[i]; int(i) != p && math.Abs(v) > luZero {
			f.etaIdx = append(f.etaIdx, i)
			f.etaVal = append(f.etaVal, v)
		}
	}
	f.etaStart = append(f.etaStart, int32(len(f.etaIdx)))
}

// updates returns the number of basis changes since the factorization
// and the entries their etas hold.
func (f *factor) updates() (int, int) { return len(f.etaPos), len(f.etaIdx) }

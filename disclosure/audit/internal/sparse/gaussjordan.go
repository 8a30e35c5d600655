package sparse

// GaussJordan reduces rows in place to reduced row echelon form over the
// columns below n, by sparse Gauss–Jordan elimination in exact integer
// arithmetic. Columns from n on take part in the row operations but are
// never pivots: callers keep bookkeeping there, such as a right-hand side or
// the combination of original rows that each row is.
//
// It returns the pivot column of each row, or -1 for a row left with no
// entry below n (a combination of the other rows). Every pivot column has an
// entry in its own row only.
//
// The pivot order is Markowitz's, simplified: the row with the fewest
// entries below n, and in it the column that appears in the fewest rows.
// That keeps the fill-in of the sparse tables of a statistical system low.
func GaussJordan(rows []Vec, n int32) []int32 {
	e := &eliminator{n: n, rows: rows}
	e.run()
	for i, p := range e.pivot {
		if p < 0 {
			e.pivot[i] = -1
		}
	}
	return e.pivot
}

type eliminator struct {
	n     int32
	rows  []Vec
	pivot []int32   // pivot column of each row; active or empty before one
	cols  [][]int32 // rows with an entry in each column below n (may be stale)

	// length[i] is the number of entries below n of active row i when last
	// queued; buckets[l] holds rows queued with length l (may be stale).
	length  []int32
	buckets [][]int32
	lowest  int

	ws Workspace
}

const (
	active = -1
	empty  = -2
)

func (e *eliminator) run() {
	e.pivot = make([]int32, len(e.rows))
	e.length = make([]int32, len(e.rows))
	e.cols = make([][]int32, e.n)
	for i, row := range e.rows {
		for _, c := range row.Idx[:row.CountBelow(e.n)] {
			e.cols[c] = append(e.cols[c], int32(i))
		}
		e.pivot[i] = active
		e.queue(int32(i))
	}
	for {
		r := e.next()
		if r < 0 {
			return
		}
		row := e.rows[r]
		best := int32(-1)
		for _, c := range row.Idx[:row.CountBelow(e.n)] {
			if best < 0 || len(e.cols[c]) < len(e.cols[best]) {
				best = c
			}
		}
		e.eliminate(r, best)
	}
}

// queue files active row i under its current number of entries below n, or
// marks it empty.
func (e *eliminator) queue(i int32) {
	l := e.rows[i].CountBelow(e.n)
	if l == 0 {
		e.pivot[i] = empty
		return
	}
	for len(e.buckets) <= l {
		e.buckets = append(e.buckets, nil)
	}
	e.length[i] = int32(l)
	e.buckets[l] = append(e.buckets[l], i)
	e.lowest = min(e.lowest, l)
}

// next returns the active row with the fewest entries below n, or -1.
func (e *eliminator) next() int32 {
	for ; e.lowest < len(e.buckets); e.lowest++ {
		b := e.buckets[e.lowest]
		for len(b) > 0 {
			i := b[len(b)-1]
			b = b[:len(b)-1]
			if e.pivot[i] == active && int(e.length[i]) == e.lowest {
				e.buckets[e.lowest] = b
				return i
			}
		}
		e.buckets[e.lowest] = b
	}
	return -1
}

// eliminate makes column c the pivot of row r and removes it from every
// other row.
func (e *eliminator) eliminate(r, c int32) {
	e.pivot[r] = c
	pr := e.rows[r]
	for _, i := range e.cols[c] {
		if i == r || !e.rows[i].Has(c) {
			continue // a stale entry
		}
		for _, j := range e.ws.EliminateInPlace(&e.rows[i], pr, c, e.n) {
			e.cols[j] = append(e.cols[j], i)
		}
		if e.pivot[i] == active {
			e.queue(i)
		}
	}
	e.cols[c] = append(e.cols[c][:0], r)
}

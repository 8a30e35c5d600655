package sparse

import "sort"

// Vec is a sparse integer vector: Val[k] is the entry at index Idx[k]. Idx
// is strictly increasing and no Val is zero. The operations below return new
// vectors and leave their operands unchanged.
type Vec struct {
	Idx []int32
	Val []Int
}

// Len returns the number of non-zero entries.
func (v Vec) Len() int { return len(v.Idx) }

// Find returns the position of index i in v.Idx, and whether it is there.
func (v Vec) Find(i int32) (int, bool) {
	k := sort.Search(len(v.Idx), func(k int) bool { return v.Idx[k] >= i })
	return k, k < len(v.Idx) && v.Idx[k] == i
}

// Get returns the entry at index i (0 if there is none).
func (v Vec) Get(i int32) Int {
	if k, ok := v.Find(i); ok {
		return v.Val[k]
	}
	return Int{}
}

// Has reports whether v has a non-zero entry at index i.
func (v Vec) Has(i int32) bool {
	_, ok := v.Find(i)
	return ok
}

// CountBelow returns the number of entries with an index below i.
func (v Vec) CountBelow(i int32) int {
	k, _ := v.Find(i)
	return k
}

// Eliminate returns a combination p·x − q·y, p > 0, that has no entry at
// index col, divided by the greatest common divisor of its entries: the row
// operation of fraction-free Gaussian elimination, which removes col from
// row x with pivot row y. y must have an entry at col; if x has none, x is
// returned. Because p > 0, the entries of x keep their signs up to the
// positive factor, which the simplex method relies on for its basic
// coefficients.
func Eliminate(x, y Vec, col int32) Vec {
	p, q, ok := multipliers(x, y, col)
	if !ok {
		return x
	}
	var out Vec
	combine(&out, p, x, q, y, 0, nil)
	return out.Reduce()
}

// multipliers returns p > 0 and q such that p·x − q·y has no entry at col,
// or false if x has none there.
func multipliers(x, y Vec, col int32) (p, q Int, ok bool) {
	cx := x.Get(col)
	if cx.IsZero() {
		return p, q, false
	}
	cy := y.Get(col)
	if cy.IsZero() {
		panic("sparse: Eliminate with a pivot row that lacks the pivot column")
	}
	g := GCD(cx, cy)
	p, q = Quo(cy, g), Quo(cx, g)
	if p.Sign() < 0 {
		p, q = p.Neg(), q.Neg()
	}
	return p, q, true
}

// Workspace holds the buffers of EliminateInPlace. The zero Workspace is
// ready to use.
type Workspace struct {
	buf   Vec
	added []int32
}

// EliminateInPlace sets *x to Eliminate(*x, y, col), reusing the storage of
// *x, which nobody else may hold. It returns the indices below limit that
// have an entry in the new *x but had none in the old one: the fill-in. The
// returned slice is valid until the next call.
func (w *Workspace) EliminateInPlace(x *Vec, y Vec, col, limit int32) []int32 {
	w.added = w.added[:0]
	p, q, ok := multipliers(*x, y, col)
	if !ok {
		return w.added
	}
	combine(&w.buf, p, *x, q, y, limit, &w.added)
	w.buf.Reduce()
	n := len(w.buf.Idx)
	if cap(x.Idx) < n || cap(x.Val) < n {
		x.Idx, x.Val = make([]int32, n, n+n/4), make([]Int, n, n+n/4)
	}
	x.Idx, x.Val = x.Idx[:n], x.Val[:n]
	copy(x.Idx, w.buf.Idx)
	copy(x.Val, w.buf.Val)
	clear(w.buf.Val) // drop references to big values
	return w.added
}

// Combine returns a·x − b·y.
func Combine(a Int, x Vec, b Int, y Vec) Vec {
	var out Vec
	combine(&out, a, x, b, y, 0, nil)
	return out
}

// combine sets *out to a·x − b·y, reusing its storage, and appends to added
// the indices below limit at which only y has an entry.
func combine(out *Vec, a Int, x Vec, b Int, y Vec, limit int32, added *[]int32) {
	n := len(x.Idx) + len(y.Idx)
	if cap(out.Idx) < n {
		out.Idx, out.Val = make([]int32, 0, n), make([]Int, 0, n)
	}
	out.Idx, out.Val = out.Idx[:0], out.Val[:0]
	i, j := 0, 0
	for i < len(x.Idx) || j < len(y.Idx) {
		var idx int32
		var val Int
		switch {
		case j == len(y.Idx) || (i < len(x.Idx) && x.Idx[i] < y.Idx[j]):
			idx, val = x.Idx[i], mulOne(a, x.Val[i])
			i++
		case i == len(x.Idx) || y.Idx[j] < x.Idx[i]:
			idx, val = y.Idx[j], mulOne(b, y.Val[j]).Neg()
			j++
			if added != nil && idx < limit && !val.IsZero() {
				*added = append(*added, idx)
			}
		default:
			idx, val = x.Idx[i], Sub(mulOne(a, x.Val[i]), mulOne(b, y.Val[j]))
			i++
			j++
		}
		if !val.IsZero() {
			out.Idx = append(out.Idx, idx)
			out.Val = append(out.Val, val)
		}
	}
}

// mulOne is Mul with a shortcut for the common factor 1.
func mulOne(a, x Int) Int {
	if a.IsOne() {
		return x
	}
	return Mul(a, x)
}

// Scale returns a·v; a must not be 0.
func Scale(a Int, v Vec) Vec {
	out := Vec{Idx: append([]int32(nil), v.Idx...), Val: make([]Int, len(v.Val))}
	for k, x := range v.Val {
		out.Val[k] = Mul(a, x)
	}
	return out
}

// Content returns the greatest common divisor of the entries of v (0 for the
// zero vector).
func (v Vec) Content() Int {
	var g Int
	for _, x := range v.Val {
		g = GCD(g, x)
		if g.IsOne() {
			break
		}
	}
	return g
}

// Reduce divides v in place by the greatest common divisor of its entries
// and returns it. Only a vector that nobody else holds may be reduced.
func (v Vec) Reduce() Vec {
	g := v.Content()
	if g.IsZero() || g.IsOne() {
		return v
	}
	for k, x := range v.Val {
		v.Val[k] = Quo(x, g)
	}
	return v
}

// Clone returns a copy of v that shares no memory with it.
func (v Vec) Clone() Vec {
	return Vec{Idx: append([]int32(nil), v.Idx...), Val: append([]Int(nil), v.Val...)}
}

package audit

import (
	"context"
	"math"
	"math/big"

	"github.com/zorgkit/zorgkit/disclosure/audit/internal/lp"
	"github.com/zorgkit/zorgkit/disclosure/audit/internal/sparse"
	"github.com/zorgkit/zorgkit/internal/simplex"
)

// rangeLP finds the smallest and the largest value of the cells of one
// component, for a reader who knows some of them, by linear programming
// over the component's relations: A·x = b, x ≥ 0, the known cells fixed
// at their values.
//
// The linear programs are solved in floating point (package simplex,
// warm-started from the last optimal basis), and each optimum is then
// certified in exact arithmetic, so that no verdict rests on rounding: a
// point of the polyhedron (the floating-point solution, read as
// fractions with small denominators) shows that the value is reached, and
// the dual solution, read likewise, bounds every point of the polyhedron
// (for any y, c·x = y·b + (c − Aᵀy)·x ≥ y·b + Σ min over its bounds of
// (c − Aᵀy)_j·x_j). When the two meet, the optimum is exact. An unbounded
// maximum is certified by a ray: r ≥ 0 with A·r = 0 that increases the
// cell and moves no fixed cell. When a certificate fails, which rounding
// can cause, the optimum is computed by the exact simplex method of
// package lp instead.
type rangeLP struct {
	m     *model
	cells []int32 // local variable → cell
	local map[int32]int32
	rows  []sparse.Vec // over local variables
	rhs   []*big.Rat
	fixed []bool // the reader knows the cell

	float    *simplex.Solver
	exact    *lp.Solver // for the current fixed cells, made on demand
	exactVar []int32    // local variable → the exact solver's, or -1 if fixed
	stats    *lpStats

	// For certificates in integers: the data as fractions (den 0 if
	// not small), and the right-hand sides times rhsDen, the common
	// denominator of the right-hand sides and the values (0 if not
	// small).
	values    []frac
	rhsFrac   []frac
	rhsDen    int64
	rhsScaled []int64

	scratch []int64 // per variable, zero between uses
	touched []int32

	lastPoint scaled // the last point certified feasible, at iteration pointAt
	pointAt   int
	pointOK   bool

	// watch marks the variables whose moves the certificates record
	// (cells some attacker knows); moved lists those that the point (or
	// ray) of the last certified optimum moves from their values, valid
	// when movedOK.
	watch   []bool
	moved   []int32
	movedOK bool

	colRows [][]int32 // per variable, the relations it is in (made by feasible)
	rowMark []bool
	rowList []int32
}

// optInfo says which watched cells the certificate of an optimum moves
// (see rangeLP.moved); ok false when none was recorded.
type optInfo struct {
	moved []int32
	ok    bool
}

// holdsFor reports whether the optimum recorded in o holds for a reader
// who also knows the cells of own: its certificate moves none of them,
// so it is a point (or ray) of that reader's polyhedron too, and the
// reader's optimum, over a smaller polyhedron, can be no better.
func (o optInfo) holdsFor(own map[int32]bool) bool {
	if !o.ok {
		return false
	}
	for _, c := range o.moved {
		if own[c] {
			return false
		}
	}
	return true
}

// lpStats counts how the optima were found.
type lpStats struct {
	certified, fallbacks int
}

func newRangeLP(m *model, kn *knowledge, comp component, stats *lpStats) *rangeLP {
	r := &rangeLP{m: m, cells: comp.cells, local: make(map[int32]int32, len(comp.cells)),
		fixed: make([]bool, len(comp.cells)), stats: stats}
	for i, c := range comp.cells {
		r.local[c] = int32(i)
	}
	p := simplex.Problem{NumVars: len(comp.cells)}
	for _, k := range comp.rels {
		// The row over the unknown cells, with the right-hand side that
		// the true values give it, so that they are a solution. For
		// consistent tables that is what the published cells give; it
		// also keeps float64 rounding in the totals from making the
		// program infeasible.
		src := m.rows[k]
		var row sparse.Vec
		var frow []simplex.Entry
		rhs := new(big.Rat)
		for j, c := range src.Idx {
			if kn.known[c] {
				continue
			}
			row.Idx = append(row.Idx, r.local[c])
			row.Val = append(row.Val, src.Val[j])
			rhs.Add(rhs, new(big.Rat).Mul(sparse.Rat(src.Val[j], sparse.NewInt(1)), m.value(int(c))))
			f, _ := new(big.Float).SetInt(src.Val[j].Big()).Float64()
			frow = append(frow, simplex.Entry{Col: r.local[c], Val: f})
		}
		r.rows = append(r.rows, row)
		r.rhs = append(r.rhs, rhs)
		f, _ := rhs.Float64()
		p.Rows = append(p.Rows, frow)
		p.RHS = append(p.RHS, f)
	}
	r.float = simplex.New(&p)
	// Start from the true values, a point of the polyhedron: no phase 1,
	// and a basis of cells that can move.
	for i, c := range comp.cells {
		v, _ := m.value(int(c)).Float64()
		r.float.SetValue(i, v)
	}
	r.float.Crash()
	r.float.Mark()
	r.scratch = make([]int64, len(comp.cells))
	r.values = make([]frac, len(comp.cells))
	r.rhsDen = 1
	for i, c := range comp.cells {
		r.values[i] = smallFrac(m.value(int(c)))
		r.rhsDen = lcm(r.rhsDen, r.values[i].den)
	}
	for _, b := range r.rhs {
		f := smallFrac(b)
		r.rhsFrac = append(r.rhsFrac, f)
		r.rhsDen = lcm(r.rhsDen, f.den)
	}
	if r.rhsDen > 0 {
		for _, f := range r.rhsFrac {
			v, ok := mul64(f.num, r.rhsDen/f.den)
			if !ok {
				r.rhsDen = 0
				break
			}
			r.rhsScaled = append(r.rhsScaled, v)
		}
	}
	return r
}

// restart returns the solver to the true values and the basis it started
// with (see newRangeLP), a point of every reader's polyhedron: after an
// attacker's cells are fixed, the solves need no phase 1.
func (r *rangeLP) restart() {
	r.float.Reset()
	r.pointOK = false
}

// fix fixes the given cells at their values (a reader knows them), or
// frees them again.
func (r *rangeLP) fix(cells []int32, fixed bool) {
	for _, c := range cells {
		j, ok := r.local[c]
		if !ok || r.fixed[j] == fixed {
			continue
		}
		r.fixed[j] = fixed
		r.pointOK = false
		if fixed {
			v, _ := r.m.value(int(c)).Float64()
			r.float.SetBounds(int(j), v, v)
		} else {
			r.float.SetBounds(int(j), 0, math.Inf(1))
		}
		r.exact = nil
	}
}

// setWatch marks the cells whose moves the certificates record.
func (r *rangeLP) setWatch(cells map[int32]bool) {
	r.watch = make([]bool, len(r.cells))
	for i, c := range r.cells {
		r.watch[i] = cells[c]
	}
}

// bounds returns the range of local variable j, and what the certificates
// of its two ends moved (see optInfo).
func (r *rangeLP) bounds(ctx context.Context, j int) (bounds, [2]optInfo, error) {
	var info [2]optInfo
	lo, _, err := r.optimum(ctx, j, 1)
	if err != nil {
		return bounds{}, info, err
	}
	info[0] = optInfo{r.moved, r.movedOK}
	hi, bounded, err := r.optimum(ctx, j, -1)
	if err != nil {
		return bounds{}, info, err
	}
	info[1] = optInfo{r.moved, r.movedOK}
	if !bounded {
		hi = nil
	}
	return bounds{lo, hi}, info, nil
}

// optimum minimizes sign·x_j and returns the optimal x_j, or bounded
// false when sign·x_j has no minimum.
func (r *rangeLP) optimum(ctx context.Context, j int, sign int64) (*big.Rat, bool, error) {
	r.moved, r.movedOK = nil, false
	r.float.ClearCosts()
	r.float.SetCost(j, float64(sign))
	st, err := r.float.Solve(ctx)
	if ctx.Err() != nil {
		return nil, false, ctx.Err()
	}
	if err == nil {
		if v, bounded, ok := r.certify(j, sign, st); ok {
			r.stats.certified++
			return v, bounded, nil
		}
	}
	r.stats.fallbacks++
	v, bounded := r.exactOptimum(j, sign)
	return v, bounded, nil
}

// certify checks the floating-point result of minimizing sign·x_j in
// exact arithmetic (see rangeLP). ok is false when the certificate does
// not hold.
func (r *rangeLP) certify(j int, sign int64, st simplex.Status) (v *big.Rat, bounded, ok bool) {
	switch st {
	case simplex.Optimal:
		x, ok := r.point()
		if !ok {
			return nil, false, false
		}
		if !r.dualBound(r.float.Duals(), j, sign, x) {
			return nil, false, false
		}
		r.recordMoved(x)
		return x.rat(j), true, true
	case simplex.Unbounded:
		if sign > 0 {
			return nil, false, false // x_j ≥ 0: no minimum is unbounded
		}
		return nil, false, r.ray(j)
	}
	return nil, false, false
}

// point returns the floating-point solution read as fractions, if it
// satisfies every relation and bound exactly. The last point certified is
// kept: while the solver does not move, its point stays the same.
func (r *rangeLP) point() (scaled, bool) {
	if it := r.float.Iterations(); r.pointOK && r.pointAt == it {
		return r.lastPoint, true
	}
	r.pointOK = false
	x, ok := approxAll(len(r.cells), r.float.Value)
	if !ok || !r.feasible(x) {
		return scaled{}, false
	}
	r.lastPoint, r.pointAt, r.pointOK = x, r.float.Iterations(), true
	return x, true
}

// feasible reports whether x satisfies every relation and bound exactly.
func (r *rangeLP) feasible(x scaled) bool {
	if x.num == nil {
		return r.feasibleBig(x.rats())
	}
	for i, v := range x.num {
		if r.fixed[i] {
			f := r.values[i]
			if f.den == 0 || !eqScaled(v, x.den, f.num, f.den) {
				return r.feasibleBig(x.rats())
			}
		} else if v < 0 {
			return false
		}
	}
	// The true values satisfy every relation exactly (the right-hand
	// sides are made from them), so only the relations of a cell that x
	// moves from its value need checking.
	if r.colRows == nil {
		r.colRows = make([][]int32, len(r.cells))
		for k, row := range r.rows {
			for _, c := range row.Idx {
				r.colRows[c] = append(r.colRows[c], int32(k))
			}
		}
		r.rowMark = make([]bool, len(r.rows))
	}
	rows := r.rowList[:0]
	defer func() {
		for _, k := range rows {
			r.rowMark[k] = false
		}
		r.rowList = rows[:0]
	}()
	for i, v := range x.num {
		if f := r.values[i]; f.den != 0 && eqScaled(v, x.den, f.num, f.den) {
			continue
		}
		for _, k := range r.colRows[i] {
			if !r.rowMark[k] {
				r.rowMark[k] = true
				rows = append(rows, k)
			}
		}
	}
	for _, k := range rows {
		b := r.rhsFrac[k]
		sum, ok := intDot(r.rows[k], x.num)
		if !ok || b.den == 0 {
			return r.feasibleBig(x.rats())
		}
		if !eqScaled(sum, x.den, b.num, b.den) {
			return false
		}
	}
	return true
}

// feasibleBig is feasible in big.Rat arithmetic.
func (r *rangeLP) feasibleBig(x []*big.Rat) bool {
	for i, v := range x {
		if r.fixed[i] {
			if v.Cmp(r.m.value(int(r.cells[i]))) != 0 {
				return false
			}
		} else if v.Sign() < 0 {
			return false
		}
	}
	for k, row := range r.rows {
		if dot(row, x).Cmp(r.rhs[k]) != 0 {
			return false
		}
	}
	return true
}

// dualBound reports whether the multipliers y, read as fractions, prove
// that the minimum of sign·x_j is sign·x_j at x: y·b plus, for every
// variable, the least of (c − Aᵀy)_k·x_k over its bounds, equals it.
func (r *rangeLP) dualBound(y []float64, j int, sign int64, x scaled) bool {
	ys, ok := approxAll(len(y), func(k int) float64 { return y[k] })
	if ok && ys.num != nil && x.num != nil && r.rhsDen > 0 {
		// In integers: D·E·B·(y·b + Σ d_k·x_k) against D·E·B·sign·x_j,
		// with D, E and B the denominators of x, y and the data.
		d := r.scratch
		touched := r.touched[:0]
		add := func(c int32, v int64) bool {
			if d[c] == 0 {
				touched = append(touched, c)
			}
			nv := d[c] + v
			if (v > 0 && nv < d[c]) || (v < 0 && nv > d[c]) {
				return false
			}
			d[c] = nv
			return true
		}
		clear := func() {
			for _, c := range touched {
				d[c] = 0
			}
			r.touched = touched
		}
		ok := add(int32(j), sign*ys.den) // c·E
		var yb int64                     // E·B·(y·b)
		for k, row := range r.rows {
			yk := ys.num[k]
			if yk == 0 || !ok {
				continue
			}
			t, good := mul64(yk, r.rhsScaled[k])
			yb, good = add64(yb, t, good)
			ok = ok && good
			for i, c := range row.Idx {
				a, good := row.Val[i].Int64()
				t, good2 := mul64(yk, a)
				ok = ok && good && good2 && add(c, -t)
			}
		}
		if !ok {
			clear()
			return r.dualBoundBig(y, j, sign, x.rats())
		}
		total, good := mul64(yb, x.den) // D·E·B·(y·b)
		for _, c := range touched {
			dc := d[c] // E·d_c
			switch {
			case dc == 0:
			case r.fixed[c]:
				// + D·E·B·d_c·v_c, v_c = num/den with den dividing B
				v := r.values[c]
				t, g1 := mul64(dc, v.num*(r.rhsDen/v.den))
				t, g2 := mul64(t, x.den)
				total, good = add64(total, t, good && g1 && g2)
			case dc < 0:
				clear()
				return false // x_c could grow without end
			}
		}
		clear()
		want, g1 := mul64(sign*x.num[j], ys.den)
		want, g2 := mul64(want, r.rhsDen)
		if good && g1 && g2 {
			return total == want
		}
	}
	return r.dualBoundBig(y, j, sign, x.rats())
}

// dualBoundBig is dualBound in big.Rat arithmetic.
func (r *rangeLP) dualBoundBig(y []float64, j int, sign int64, x []*big.Rat) bool {
	d := map[int32]*big.Rat{int32(j): big.NewRat(sign, 1)} // c − Aᵀy, where not zero
	bound := new(big.Rat)
	t := new(big.Rat)
	for k, row := range r.rows {
		if y[k] == 0 {
			continue
		}
		yk := rationalize(y[k])
		if yk.Sign() == 0 {
			continue
		}
		bound.Add(bound, t.Mul(yk, r.rhs[k]))
		for i, c := range row.Idx {
			dc := d[c]
			if dc == nil {
				dc = new(big.Rat)
				d[c] = dc
			}
			dc.Sub(dc, t.Mul(yk, sparse.Rat(row.Val[i], sparse.NewInt(1))))
		}
	}
	for c, dc := range d {
		switch {
		case dc.Sign() == 0:
		case r.fixed[c]:
			bound.Add(bound, t.Mul(dc, r.m.value(int(r.cells[c]))))
		case dc.Sign() < 0:
			return false // x_c could grow without end
		}
		// dc > 0 at the lower bound 0 adds nothing.
	}
	target := new(big.Rat).Set(x[j])
	if sign < 0 {
		target.Neg(target)
	}
	return bound.Cmp(target) == 0
}

// ray reports whether the floating-point solver's unbounded direction,
// read as fractions, certifies that x_j has no largest value.
func (r *rangeLP) ray(j int) bool {
	ray := r.float.Ray()
	x := make([]*big.Rat, len(r.cells))
	for i := range x {
		x[i] = new(big.Rat)
	}
	for i, v := range ray {
		x[i] = rationalize(v)
		if x[i].Sign() < 0 || (r.fixed[i] && x[i].Sign() != 0) {
			return false
		}
	}
	if x[j].Sign() <= 0 {
		return false
	}
	for _, row := range r.rows {
		if dot(row, x).Sign() != 0 {
			return false
		}
	}
	if r.watch != nil {
		r.moved, r.movedOK = nil, true
		for i, v := range x {
			if r.watch[i] && v.Sign() != 0 {
				r.moved = append(r.moved, r.cells[i])
			}
		}
	}
	return true
}

// recordMoved records the watched cells that the certified point x moves
// from their values.
func (r *rangeLP) recordMoved(x scaled) {
	if r.watch == nil {
		return
	}
	r.moved, r.movedOK = nil, true
	for i, w := range r.watch {
		if !w {
			continue
		}
		if f := r.values[i]; x.num != nil && f.den != 0 {
			if !eqScaled(x.num[i], x.den, f.num, f.den) {
				r.moved = append(r.moved, r.cells[i])
			}
			continue
		}
		if x.rat(i).Cmp(r.m.value(int(r.cells[i]))) != 0 {
			r.moved = append(r.moved, r.cells[i])
		}
	}
}

// exactOptimum computes the optimum by the exact simplex method, over the
// cells that are not fixed.
func (r *rangeLP) exactOptimum(j int, sign int64) (*big.Rat, bool) {
	if r.fixed[j] {
		return r.m.value(int(r.cells[j])), true
	}
	if r.exact == nil {
		free := make([]int32, len(r.cells)) // local → exact variable, or -1
		p := lp.Problem{}
		for i, c := range r.cells {
			free[i] = -1
			if !r.fixed[i] {
				free[i] = int32(p.NumVars)
				p.NumVars++
				p.Start = append(p.Start, r.m.value(int(c)))
			}
		}
		for k, row := range r.rows {
			var out sparse.Vec
			rhs := new(big.Rat).Set(r.rhs[k])
			for i, c := range row.Idx {
				if free[c] >= 0 {
					out.Idx = append(out.Idx, free[c])
					out.Val = append(out.Val, row.Val[i])
					continue
				}
				rhs.Sub(rhs, new(big.Rat).Mul(sparse.Rat(row.Val[i], sparse.NewInt(1)), r.m.value(int(r.cells[c]))))
			}
			p.Rows = append(p.Rows, out)
			p.RHS = append(p.RHS, rhs)
		}
		s, err := lp.New(p)
		if err != nil {
			panic("audit: internal error: " + err.Error()) // the true values are a solution
		}
		r.exact = s
		r.exactVar = free
	}
	v := r.exactVar[j]
	if sign > 0 {
		return r.exact.Minimize(int(v)), true
	}
	return r.exact.Maximize(int(v))
}

// dot returns row·x exactly.
func dot(row sparse.Vec, x []*big.Rat) *big.Rat {
	// Integers that fit add up in int64; anything else in big.Rat.
	var acc int64
	small := true
	for i, c := range row.Idx {
		a, ok := row.Val[i].Int64()
		xv := x[c]
		if !ok || !xv.IsInt() || !xv.Num().IsInt64() {
			small = false
			break
		}
		v := xv.Num().Int64()
		if math.Abs(float64(a))*math.Abs(float64(v)) > 1<<52 || math.Abs(float64(acc)) > 1<<60 {
			small = false
			break
		}
		acc += a * v
	}
	if small {
		return new(big.Rat).SetInt64(acc)
	}
	sum := new(big.Rat)
	t := new(big.Rat)
	for i, c := range row.Idx {
		sum.Add(sum, t.Mul(sparse.Rat(row.Val[i], sparse.NewInt(1)), x[c]))
	}
	return sum
}

// rationalize returns the fraction nearest x with a small denominator: the
// first convergent of x's continued fraction within a relative 1e-9 of x
// (denominators up to 1e8), or x itself if there is none. Optima of
// linear programs over table relations are fractions with small
// denominators, which floating point can only approximate.
func rationalize(x float64) *big.Rat {
	if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
		return new(big.Rat).SetInt64(int64(x))
	}
	tol := 1e-9 * max(1, math.Abs(x))
	if math.Abs(x) < 1e9 {
		h0, h1 := int64(0), int64(1)
		k0, k1 := int64(1), int64(0)
		y := x
		for range 40 {
			a := math.Floor(y)
			h2 := int64(a)*h1 + h0
			k2 := int64(a)*k1 + k0
			if k2 > 1e8 || k2 <= 0 {
				break
			}
			h0, h1, k0, k1 = h1, h2, k1, k2
			if math.Abs(x-float64(h1)/float64(k1)) <= tol {
				return big.NewRat(h1, k1)
			}
			f := y - a
			if f == 0 {
				break
			}
			y = 1 / f
		}
	}
	return new(big.Rat).SetFloat64(x)
}

// frac is a fraction num/den with 0 < den; den 0 stands for a number that
// is no small fraction.
type frac struct{ num, den int64 }

// smallFrac returns r as a frac, if its numerator and denominator are
// small.
func smallFrac(r *big.Rat) frac {
	if !r.Num().IsInt64() || !r.Denom().IsInt64() {
		return frac{}
	}
	n, d := r.Num().Int64(), r.Denom().Int64()
	if n > 1<<40 || n < -1<<40 || d > 1<<30 {
		return frac{}
	}
	return frac{n, d}
}

// scaled is a vector of fractions num[i]/den with a common denominator;
// num nil when they need big.Rat, held in big.
type scaled struct {
	num []int64
	den int64
	big []*big.Rat
}

// rat returns element i.
func (x scaled) rat(i int) *big.Rat {
	if x.num == nil {
		return x.big[i]
	}
	return big.NewRat(x.num[i], x.den)
}

// rats returns the elements as big.Rats.
func (x scaled) rats() []*big.Rat {
	if x.num == nil {
		return x.big
	}
	out := make([]*big.Rat, len(x.num))
	for i := range out {
		out[i] = big.NewRat(x.num[i], x.den)
	}
	return out
}

// approxAll reads n floating-point values as fractions (see rationalize),
// with a common denominator when it is small. ok is false if a value is
// not finite.
func approxAll(n int, value func(int) float64) (scaled, bool) {
	fs := make([]frac, n)
	den := int64(1)
	for i := range fs {
		v := value(i)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return scaled{}, false
		}
		f, ok := approx(v)
		if !ok {
			den = 0
			break
		}
		fs[i] = f
		if den = lcm(den, f.den); den == 0 {
			break
		}
	}
	if den > 0 {
		x := scaled{num: make([]int64, n), den: den}
		ok := true
		for i, f := range fs {
			x.num[i], ok = mul64(f.num, den/f.den)
			if !ok {
				break
			}
		}
		if ok {
			return x, true
		}
	}
	x := scaled{big: make([]*big.Rat, n)}
	for i := range x.big {
		x.big[i] = rationalize(value(i))
	}
	return x, true
}

// approx returns the fraction nearest x with a small denominator (see
// rationalize), if there is one.
func approx(x float64) (frac, bool) {
	if x == math.Trunc(x) {
		if math.Abs(x) < 1<<40 {
			return frac{int64(x), 1}, true
		}
		return frac{}, false
	}
	if math.Abs(x) >= 1e9 {
		return frac{}, false
	}
	tol := 1e-9 * max(1, math.Abs(x))
	h0, h1 := int64(0), int64(1)
	k0, k1 := int64(1), int64(0)
	y := x
	for range 40 {
		a := math.Floor(y)
		h2 := int64(a)*h1 + h0
		k2 := int64(a)*k1 + k0
		if k2 > 1e8 || k2 <= 0 {
			break
		}
		h0, h1, k0, k1 = h1, h2, k1, k2
		if math.Abs(x-float64(h1)/float64(k1)) <= tol {
			return frac{h1, k1}, true
		}
		f := y - a
		if f == 0 {
			break
		}
		y = 1 / f
	}
	return frac{}, false
}

// intDot returns row·x in integers, ok false on overflow.
func intDot(row sparse.Vec, x []int64) (int64, bool) {
	var sum int64
	ok := true
	for i, c := range row.Idx {
		a, good := row.Val[i].Int64()
		t, g2 := mul64(a, x[c])
		sum, ok = add64(sum, t, ok && good && g2)
	}
	return sum, ok
}

// eqScaled reports whether a/b == c/d for b, d > 0, without overflow
// (false when it cannot tell, which callers treat as a failed check).
func eqScaled(a, b, c, d int64) bool {
	l, ok1 := mul64(a, d)
	r, ok2 := mul64(c, b)
	return ok1 && ok2 && l == r
}

const maxSafe = 1 << 62

// mul64 returns a·b, ok false if it may overflow.
func mul64(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	if math.Abs(float64(a))*math.Abs(float64(b)) >= maxSafe {
		return 0, false
	}
	return a * b, true
}

// add64 returns a+b, ok false if ok was false or it may overflow.
func add64(a, b int64, ok bool) (int64, bool) {
	s := a + b
	if !ok || s > maxSafe || s < -maxSafe {
		return 0, false
	}
	return s, true
}

// lcm returns the least common multiple of a and b, or 0 if a or b is 0
// or it exceeds 2³⁰.
func lcm(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	x, y := a, b
	for y != 0 {
		x, y = y, x%y
	}
	l := a / x * b
	if l > 1<<30 || l <= 0 {
		return 0
	}
	return l
}

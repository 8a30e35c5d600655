package disclosure

import (
	"context"
	"iter"
	"math"
	"math/big"
	"slices"
)

// Certificates without a linear program: hypercubes (the construction of
// Repsilber's HYPERCUBE method, as in τ-ARGUS and sdcTable).
//
// For a primary cell p = (P1, …, Pd) of a family, choose in every
// dimension a leaf under Pi (Pi itself if it is a leaf) and, unless Pi is
// the total, a sibling Si of Pi (same parent) with a leaf under it (more
// generally, a sibling of an ancestor Ti of Pi: the path then goes from
// the leaf through Pi up to Ti, and the cube is at Ti's level). Move
// the base cells of the 2^d corners by ±δ, with the sign (−1) to the
// number of sibling coordinates. Every relation "parent = sum of children"
// in any dimension still holds, and the cells that move are exactly those
// whose coordinate in every dimension lies on the path from the chosen
// leaf up to Pi (sign +) or from the other leaf up to Si (sign −): above,
// in the parent of Pi and Si, the two cancel. Such a cube moves p by δ;
// the cells that move against the direction p is pushed in must stay
// non-negative, which bounds δ by the smallest of them; several cubes add
// up for more. A cube whose cells are all withheld and unknown to the
// certificate's reader is a certificate at no cost; otherwise its
// published cells are withheld, at the cost cover counts (a cell's value,
// at least 1).
//
// The point a cube gives is checked exactly before it is used (every
// relation of the group that holds a moved cell sums to zero in
// fractions) and joins the pool of points (see fromPool), which checks it
// exactly against the certificate's reader and the cells' values.
//
// The search is bounded: per dimension, the choices are ranked by the
// cells they move in the line through p (the other coordinates at p's),
// and the best maxCubeKept of every dimension are combined depth first
// (cubeDFS), looking at no more than maxCubeCells cells per cube and
// adding up at most maxCubes cubes. It takes the cheapest cube that
// reaches; failing that, the one that goes furthest, and again. When it
// finds nothing, the linear programs take over. Families linked to others
// (the totals of complements) are left to the programs.

// maxCubeKept bounds the choices per dimension a search combines (the
// best by their line).
const maxCubeKept = 64

// maxCubeCells bounds the cells a search for one cube looks at.
const maxCubeCells = 20000

// maxCubeSides bounds the choices per dimension ranked by their line.
const maxCubeSides = 4096

// maxCubes is the number of cubes a certificate may add up.
const maxCubes = 4

// cubeSide is a cube's choice in one dimension: the offsets (node − p's
// node, times the stride) of the nodes whose cells move with p (the first
// nplus: p's node down to a leaf) and against it (a sibling down to a
// leaf).
type cubeSide struct {
	offs  []int32
	nplus int
}

// cubeCell is a cell a cube moves, with the sign of its move relative to
// p's.
type cubeCell struct {
	col  int32
	sign int8
}

// cubeSearch is the search for the cubes of one certificate.
type cubeSearch struct {
	iv      *ivGroup
	key     certKey // whose cells may not move (knows), and p and the direction
	dir     float64 // -1: p goes down; +1: up
	maxCost float64 // cubes costing more are not looked at
	net     map[int32]float64
	taken   map[int32]bool // cells withheld by cubes chosen before (free)
	cells   []cubeCell     // scratch
}

// cubeable reports whether the cube construction may be used for column
// col: its family takes part in no relation with another family (the
// totals of complements), which a cube would not keep.
func (iv *ivGroup) cubeable(col int32) bool {
	if iv.crossFamily == nil {
		iv.crossFamily = make([]bool, len(iv.gp.pfs))
		for _, rel := range iv.rels {
			k0, _ := iv.gp.locate(rel[0].col)
			for _, t := range rel[1:] {
				if k, _ := iv.gp.locate(t.col); k != k0 {
					for _, t2 := range rel {
						k2, _ := iv.gp.locate(t2.col)
						iv.crossFamily[k2] = true
					}
					break
				}
			}
		}
	}
	k, _ := iv.gp.locate(col)
	return !iv.crossFamily[k] && len(iv.gp.pfs[k].dims) > 0
}

// cubeSides returns, per dimension of column col's family, the choices of
// a cube for col.
//
// With wide false, the top of a side (the node whose sibling it takes) is
// x, or the lowest of its ancestors with a sibling; with wide true, also
// every ancestor above: such cubes move larger cells (more costly) but
// find one more often where many cells are empty.
func (iv *ivGroup) cubeSides(col int32, wide bool) [][]cubeSide {
	w := 0
	if wide {
		w = 1
	}
	if c := &iv.sides[w]; c.sides != nil && c.col == col {
		return c.sides
	}
	out := iv.makeCubeSides(col, wide)
	iv.sides[w] = sidesOf{col, out}
	return out
}

// sidesOf is the choices of a cube for a column (see cubeSides), kept
// while the certificates of one primary cell are looked for: they
// depend on the column alone, and are never changed.
type sidesOf struct {
	col   int32
	sides [][]cubeSide
}

func (iv *ivGroup) makeCubeSides(col int32, wide bool) [][]cubeSide {
	gp := iv.gp
	t := gp.t
	k, c := gp.locate(col)
	f := gp.pfs[k]
	coords := f.coords(c, nil)
	out := make([][]cubeSide, len(f.dims))
	for j, d := range f.dims {
		dm := t.dims[d]
		x := coords[j]
		stride := int32(f.stride[j])
		var sides []cubeSide
		add := func(p, m []int32) {
			s := cubeSide{offs: make([]int32, 0, len(p)+len(m)), nplus: len(p)}
			for _, n := range p {
				s.offs = append(s.offs, (n-x)*stride)
			}
			for _, n := range m {
				s.offs = append(s.offs, (n-x)*stride)
			}
			sides = append(sides, s)
		}
		// The top of the side: x or one of its ancestors, with the path
		// down to x above it; the sibling is the top's (none at the
		// total).
		var chain []int32
	tops:
		for top := x; top >= 0; top = dm.parent[top] {
			if top != x {
				chain = slices.Insert(chain, 0, top)
			}
			plus := leafPaths(dm, x, chain, nil)
			par := dm.parent[top]
			if par < 0 {
				for _, p := range plus {
					if len(sides) >= maxCubeSides {
						break tops
					}
					add(p, nil)
				}
				continue
			}
			if !wide && len(dm.children[par]) == 1 {
				continue // only a chain so far
			}
			for _, y := range dm.children[par] {
				if y == top {
					continue
				}
				for _, m := range leafPaths(dm, y, nil, nil) {
					for _, p := range plus {
						if len(sides) >= maxCubeSides {
							break tops
						}
						add(p, m)
					}
				}
			}
			if !wide {
				break
			}
		}
		out[j] = sides
	}
	return out
}

// leafPaths appends to out every path from node n down to a leaf (n
// first).
func leafPaths(d *dim, n int32, prefix []int32, out [][]int32) [][]int32 {
	prefix = append(prefix, n)
	if len(d.children[n]) == 0 {
		return append(out, slices.Clone(prefix))
	}
	for _, k := range d.children[n] {
		if len(out) >= maxCubeSides {
			break
		}
		out = leafPaths(d, k, prefix, out)
	}
	return out
}

// cubeCells yields the cells the cube of the sides chosen (one per
// dimension of col's family) moves, with the sign of each move relative to
// col's: every combination of one node per dimension, negative for an odd
// number of nodes on the sibling's side.
func cubeCells(col int32, sides []*cubeSide) iter.Seq2[int32, int8] {
	return func(yield func(int32, int8) bool) {
		var buf [8]int
		idx := buf[:0]
		for range sides {
			idx = append(idx, 0)
		}
		for {
			c := col
			sign := int8(1)
			for j, sd := range sides {
				c += sd.offs[idx[j]]
				if idx[j] >= sd.nplus {
					sign = -sign
				}
			}
			if !yield(c, sign) {
				return
			}
			j := 0
			for ; j < len(sides); j++ {
				if idx[j]++; idx[j] < len(sides[j].offs) {
					break
				}
				idx[j] = 0
			}
			if j == len(sides) {
				return
			}
		}
	}
}

// eval evaluates the cube of the sides chosen: the cost of the published
// cells it moves that are not taken, and how far it can go (cap: the
// smallest value of the cells that move against the direction, with the
// moves of the cubes chosen before; +Inf when none does). ok is false if
// it moves a cell that may not move, or costs more than limit. It leaves
// the cells in s.cells.
func (s *cubeSearch) eval(sides []*cubeSide, limit float64) (cost, cap float64, ok bool) {
	iv := s.iv
	s.cells = s.cells[:0]
	cap = math.Inf(1)
	for col, sign := range cubeCells(s.key.col, sides) {
		if iv.fixed[col] || iv.knows(col, s.key) {
			return 0, 0, false
		}
		if !iv.withheld[col] && !s.taken[col] {
			if cost += max(iv.value[col], 1); cost > limit {
				return 0, 0, false
			}
		}
		if float64(sign)*s.dir < 0 {
			cap = min(cap, iv.value[col]+s.net[col])
			if cap <= 0 {
				return 0, 0, false
			}
		}
		s.cells = append(s.cells, cubeCell{col, sign})
	}
	return cost, cap, true
}

// cubeCert looks for a certificate of key reaching amount made of cubes
// that withhold, besides the cells withheld now, cells worth at most
// maxCost (0: none). On success the point is in the pool, and it returns
// the published cells to withhold (none when maxCost is 0) and the cost.
func (iv *ivGroup) cubeCert(key certKey, amount *big.Rat, maxCost float64, wide bool) (add []int32, cost float64, ok bool) {
	if !iv.withheld[key.col] || !iv.cubeable(key.col) {
		return nil, 0, false
	}
	a, _ := amount.Float64()
	if a <= 0 {
		return nil, 0, false
	}
	s := &cubeSearch{iv: iv, key: key, dir: 1, maxCost: maxCost, net: map[int32]float64{}, taken: map[int32]bool{}}
	if key.down {
		s.dir = -1
	}
	all := iv.cubeSides(key.col, wide)
	// Rank each dimension's choices by their line through p.
	trivial := cubeSide{offs: []int32{0}, nplus: 1}
	line := make([]*cubeSide, len(all))
	for j := range line {
		line[j] = &trivial
	}
	keep := maxCubeKept
	kept := make([][]*cubeSide, len(all))
	for j, sides := range all {
		type ranked struct {
			sd        *cubeSide
			cost, cap float64
		}
		var rs []ranked
		for i := range sides {
			line[j] = &sides[i]
			if cost, cap, ok := s.eval(line, maxCost); ok {
				rs = append(rs, ranked{&sides[i], cost, cap})
			}
		}
		line[j] = &trivial
		if len(rs) == 0 {
			return nil, 0, false
		}
		slices.SortStableFunc(rs, func(x, y ranked) int {
			if ox, oy := x.cap >= a, y.cap >= a; ox != oy {
				if ox {
					return -1
				}
				return 1
			}
			switch {
			case x.cost < y.cost:
				return -1
			case x.cost > y.cost:
				return 1
			case x.cap > y.cap:
				return -1
			case x.cap < y.cap:
				return 1
			}
			return 0
		})
		for _, r := range rs[:min(keep, len(rs))] {
			kept[j] = append(kept[j], r.sd)
		}
	}
	// Combine: the cheapest cube that reaches what is left; failing that,
	// the one that goes furthest (the cheapest of those), and again.
	type chosen struct {
		cells []cubeCell
	}
	var cubes []chosen
	left := a
	d := &cubeDFS{s: s, kept: kept}
	for len(cubes) < maxCubes && left > 1e-12*max(1, a) {
		d.left, d.limit = left, maxCost-cost
		d.budget = maxCubeCells
		d.bestCost, d.bestGo, d.best = math.Inf(1), 0, d.best[:0]
		d.cells = d.cells[:0]
		col := key.col
		cap := math.Inf(1)
		if s.dir < 0 {
			cap = iv.value[col] + s.net[col]
		}
		if cap > 0 {
			d.cells = append(d.cells, cubeCell{col, 1})
			d.rec(0, 0, cap)
		}
		if len(d.best) == 0 {
			return nil, 0, false
		}
		cost += d.bestCost
		left -= d.bestGo
		for _, cc := range d.best {
			s.net[cc.col] += float64(cc.sign) * s.dir * d.bestGo
			s.taken[cc.col] = true
		}
		cubes = append(cubes, chosen{slices.Clone(d.best)})
	}
	if left > 1e-12*max(1, a) {
		return nil, 0, false
	}
	// The point in fractions: each cube as far as it may go (exactly) and
	// no further than what is left.
	delta := map[int32]*big.Rat{}
	rest := new(big.Rat).Set(amount)
	for _, cb := range cubes {
		if rest.Sign() <= 0 {
			break
		}
		step := new(big.Rat).Set(rest)
		for _, cc := range cb.cells {
			if float64(cc.sign)*s.dir < 0 {
				avail := new(big.Rat).Set(iv.exactValue(cc.col))
				if d := delta[cc.col]; d != nil {
					avail.Add(avail, d)
				}
				if avail.Cmp(step) < 0 {
					step = avail
				}
			}
		}
		if step.Sign() <= 0 {
			return nil, 0, false
		}
		for _, cc := range cb.cells {
			d := delta[cc.col]
			if d == nil {
				d = new(big.Rat)
				delta[cc.col] = d
			}
			if float64(cc.sign)*s.dir < 0 {
				d.Sub(d, step)
			} else {
				d.Add(d, step)
			}
		}
		rest.Sub(rest, step)
	}
	if rest.Sign() > 0 {
		return nil, 0, false
	}
	pt, ok := iv.exactPoint(delta)
	if !ok {
		return nil, 0, false
	}
	for _, c := range pt.support {
		if !iv.withheld[c] {
			add = append(add, c)
		}
	}
	if maxCost == 0 && len(add) > 0 {
		return nil, 0, false
	}
	iv.addPoint(pt)
	return add, cost, true
}

// exactPoint makes a point of the pool from the moves of delta (zero
// moves left out), after checking in fractions that every relation that
// holds a moved cell still sums to zero.
func (iv *ivGroup) exactPoint(delta map[int32]*big.Rat) (ivPoint, bool) {
	var pt ivPoint
	for c, d := range delta {
		if d.Sign() != 0 {
			pt.support = append(pt.support, c)
		}
	}
	slices.Sort(pt.support)
	seen := map[int32]bool{}
	sum := new(big.Rat)
	for _, c := range pt.support {
		for _, r := range iv.colRels[c] {
			if seen[r] {
				continue
			}
			seen[r] = true
			sum.SetInt64(0)
			for _, t := range iv.rels[r] {
				if d := delta[t.col]; d != nil {
					if t.coef > 0 {
						sum.Add(sum, d)
					} else {
						sum.Sub(sum, d)
					}
				}
			}
			if sum.Sign() != 0 {
				return ivPoint{}, false
			}
		}
	}
	pt.delta = make([]*big.Rat, len(pt.support))
	pt.deltaF = make([]float64, len(pt.support))
	for m, c := range pt.support {
		pt.delta[m] = delta[c]
		pt.deltaF[m], _ = delta[c].Float64()
	}
	return pt, len(pt.support) > 0
}

// addPoint adds a point to the pool.
func (iv *ivGroup) addPoint(pt ivPoint) {
	k := int32(len(iv.pool)) // ids go on from the pool the fork was made from
	if iv.fork != nil {
		k += int32(len(iv.fork.basePool))
	}
	iv.pool = append(iv.pool, pt)
	for _, c := range pt.support {
		iv.poolAt[c] = append(iv.poolAt[c], k)
	}
}

// cubeCover looks for the cheapest cubes that make the certificate key
// names, withholding published cells; on success their point is the
// newest of the pool and it returns the cells to withhold. For a reader
// that knows nothing it first prefers cubes that move no cell any reader
// knows (then the certificate holds for every reader, and no reader needs
// one of its own) if they cost at most twice as much, plus 2 (in a group
// of more than maxLPCells cells, whatever they cost).
func (iv *ivGroup) cubeCover(key certKey, amount *big.Rat, wide bool) ([]int32, bool) {
	add, cost, ok := iv.cubeCert(key, amount, math.Inf(1), wide)
	if !ok {
		return nil, false
	}
	if key.reader == noReaders {
		all := certKey{key.col, key.down, allReaders}
		limit := 2*cost + 2
		if iv.gp.n > maxLPCells {
			limit = math.Inf(1)
		}
		if addW, _, okW := iv.cubeCert(all, amount, limit, wide); okW {
			return addW, true
		}
	}
	return add, true
}

// cubeDFS is the search for one cube: a choice per dimension in turn,
// each dimension's choices in the order of their lines. The cells moved
// by the choices made so far (with p's node in the other dimensions) are
// cells of every cube that extends them: where one may not move, or the
// cost or the reach cannot beat the best cube found, the search turns
// back.
type cubeDFS struct {
	s      *cubeSearch
	kept   [][]*cubeSide
	left   float64 // how far p is still to go
	limit  float64 // the most a cube may cost
	budget int     // cells it may still look at

	cells            []cubeCell // the cells of the choices made so far
	bestCost, bestGo float64
	best             []cubeCell
}

func (d *cubeDFS) rec(j int, cost, cap float64) {
	if j == len(d.kept) {
		g := min(cap, d.left)
		if g > d.bestGo || (g == d.bestGo && cost < d.bestCost) {
			d.bestCost, d.bestGo = cost, g
			d.best = append(d.best[:0], d.cells...)
		}
		return
	}
	s := d.s
	iv := s.iv
	n0 := len(d.cells)
sides:
	for _, sd := range d.kept[j] {
		if d.budget <= 0 {
			return
		}
		c2, cap2 := cost, cap
		for _, prior := range d.cells[:n0] {
			for i, off := range sd.offs {
				if off == 0 {
					continue
				}
				d.budget--
				col := prior.col + off
				sign := prior.sign
				if i >= sd.nplus {
					sign = -sign
				}
				if iv.fixed[col] || iv.knows(col, s.key) {
					d.cells = d.cells[:n0]
					continue sides
				}
				if !iv.withheld[col] && !s.taken[col] {
					c2 += max(iv.value[col], 1)
				}
				if float64(sign)*s.dir < 0 {
					cap2 = min(cap2, iv.value[col]+s.net[col])
				}
				if c2 > d.limit || cap2 <= 0 || min(cap2, d.left) < d.bestGo ||
					(d.bestGo >= d.left && c2 >= d.bestCost) {
					d.cells = d.cells[:n0]
					continue sides
				}
				d.cells = append(d.cells, cubeCell{col, sign})
			}
		}
		d.rec(j+1, c2, cap2)
		d.cells = d.cells[:n0]
	}
}

// maxCoverPublished is the number of published cells of a box above
// which cubes of every level are tried before cover's linear program
// (whose phase 1 takes thousands of steps over so many cells).
const maxCoverPublished = 1000

// published returns the number of published cells of box.
func (iv *ivGroup) published(box []int32) int {
	n := 0
	for _, c := range box {
		if !iv.withheld[c] {
			n++
		}
	}
	return n
}

// byCube finds the certificate key names by cubes (cubeCover),
// withholding their cells, and reports whether it did.
func (iv *ivGroup) byCube(key certKey, amount *big.Rat, wide bool) bool {
	add, ok := iv.cubeCover(key, amount, wide)
	if !ok {
		return false
	}
	for _, c := range add {
		iv.withhold(c)
	}
	support, ok := iv.fromPool(key, amount)
	if ok {
		iv.setCert(key, &cert{amount, 0, support})
	}
	return ok
}

// maxLPCells is the number of cells of a group above which cubes come
// before the linear programs (check, cover), and the certificates of a
// reader that knows nothing are cubes that move no cell any reader knows
// whatever they cost, where there are such: on a table that large the
// programs over the boxes take nearly all of the time (a primary cell's
// first box holds hundreds or thousands of published cells), where a
// cube is found in microseconds. On smaller tables the programs come
// first, as they withhold less. (A variable for the tests.)
var maxLPCells = 20000

// quickCheck looks for the certificate key names without a linear
// program and without withholding anything: among the points found
// before (fromPool), then as cubes that move withheld cells only.
func (iv *ivGroup) quickCheck(key certKey, amount *big.Rat) ([]int32, bool) {
	if support, ok := iv.fromPool(key, amount); ok {
		return support, true
	}
	if _, _, ok := iv.cubeCert(key, amount, 0, false); ok {
		return iv.fromPool(key, amount)
	}
	return nil, false
}

// look is check, or in a group of more than maxLPCells cells quickCheck,
// without a linear program: where it finds nothing, the search goes on as
// if the check had found nothing (the certificates of the readers one by
// one, with cubes and then programs).
func (iv *ivGroup) look(ctx context.Context, key certKey, amount *big.Rat, box []int32) ([]int32, bool) {
	if iv.gp.n > maxLPCells {
		return iv.quickCheck(key, amount)
	}
	return iv.check(ctx, key, amount, box)
}

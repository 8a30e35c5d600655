package disclosure

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"

	"github.com/zorgkit/zorgkit/internal/simplex"
)

// The interval protection (Rules.Intervals) comes after the exact
// protection. For every primary cell t that needs a range, it needs a
// point of the polyhedron a reader sees (the cells' relations, the
// published cells at their values, the cells the reader knows at theirs,
// every cell not negative) in which t is as far below its value as the
// rules ask, and one in which it is as far above: a certificate for each
// direction. It looks for one by linear programming over the withheld
// cells near t (a box: in every dimension t's category, its members, its
// siblings and its ancestors; failing that a larger box; failing that the
// whole system). When there is none, a second linear program chooses
// published cells to withhold, at the least cost (the cells' values), so
// that there is; then the certificate is found again.
//
// Before those programs, and instead of them where they can, hypercubes
// (see hypercube.go): a certificate made of a few cubes, each moving the
// corners of a box of base cells around t, found by a bounded search and
// checked exactly, that moves withheld cells only (at no cost, in every
// check) or withholds the published cells it moves (before cover: the
// cheapest cube with t's node or the lowest ancestor with a sibling as the
// top in every dimension; where the first box holds more than
// maxCoverPublished published cells, also cubes with higher tops). In a
// group of more than maxLPCells cells the cubes come before the check's
// program too, and a reader that knows nothing gets cubes that move no
// cell any reader knows whatever they cost. A reader's own certificates
// are first looked for without cover, whose program mostly fails there
// (the reader's cells keep t from going as far); reach then says how far
// it can go.
//
// A certificate stays valid when more cells are withheld, so the cells
// added for one primary cell never undo another's protection. Every
// certificate is checked in exact arithmetic (the floating-point point
// read as fractions must satisfy every relation exactly), so no verdict
// rests on rounding; audit.Intervals, which shares no code with this, is
// the independent check.
//
// Readers: a certificate keeps fixed the cells its reader knows by itself
// (a base cell it alone contributes to), except those of t's own
// contributor. The first pair is for a reader that knows nothing; it holds
// for every reader that knows none of the cells it moves, and each reader
// that does know one (a near reader) gets a pair that moves none of its
// cells: first one pair that moves no cell any near reader knows, which
// holds for all of them; failing that, certificates for halves of them
// (and halves of those); then one found for another near reader if it
// moves none of this one's cells, or else its own.
//
// Every point found is kept: it moves its cells in a direction along
// which every relation holds, so any multiple of it that keeps the cells
// non-negative is a point too, and a certificate for each primary cell it
// moves far enough (checked exactly) for any reader that knows none of
// its cells. Such a point is tried before a linear program.
//
// The checks of all readers of a primary cell share one program per box
// (sharedLP): the cells a reader knows are fixed by their bounds, and
// each check starts again from the true values with a basis of cells that
// can move (simplex.Solver.Crash), so that a check takes a few simplex
// steps instead of a hundred degenerate ones.
//
// The linear programs are small: a cell of the box that is the only one
// of a relation that may move cannot move at all, so it is left out
// (peeled), with whatever that pins in turn; and the primary cell is
// bounded where its certificate needs it to be, so that the simplex
// stops as soon as it gets there.
//
// Then the clean-up: the elimination runs again from the pattern, with
// the withheld cells that are not primary as candidates, most costly
// first, and publishes each one whose publication keeps every primary
// cell exactly protected and every certificate that uses it replaceable
// by another: first by another certificate of the same cell and
// direction, then by linear programs, those that failed before first,
// at most maxCleanUpSolves of them per cell (beyond, the cell stays
// withheld, which is always safe), and in a group of more than
// maxLPCells cells at most maxCleanUpLarge in all, and none once they
// buy too little (cleanUpYield); there, once the programs are spent, it
// publishes no more cells once too few of the candidates it looked at
// were published (cleanUpDone), and every later one stays withheld.
//
// The certificates of the primary cells are looked for several at a
// time, in parallel, and applied in a fixed order: see parallel.go.

// intervals applies the interval protection to every group, then cleans
// up.
func (t *Tables) intervals(ctx context.Context, problems []*groupProblem) error {
	total := 0
	for _, gp := range problems {
		for _, pf := range gp.pfs {
			for c := range pf.n {
				if pf.sensitive[c] && !pf.levels[c].zero() {
					total++
				}
			}
		}
	}
	progress := &StoppedError{Stage: stageIntervals, Total: total}
	ivs := make([]*ivGroup, len(problems))
	for i, gp := range problems {
		iv := newIVGroup(gp)
		ivs[i] = iv
		if err := iv.protect(ctx, progress); err != nil {
			return err
		}
	}
	for i, gp := range problems {
		if err := ivs[i].cleanUp(ctx, gp); err != nil {
			return err
		}
	}
	return nil
}

// ivTerm is one term of a relation: ±1 times a column.
type ivTerm struct {
	col  int32
	coef int8
}

// certKey names a certificate: a primary column, a direction, and the
// reader it is for (or a set of readers: farReaders, noReaders,
// nearReaders).
type certKey struct {
	col    int32
	down   bool
	reader int32
}

// Reader sets of certificates besides single readers: every reader that
// knows no cell near the primary cell (see ivGroup.near), a reader that
// knows nothing, and every reader that knows a cell near it.
const (
	farReaders  = -3
	noReaders   = -4
	nearReaders = -5
	// The readers of ivGroup.group, while it is set (never recorded).
	groupReaders = -6
	// Every reader (never recorded: what holds for every reader is
	// recorded for the far readers, with no near ones).
	allReaders = -7
)

// cert is a certificate: at the given box level, a point in which the
// primary cell is amount below or above its value, moving the cells of
// support.
type cert struct {
	amount  *big.Rat
	level   int
	support []int32
}

// ivGroup is the interval protection of one group of families.
type ivGroup struct {
	gp *groupProblem

	rels    [][]ivTerm // the group's additive relations
	colRels [][]int32  // per column, the relations it is in

	value    []float64  // per column
	exact    []*big.Rat // per column, the value read as a decimal, made on demand
	withheld []bool     // per column: not published (primary, secondary, hidden)
	fixed    []bool     // per column: an empty base cell, or a column published whatever
	knownBy  []int32    // per column: the reader that knows it by itself, or -1
	owner    []int32    // per primary column: its own contributor's reader, or -1

	certs map[certKey]*cert
	hard  map[certKey]int     // per certificate, how often the clean-up found no replacement
	group []int32             // the readers of groupReaders, while findForGroups looks
	using map[int32][]certKey // column → the certificates that move it
	near  map[int32]map[int32]bool
	// readers lists, per primary column, the reader sets whose
	// certificates substitute tries (made when the clean-up asks).
	readers map[int32][]int32

	scratch lpScratch
	boxes   map[int32]*[boxLevels][]int32 // per column, its boxes (at most maxKept columns)

	// Every point check found, as the moves of the cells it moves: each
	// is a direction in which the cells can move, for any primary cell it
	// moves, scaled (see fromPool). In a fork, the points it found
	// itself, after those of forkState.basePool (see point).
	pool   []ivPoint
	poolAt map[int32][]int32 // column → the points that move it, oldest first

	// The programs of the checks, per primary column and box, kept while
	// no cell is withheld anew (see sharedLP).
	lps        map[lpKey]*lp
	publishing int32 // the column allow is publishing, or -1

	crossFamily   []bool // per family: in a relation with another (see cubeable)
	cleanUpSolves int    // programs the clean-up solved (see maxCleanUpLarge)
	cleanUpBought int    // cells it published with their help
	cleanUpAsked  int    // candidates allow looked at (see cleanUpDone)
	cleanUpPassed int    // of those, the cells it let be published

	allWithheld []bool     // every cell withheld (reach), made once
	fork        *forkState // in a fork (see parallel.go): what it did; nil in the group itself
	sides       [2]sidesOf // the last cubeSides, narrow and wide
}

// lpKey names a program of sharedLP: a box, by its length and a hash of
// its columns (the program's box is compared in full), and whether it is
// reach's. The primary column is not part of it: the program of a box is
// the same for every primary cell (see sharedLP).
type lpKey struct {
	hash uint64
	size int
	all  bool // for reach, with every cell withheld
}

// boxHash returns a hash of the columns of box (FNV-1a over their bytes).
func boxHash(box []int32) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range box {
		for range 4 {
			h = (h ^ uint64(byte(c))) * 1099511628211
			c >>= 8
		}
	}
	return h
}

// changed forgets the programs of sharedLP over a box that holds column
// col: it is withheld now, so they lack a variable (those of reach, over
// every cell, stay; so do those of boxes without col, whose variables are
// the same).
func (iv *ivGroup) changed(col int32) {
	for k, l := range iv.lps {
		if _, in := slices.BinarySearch(l.box, col); in && !k.all {
			delete(iv.lps, k)
		}
	}
}

// ivPoint is a point check found: the columns it moves (sorted) and by
// how much, exactly and in floating point.
type ivPoint struct {
	support []int32
	delta   []*big.Rat
	deltaF  []float64
}

// maxKept is the number of columns whose boxes, and of boxes whose
// programs (sharedLP), are kept.
const maxKept = 256

func newIVGroup(gp *groupProblem) *ivGroup {
	iv := &ivGroup{
		gp:         gp,
		colRels:    make([][]int32, gp.n),
		value:      slices.Clone(gp.values),
		exact:      make([]*big.Rat, gp.n),
		withheld:   make([]bool, gp.n),
		fixed:      make([]bool, gp.n),
		knownBy:    make([]int32, gp.n),
		owner:      slices.Clone(gp.p.Owner),
		certs:      map[certKey]*cert{},
		hard:       map[certKey]int{},
		boxes:      map[int32]*[boxLevels][]int32{},
		publishing: -1,
		using:      map[int32][]certKey{},
		near:       map[int32]map[int32]bool{},
		readers:    map[int32][]int32{},
		poolAt:     map[int32][]int32{},
		lps:        map[lpKey]*lp{},
	}
	t := gp.t
	coords := make([]int32, 0, len(t.dims))
	for k, pf := range gp.pfs {
		o := gp.offset[k]
		for c := range pf.n {
			col := int32(o + c)
			iv.withheld[col] = pf.status[c] != Published
			iv.knownBy[col] = pf.known[c]
			if pf.records[c] == 0 && pf.isLeaf(t, c) {
				iv.fixed[col] = true // empty: every reader takes it as known
			}
			// The cube's relations: each cell with members in a dimension
			// is their sum.
			coords = pf.coords(c, coords)
			for j, d := range pf.dims {
				kids := t.dims[d].children[coords[j]]
				if len(kids) == 0 {
					continue
				}
				rel := []ivTerm{{col, 1}}
				for _, kid := range kids {
					rel = append(rel, ivTerm{col + int32((int(kid)-int(coords[j]))*pf.stride[j]), -1})
				}
				iv.addRel(rel)
			}
		}
	}
	// total = complemented + complement (decisions = measured + not measured)
	at := func(f *family) int32 { return int32(gp.offset[slices.Index(gp.fams, f)]) }
	nodes := make([]int32, len(t.dims))
	for _, u := range gp.fams {
		if u.complementOf == nil {
			continue
		}
		for c := range u.n {
			coords = u.coords(c, coords)
			for j, d := range u.dims {
				nodes[d] = coords[j]
			}
			iv.addRel([]ivTerm{
				{at(u.total) + int32(u.total.index(nodes)), 1},
				{at(u.complementOf) + int32(c), -1},
				{at(u) + int32(c), -1},
			})
			for _, d := range u.dims {
				nodes[d] = 0
			}
		}
	}
	return iv
}

func (iv *ivGroup) addRel(rel []ivTerm) {
	k := int32(len(iv.rels))
	iv.rels = append(iv.rels, rel)
	for _, t := range rel {
		iv.colRels[t.col] = append(iv.colRels[t.col], k)
	}
}

// exactValue returns the value of column col read as a decimal, as the
// audit reads it.
func (iv *ivGroup) exactValue(col int32) *big.Rat {
	if iv.exact[col] == nil {
		iv.exact[col] = decimal(iv.value[col])
	}
	return iv.exact[col]
}

// decimal returns f as the shortest decimal that rounds to it.
func decimal(f float64) *big.Rat {
	r, _ := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
	return r
}

// reaches returns, for primary column col with levels l, how far a
// reader's range must reach below and above its value: Below (at most
// the value, as cells are not negative) and Above, and if that is not
// Width wide, further down as far as the value allows, then up.
func (iv *ivGroup) reaches(col int32, l levels) (down, up *big.Rat) {
	v := iv.exactValue(col)
	down = minRat(v, decimal(l.below))
	up = decimal(l.above)
	rest := new(big.Rat).Sub(decimal(l.width), new(big.Rat).Add(down, up))
	if rest.Sign() > 0 {
		more := minRat(new(big.Rat).Add(down, rest), v)
		rest.Sub(rest, new(big.Rat).Sub(more, down))
		down = more
		up = new(big.Rat).Add(up, rest)
	}
	return down, up
}

func minRat(a, b *big.Rat) *big.Rat {
	if a.Cmp(b) <= 0 {
		return new(big.Rat).Set(a)
	}
	return new(big.Rat).Set(b)
}

// boxLevels is the number of boxes tried before the whole system.
const boxLevels = 2

// protect finds certificates for every primary cell, withholding cells
// where there are none.
func (iv *ivGroup) protect(ctx context.Context, progress *StoppedError) error {
	gp := iv.gp
	var cols []int32
	var lvls []levels
	for k, pf := range gp.pfs {
		for c := range pf.n {
			if pf.sensitive[c] && !pf.levels[c].zero() {
				cols = append(cols, int32(gp.offset[k]+c))
				lvls = append(lvls, pf.levels[c])
			}
		}
	}
	return iv.protectParallel(ctx, cols, lvls, progress)
}

// ensure finds certificates for primary column col that hold for every
// reader. It first finds one pair for a reader that knows nothing; the
// readers that know a cell those certificates move are the near ones,
// and the pair holds for every other reader (the far ones). Then it
// finds a pair for each near reader.
func (iv *ivGroup) ensure(ctx context.Context, col int32, l levels) error {
	if iv.ensureAll(ctx, col, l) {
		return nil
	}
	if err := iv.ensureReader(ctx, col, noReaders, l); err != nil {
		return err
	}
	near := map[int32]bool{}
	for _, down := range []bool{true, false} {
		key := certKey{col, down, noReaders}
		ct := iv.certs[key]
		if ct == nil {
			continue // nothing asked in this direction
		}
		for _, c := range ct.support {
			if k := iv.knownBy[c]; k >= 0 && k != iv.owner[col] {
				near[k] = true
			}
		}
		// The same point is the certificate of the far readers.
		iv.dropCert(key)
		iv.setCert(certKey{col, down, farReaders}, ct)
	}
	iv.near[col] = near
	if len(near) == 0 {
		return nil
	}
	// One pair that moves no cell any near reader knows holds for each of
	// them: try that first, without withholding anything for it.
	down, up := iv.reaches(col, l)
	var found [2][]*cert // down, up: the certificates of near readers
	joint := 0
	for i, dir := range []bool{true, false} {
		amount := down
		if !dir {
			amount = up
		}
		if amount.Sign() == 0 {
			joint++
			continue
		}
		key := certKey{col, dir, nearReaders}
		for level := range boxLevels {
			if support, ok := iv.look(ctx, key, amount, iv.box(col, level)); ok {
				ct := &cert{amount, level, support}
				found[i] = append(found[i], ct)
				joint++
				break
			}
		}
	}
	if joint == 2 {
		for i, dir := range []bool{true, false} {
			for _, ct := range found[i] {
				iv.setCert(certKey{col, dir, nearReaders}, ct)
			}
		}
		return nil
	}
	// Otherwise halves of them, and halves of those, in the directions
	// that found none; then a pair per near reader that none of those
	// holds for. A certificate found for one near reader often moves no
	// cell that another knows: it holds for that one too.
	readers := sortedReaders(near)
	for i, dir := range []bool{true, false} {
		amount := down
		if !dir {
			amount = up
		}
		if amount.Sign() != 0 && len(found[i]) == 0 && len(readers) > 2 {
			h := len(readers) / 2
			iv.findForGroups(ctx, col, dir, amount, readers[:h], &found[i])
			iv.findForGroups(ctx, col, dir, amount, readers[h:], &found[i])
		}
	}
	for _, k := range readers {
		if iv.reuse(col, true, k, down, found[0]) && iv.reuse(col, false, k, up, found[1]) {
			continue
		}
		if err := iv.ensureReader(ctx, col, k, l); err != nil {
			return err
		}
		for i, dir := range []bool{true, false} {
			if ct := iv.certs[certKey{col, dir, k}]; ct != nil {
				found[i] = append(found[i], ct)
			}
		}
	}
	return nil
}

// ensureAll looks, in the first box and without withholding anything,
// for a pair of certificates of primary column col that move no cell any
// reader knows (but the cell's own contributor): they hold for every
// reader, and are recorded as those of the far readers, with no near
// ones. It reports whether it found them. Where it finds one direction
// only, that point is in the pool for the search that follows.
func (iv *ivGroup) ensureAll(ctx context.Context, col int32, l levels) bool {
	down, up := iv.reaches(col, l)
	var found [2][]int32
	for i, dir := range []bool{true, false} {
		amount := down
		if !dir {
			amount = up
		}
		if amount.Sign() == 0 {
			continue
		}
		support, ok := iv.look(ctx, certKey{col, dir, allReaders}, amount, iv.box(col, 0))
		if !ok {
			return false
		}
		found[i] = support
	}
	for i, dir := range []bool{true, false} {
		amount := down
		if !dir {
			amount = up
		}
		if found[i] != nil {
			iv.setCert(certKey{col, dir, farReaders}, &cert{amount, 0, found[i]})
		}
	}
	iv.near[col] = map[int32]bool{}
	return true
}

// findForGroups looks, in the first box, for certificates of primary
// column col in one direction that move no cell any of readers knows (a
// group; those for whom one in found holds are left out), splitting the
// group in halves while it finds none, down to two readers. It adds those
// it finds to found.
func (iv *ivGroup) findForGroups(ctx context.Context, col int32, down bool, amount *big.Rat, readers []int32, found *[]*cert) {
	readers = slices.DeleteFunc(slices.Clone(readers), func(k int32) bool {
		return slices.ContainsFunc(*found, func(ct *cert) bool { return iv.holdsFor(ct, col, down, k, amount) })
	})
	if len(readers) < 2 {
		return
	}
	iv.group = readers
	support, ok := iv.look(ctx, certKey{col, down, groupReaders}, amount, iv.box(col, 0))
	iv.group = nil
	if ok {
		*found = append(*found, &cert{amount, 0, support})
		return
	}
	if len(readers) > 2 {
		h := len(readers) / 2
		iv.findForGroups(ctx, col, down, amount, readers[:h], found)
		iv.findForGroups(ctx, col, down, amount, readers[h:], found)
	}
}

// holdsFor reports whether certificate ct, for primary column col in one
// direction, reaches amount and moves no cell reader k knows.
func (iv *ivGroup) holdsFor(ct *cert, col int32, down bool, k int32, amount *big.Rat) bool {
	key := certKey{col, down, k}
	return ct.amount.Cmp(amount) == 0 && !slices.ContainsFunc(ct.support, func(c int32) bool { return iv.knows(c, key) })
}

// reuse looks among certs for a certificate of primary column col in one
// direction, of the given amount, that moves no cell reader k knows, and
// records it as k's. It reports whether it found one (or none is needed).
func (iv *ivGroup) reuse(col int32, down bool, k int32, amount *big.Rat, certs []*cert) bool {
	if amount.Sign() == 0 {
		return true
	}
	key := certKey{col, down, k}
	for _, ct := range certs {
		if ct.amount.Cmp(amount) != 0 {
			continue
		}
		if !slices.ContainsFunc(ct.support, func(c int32) bool { return iv.knows(c, key) }) {
			iv.setCert(key, &cert{ct.amount, ct.level, ct.support})
			return true
		}
	}
	return false
}

func sortedReaders(m map[int32]bool) []int32 {
	out := make([]int32, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ensureReader finds the certificates of primary column col for a reader
// (or set of readers): reaching down and up as far as reaches says, or,
// when the reader's own knowledge keeps the cell from going that far in
// one direction (a provider that knows most of a total knows a lower
// bound of its other parts), as far as it can in that direction and the
// rest of the width in the other. It tries the boxes first, and the whole
// system last.
func (iv *ivGroup) ensureReader(ctx context.Context, col, reader int32, l levels) error {
	try := func(down, up *big.Rat, top int, cover bool) bool {
		return (down.Sign() == 0 || iv.ensureFor(ctx, certKey{col, true, reader}, down, top, cover)) &&
			(up.Sign() == 0 || iv.ensureFor(ctx, certKey{col, false, reader}, up, top, cover))
	}
	// First without cover's programs: where no check or cube finds a
	// certificate, the reader's own cells often keep the cell from going
	// as far as asked (cover's program then fails, after a long phase 1),
	// which reach finds out sooner.
	down, up := iv.reaches(col, l)
	if try(down, up, boxLevels-1, reader < 0) {
		return nil
	}
	for _, level := range []int{0, boxLevels - 1, boxLevels} {
		if err := ctx.Err(); err != nil {
			return err
		}
		// How far the reader could be kept from narrowing it at all, with
		// every cell of the box withheld, and the split that allows.
		box := iv.box(col, level)
		down, up, ok := iv.split(col, l, iv.reach(ctx, certKey{col, true, reader}, box, l), iv.reach(ctx, certKey{col, false, reader}, box, l))
		if ok && try(down, up, level, true) {
			return nil
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	k, c := iv.gp.locate(col)
	return fmt.Errorf("%w: %s cannot get a range of %s reaching %s below and %s above its value against every reader, even with every other cell withheld",
		ErrIntervals, iv.gp.t.cellName(iv.gp.pfs[k].family, c), decimal(l.width).FloatString(2),
		minRat(iv.exactValue(col), decimal(l.below)).FloatString(2), decimal(l.above).FloatString(2))
}

// split returns how far down and up primary column col must reach for
// levels l when a reader can be kept from narrowing it at most dmax down
// and umax up (nil: without end): Below and Above, and the rest of the
// width down as far as dmax allows, then up. ok is false if that cannot
// be.
func (iv *ivGroup) split(col int32, l levels, dmax, umax *big.Rat) (down, up *big.Rat, ok bool) {
	down, up = minRat(iv.exactValue(col), decimal(l.below)), decimal(l.above)
	if dmax.Cmp(down) < 0 || (umax != nil && umax.Cmp(up) < 0) {
		return nil, nil, false
	}
	if rest := new(big.Rat).Sub(decimal(l.width), new(big.Rat).Add(down, up)); rest.Sign() > 0 {
		more := minRat(rest, new(big.Rat).Sub(dmax, down))
		down = new(big.Rat).Add(down, more)
		up = new(big.Rat).Add(up, rest.Sub(rest, more))
	}
	return down, up, umax == nil || umax.Cmp(up) >= 0
}

// reach returns how far a reader could be kept from narrowing the
// primary cell in the key's direction with every cell of box withheld
// that the reader does not know: for down at most the value, for up nil
// when nothing bounds it. It looks no further than split can use for
// levels l (the largest of the width, Below and Above): the program stops
// there.
func (iv *ivGroup) reach(ctx context.Context, key certKey, box []int32, lv levels) *big.Rat {
	saved := iv.withheld
	iv.withheld = iv.allWithheldMask()
	defer func() { iv.withheld = saved }()
	l := iv.sharedLP(box, key.col, true)
	j := l.target
	if j < 0 {
		return new(big.Rat)
	}
	for i, c := range l.vars {
		if i != j && iv.knows(c, key) {
			l.s.SetBounds(i, iv.value[c], iv.value[c])
		}
	}
	// A little further than split needs, so that rounding at the bound
	// never takes anything from it.
	far := max(lv.width, lv.below, lv.above)
	far += 1 + far/64
	if v := iv.value[key.col]; key.down {
		l.s.SetBounds(j, max(0, v-far), math.Inf(1))
		l.s.SetCost(j, 1)
	} else {
		l.s.SetBounds(j, 0, v+far)
		l.s.SetCost(j, -1)
	}
	st, err := l.s.Solve(ctx)
	switch {
	case err != nil:
		return new(big.Rat)
	case st == simplex.Unbounded && !key.down:
		return nil
	case st != simplex.Optimal:
		return new(big.Rat)
	}
	r := fraction(l.s.Value(j))
	if key.down {
		return r.Sub(iv.exactValue(key.col), r)
	}
	return r.Sub(r, iv.exactValue(key.col))
}

// ensureFor finds the certificate key names, in growing boxes up to
// level top, withholding cells if need be (chosen by cubes, and with
// cover by linear programs), and reports whether it found one.
func (iv *ivGroup) ensureFor(ctx context.Context, key certKey, amount *big.Rat, top int, cover bool) bool {
	// Cells are only withheld while certificates are found, so one found
	// before still holds.
	if ct := iv.certs[key]; ct != nil && ct.amount.Cmp(amount) >= 0 {
		return true
	}
	for level := 0; level <= top; level++ {
		box := iv.box(key.col, level)
		// In a large group, cubes come before the linear programs.
		large := level == 0 && iv.gp.n > maxLPCells
		if large {
			take := func(k certKey) bool {
				support, ok := iv.quickCheck(k, amount)
				if ok {
					iv.setCert(key, &cert{amount, level, support})
				}
				return ok
			}
			cubes := func() bool { return iv.byCube(key, amount, false) || iv.byCube(key, amount, true) }
			if key.reader == noReaders {
				// First a certificate that holds for every reader; the
				// points found before move many cells (every reader that
				// knows one would need certificates of its own): after
				// the cubes.
				if take(certKey{key.col, key.down, allReaders}) || cubes() || take(key) {
					return true
				}
			} else if take(key) || cubes() {
				return true
			}
		}
		if support, ok := iv.check(ctx, key, amount, box); ok {
			iv.setCert(key, &cert{amount, level, support})
			return true
		}
		if level == 0 && !large && (iv.byCube(key, amount, false) || (iv.published(box) > maxCoverPublished && iv.byCube(key, amount, true))) {
			return true
		}
		if !cover {
			continue
		}
		add, ok := iv.cover(ctx, key, amount, box)
		if !ok {
			continue // not within this box
		}
		for _, c := range add {
			iv.withhold(c)
		}
		if support, ok := iv.check(ctx, key, amount, box); ok {
			iv.setCert(key, &cert{amount, level, support})
			return true
		}
	}
	return false
}

// dropCert forgets a certificate.
func (iv *ivGroup) dropCert(key certKey) {
	if old := iv.certs[key]; old != nil {
		for _, c := range old.support {
			iv.using[c] = slices.DeleteFunc(iv.using[c], func(k certKey) bool { return k == key })
		}
		delete(iv.certs, key)
		if iv.fork != nil {
			iv.fork.ops = append(iv.fork.ops, certOp{key, nil})
		}
	}
}

// withhold withholds published column col for the interval protection.
func (iv *ivGroup) withhold(col int32) {
	if iv.withheld[col] {
		return
	}
	iv.changed(col)
	iv.withheld[col] = true
	if iv.fork != nil {
		iv.fork.added = append(iv.fork.added, col)
		return
	}
	k, c := iv.gp.locate(col)
	iv.gp.pfs[k].status[c] = SecondarySuppressed
	iv.gp.pfs[k].reason[c] = Complementary
}

// setCert records a certificate, replacing the one it had.
func (iv *ivGroup) setCert(key certKey, ct *cert) {
	iv.dropCert(key)
	iv.certs[key] = ct
	for _, c := range ct.support {
		iv.using[c] = append(iv.using[c], key)
	}
	if iv.fork != nil {
		iv.fork.ops = append(iv.fork.ops, certOp{key, ct})
	}
}

// allWithheldMask returns a mask of the group's columns that withholds
// every one (shared; never written).
func (iv *ivGroup) allWithheldMask() []bool {
	if iv.allWithheld == nil {
		iv.allWithheld = make([]bool, iv.gp.n)
		for i := range iv.allWithheld {
			iv.allWithheld[i] = true
		}
	}
	return iv.allWithheld
}

// box returns the columns near column col at a level: for level 0, in
// every dimension col's node with everything under it (its parts), its
// siblings and its ancestors; level 1 adds the siblings of the ancestors
// and the members of the siblings; beyond, every column of the group.
func (iv *ivGroup) box(col int32, level int) []int32 {
	if level < boxLevels {
		if of := iv.boxes[col]; of != nil && of[level] != nil {
			return of[level]
		}
	}
	gp := iv.gp
	if level >= boxLevels {
		out := make([]int32, gp.n)
		for i := range out {
			out[i] = int32(i)
		}
		return out
	}
	t := gp.t
	k, c := gp.locate(col)
	f := gp.pfs[k]
	nodes := make([]int32, len(t.dims)) // per schema dimension; the total outside f
	coords := f.coords(c, nil)
	for j, d := range f.dims {
		nodes[d] = coords[j]
	}
	var out []int32
	for k2, f2 := range gp.pfs {
		lists := make([][]int32, len(f2.dims))
		for j, d := range f2.dims {
			lists[j] = neighbourhood(t.dims[d], nodes[d], level)
		}
		var rec func(j, cell int)
		rec = func(j, cell int) {
			if j == len(f2.dims) {
				out = append(out, int32(gp.offset[k2]+cell))
				return
			}
			for _, x := range lists[j] {
				rec(j+1, cell+int(x)*f2.stride[j])
			}
		}
		rec(0, 0)
	}
	slices.Sort(out)
	of := iv.boxes[col]
	if of == nil {
		if len(iv.boxes) >= maxKept {
			clear(iv.boxes)
		}
		of = new([boxLevels][]int32)
		iv.boxes[col] = of
	}
	of[level] = out
	return out
}

// neighbourhood returns node x of d with everything under it, its
// siblings and its ancestors; at level 1 also the ancestors' siblings and
// the siblings' members.
func neighbourhood(d *dim, x int32, level int) []int32 {
	set := map[int32]bool{}
	var under func(n int32) // n and everything under it
	under = func(n int32) {
		set[n] = true
		for _, k := range d.children[n] {
			under(k)
		}
	}
	under(x)
	for a := d.parent[x]; a >= 0; a = d.parent[a] {
		set[a] = true
	}
	if p := d.parent[x]; p >= 0 {
		for _, s := range d.children[p] {
			set[s] = true
			if level >= 1 {
				for _, k := range d.children[s] {
					set[k] = true
				}
			}
		}
	}
	if level >= 1 {
		for a := d.parent[x]; a >= 0; a = d.parent[a] {
			if p := d.parent[a]; p >= 0 {
				for _, s := range d.children[p] {
					set[s] = true
				}
			}
		}
	}
	out := make([]int32, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// frozen reports whether column col keeps its value in the certificate
// key names: it is published, empty, or known to the certificate's reader
// (to the readers of the set, for farReaders) unless that reader is the primary
// cell's own contributor.
func (iv *ivGroup) frozen(col int32, key certKey) bool {
	if !iv.withheld[col] || iv.fixed[col] {
		return true
	}
	return iv.knows(col, key)
}

// knows reports whether the certificate's reader knows column col.
func (iv *ivGroup) knows(col int32, key certKey) bool {
	k := iv.knownBy[col]
	if k < 0 || col == key.col || k == iv.owner[key.col] {
		return false
	}
	switch key.reader {
	case noReaders:
		return false
	case farReaders:
		return !iv.near[key.col][k]
	case nearReaders:
		return iv.near[key.col][k]
	case groupReaders:
		return slices.Contains(iv.group, k)
	case allReaders:
		return true
	}
	return k == key.reader
}

// lp is a linear program over the cells of a box: variables are the
// columns that may move (x ≥ 0, the cell's value), and, for cover, pairs
// (p, q) for published columns (value + p − q); rows are the relations
// that hold a variable, restricted to the box.
type lp struct {
	vars   []int32    // the columns of the x variables
	target int        // the variable of the certificate's primary column, or -1
	pubs   []int32    // cover: the published columns, variables len(vars)+2i and +2i+1
	rows   [][]lpTerm // per row, its terms
	s      *simplex.Solver
	box    []int32 // sharedLP: the box (sorted)
}

// lpTerm is a term of a row of an lp: ±1 times variable v (for a
// published column, the first of its pair).
type lpTerm struct {
	v    int32
	coef int8
}

// lpScratch is the working memory of newLP, kept between calls: per
// column and per relation, marks valid while they carry the current
// generation.
type lpScratch struct {
	gen     uint32
	colGen  []uint32 // per column: == gen if in the box
	kind    []int8   // per column in the box: 0 frozen, 1 x variable, 2 published pair
	slot    []int32  // per movable column: its position among the movable ones
	relGen  []uint32 // per relation: == gen if taken
	movable []int32
	colRows [][]int32
	terms   []ivTerm   // the terms of rows, one after the other
	rows    [][]ivTerm // per relation taken, its terms over the movable columns
}

// newLP builds the linear program over box for the certificate key
// names; with cover, the published cells of the box that its reader does
// not know may move too. A cell that is the only one of a relation that
// may move cannot move at all: such cells are left out (peeled), with
// the relations they leave with a single cell that may move, and so on.
func (iv *ivGroup) newLP(box []int32, key certKey, cover bool) *lp {
	sc := &iv.scratch
	if sc.colGen == nil {
		sc.colGen = make([]uint32, iv.gp.n)
		sc.kind = make([]int8, iv.gp.n)
		sc.slot = make([]int32, iv.gp.n)
		sc.relGen = make([]uint32, len(iv.rels))
	}
	sc.gen++
	gen := sc.gen
	sc.movable = sc.movable[:0]
	for _, c := range box {
		sc.colGen[c] = gen
		switch {
		case !iv.frozen(c, key):
			sc.kind[c] = 1
		case cover && !iv.withheld[c] && !iv.fixed[c] && !iv.knows(c, key):
			sc.kind[c] = 2
		default:
			sc.kind[c] = 0
			continue
		}
		sc.slot[c] = int32(len(sc.movable))
		sc.movable = append(sc.movable, c)
	}
	movable := sc.movable
	moves := func(c int32) bool { return sc.colGen[c] == gen && sc.kind[c] != 0 }
	// The relations that hold a movable column, over the movable columns.
	rows := sc.rows[:0]
	sc.terms = sc.terms[:0]
	for len(sc.colRows) < len(movable) {
		sc.colRows = append(sc.colRows, nil)
	}
	colRows := sc.colRows[:len(movable)]
	for i := range colRows {
		colRows[i] = colRows[i][:0]
	}
	for _, c := range movable {
		for _, k := range iv.colRels[c] {
			if sc.relGen[k] == gen {
				continue
			}
			sc.relGen[k] = gen
			start := len(sc.terms)
			for _, t := range iv.rels[k] {
				if moves(t.col) {
					sc.terms = append(sc.terms, t)
				}
			}
			terms := sc.terms[start:len(sc.terms):len(sc.terms)]
			r := int32(len(rows))
			rows = append(rows, terms)
			for _, t := range terms {
				colRows[sc.slot[t.col]] = append(colRows[sc.slot[t.col]], r)
			}
		}
	}
	sc.rows = rows
	// Peel.
	count := make([]int32, len(rows))
	var queue []int32
	for r, terms := range rows {
		count[r] = int32(len(terms))
		if count[r] == 1 {
			queue = append(queue, int32(r))
		}
	}
	pinned := make([]bool, len(movable))
	for len(queue) > 0 {
		r := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		for _, t := range rows[r] {
			m := sc.slot[t.col]
			if pinned[m] {
				continue
			}
			pinned[m] = true
			for _, r2 := range colRows[m] {
				if count[r2]--; count[r2] == 1 {
					queue = append(queue, r2)
				}
			}
		}
	}
	// Variables: x variables first, then the published pairs; slot now
	// holds a movable column's variable.
	l := &lp{target: -1}
	nx := 0
	for m, c := range movable {
		if !pinned[m] && sc.kind[c] == 1 {
			nx++
		}
	}
	for m, c := range movable {
		switch {
		case pinned[m]:
			sc.slot[c] = -1
		case sc.kind[c] == 1:
			sc.slot[c] = int32(len(l.vars))
			if c == key.col {
				l.target = len(l.vars)
			}
			l.vars = append(l.vars, c)
		default:
			sc.slot[c] = int32(nx + 2*len(l.pubs))
			l.pubs = append(l.pubs, c)
		}
	}
	p := simplex.Problem{NumVars: len(l.vars) + 2*len(l.pubs)}
	nterms, nrows := 0, 0
	for r, terms := range rows {
		if count[r] != 0 {
			nterms += len(terms)
			nrows++
		}
	}
	entries := make([]simplex.Entry, 0, 2*nterms)
	keptBuf := make([]lpTerm, 0, nterms)
	p.Rows = make([][]simplex.Entry, 0, nrows)
	p.RHS = make([]float64, 0, nrows)
	l.rows = make([][]lpTerm, 0, nrows)
	for r, terms := range rows {
		if count[r] == 0 {
			continue
		}
		row := entries[len(entries):]
		kept := keptBuf[len(keptBuf):]
		rhs := 0.0
		for _, t := range terms {
			j := sc.slot[t.col]
			if j < 0 {
				continue
			}
			kept = append(kept, lpTerm{j, t.coef})
			if sc.kind[t.col] == 1 {
				row = append(row, simplex.Entry{Col: j, Val: float64(t.coef)})
				rhs += float64(t.coef) * iv.value[t.col]
			} else {
				row = append(row, simplex.Entry{Col: j, Val: float64(t.coef)}, simplex.Entry{Col: j + 1, Val: -float64(t.coef)})
			}
		}
		entries = entries[:len(entries)+len(row)]
		keptBuf = keptBuf[:len(keptBuf)+len(kept)]
		p.Rows = append(p.Rows, row)
		p.RHS = append(p.RHS, rhs)
		l.rows = append(l.rows, kept)
	}
	p.Upper = make([]float64, p.NumVars)
	for j := range p.Upper {
		p.Upper[j] = math.Inf(1)
	}
	for i, c := range l.pubs {
		p.Upper[len(l.vars)+2*i+1] = iv.value[c] // q ≤ value: the cell stays ≥ 0
	}
	if l.target < 0 {
		return l // the primary cell cannot move: no program to solve
	}
	l.s = simplex.New(&p)
	for j, c := range l.vars {
		l.s.SetValue(j, iv.value[c])
	}
	l.s.Crash()
	return l
}

// check looks for the certificate key names within box: a point,
// checked exactly, in which the primary cell is at least amount below (or
// above) its value. It returns the columns the point moves. A point found
// before for any primary cell, scaled, is tried first (fromPool); then a
// linear program over the box (solveCheck), whose point joins the pool.
func (iv *ivGroup) check(ctx context.Context, key certKey, amount *big.Rat, box []int32) ([]int32, bool) {
	if support, ok := iv.quickCheck(key, amount); ok {
		return support, true
	}
	pt, ok := iv.solveCheck(ctx, key, amount, box)
	if !ok {
		return nil, false
	}
	iv.addPoint(pt)
	return pt.support, true
}

// poolScan is the number of points of the pool, newest first, that
// fromPool tries for a column.
const poolScan = 48

// fromPool looks among the points found before for a certificate of key:
// a point moves the cells of its support by delta with every relation
// still holding (checked exactly when it was found), so that any multiple
// λ·delta does too; it is a certificate if λ moves the primary cell by
// amount in the key's direction, every cell stays non-negative, and every
// cell it moves is withheld and unknown to the key's reader. All of that
// is checked in exact arithmetic.
func (iv *ivGroup) fromPool(key certKey, amount *big.Rat) ([]int32, bool) {
	ids := iv.poolIDs(key.col)
	af, _ := amount.Float64()
	want := af
	if key.down {
		want = -af
	}
	for n := len(ids) - 1; n >= 0 && n >= len(ids)-poolScan; n-- {
		pt := iv.point(ids[n])
		i, _ := slices.BinarySearch(pt.support, key.col)
		lambda := want / pt.deltaF[i]
		// In floating point first, with some slack; exactly after.
		ok := true
		for m, c := range pt.support {
			if iv.frozen(c, key) || iv.value[c]+lambda*pt.deltaF[m] < -1e-9*(1+iv.value[c]) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		lam := new(big.Rat).Quo(amount, pt.delta[i])
		if key.down {
			lam.Neg(lam)
		}
		x := new(big.Rat)
		for m, c := range pt.support {
			if x.Mul(lam, pt.delta[m]).Add(x, iv.exactValue(c)).Sign() < 0 {
				ok = false
				break
			}
		}
		if ok {
			return pt.support, true
		}
	}
	return nil, false
}

// sharedLP returns the program of the checks of primary column col over
// box: over the cells that are withheld (with all, as reach asks: every
// cell) and not empty, with no reader's knowledge, started from the true
// values with a crash basis. A check fixes the cells its reader knows by
// their bounds, and bounds and prices the target (the variable of col);
// each use starts from the same point (simplex.Solver.Reset: the basis,
// the values and every bound) with no price. The program does not depend
// on col (newLP's frozen is the same for every primary cell without a
// reader, and Crash reads no price), so one program of a box serves every
// primary cell of it, with the target set per use. The programs are kept
// until a cell is withheld anew.
func (iv *ivGroup) sharedLP(box []int32, col int32, all bool) *lp {
	if len(box) == 0 || len(box) == iv.gp.n {
		return iv.newLP(box, certKey{col, true, noReaders}, false) // not kept: the whole group
	}
	k := lpKey{boxHash(box), len(box), all}
	if l := iv.lps[k]; l != nil && slices.Equal(l.box, box) {
		if l.s != nil {
			l.s.Reset()
			if l.target >= 0 {
				l.s.SetCost(l.target, 0) // the last use's price (Reset keeps prices)
			}
		}
		l.target = -1
		if j, in := slices.BinarySearch(l.vars, col); in {
			l.target = j
		}
		if l.target < 0 || l.s != nil {
			return l
		}
		// Made for a cell that could not move, without a solver: made
		// again below.
	}
	if len(iv.lps) >= maxKept {
		clear(iv.lps)
	}
	// The cell the clean-up is publishing is a variable, fixed by its
	// bounds while it is published, so that the program stays right
	// whether the cell is published in the end or not.
	if p := iv.publishing; p >= 0 && !iv.withheld[p] {
		iv.withheld[p] = true
		defer func() { iv.withheld[p] = false }()
	}
	l := iv.newLP(box, certKey{col, true, noReaders}, false)
	if l.s != nil {
		l.s.Mark()
	}
	l.box = box
	iv.lps[k] = l
	return l
}

// solveCheck looks for the certificate key names within box by linear
// programming.
func (iv *ivGroup) solveCheck(ctx context.Context, key certKey, amount *big.Rat, box []int32) (ivPoint, bool) {
	target, down := key.col, key.down
	l := iv.sharedLP(box, key.col, false)
	j := l.target
	if j < 0 {
		return ivPoint{}, false
	}
	// The cells the reader knows, and those published since the program
	// was made (the clean-up), stay where they are.
	for i, c := range l.vars {
		if i != j && iv.frozen(c, key) {
			l.s.SetBounds(i, iv.value[c], iv.value[c])
		}
	}
	v := iv.value[target]
	a, _ := amount.Float64()
	// The point need only reach: bounded there, the program ends as soon
	// as it does (and is bounded).
	if down {
		l.s.SetBounds(j, max(0, v-a), math.Inf(1))
		l.s.SetCost(j, 1)
	} else {
		l.s.SetBounds(j, 0, v+a)
		l.s.SetCost(j, -1)
	}
	st, err := l.s.Solve(ctx)
	if err != nil || st != simplex.Optimal {
		return ivPoint{}, false
	}
	// The point, read as fractions, must satisfy the rows exactly. A cell
	// the solver did not move keeps its exact value; the others move by
	// d, in integers where they can (counts), in fractions otherwise.
	moved := make([]*big.Rat, len(l.vars)) // variable → d = x − value, nil for 0
	var dint []int64
	integral := true
	nmoved := 0
	for i, c := range l.vars {
		xf := l.s.Value(i)
		if xf == iv.value[c] {
			continue
		}
		x := fraction(xf)
		if x.Sign() < 0 {
			return ivPoint{}, false
		}
		d := x.Sub(x, iv.exactValue(c))
		if d.Sign() == 0 {
			continue
		}
		moved[i] = d
		nmoved++
		integral = integral && d.IsInt() && d.Num().IsInt64() && math.Abs(float64(d.Num().Int64())) < 1<<50
	}
	if integral {
		dint = make([]int64, len(l.vars))
		for i, d := range moved {
			if d != nil {
				dint[i] = d.Num().Int64()
			}
		}
	}
	for _, row := range l.rows {
		if integral {
			var sum int64
			for _, t := range row {
				sum += int64(t.coef) * dint[t.v]
			}
			if sum != 0 {
				return ivPoint{}, false
			}
			continue
		}
		sum := new(big.Rat)
		for _, t := range row {
			if d := moved[t.v]; d != nil {
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
	// The primary cell moves by at least amount in its direction.
	dt := moved[j]
	if dt == nil {
		return ivPoint{}, false
	}
	if down {
		dt = new(big.Rat).Neg(dt)
	}
	if dt.Cmp(amount) < 0 {
		return ivPoint{}, false
	}
	order := make([]int, 0, nmoved)
	for i, d := range moved {
		if d != nil {
			if iv.frozen(l.vars[i], key) {
				return ivPoint{}, false // moved within the tolerance only
			}
			order = append(order, i)
		}
	}
	slices.SortFunc(order, func(a, b int) int { return int(l.vars[a] - l.vars[b]) })
	pt := ivPoint{support: make([]int32, len(order)), delta: make([]*big.Rat, len(order)), deltaF: make([]float64, len(order))}
	for m, i := range order {
		pt.support[m] = l.vars[i]
		pt.delta[m] = moved[i]
		pt.deltaF[m], _ = moved[i].Float64()
	}
	return pt, true
}

// cover chooses published cells of box to withhold so that the
// certificate key names exists: the least costly (by the cells' values)
// according to a linear program in which the published cells may move at
// a price per unit. ok is false when the box has no such cells.
func (iv *ivGroup) cover(ctx context.Context, key certKey, amount *big.Rat, box []int32) ([]int32, bool) {
	target, down := key.col, key.down
	l := iv.newLP(box, key, true)
	j := l.target
	if j < 0 {
		return nil, false
	}
	a, _ := amount.Float64()
	goal := iv.value[target] + a
	if down {
		goal = iv.value[target] - a
	}
	l.s.SetBounds(j, max(0, goal), max(0, goal))
	for i, c := range l.pubs {
		cost := max(iv.value[c], 1) / max(a, 1e-9)
		l.s.SetCost(len(l.vars)+2*i, cost)
		l.s.SetCost(len(l.vars)+2*i+1, cost)
	}
	st, err := l.s.Solve(ctx)
	if err != nil || st != simplex.Optimal {
		return nil, false
	}
	var add []int32
	for i, c := range l.pubs {
		tol := 1e-9 * (1 + iv.value[c])
		if l.s.Value(len(l.vars)+2*i) > tol || l.s.Value(len(l.vars)+2*i+1) > tol {
			add = append(add, c)
		}
	}
	return add, len(add) > 0
}

// fraction returns the fraction with a small denominator nearest x (its
// continued fraction's first convergent within a relative 1e-9), or x
// itself.
func fraction(x float64) *big.Rat {
	if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
		return new(big.Rat).SetInt64(int64(x))
	}
	if math.Abs(x) < 1e9 {
		tol := 1e-9 * max(1, math.Abs(x))
		h0, h1, k0, k1 := int64(0), int64(1), int64(1), int64(0)
		y := x
		for range 40 {
			a := math.Floor(y)
			h2, k2 := int64(a)*h1+h0, int64(a)*k1+k0
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

// cleanUp runs the elimination again from the pattern: every withheld
// cell that is no primary cell and shown in a table is a candidate, most
// costly first, and is published if the exact protection allows it and
// every certificate that moves it can be found again without it.
func (iv *ivGroup) cleanUp(ctx context.Context, gp *groupProblem) error {
	var candidates []int32
	forced := slices.Clone(gp.forced)
	for k, pf := range gp.pfs {
		for c := range pf.n {
			col := int32(gp.offset[k] + c)
			switch {
			case !pf.inTable[c] || pf.status[c] == PrimarySuppressed || pf.records[c] == 0:
			case pf.status[c] == Published:
				forced = append(forced, col)
			default:
				candidates = append(candidates, col)
			}
		}
	}
	gp.sort(candidates)
	gp.p.Forced = forced
	gp.p.Candidates = candidates
	gp.p.Allow = iv.allow
	gp.p.Refuses = iv.cleanUpDone
	defer func() { gp.p.Allow, gp.p.Refuses = nil, nil }()
	return gp.solve(ctx, stageCleanUp)
}

// maxCleanUpSolves bounds the linear programs the clean-up solves to
// publish one cell again: beyond, the cell stays withheld.
const maxCleanUpSolves = 64

// maxCleanUpLarge bounds the linear programs the clean-up of a group of
// more than maxLPCells cells solves in all: beyond, it publishes again
// only cells whose certificates others replace, and every other
// candidate stays withheld (always safe: the clean-up only improves).
// It stops solving sooner when the programs buy too little: once it has
// solved cleanUpWindow programs, while fewer than one cell in
// cleanUpYield programs was published with their help. (On the
// 99,000-cell table of BenchmarkProtectIntervals 20,000 programs
// published 70 cells again, of 32,986: a minute for 0.2%.)
const (
	maxCleanUpLarge = 20000
	cleanUpYield    = 100
)

// cleanUpWindow: see maxCleanUpLarge (a variable for the tests).
var cleanUpWindow = 1000

// cleanUpSpent reports whether the clean-up of a large group solves no
// more programs (see maxCleanUpLarge).
func (iv *ivGroup) cleanUpSpent() bool {
	return iv.gp.n > maxLPCells && (iv.cleanUpSolves >= maxCleanUpLarge ||
		(iv.cleanUpSolves >= cleanUpWindow && iv.cleanUpBought*cleanUpYield < iv.cleanUpSolves))
}

// cleanUpDone reports whether the clean-up of a large group publishes no
// more cells at all: once its programs are spent (cleanUpSpent) and
// allow has looked at cleanUpAskWindow candidates, while fewer than one
// in cleanUpAskYield of them was published. Every later candidate stays
// withheld (always safe) without the search for replacements of its
// certificates, which is what the clean-up of a large group spends its
// time on. (On the 99,000-cell table of BenchmarkProtectIntervals the
// search over every candidate took 28 to 35 s and published about 150
// cells again, of about 33,000; with the bound the clean-up takes 4 to
// 9 s and withholds 39 cells more, see BENCHMARKS.md.) The numbers are fixed, so the pattern
// does not depend on the machine.
func (iv *ivGroup) cleanUpDone() bool {
	return iv.gp.n > maxLPCells && iv.cleanUpSpent() &&
		iv.cleanUpAsked >= cleanUpAskWindow && iv.cleanUpPassed*cleanUpAskYield < iv.cleanUpAsked
}

// cleanUpAskWindow and cleanUpAskYield bound the clean-up of a large
// group: see cleanUpDone.
// (cleanUpAskWindow is a variable for the tests.)
const cleanUpAskYield = 100

var cleanUpAskWindow = 2000

// allow reports whether column col may be published again: every
// certificate that moves it has a replacement without it. It then
// records the replacements.
func (iv *ivGroup) allow(col int32) bool {
	if iv.cleanUpDone() {
		return false
	}
	iv.cleanUpAsked++
	if !iv.allowCell(col) {
		return false
	}
	iv.cleanUpPassed++
	return true
}

// allowCell is allow without the bound of cleanUpDone.
func (iv *ivGroup) allowCell(col int32) bool {
	keys := slices.Clone(iv.using[col])
	iv.withheld[col] = false
	iv.publishing = col
	defer func() { iv.publishing = -1 }()
	replacements := make([]*cert, len(keys))
	// The keys of each primary cell and direction, in order.
	type cellDir struct {
		col  int32
		down bool
	}
	same := map[cellDir][]int{}
	for i, k := range keys {
		same[cellDir{k.col, k.down}] = append(same[cellDir{k.col, k.down}], i)
	}
	// sameCell returns the replacements found so far for the primary cell
	// and direction of key.
	sameCell := func(key certKey) []*cert {
		var found []*cert
		for _, i := range same[cellDir{key.col, key.down}] {
			if replacements[i] != nil {
				found = append(found, replacements[i])
			}
		}
		return found
	}
	// First the certificates that another one replaces; then linear
	// programs, first for those that failed before most often: a cell
	// that cannot be published is found out early.
	var solve []int
	for i, key := range keys {
		if ct := iv.substitute(key, iv.certs[key].amount, sameCell(key)); ct != nil {
			replacements[i] = ct
		} else {
			solve = append(solve, i)
		}
	}
	slices.SortStableFunc(solve, func(a, b int) int { return iv.hard[keys[b]] - iv.hard[keys[a]] })
	solved := 0
	for _, i := range solve {
		key := keys[i]
		old := iv.certs[key]
		// Nothing changed since the first pass but the replacements
		// found for the same cell and direction: only those are new.
		if ct := iv.holding(key, old.amount, sameCell(key), nil); ct != nil {
			replacements[i] = ct
			continue
		}
		if solved++; solved > maxCleanUpSolves || iv.cleanUpSpent() {
			iv.withheld[col] = true
			return false
		}
		iv.cleanUpSolves++
		support, ok := iv.check(context.Background(), key, old.amount, iv.box(key.col, old.level))
		if !ok {
			iv.hard[key]++
			iv.withheld[col] = true
			return false
		}
		replacements[i] = &cert{old.amount, old.level, support}
	}
	for i, key := range keys {
		iv.setCert(key, replacements[i])
	}
	if solved > 0 {
		iv.cleanUpBought++
	}
	return true
}

// substitute returns a certificate of the primary column and direction
// of key, of at least amount, that holds for key's reader as things are
// now (it moves only withheld cells that the reader does not know): one
// of the certificates found for this cell and direction, or one of
// found; nil if there is none.
func (iv *ivGroup) substitute(key certKey, amount *big.Rat, found []*cert) *cert {
	bad := map[*int32]bool{} // supports seen to move a cell that is fixed now
	if ct := iv.holding(key, amount, found, bad); ct != nil {
		return ct
	}
	if iv.readers[key.col] == nil {
		iv.readers[key.col] = append([]int32{farReaders, nearReaders, noReaders}, sortedReaders(iv.near[key.col])...)
	}
	for _, r := range iv.readers[key.col] {
		if r == key.reader {
			continue
		}
		if ct := iv.holding(key, amount, []*cert{iv.certs[certKey{key.col, key.down, r}]}, bad); ct != nil {
			return &cert{ct.amount, ct.level, ct.support}
		}
	}
	return nil
}

// holding returns the first of certs that is a certificate of at least
// amount for key's reader as things are now, or nil. A support in bad
// (by its first element: the certificates of several readers often share
// theirs) is not scanned again; those it finds moving a fixed cell are
// added to it.
func (iv *ivGroup) holding(key certKey, amount *big.Rat, certs []*cert, bad map[*int32]bool) *cert {
	for _, ct := range certs {
		if ct == nil || len(ct.support) == 0 || cmpRat(ct.amount, amount) < 0 || bad[&ct.support[0]] {
			continue
		}
		if !slices.ContainsFunc(ct.support, func(c int32) bool { return iv.frozen(c, key) }) {
			return ct
		}
		if bad != nil {
			bad[&ct.support[0]] = true
		}
	}
	return nil
}

// cmpRat is a.Cmp(b), without allocating for the same number or two
// integers (the amounts of counts).
func cmpRat(a, b *big.Rat) int {
	switch {
	case a == b:
		return 0
	case a.IsInt() && b.IsInt():
		return a.Num().Cmp(b.Num())
	}
	return a.Cmp(b)
}

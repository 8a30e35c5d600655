package disclosure

import (
	"fmt"
	"slices"
	"strings"
)

// A family is one measure over one population of records, such as the
// number of records, the sum of their values, or the number of records
// with a valid measurement of an indicator. All tables of a family are
// protected as one system: their cells are cells of one cube, the product
// of the hierarchies of every dimension the family's tables use. Cells of
// the cube that no table shows are hidden: never published, they link the
// tables (a table over municipality and one over provider are both margins
// of the hidden municipality × provider cross-classification).
//
// Families do not share relations: a count and a sum are different
// unknowns. Readers' knowledge spans families.
type family struct {
	name      string     // "count", "sum", or "<population>:<indicator>" (see population), used in cell names
	measure   Kind       // Count or Sum
	indicator string     // the indicator of the population; "" for all records
	pop       population // which records of the indicator

	// complementOf, for a family that a response table publishes
	// implicitly, is the family it complements, and total the family of
	// which the two are the parts: the non-response (applicable records
	// minus valid measurements, or decisions minus valid measurements
	// when the indicator applies to every record) and the records the
	// indicator does not apply to (decisions minus applicable records).
	// Such a family is in no table; its cells follow the primary rules
	// where the complemented cell is shown.
	complementOf, total *family

	dims   []int   // schema dimensions of the cube, by name
	size   []int   // nodes per cube dimension
	stride []int   // index = Σ node·stride
	n      int     // cells
	specs  []*spec // the tables that show cells of this family

	inTable []bool    // the cell is shown by some table
	records []int64   // number of records in the cell
	value   []float64 // records (Count) or sum of values (Sum)
	sole    []int64   // the one contributor (key), or noContributor or manyContributors

	// decided, for the families of an indicator, is the sole
	// contributor of the decisions with the same categories: it knows how
	// many of its records were measured, and how many the indicator
	// applies to, also when none were.
	decided []int64

	// Sum families only.
	distinct []int64     // number of contributors
	top      [][]float64 // the largest contributions, one per contributor, largest first
}

const (
	noContributor    = -1
	manyContributors = -2
)

// population says which records of an indicator a family counts.
type population uint8

const (
	popAll           population = iota // every record ("count", "sum")
	popMeasured                        // "measured": a valid measurement
	popUnmeasured                      // "unmeasured": applies, not measured
	popApplicable                      // "applicable": the indicator applies
	popNotApplicable                   // "notapplicable": it does not apply
)

// includes reports whether record r is in the family's population.
func (f *family) includes(r *Record) bool {
	switch f.pop {
	case popMeasured:
		return slices.Contains(r.Measured, f.indicator)
	case popUnmeasured:
		return r.applies(f.indicator) && !slices.Contains(r.Measured, f.indicator)
	case popApplicable:
		return r.applies(f.indicator)
	case popNotApplicable:
		return !r.applies(f.indicator)
	}
	return true
}

// knower returns the reader that knows cell c by itself, or -1: the
// contributor that alone makes up the cell, or, for an empty cell, the one
// that alone makes up the decisions it is part of, or else the reader who
// knows that empty cells are empty.
func (f *family) knower(c int) int32 {
	switch {
	case f.records[c] > 0 && f.sole[c] >= 0:
		return reader(f.sole[c])
	case f.records[c] > 0:
		return -1
	case f.decided != nil && f.decided[c] >= 0:
		return reader(f.decided[c])
	}
	return zeroReader
}

// linkDecisions sets f.decided from the family of all records, and for
// the measured and unmeasured records of an indicator that does not apply
// to every record, from the family of the records it applies to
// (applicable, nil otherwise) first: the sole contributor of a cell's
// applicable records knows that none of them is measured, or that all are.
func (f *family) linkDecisions(t *Tables, whole, applicable *family) {
	f.decided = make([]int64, f.n)
	nodes := make([]int32, len(t.dims))
	coords := make([]int32, 0, len(f.dims))
	for c := range f.n {
		coords = f.coords(c, coords)
		for j, d := range f.dims {
			nodes[d] = coords[j]
		}
		f.decided[c] = whole.sole[whole.index(nodes)]
		if applicable != nil && applicable != f {
			if s := applicable.sole[applicable.index(nodes)]; s >= 0 {
				f.decided[c] = s
			}
		}
	}
}

// coords returns the node per cube dimension of cell c.
func (f *family) coords(c int, out []int32) []int32 {
	out = out[:0]
	for j := range f.dims {
		out = append(out, int32(c/f.stride[j]%f.size[j]))
	}
	return out
}

// index returns the cell with the given node per schema dimension; schema
// dimensions outside the cube must be at their total.
func (f *family) index(nodes []int32) int {
	c := 0
	for j, d := range f.dims {
		c += int(nodes[d]) * f.stride[j]
	}
	return c
}

// isLeaf reports whether cell c is a base cell: a leaf in every dimension.
func (f *family) isLeaf(t *Tables, c int) bool {
	for j, d := range f.dims {
		if !t.dims[d].isLeaf(int32(c / f.stride[j] % f.size[j])) {
			return false
		}
	}
	return true
}

// families lists the families the tables need, with the tables in each.
func (t *Tables) families() []*family {
	var fams []*family
	get := func(name string, m Kind, indicator string, pop population) *family {
		for _, f := range fams {
			if f.name == name {
				return f
			}
		}
		f := &family{name: name, measure: m, indicator: indicator, pop: pop}
		fams = append(fams, f)
		return f
	}
	for _, s := range t.specs {
		switch s.kind {
		case Count:
			f := get("count", Count, "", popAll)
			f.specs = append(f.specs, s)
		case Sum:
			f := get("sum", Sum, "", popAll)
			f.specs = append(f.specs, s)
		case Response:
			f := get("count", Count, "", popAll)
			f.specs = append(f.specs, s)
			for _, ind := range s.indicators {
				f := get("measured:"+ind, Count, ind, popMeasured)
				f.specs = append(f.specs, s)
				if name := t.applicableFamily(ind); name != "" {
					// The denominator of the indicator's rate; without
					// a record it does not apply to, the decisions.
					f := get(name, Count, t.applicable[ind], popApplicable)
					if !slices.Contains(f.specs, s) {
						f.specs = append(f.specs, s)
					}
				}
			}
		}
	}
	for _, f := range fams {
		for _, s := range f.specs {
			for _, d := range s.dims {
				if !slices.Contains(f.dims, d) {
					f.dims = append(f.dims, d)
				}
			}
		}
		// By name, so that the order in which dimensions are passed does
		// not change the numbering of the cells.
		slices.SortFunc(f.dims, func(a, b int) int { return strings.Compare(t.dims[a].name, t.dims[b].name) })
	}
	find := func(name string) *family {
		if i := slices.IndexFunc(fams, func(f *family) bool { return f.name == name }); i >= 0 {
			return fams[i]
		}
		return nil
	}
	all := find("count")
	for _, f := range slices.Clone(fams) {
		switch f.pop {
		case popMeasured:
			total := all
			if a := find(t.applicableFamily(f.indicator)); a != nil {
				total = a
			}
			fams = append(fams, &family{name: "unmeasured:" + f.indicator, measure: Count, indicator: f.indicator,
				pop: popUnmeasured, complementOf: f, total: total, dims: slices.Clone(f.dims)})
		case popApplicable:
			fams = append(fams, &family{name: "notapplicable:" + f.indicator, measure: Count, indicator: f.indicator,
				pop: popNotApplicable, complementOf: f, total: all, dims: slices.Clone(f.dims)})
		}
	}
	return fams
}

// contributors numbers the contributors: named ones first, in sorted
// order, then one per anonymous record or aggregate cell.
type contributors struct {
	names []string       // key → name, for named contributors
	key   map[string]int // name → key
}

func (t *Tables) contributors() *contributors {
	cs := &contributors{key: map[string]int{}}
	for _, r := range t.records {
		if r.Contributor != "" {
			cs.names = append(cs.names, r.Contributor)
		}
	}
	for _, a := range t.aggs {
		if a.Contributor != "" {
			cs.names = append(cs.names, a.Contributor)
		}
	}
	slices.Sort(cs.names)
	cs.names = slices.Compact(cs.names)
	for i, n := range cs.names {
		cs.key[n] = i
	}
	return cs
}

// anonymous returns the key of the i-th anonymous unit (record or
// aggregate cell).
func (cs *contributors) anonymous(i int) int64 { return int64(len(cs.names) + i) }

// build computes the cube of f: its cells, their values and what the rules
// need to know of their contributors. topK is the number of largest
// contributions kept (Sum families).
func (f *family) build(t *Tables, cs *contributors, topK int) error {
	f.size = make([]int, len(f.dims))
	f.stride = make([]int, len(f.dims))
	f.n = 1
	for j := len(f.dims) - 1; j >= 0; j-- {
		f.size[j] = len(t.dims[f.dims[j]].codes)
		f.stride[j] = f.n
		if f.n > MaxCells/f.size[j] {
			return tooLarge(t, f)
		}
		f.n *= f.size[j]
	}
	f.inTable = make([]bool, f.n)
	f.records = make([]int64, f.n)
	f.value = make([]float64, f.n)
	f.sole = make([]int64, f.n)
	for i := range f.sole {
		f.sole[i] = noContributor
	}
	var named [][]contribution // Sum: per cell, per named contributor
	var anon []anonymous       // Sum: per cell, the anonymous contributors
	if f.measure == Sum {
		named = make([][]contribution, f.n)
		anon = make([]anonymous, f.n)
	}
	leaf := func(categories []string) int {
		c := 0
		for j, d := range f.dims {
			c += int(t.dims[d].leafOf[categories[d]]) * f.stride[j]
		}
		return c
	}
	for i, r := range t.records {
		if !f.includes(&t.records[i]) {
			continue // not in the family's population
		}
		c := leaf(r.Categories)
		key := cs.anonymous(i)
		if r.Contributor != "" {
			key = int64(cs.key[r.Contributor])
		}
		f.records[c]++
		f.sole[c] = mergeSole(f.sole[c], key)
		if f.measure == Sum {
			f.value[c] += r.Value
			if r.Contributor != "" {
				named[c] = addContribution(named[c], key, r.Value)
			} else {
				anon[c].add(anonymous{n: 1, key: key, top: []float64{r.Value}}, topK)
			}
		} else {
			f.value[c]++
		}
	}
	for i, a := range t.aggs {
		c := leaf(a.Categories)
		f.records[c] = int64(a.Count)
		switch {
		case a.Count == 0:
		case a.Contributor != "":
			f.sole[c] = int64(cs.key[a.Contributor])
		case a.Count == 1:
			f.sole[c] = cs.anonymous(i)
		default:
			f.sole[c] = manyContributors
		}
		if f.measure == Sum {
			f.value[c] = a.Value
			switch {
			case a.Count == 0:
			case a.Contributor != "":
				named[c] = []contribution{{key: f.sole[c], v: a.Value}}
			default:
				top := slices.Clone(a.Largest)
				if len(top) == 0 && a.Count == 1 {
					top = []float64{a.Value}
				}
				anon[c] = anonymous{n: int64(a.Count), key: f.sole[c], top: top[:min(len(top), topK)]}
			}
		} else {
			f.value[c] = float64(a.Count)
		}
	}
	f.rollup(t, func(p, c int) {
		f.records[p] += f.records[c]
		f.value[p] += f.value[c]
		f.sole[p] = mergeSoles(f.sole[p], f.sole[c])
		if f.measure == Sum {
			named[p] = mergeContributions(named[p], named[c])
			anon[p].add(anon[c], topK)
		}
	})
	if f.measure == Sum {
		f.distinct = make([]int64, f.n)
		f.top = make([][]float64, f.n)
		for c := range f.n {
			f.distinct[c] = int64(len(named[c])) + anon[c].n
			f.top[c] = largest(named[c], anon[c].top, topK)
		}
	}
	for _, s := range f.specs {
		f.markTable(s)
	}
	return nil
}

// rollup computes totals from base cells: per dimension, it adds every
// cell into its parent along that dimension, children first (a child has a
// higher number than its parent), calling add(parent, child).
func (f *family) rollup(t *Tables, add func(parent, child int)) {
	for j, d := range f.dims {
		dm := t.dims[d]
		block := f.size[j] * f.stride[j]
		for x := f.size[j] - 1; x > 0; x-- {
			up := (int(dm.parent[x]) - x) * f.stride[j]
			for outer := 0; outer < f.n; outer += block {
				for c := outer + x*f.stride[j]; c < outer+(x+1)*f.stride[j]; c++ {
					add(c+up, c)
				}
			}
		}
	}
}

// markTable marks the cells shown by table s: any node in the table's
// dimensions, the total in the others.
func (f *family) markTable(s *spec) {
	var rec func(j, c int)
	rec = func(j, c int) {
		if j == len(f.dims) {
			f.inTable[c] = true
			return
		}
		if !slices.Contains(s.dims, f.dims[j]) {
			rec(j+1, c)
			return
		}
		for x := range f.size[j] {
			rec(j+1, c+x*f.stride[j])
		}
	}
	rec(0, 0)
}

func tooLarge(t *Tables, f *family) error {
	names := make([]string, len(f.dims))
	for j, d := range f.dims {
		names[j] = t.dims[d].name
	}
	return fmt.Errorf("%w: the cross-classification of %s has more than %d cells: use fewer or smaller dimensions per call",
		ErrTooLarge, strings.Join(names, " × "), MaxCells)
}

// mergeSole adds a record of contributor key to a cell's sole contributor.
func mergeSole(sole, key int64) int64 {
	switch sole {
	case noContributor:
		return key
	case key:
		return sole
	}
	return manyContributors
}

// mergeSoles merges the sole contributors of two cells.
func mergeSoles(a, b int64) int64 {
	switch {
	case a == noContributor:
		return b
	case b == noContributor:
		return a
	case a == b:
		return a
	}
	return manyContributors
}

// contribution is a named contributor's total in a cell.
type contribution struct {
	key int64
	v   float64
}

func addContribution(cs []contribution, key int64, v float64) []contribution {
	i, ok := slices.BinarySearchFunc(cs, key, func(c contribution, k int64) int { return cmpInt(c.key, k) })
	if ok {
		cs[i].v += v
		return cs
	}
	return slices.Insert(cs, i, contribution{key, v})
}

func mergeContributions(a, b []contribution) []contribution {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return slices.Clone(b)
	}
	out := make([]contribution, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i].key < b[j].key):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].key < a[i].key:
			out = append(out, b[j])
			j++
		default:
			out = append(out, contribution{a[i].key, a[i].v + b[j].v})
			i++
			j++
		}
	}
	return out
}

// anonymous summarises the anonymous contributors of a cell: each is a
// unit of its own.
type anonymous struct {
	n   int64     // how many
	key int64     // the one's key, when n == 1
	top []float64 // the largest contributions, largest first
}

func (a *anonymous) add(b anonymous, k int) {
	if b.n == 0 {
		return
	}
	if a.n == 0 {
		a.key = b.key
	}
	a.n += b.n
	a.top = mergeTop(a.top, b.top, k)
}

// mergeTop merges two descending lists, keeping the k largest.
func mergeTop(a, b []float64, k int) []float64 {
	out := make([]float64, 0, min(len(a)+len(b), k))
	i, j := 0, 0
	for len(out) < k && (i < len(a) || j < len(b)) {
		if j == len(b) || (i < len(a) && a[i] >= b[j]) {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	return out
}

// largest returns the k largest contributions of a cell.
func largest(named []contribution, anon []float64, k int) []float64 {
	vs := make([]float64, len(named))
	for i, c := range named {
		vs[i] = c.v
	}
	slices.SortFunc(vs, func(a, b float64) int { return cmpFloat(b, a) })
	return mergeTop(vs, anon, k)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

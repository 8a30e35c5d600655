package disclosure

import (
	"fmt"
	"slices"
	"strings"
)

// DefaultTotal is the label of a dimension's total when [Dimension.Total] is
// empty.
const DefaultTotal = "Totaal"

// Dimension is a classification variable of the records, such as
// municipality, care type or age band, with an optional hierarchy of groups
// (region > municipality; care category > care type; age group > age band).
//
// A table over a dimension has a cell for every category and every group,
// and for the total over all of them.
type Dimension struct {
	// Name identifies the dimension, such as "gemeente".
	Name string

	// Total labels the total over all categories; DefaultTotal when empty.
	Total string

	// Categories are the categories and groups in display order. A
	// category that is the Parent of others is a group; the others are
	// leaves, and records use leaf codes. When Categories is empty the
	// dimension is flat and its categories are the codes found in the
	// records, sorted.
	Categories []Category
}

// Category is one category or group of a [Dimension].
type Category struct {
	// Code identifies the category in records and output.
	Code string

	// Parent is the code of the group the category belongs to, or "" for
	// a category directly under the total.
	Parent string
}

// dim is a compiled Dimension. Node 0 is the total. Nodes are numbered in
// a canonical order that does not depend on the order in which categories
// are declared: pre-order (a group before its members, so a child has a
// higher number than its parent), with the members of a group in the order
// of their codes. All computations use it, so that the protection of a
// table does not change when its categories are declared in another order;
// display lists the nodes in the declared order for output.
type dim struct {
	name     string
	codes    []string // by node
	parent   []int32  // by node; -1 for the total
	children [][]int32
	display  []int32          // nodes in display order
	leafOf   map[string]int32 // leaf code → node
	nodeOf   map[string]int32 // every code, the total's label included → node
	leaves   int              // number of leaves
}

func (d *dim) isLeaf(n int32) bool { return len(d.children[n]) == 0 }

// compileDimension checks d and numbers its nodes. found lists the codes
// in the data, used when d declares no categories.
func compileDimension(d Dimension, found func() []string) (*dim, error) {
	bad := func(code, problem string) error {
		return &DimensionError{Dimension: d.Name, Code: code, Problem: problem}
	}
	if d.Name == "" {
		return nil, bad("", "the dimension has no name")
	}
	total := d.Total
	if total == "" {
		total = DefaultTotal
	}
	cats := d.Categories
	if len(cats) == 0 {
		codes := found()
		slices.Sort(codes)
		codes = slices.Compact(codes)
		cats = make([]Category, len(codes))
		for i, c := range codes {
			cats[i] = Category{Code: c}
		}
	}
	index := make(map[string]int, len(cats))
	for i, c := range cats {
		switch {
		case c.Code == "":
			return nil, bad("", "a category has an empty code")
		case c.Code == total:
			return nil, bad(c.Code, "a category has the label of the total")
		}
		if _, dup := index[c.Code]; dup {
			return nil, bad(c.Code, "the code appears twice")
		}
		index[c.Code] = i
	}
	kids := make(map[string][]int, len(cats)) // parent code → categories, in declared order
	for i, c := range cats {
		if c.Parent != "" {
			if _, ok := index[c.Parent]; !ok {
				return nil, bad(c.Code, fmt.Sprintf("its parent %q is not a category", c.Parent))
			}
		}
		kids[c.Parent] = append(kids[c.Parent], i)
	}
	out := &dim{name: d.Name, leafOf: make(map[string]int32), nodeOf: make(map[string]int32)}
	var visit func(code string, parent int32)
	visit = func(code string, parent int32) {
		n := int32(len(out.codes))
		out.codes = append(out.codes, code)
		out.parent = append(out.parent, parent)
		out.children = append(out.children, nil)
		out.nodeOf[code] = n
		if parent >= 0 {
			out.children[parent] = append(out.children[parent], n)
		}
		members := slices.Clone(kids[codeKey(code, n)])
		slices.SortFunc(members, func(a, b int) int { return strings.Compare(cats[a].Code, cats[b].Code) })
		for _, k := range members {
			visit(cats[k].Code, n)
		}
	}
	visit(total, -1)
	if len(out.codes) != len(cats)+1 {
		return nil, bad("", "the parents form a cycle")
	}
	if len(out.codes) == 1 {
		return nil, bad("", "the dimension has no categories: declare them, or tabulate records that have codes for it")
	}
	var show func(code string)
	show = func(code string) {
		n := out.nodeOf[code]
		out.display = append(out.display, n)
		for _, k := range kids[codeKey(code, n)] {
			show(cats[k].Code)
		}
	}
	show(total)
	for n := range out.codes {
		if out.isLeaf(int32(n)) && n > 0 {
			out.leafOf[out.codes[n]] = int32(n)
			out.leaves++
		}
	}
	return out, nil
}

// codeKey maps the total (node 0) to the empty parent code.
func codeKey(code string, n int32) string {
	if n == 0 {
		return ""
	}
	return code
}

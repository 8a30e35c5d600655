package disclosure

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// MaxCells bounds the number of cells of the tables in one call, including
// the hidden cross-classification that links tables over different
// dimensions: larger inputs give [ErrTooLarge].
const MaxCells = 4 << 20

// Record is one unit of the data: an allocation (toewijzing) or decision
// (beschikking) in the care portals.
type Record struct {
	// Categories holds the record's leaf category per dimension, in the
	// order of the dimensions passed to [Tabulate].
	Categories []string

	// Value is the record's magnitude, such as hours of care, summed by
	// [Sum] tables. It must be finite, and not negative for Sum tables.
	Value float64

	// Contributor identifies who supplied the record and knows it, such
	// as the care provider. A contributor knows its own contributions to
	// every cell; the protection takes that into account. An empty
	// Contributor means the record stands alone (a unit of its own).
	Contributor string

	// Measured lists the outcome indicators for which the record has a
	// valid measurement (see [Response]). A measured indicator must apply
	// to the record (see Applies).
	Measured []string

	// Applies lists the outcome indicators that apply to the record: those
	// it can have a measurement of, such as the outcome of finished care
	// (a decision whose care is still running has no outcome yet). nil
	// means every indicator applies; an empty, non-nil slice means none
	// does. A Response table divides the valid measurements by the
	// records to which the indicator applies, so that records it does not
	// apply to do not lower the response rate (see [Response]).
	Applies []string
}

// Kind is the kind of a table.
type Kind uint8

// The kinds of tables.
const (
	// Count is a frequency table: each cell counts records.
	Count Kind = iota

	// Sum is a magnitude table: each cell sums the records' Value.
	Sum

	// Response is a table of response rates: per cell and outcome
	// indicator, the number of decisions (records), the number of valid
	// measurements, and their ratio, the measurements over the records to
	// which the indicator applies (Record.Applies). When some record has
	// a non-nil Applies, the table also shows the number of records to
	// which the indicator applies, as the measure "applicable", and names
	// the rate "rate_of_applicable"; otherwise
	// every indicator applies to every record and the rate is the
	// measurements over the decisions.
	Response
)

var kindNames = [...]string{Count: "count", Sum: "sum", Response: "response"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Spec specifies one table, a report built from the records.
type Spec struct {
	// Name identifies the table, such as "toewijzingen per gemeente".
	Name string

	// Kind is the kind of table; Count when zero.
	Kind Kind

	// Dimensions names the dimensions of the table, in display order. The
	// table has a cell for every combination of their categories, groups
	// and totals.
	Dimensions []string

	// Profile names the dimensions that make up a row of the report for
	// [Rules.RowMode]; all of Dimensions when empty.
	Profile []string

	// Indicators lists the outcome indicators of a Response table.
	Indicators []string
}

// Tables are linked tables: reports built from the same records, protected
// together. Build them with [Tabulate] or [FromAggregates]; then
// [Tables.Protect] gives the protected reports for everyone but the data
// owner, and [Tables.OwnerView] a data owner's own, unprotected data.
type Tables struct {
	dims    []*dim
	byName  map[string]int
	specs   []*spec
	records []Record    // nil for aggregates
	aggs    []aggregate // from FromAggregates

	// applies: some record has a non-nil Applies, so Response tables show
	// the measure "applicable"; restricted: the indicators that do not
	// apply to some record, which have families of their own for the
	// records they apply to; applicable: per restricted indicator, the
	// indicator whose family that is: the first, in the order of the
	// specifications, that applies to exactly the same records (such as
	// two outcome indicators that both apply to ended care), so that
	// they share one family rather than protect the same figures twice.
	applies    bool
	restricted map[string]bool
	applicable map[string]string
}

// spec is a compiled Spec.
type spec struct {
	name       string
	kind       Kind
	dims       []int // schema dimensions, display order
	profile    []int
	indicators []string
}

// Tabulate builds linked tables from records. dims are the dimensions of
// the records (Record.Categories holds one code per dimension, in this
// order); each Spec is one table over some of them.
//
// Tabulate checks the input; it does not alter or keep a reference to
// records beyond the returned Tables, which keeps a copy of the slice (not
// of the records' own slices, which must not change afterwards). Without
// records it returns [ErrEmpty]; an indicator in Record.Measured or
// Record.Applies that no Response table declares is an error, not a
// measurement silently left out, and so is an indicator measured for a
// record to which it does not apply.
func Tabulate(dims []Dimension, records []Record, specs ...Spec) (*Tables, error) {
	for i, r := range records {
		if len(r.Categories) != len(dims) {
			return nil, &RecordError{Index: i, Problem: fmt.Sprintf("has %d categories for %d dimensions", len(r.Categories), len(dims))}
		}
	}
	t := &Tables{byName: make(map[string]int, len(dims))}
	for d, def := range dims {
		cd, err := compileDimension(def, func() []string {
			codes := make([]string, 0, len(records))
			for _, r := range records {
				if d < len(r.Categories) {
					codes = append(codes, r.Categories[d])
				}
			}
			return codes
		})
		if err != nil {
			return nil, err
		}
		if _, dup := t.byName[cd.name]; dup {
			return nil, &DimensionError{Dimension: cd.name, Problem: "two dimensions have this name"}
		}
		t.byName[cd.name] = d
		t.dims = append(t.dims, cd)
	}
	if err := t.compileSpecs(specs); err != nil {
		return nil, err
	}
	if len(records) == 0 {
		return nil, ErrEmpty
	}
	sums := slices.ContainsFunc(t.specs, func(s *spec) bool { return s.kind == Sum })
	indicators := map[string]bool{}
	for _, s := range t.specs {
		for _, ind := range s.indicators {
			indicators[ind] = true
		}
	}
	restricted := map[string]bool{}
	for i, r := range records {
		for j, ind := range r.Applies {
			switch {
			case !indicators[ind]:
				return nil, &RecordError{Index: i, Problem: fmt.Sprintf("indicator %q is not an indicator of any response table: declare it in Spec.Indicators, or leave it out of Record.Applies", ind)}
			case slices.Contains(r.Applies[:j], ind):
				return nil, &RecordError{Index: i, Problem: fmt.Sprintf("indicator %q applies twice", ind)}
			}
		}
		for j, ind := range r.Measured {
			switch {
			case !indicators[ind]:
				return nil, &RecordError{Index: i, Problem: fmt.Sprintf("indicator %q is not an indicator of any response table: declare it in Spec.Indicators, or leave it out of Record.Measured", ind)}
			case slices.Contains(r.Measured[:j], ind):
				return nil, &RecordError{Index: i, Problem: fmt.Sprintf("indicator %q is measured twice", ind)}
			case !r.applies(ind):
				return nil, &RecordError{Index: i, Problem: fmt.Sprintf("indicator %q is measured but does not apply to the record: add it to Record.Applies, or leave it out of Record.Measured", ind)}
			}
		}
		if r.Applies != nil {
			t.applies = true
			for ind := range indicators {
				if !slices.Contains(r.Applies, ind) {
					restricted[ind] = true
				}
			}
		}
		for d, code := range r.Categories {
			if _, ok := t.dims[d].leafOf[code]; !ok {
				return nil, &RecordError{Index: i, Problem: unknownCode(t.dims[d], code)}
			}
		}
		if err := checkValue(r.Value, sums); err != "" {
			return nil, &RecordError{Index: i, Problem: err}
		}
	}
	t.records = slices.Clone(records)
	if len(restricted) > 0 {
		t.restricted = restricted
		t.applicable = map[string]string{}
		var reps []string
		for _, s := range t.specs {
			for _, ind := range s.indicators {
				if !restricted[ind] || t.applicable[ind] != "" {
					continue
				}
				t.applicable[ind] = ind
				for _, rep := range reps {
					if !slices.ContainsFunc(t.records, func(r Record) bool { return r.applies(ind) != r.applies(rep) }) {
						t.applicable[ind] = rep
						break
					}
				}
				if t.applicable[ind] == ind {
					reps = append(reps, ind)
				}
			}
		}
	}
	return t, nil
}

// applicableFamily returns the name of the family of the records to which
// indicator ind applies, or "" when it applies to every record (the
// decisions, family "count").
func (t *Tables) applicableFamily(ind string) string {
	if !t.restricted[ind] {
		return ""
	}
	return "applicable:" + t.applicable[ind]
}

// applies reports whether indicator ind applies to the record.
func (r *Record) applies(ind string) bool {
	return r.Applies == nil || slices.Contains(r.Applies, ind)
}

func unknownCode(d *dim, code string) string {
	if n := slices.Index(d.codes, code); n > 0 {
		return fmt.Sprintf("category %q of dimension %q is a group: use one of its members", code, d.name)
	}
	return fmt.Sprintf("category %q is not in dimension %q", code, d.name)
}

func checkValue(v float64, nonNegative bool) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "the value is not a finite number"
	case nonNegative && v < 0:
		return "the value is negative: magnitude tables need values of zero or more"
	}
	return ""
}

func (t *Tables) compileSpecs(specs []Spec) error {
	if len(specs) == 0 {
		return &SpecError{Problem: "no tables specified"}
	}
	names := make(map[string]bool, len(specs))
	for _, s := range specs {
		bad := func(problem string) error { return &SpecError{Table: s.Name, Problem: problem} }
		switch {
		case s.Name == "":
			return bad("the table has no name")
		case names[s.Name]:
			return bad("two tables have this name")
		case s.Kind > Response:
			return bad("unknown kind " + s.Kind.String())
		case len(s.Dimensions) == 0:
			return bad("the table has no dimensions")
		}
		names[s.Name] = true
		cs := &spec{name: s.Name, kind: s.Kind}
		for _, name := range s.Dimensions {
			d, ok := t.byName[name]
			if !ok {
				return bad(fmt.Sprintf("dimension %q does not exist", name))
			}
			if slices.Contains(cs.dims, d) {
				return bad(fmt.Sprintf("dimension %q appears twice", name))
			}
			cs.dims = append(cs.dims, d)
		}
		for _, name := range s.Profile {
			d, ok := t.byName[name]
			if !ok || !slices.Contains(cs.dims, d) {
				return bad(fmt.Sprintf("profile dimension %q is not a dimension of the table", name))
			}
			if slices.Contains(cs.profile, d) {
				return bad(fmt.Sprintf("profile dimension %q appears twice", name))
			}
			cs.profile = append(cs.profile, d)
		}
		if len(cs.profile) == 0 {
			cs.profile = slices.Clone(cs.dims)
		}
		switch {
		case s.Kind == Response && len(s.Indicators) == 0:
			return bad("a response table needs indicators")
		case s.Kind != Response && len(s.Indicators) > 0:
			return bad("only response tables have indicators")
		}
		for i, ind := range s.Indicators {
			if ind == "" || slices.Contains(s.Indicators[:i], ind) {
				return bad(fmt.Sprintf("indicator %q is empty or appears twice", ind))
			}
		}
		cs.indicators = slices.Clone(s.Indicators)
		t.specs = append(t.specs, cs)
	}
	return nil
}

// Aggregate is one inner cell of an already aggregated table: a
// combination of leaf categories with what the rules need to know about its
// contributors.
type Aggregate struct {
	// Categories holds the cell's leaf category per dimension of the
	// table, in the order of Spec.Dimensions.
	Categories []string

	// Count is the number of records (Count tables) or contributors (Sum
	// tables) in the cell.
	Count int

	// Value is the cell's magnitude (Sum tables).
	Value float64

	// Largest are the largest contributions to Value, largest first, for
	// the dominance and p% rules (Sum tables). Contributors of different
	// cells are taken to be different units.
	Largest []float64

	// Contributor, if not empty, is the one contributor of all of the
	// cell's records: it knows the cell.
	Contributor string
}

type aggregate struct {
	leaves []int32 // leaf node per table dimension
	Aggregate
}

// FromAggregates builds a table from its inner cells, already aggregated:
// one Aggregate per combination of leaf categories (combinations that are
// not given are empty). The groups and totals are computed from them. Only
// Count and Sum tables can be built this way. Without cells it returns
// [ErrEmpty]: a table of zeros is given as cells whose Count is zero.
func FromAggregates(dims []Dimension, s Spec, cells []Aggregate) (*Tables, error) {
	for i, c := range cells {
		if len(c.Categories) != len(dims) {
			return nil, &RecordError{Index: i, Problem: fmt.Sprintf("has %d categories for %d dimensions", len(c.Categories), len(dims))}
		}
	}
	t := &Tables{byName: make(map[string]int, len(dims))}
	for d, def := range dims {
		cd, err := compileDimension(def, func() []string {
			var codes []string
			for _, c := range cells {
				if d < len(c.Categories) {
					codes = append(codes, c.Categories[d])
				}
			}
			return codes
		})
		if err != nil {
			return nil, err
		}
		if _, dup := t.byName[cd.name]; dup {
			return nil, &DimensionError{Dimension: cd.name, Problem: "two dimensions have this name"}
		}
		t.byName[cd.name] = d
		t.dims = append(t.dims, cd)
	}
	if err := t.compileSpecs([]Spec{s}); err != nil {
		return nil, err
	}
	cs := t.specs[0]
	if cs.kind == Response {
		return nil, &SpecError{Table: s.Name, Problem: "response tables need records"}
	}
	if len(cs.dims) != len(t.dims) || !slices.IsSorted(cs.dims) {
		return nil, &SpecError{Table: s.Name, Problem: "an aggregated table must have all the dimensions, in the order given"}
	}
	if len(cells) == 0 {
		return nil, ErrEmpty
	}
	seen := make(map[string]int, len(cells))
	for i, c := range cells {
		a := aggregate{Aggregate: c, leaves: make([]int32, len(t.dims))}
		for d, code := range c.Categories {
			n, ok := t.dims[d].leafOf[code]
			if !ok {
				return nil, &RecordError{Index: i, Problem: unknownCode(t.dims[d], code)}
			}
			a.leaves[d] = n
		}
		key := leafKey(a.leaves)
		if j, dup := seen[key]; dup {
			return nil, &RecordError{Index: i, Problem: fmt.Sprintf("the same cell as aggregate %d", j)}
		}
		seen[key] = i
		if c.Count < 0 {
			return nil, &RecordError{Index: i, Problem: "the count is negative"}
		}
		if err := checkValue(c.Value, true); err != "" {
			return nil, &RecordError{Index: i, Problem: err}
		}
		if c.Count == 0 && (c.Value != 0 || len(c.Largest) > 0) {
			return nil, &RecordError{Index: i, Problem: "a cell without contributors has a value"}
		}
		if len(c.Largest) > c.Count {
			return nil, &RecordError{Index: i, Problem: "more largest contributions than contributors"}
		}
		total := 0.0
		for j, v := range c.Largest {
			if checkValue(v, true) != "" || (j > 0 && v > c.Largest[j-1]) {
				return nil, &RecordError{Index: i, Problem: "the largest contributions must be finite, not negative, largest first"}
			}
			total += v
		}
		if total > c.Value*(1+1e-9)+1e-9 {
			return nil, &RecordError{Index: i, Problem: "the largest contributions exceed the value"}
		}
		a.Largest = slices.Clone(c.Largest)
		t.aggs = append(t.aggs, a)
	}
	return t, nil
}

// leafKey encodes leaf nodes as a map key.
func leafKey(leaves []int32) string {
	b := make([]byte, 0, 4*len(leaves))
	for _, n := range leaves {
		b = binary.LittleEndian.AppendUint32(b, uint32(n))
	}
	return string(b)
}

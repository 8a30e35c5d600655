package disclosure

import (
	"slices"
	"strconv"
	"strings"

	"github.com/zorgkit/zorgkit/disclosure/audit"
	"github.com/zorgkit/zorgkit/disclosure/internal/elim"
)

// AuditSystem returns the protected tables as a reader sees them, for the
// independent checks of package audit: every cell once (cells shared by
// several tables, and the hidden cells that link tables over different
// dimensions; the complements that response tables publish implicitly:
// the non-response, applicable records minus valid measurements, and the
// records an indicator does not apply to, decisions minus applicable
// records), a Sum for every additive relation,
// the published rates, the
// primary cells as sensitive, and an Attacker for every reader with inside
// knowledge of withheld cells: a contributor knows the withheld cells it
// alone contributes to (its own base cells, and the totals it can compute
// from them); "empty cells" stands for the knowledge that withheld empty
// cells are empty.
//
// The system holds the true values of withheld cells, as an audit needs:
// give it to an auditor, never publish it.
func (p *Protected) AuditSystem() (audit.System, []audit.Attacker) {
	var sys audit.System
	offset := make([]int, len(p.fams))
	knows := map[int32][]int{}
	coords := []int32{}
	for i, f := range p.fams {
		offset[i] = len(sys.Cells)
		for c := range f.n {
			published := f.inTable[c] && f.status[c] == Published
			sys.Cells = append(sys.Cells, audit.Cell{
				Name:      p.t.cellName(f.family, c),
				Value:     f.value[c],
				Published: published,
				Sensitive: f.sensitive[c],
				Margin:    f.levels[c].width,
				Below:     f.levels[c].below,
				Above:     f.levels[c].above,
			})
			if published {
				continue
			}
			// A reader knows the withheld cells it alone contributes to,
			// as far as it can compute them: its own base cells, and the
			// totals of those it can add up.
			if k := f.knower(c); k >= 0 && (f.known[c] == k || f.determinedBy[c] == k || f.determinedBy[c] == elim.Everyone ||
				slices.Contains(f.insiderKnows[k], int32(c))) {
				knows[k] = append(knows[k], offset[i]+c)
			}
		}
		for c := range f.n {
			coords = f.coords(c, coords)
			for j, d := range f.dims {
				kids := p.t.dims[d].children[coords[j]]
				if len(kids) == 0 {
					continue
				}
				s := audit.Sum{Total: offset[i] + c}
				for _, k := range kids {
					s.Parts = append(s.Parts, offset[i]+c+(int(k)-int(coords[j]))*f.stride[j])
				}
				sys.Sums = append(sys.Sums, s)
			}
		}
	}
	famIndex := func(name string) int {
		return slices.IndexFunc(p.fams, func(f *protectedFamily) bool { return f.name == name })
	}
	// The complements: applicable = measured + not measured (decisions,
	// when the indicator applies to every record), and decisions =
	// applicable + not applicable.
	nodes := make([]int32, len(p.t.dims))
	for i, u := range p.fams {
		if u.complementOf == nil {
			continue
		}
		whole, m := famIndex(u.total.name), famIndex(u.complementOf.name)
		for c := range u.n {
			coords = u.coords(c, coords)
			for j, d := range u.dims {
				nodes[d] = coords[j]
			}
			sys.Sums = append(sys.Sums, audit.Sum{
				Total: offset[whole] + p.fams[whole].index(nodes),
				Parts: []int{offset[m] + c, offset[i] + c},
			})
			for _, d := range u.dims {
				nodes[d] = 0
			}
		}
	}
	seen := map[[2]int]bool{}
	for _, tab := range p.tables {
		if tab.kind != Response {
			continue
		}
		s := p.t.specs[slices.IndexFunc(p.t.specs, func(s *spec) bool { return s.name == tab.name })]
		row := 0
		p.t.eachCell(s, nodes, func() {
			for _, ind := range s.indicators {
				all := famIndex(p.t.applicableFamily(ind))
				if all < 0 {
					all = famIndex("count")
				}
				den := offset[all] + p.fams[all].index(nodes)
				m := famIndex("measured:" + ind)
				num := offset[m] + p.fams[m].index(nodes)
				cells := tab.rows[row].Cells
				published := !cells[len(cells)-1].Withheld() // the rate
				row++
				if seen[[2]int{num, den}] {
					continue
				}
				seen[[2]int{num, den}] = true
				sys.Ratios = append(sys.Ratios, audit.Ratio{Numerator: num, Denominator: den, Published: published})
			}
		})
	}
	readers := make([]int32, 0, len(knows))
	for k := range knows {
		readers = append(readers, k)
	}
	slices.Sort(readers)
	var attackers []audit.Attacker
	for _, k := range readers {
		attackers = append(attackers, audit.Attacker{Name: p.readerName(k), Knows: knows[k]})
	}
	return sys, attackers
}

// readerName names a reader for audit findings.
func (p *Protected) readerName(k int32) string {
	key := int(k) - 1
	switch {
	case k == zeroReader:
		return "empty cells"
	case key < len(p.cs.names):
		return "contributor " + strconv.Quote(p.cs.names[key])
	case p.t.aggs != nil:
		return "the contributor of aggregate " + strconv.Itoa(key-len(p.cs.names))
	}
	return "the contributor of record " + strconv.Itoa(key-len(p.cs.names))
}

// cellName names cell c of family f by its categories outside the totals,
// such as "count[gemeente=Almere; zorgvorm=jeugdhulp]". A cell shown by
// several tables has one name.
func (t *Tables) cellName(f *family, c int) string {
	var b strings.Builder
	b.WriteString(f.name)
	b.WriteByte('[')
	first := true
	for j, d := range f.dims {
		x := c / f.stride[j] % f.size[j]
		if x == 0 {
			continue
		}
		if !first {
			b.WriteString("; ")
		}
		first = false
		b.WriteString(t.dims[d].name)
		b.WriteByte('=')
		b.WriteString(t.dims[d].codes[x])
	}
	b.WriteByte(']')
	return b.String()
}

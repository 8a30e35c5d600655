package disclosure

import "github.com/zorgkit/zorgkit/disclosure/internal/elim"

// WorkOf returns the elimination effort of a protection (benchmarks).
func WorkOf(p *Protected) elim.Work {
	var w elim.Work
	for _, f := range p.fams {
		w.Rows += f.work.Rows
		w.Entries += f.work.Entries
	}
	return w
}

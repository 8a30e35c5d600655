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

// SecondaryIndices returns the positions in AuditSystem's cells of the
// secondary suppressions shown in a table.
func SecondaryIndices(p *Protected) []int {
	var out []int
	offset := 0
	for _, f := range p.fams {
		for c := range f.n {
			if f.inTable[c] && f.status[c] == SecondarySuppressed && f.reason[c] == Complementary {
				out = append(out, offset+c)
			}
		}
		offset += f.n
	}
	return out
}

// ForceLargeGroups makes every group take the order of large groups (see
// maxLPCells) until the function it returns is called.
func ForceLargeGroups() func() {
	old := maxLPCells
	maxLPCells = 0
	return func() { maxLPCells = old }
}

// SmallCleanUpWindows makes the clean-up of a large group give up its
// programs after one that bought nothing, and publishing after one
// candidate looked at that was not published (see cleanUpDone), until
// the function it returns is called.
func SmallCleanUpWindows() func() {
	oldSolves, oldAsked := cleanUpWindow, cleanUpAskWindow
	cleanUpWindow, cleanUpAskWindow = 1, 1
	return func() { cleanUpWindow, cleanUpAskWindow = oldSolves, oldAsked }
}

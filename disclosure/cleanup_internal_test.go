package disclosure

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The clean-up of a large group stops solving programs when they buy too
// little, and at maxCleanUpLarge; a small group's is not bounded so.
func TestCleanUpSpent(t *testing.T) {
	tests := []struct {
		name           string
		n              int
		solves, bought int
		want           bool
	}{
		{"small group, many programs", maxLPCells, 5 * maxCleanUpLarge, 0, false},
		{"large group, first window", maxLPCells + 1, cleanUpWindow - 1, 0, false},
		{"large group, window spent, nothing bought", maxLPCells + 1, cleanUpWindow, 0, true},
		{"large group, a cell per cleanUpYield programs", maxLPCells + 1, 5 * cleanUpWindow, 5 * cleanUpWindow / cleanUpYield, false},
		{"large group, one cell short", maxLPCells + 1, 5 * cleanUpWindow, 5*cleanUpWindow/cleanUpYield - 1, true},
		{"large group, every program bought a cell, at the bound", maxLPCells + 1, maxCleanUpLarge, maxCleanUpLarge, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iv := &ivGroup{gp: &groupProblem{n: tt.n}, cleanUpSolves: tt.solves, cleanUpBought: tt.bought}
			assert.Equal(t, tt.want, iv.cleanUpSpent())
		})
	}
}

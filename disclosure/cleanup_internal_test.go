package disclosure

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// Once the programs of a large group's clean-up are spent, it stops
// publishing cells when too few of the candidates allow looked at were
// published; a small group's clean-up, and one whose programs are not
// spent, goes on.
func TestCleanUpDone(t *testing.T) {
	spent := cleanUpWindow // programs that bought nothing: spent
	tests := []struct {
		name          string
		n             int
		solves        int
		asked, passed int
		want          bool
	}{
		{"small group, nothing published", maxLPCells, spent, 10 * cleanUpAskWindow, 0, false},
		{"large group, programs not spent", maxLPCells + 1, cleanUpWindow - 1, 10 * cleanUpAskWindow, 0, false},
		{"large group, first window", maxLPCells + 1, spent, cleanUpAskWindow - 1, 0, false},
		{"large group, window looked at, nothing published", maxLPCells + 1, spent, cleanUpAskWindow, 0, true},
		{"large group, a cell per cleanUpAskYield candidates", maxLPCells + 1, spent, 3 * cleanUpAskWindow, 3 * cleanUpAskWindow / cleanUpAskYield, false},
		{"large group, one cell short", maxLPCells + 1, spent, 3 * cleanUpAskWindow, 3*cleanUpAskWindow/cleanUpAskYield - 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iv := &ivGroup{gp: &groupProblem{n: tt.n}, cleanUpSolves: tt.solves, cleanUpAsked: tt.asked, cleanUpPassed: tt.passed}
			assert.Equal(t, tt.want, iv.cleanUpDone())
		})
	}
}

// A clean-up that is done refuses every candidate without looking at it
// (allow counts only the candidates it looked at).
func TestAllowWhenDone(t *testing.T) {
	iv := &ivGroup{gp: &groupProblem{n: maxLPCells + 1}, cleanUpSolves: cleanUpWindow, cleanUpAsked: cleanUpAskWindow}
	require.True(t, iv.cleanUpDone())
	assert.False(t, iv.allow(0))
	assert.Equal(t, cleanUpAskWindow, iv.cleanUpAsked)
	assert.Zero(t, iv.cleanUpPassed)
}

package elim

// SetHeuristic selects the pivot heuristic (experiments).
func SetHeuristic(h int) { pivotHeuristic = h }

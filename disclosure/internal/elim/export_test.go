package elim

// CheckIndex makes Solve check its column index after every change.
func CheckIndex(on bool) { checkIndex = on }

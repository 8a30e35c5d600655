//go:build race

// Package race tells tests whether the race detector is on, as the
// standard library's internal/race does: its instrumentation allocates, so
// a test that counts allocations skips itself under -race.
package race

// Enabled reports whether the binary was built with -race.
const Enabled = true

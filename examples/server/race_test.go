//go:build race

package main

// raceEnabled is true under -race, where the browser walks skip: they
// repeat the same browser work, several times slower.
const raceEnabled = true

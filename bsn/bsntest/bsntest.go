// Package bsntest provides citizen service numbers for other packages' tests:
// fictitious test persons, invalid inputs with the error that [bsn.Parse]
// returns for them, and a deterministic source of valid numbers.
//
// Prefer [TestPersons] in fixtures that may be seen by people or leave the test
// process: those numbers belong to the fictitious persons of the test
// environment of the Dutch population register (BRP), not to anyone real.
// [Numbers] draws from all valid BSNs, some of which belong to real people; use
// it for volume (load tests, property tests), not for demo data.
package bsntest

import (
	"math/rand/v2"

	"github.com/zorgkit/zorgkit/bsn"
)

// testPersons are BSNs of fictitious persons in the test environment of the
// BRP (RvIG's "proefomgeving"), as published in its test data sets and used
// in public test suites. All pass the eleven-proof.
var testPersons = [...]string{
	"999993847",
	"999992077",
	"999990482",
	"000009921", // leading zeros: never an integer
	"999993653",
	"999996630",
	"999996642",
	"999996654",
	"999996666",
	"999996678",
	"999996708",
}

// TestPersons returns the BSNs of fictitious persons of the BRP test
// environment, in a fixed order. Each call returns a new slice.
func TestPersons() []bsn.Number {
	ns := make([]bsn.Number, len(testPersons))
	for i, s := range testPersons {
		n, err := bsn.Parse(s)
		if err != nil {
			panic("bsntest: test person " + s + " is not valid: " + err.Error())
		}
		ns[i] = n
	}
	return ns
}

// Invalid is an input that [bsn.Parse] rejects, with the sentinel error it
// wraps and, for [bsn.ErrCharacter], the position it reports.
type Invalid struct {
	Input  string
	Err    error // the sentinel: errors.Is(err, Err) holds
	Pos    int   // 1-based character position for bsn.ErrCharacter, else 0
	Reason string
}

// InvalidInputs returns inputs that are not BSNs, each with the error
// [bsn.Parse] returns and the reason. Each call returns a new slice.
func InvalidInputs() []Invalid {
	return []Invalid{
		{"", bsn.ErrLength, 0, "empty"},
		{"   ", bsn.ErrLength, 0, "only separators"},
		{"12", bsn.ErrLength, 0, "too short: short numbers are not padded"},
		{"1234567", bsn.ErrLength, 0, "seven digits: only eight-digit numbers get a leading zero"},
		{"1234567890", bsn.ErrLength, 0, "ten digits"},
		{"0123456782", bsn.ErrLength, 0, "a valid number with an extra leading zero"},
		{"123456781", bsn.ErrChecksum, 0, "last digit mistyped"},
		{"123456728", bsn.ErrChecksum, 0, "two adjacent digits swapped"},
		{"100000009", bsn.ErrChecksum, 0, "weighted sum zero"},
		{"000000012", bsn.ErrChecksum, 0, "weighted sum zero"},
		{"00000000", bsn.ErrUnborn, 0, "eight zeros pad to the unborn placeholder"},
		{"999999999", bsn.ErrUnknown, 0, "CBS placeholder: BSN unknown"},
		{"000000000", bsn.ErrUnborn, 0, "CBS placeholder: unborn child"},
		{"999.999.999", bsn.ErrUnknown, 0, "placeholder with separators"},
		{"12345678a", bsn.ErrCharacter, 9, "letter"},
		{"1234/56/782", bsn.ErrCharacter, 5, "slash is not a separator"},
		{"+123456782", bsn.ErrCharacter, 1, "sign"},
		{"１２3456782é", bsn.ErrCharacter, 10, "accented letter after fullwidth digits"},
		{"١٢٣٤٥٦٧٨٢", bsn.ErrCharacter, 1, "Arabic-Indic digits are not folded"},
		{"123456782\x00", bsn.ErrCharacter, 10, "NUL byte"},
		{"12345\xff6782", bsn.ErrCharacter, 6, "invalid UTF-8"},
		{"123\u200b456782", bsn.ErrCharacter, 4, "zero-width space is not a space"},
	}
}

// Numbers returns n valid BSNs drawn uniformly (see [bsn.Random]) from a
// generator seeded with seed: the same seed always gives the same numbers.
// Numbers may repeat.
func Numbers(seed uint64, n int) []bsn.Number {
	src := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
	ns := make([]bsn.Number, n)
	for i := range ns {
		ns[i] = bsn.Random(src)
	}
	return ns
}

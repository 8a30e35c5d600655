package bsn_test

import (
	"testing"

	"github.com/zorgkit/zorgkit/bsn"
)

var (
	sinkBool   bool
	sinkNumber bsn.Number
)

// benchInput is a variable so that the compiler cannot fold the calls.
var benchInput = "123456782"

func BenchmarkValid(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkBool = bsn.Valid(benchInput)
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkNumber, _ = bsn.Parse(benchInput)
	}
}

func BenchmarkParseDotted(b *testing.B) {
	s := "1234.56.782"
	b.ReportAllocs()
	for b.Loop() {
		sinkNumber, _ = bsn.Parse(s)
	}
}

// BenchmarkMinimalLoop is the baseline for Valid: the least work that checks
// nine ASCII digits with the eleven-proof.
func BenchmarkMinimalLoop(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkBool = minimalValid(benchInput)
	}
}

func minimalValid(s string) bool {
	if len(s) != 9 {
		return false
	}
	sum := 0
	for i := range 9 {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		w := 9 - i
		if i == 8 {
			w = -1
		}
		sum += w * int(c-'0')
	}
	return sum != 0 && sum%11 == 0
}

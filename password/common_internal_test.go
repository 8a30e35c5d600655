package password

import (
	"math"
	"slices"
	"testing"

	"github.com/zorgkit/zorgkit/password/internal/textfold"
)

// TestEmbeddedList checks the embedded list as mkcommon documents it:
// sorted, distinct, folded words with positive ranks.
func TestEmbeddedList(t *testing.T) {
	l := commonWords()
	if len(l.words) < 70_000 || len(l.words) != len(l.ranks) {
		t.Fatalf("%d words, %d ranks", len(l.words), len(l.ranks))
	}
	if !slices.IsSorted(l.words) {
		t.Error("words are not sorted")
	}
	for i, w := range l.words {
		if i > 0 && l.words[i-1] == w {
			t.Errorf("duplicate %q", w)
		}
		if w == "" || textfold.Fold(w) != w {
			t.Errorf("word %q is not folded", w)
		}
		if l.ranks[i] == 0 {
			t.Errorf("word %q has rank 0", w)
		}
	}
	for w, rank := range map[string]int{"123456": 1, "password": 2, "wachtwoord": 4584, "welkom": 581} {
		if got := l.rank(w); got != rank {
			t.Errorf("rank(%q) = %d, want %d", w, got, rank)
		}
	}
	if l.rank("patient") == 0 {
		t.Error("patiënt, folded, is missing")
	}
	if l.rank("kwastmopzak") != 0 {
		t.Error("an invented word is listed")
	}
}

func TestGuessModel(t *testing.T) {
	l := commonWords()
	digits := []struct {
		s    string
		want float64
	}{
		{"2024", 100},       // a year
		{"1987", 100},       // a year
		{"3112", 366},       // ddmm
		{"311224", 36600},   // ddmmyy
		{"20241231", 36600}, // yyyymmdd
		{"7", 10},
		{"83", 100},
		{"8392", 1e4},
		{"1111", 40},  // repetition of one digit
		{"7890", 80},  // sequence
		{"6543", 80},  // descending
		{"123123", 1}, // on the list; its rank
	}
	for _, tt := range digits {
		got := digitGuesses(l, []rune(tt.s))
		if tt.s == "123123" {
			if got > 100 {
				t.Errorf("digitGuesses(%q) = %g, want its small rank", tt.s, got)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("digitGuesses(%q) = %g, want %g", tt.s, got, tt.want)
		}
	}
	if g := symbolGuesses(l, []rune("!")); g != 10 {
		t.Errorf("a single common symbol: %g", g)
	}
	if g := symbolGuesses(l, []rune("!!!")); g != 30 {
		t.Errorf("a repeated symbol: %g", g)
	}
	if g := symbolGuesses(l, []rune("^")); g != 33 {
		t.Errorf("a rarer symbol: %g", g)
	}
	if g := sequenceGuesses([]rune("ab")); !math.IsInf(g, 1) {
		t.Errorf("two letters are no sequence: %g", g)
	}
	for s, want := range map[string]int{"abcabc": 3, "aaaa": 1, "abcd": 4, "welkomwelkom": 6, "": 0} {
		if got := period([]rune(s)); got != want {
			t.Errorf("period(%q) = %d, want %d", s, got, want)
		}
	}
	for s, want := range map[string]float64{"welkom": 1, "Welkom": 2, "WELKOM": 2, "welkoM": 2, "WeLkom": 15, "W3lk0m!": 2} {
		if got := capsFactor(s); got != want {
			t.Errorf("capsFactor(%q) = %g, want %g", s, got, want)
		}
	}
}

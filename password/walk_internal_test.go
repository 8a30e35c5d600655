package password

import (
	"math"
	"testing"
)

func TestKeyboards(t *testing.T) {
	for i, kb := range keyboards {
		if kb.degree < 4 || kb.degree > 6 || kb.starts < 45 {
			t.Errorf("%s: %g keys, degree %g", layouts[i].name, kb.starts, kb.degree)
		}
	}
	qwerty := keyboards[0]
	for _, c := range []struct {
		a, b rune
		next bool
	}{
		{'q', 'w', true}, {'q', '1', true}, {'q', '2', true}, {'q', 'a', true}, {'a', 'z', true},
		{'1', 'w', false}, {'q', 'e', false}, {'Q', '!', true}, {'z', 'x', true}, {'g', 'h', true},
	} {
		if got := nextTo(qwerty.keys[c.a], qwerty.keys[c.b]); got != c.next {
			t.Errorf("qwerty: %c next to %c = %v", c.a, c.b, got)
		}
	}
}

// TestWalkGuesses: walks of every shape are cheap to guess; words and random
// strings are not walks.
func TestWalkGuesses(t *testing.T) {
	walks := []string{
		"qwerty", "asdfgh", "zxcvbn", "poiuyt", "qazwsx", "1qaz2wsx", "zaq12wsx", "Zaq12wsx", "q1w2e3r4", "Q1w2e3r4",
		"1q2w3e4r", "1qaz2wsx!Q", "!QAZ2wsx", "!@#$%^&*", "qwertz", "azerty", "xsw23edc", "mju76yhn", "!QAZ2wsx#EDC", "1qaz2wsx3edc",
		"1qaz@WSX", "zaq1ZAQ!", "qweasdzxc", "1q2w3e4r5t",
	}
	for _, w := range walks {
		if g := walkGuesses([]rune(w)); g >= guessableBelow {
			t.Errorf("walkGuesses(%q) = %.3g, want a walk (< 10^8, the threshold of NotCommon)", w, g)
		}
	}
	notWalks := []string{"kwastmop", "wereldreis", "kT9#mQ2vLx!p", "Zonnebloem", "oranjeboom", "wachtwoord", "147258369", "83920175"}
	for _, w := range notWalks {
		if g := walkGuesses([]rune(w)); g < 1e8 {
			t.Errorf("walkGuesses(%q) = %.3g, want no walk (≥ 10^8, the threshold of NotCommon)", w, g)
		}
	}
	if g := walkGuesses([]rune("qwe")); !math.IsInf(g, 1) {
		t.Errorf("three keys are too short to count: %g", g)
	}
	if g := walkGuesses([]rune("qwe€")); !math.IsInf(g, 1) {
		t.Errorf("a character off the keyboard ends the walk: %g", g)
	}
}

package password

import (
	"math"
	"strings"
	"unicode"
)

// Keyboard walks: Q1w2e3r4, zaq12wsx, 1qaz2wsx, asdfgh, !@#$%^. Their
// guesses are estimated from the layouts of the keyboards people type them
// on, so that any walk is recognised, not a listed few.

// A layout is a keyboard as rows of keys. Each key is its unshifted and
// shifted character, written together ("1!"); keys are separated by
// spaces. Rows are staggered: each starts at the column of the row above
// that its first key is under, so that a key's neighbours follow from the
// coordinates as on a hexagonal grid, as in zxcvbn's adjacency graphs.
type layout struct {
	name string
	rows []layoutRow
}

type layoutRow struct {
	x    int    // column of the row's first key
	keys string // the keys, separated by spaces
}

var layouts = []layout{
	{"qwerty", []layoutRow{
		{0, "`~ 1! 2@ 3# 4$ 5% 6^ 7& 8* 9( 0) -_ =+"},
		{1, "qQ wW eE rR tT yY uU iI oO pP [{ ]} \\|"},
		{1, "aA sS dD fF gG hH jJ kK lL ;: '\""},
		{1, "zZ xX cC vV bB nN mM ,< .> /?"},
	}},
	{"azerty", []layoutRow{
		{0, "²³ &1 é2 \"3 '4 (5 -6 è7 _8 ç9 à0 )° =+"},
		{1, "aA zZ eE rR tT yY uU iI oO pP ^¨ $£"},
		{1, "qQ sS dD fF gG hH jJ kK lL mM ù% *µ"},
		{0, "<> wW xX cC vV bB nN ,? ;. :/ !§"},
	}},
	{"qwertz", []layoutRow{
		{0, "^° 1! 2\" 3§ 4$ 5% 6& 7/ 8( 9) 0= ß? ´`"},
		{1, "qQ wW eE rR tT zZ uU iI oO pP üÜ +*"},
		{1, "aA sS dD fF gG hH jJ kK lL öÖ äÄ #'"},
		{0, "<> yY xX cC vV bB nN mM ,; .: -_"},
	}},
}

// key is a key's position and whether a character needs shift.
type key struct {
	x, y    int
	shifted bool
}

// neighbours are the steps to a key's six neighbours on a staggered
// keyboard: left, right, two above and two below.
var neighbours = [6][2]int{{-1, 0}, {1, 0}, {0, -1}, {1, -1}, {0, 1}, {-1, 1}}

// keyboard is a layout ready for lookups.
type keyboard struct {
	keys   map[rune]key
	starts float64 // keys to start a walk on
	degree float64 // the average number of neighbours of a key
}

var keyboards = func() []*keyboard {
	var kbs []*keyboard
	for _, l := range layouts {
		kb := &keyboard{keys: map[rune]key{}}
		at := map[[2]int]bool{}
		for y, row := range l.rows {
			for i, k := range strings.Fields(row.keys) {
				pos := [2]int{row.x + i, y}
				at[pos] = true
				for j, r := range []rune(k) {
					if _, dup := kb.keys[r]; !dup {
						kb.keys[r] = key{x: pos[0], y: pos[1], shifted: j > 0}
					}
				}
			}
		}
		links := 0
		for pos := range at {
			for _, d := range neighbours {
				if at[[2]int{pos[0] + d[0], pos[1] + d[1]}] {
					links++
				}
			}
		}
		kb.starts = float64(len(at))
		kb.degree = float64(links) / kb.starts
		kbs = append(kbs, kb)
	}
	return kbs
}()

func adjacent(d [2]int) bool {
	for _, n := range neighbours {
		if d == n {
			return true
		}
	}
	return false
}

// nearSteps is the number of steps to a key at most two columns and one row
// away that are not to a neighbour, such as 1 → w in q1w2e3r4.
const nearSteps = 8

// minWalk is the least number of keys a walk needs to be recognised.
const minWalk = 4

// walkGuesses estimates the guesses for rs as a walk over one of the
// keyboards, or +Inf if it is no walk: the start key, and for every next key
// a choice among the few that continue the walk:
//
//   - the same step as the previous one (qwer, 1qaz): 1;
//   - the same step as two, three or four steps before, a repeating pattern
//     (q1w2e3 zigzags; the columns of 1qaz2wsx): 3 for the choice of period,
//     then 1 while the period stays;
//   - a step to a neighbouring key: the keyboard's average degree (about 5);
//   - a step to a key one further along the row or a diagonal (1 → w): that
//     and 8 more;
//   - starting again next to the key the current run began on (z → 2 in
//     1qaz2wsx): the average degree plus one, for the key itself; at the
//     same offset as the previous restart (the third column of
//     1qaz2wsx3edc): 1; on the walk's first key, starting it over: 2;
//   - once, any other key: the number of keys.
//
// Anything else is no walk. Straight steps and repeated patterns follow
// from what came before; where the free choices fall among the steps
// multiplies too, as the turns do in zxcvbn (C(steps, choices)). Shift
// (capitals, !@#) multiplies as in shiftFactor. The estimate is multiplied
// by the number of keyboards, which an attacker tries one after the other.
//
// Digits alone are no walk: on the number row they are sequences or
// repetitions, which NotCommon estimates as such, and the numeric keypad's
// ten digits are so close together that random digits would too often look
// like a walk.
func walkGuesses(rs []rune) float64 {
	if len(rs) < minWalk {
		return math.Inf(1)
	}
	digits := true
	for _, r := range rs {
		digits = digits && '0' <= r && r <= '9'
	}
	if digits {
		return math.Inf(1)
	}
	best := math.Inf(1)
	buf := make([]key, 2*len(rs)) // the keys and the steps, for every keyboard
	for _, kb := range keyboards {
		best = min(best, kb.walk(rs, buf))
	}
	return best * float64(len(keyboards))
}

// walk estimates rs as a walk on kb, with buf of twice its length as scratch.
func (kb *keyboard) walk(rs []rune, buf []key) float64 {
	keys, steps := buf[:len(rs)], buf[len(rs):]
	shifted := 0
	for i, r := range rs {
		k, ok := kb.keys[r]
		if !ok {
			return math.Inf(1)
		}
		keys[i] = k
		if k.shifted {
			shifted++
		}
	}
	for i := 1; i < len(keys); i++ {
		steps[i] = key{x: keys[i].x - keys[i-1].x, y: keys[i].y - keys[i-1].y}
	}
	g := kb.starts
	runStart, jumped, choices, period := 0, false, 0, 0
	var offset [2]int // of the last restart from its run's start
	for i := 1; i < len(keys); i++ {
		d := [2]int{steps[i].x, steps[i].y}
		if i >= 2 && steps[i] == steps[i-1] && i-1 > runStart {
			continue // straight on
		}
		if p := repeats(steps, i, period); p > 0 {
			if p != period {
				g *= 3 // which of three periods
				period = p
			}
			continue
		}
		restart := [2]int{keys[i].x - keys[runStart].x, keys[i].y - keys[runStart].y}
		if runStart > 0 && restart == offset {
			runStart = i // the next column, as the last one
			continue
		}
		choices++
		switch {
		case adjacent(d):
			g *= kb.degree
		case abs(d[0]) <= 2 && abs(d[1]) <= 1:
			g *= kb.degree + nearSteps
		case keys[i].x == keys[0].x && keys[i].y == keys[0].y:
			g *= 2
			runStart, offset = i, restart
		case nextTo(keys[i], keys[runStart]):
			g *= kb.degree + 1
			runStart, offset = i, restart
		case !jumped:
			g *= kb.starts
			runStart, jumped = i, true
		default:
			return math.Inf(1)
		}
	}
	return g * binomial(len(keys)-1, choices) * shiftFactor(keys, shifted)
}

// repeats returns p if step i repeats step i-p, for p of 2 to 4, or 0: the
// current period if it does, else the one that goes on repeating longest.
func repeats(steps []key, i, period int) int {
	same := func(p, j int) bool { return j-p >= 1 && steps[j] == steps[j-p] }
	if period > 0 && same(period, i) {
		return period
	}
	best, longest := 0, 0
	for p := 2; p <= 4; p++ {
		n := 0
		for j := i; j < len(steps) && same(p, j); j++ {
			n++
		}
		if n > longest {
			best, longest = p, n
		}
	}
	return best
}

// nextTo reports whether a is b or one of its neighbours.
func nextTo(a, b key) bool {
	d := [2]int{a.x - b.x, a.y - b.y}
	return d == [2]int{} || adjacent(d)
}

// shiftFactor is the number of ways to shift keys as they are: 1 for none;
// 2 for all, or only the first or last; otherwise the lesser of the ways
// to choose that many keys and the ways to place the points where shift is
// pressed or let go (!QAZ2wsx#EDC: two, between the columns).
func shiftFactor(keys []key, shifted int) float64 {
	switch {
	case shifted == 0:
		return 1
	case shifted == len(keys), shifted == 1 && (keys[0].shifted || keys[len(keys)-1].shifted):
		return 2
	}
	toggles := 0
	for i := 1; i < len(keys); i++ {
		if keys[i].shifted != keys[i-1].shifted {
			toggles++
		}
	}
	sum := 0.0
	for i := 1; i <= min(shifted, len(keys)-shifted); i++ {
		sum += binomial(len(keys), i)
	}
	return min(sum, 2*binomial(len(keys)-1, toggles))
}

// binomial returns n choose k.
func binomial(n, k int) float64 {
	k = min(k, n-k)
	c := 1.0
	for i := 0; i < k; i++ {
		c = c * float64(n-i) / float64(i+1)
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// walkEstimate is the least guesses for the NFKC password orig as a
// keyboard walk with decorations: like [notCommonRule.guesses], the
// password is split into a prefix and suffix without letters and a base
// between them, and the base is estimated as a walk, or as a word and a walk
// side by side (Hallo1qaz2wsx, qwertyWelkom).
func (r notCommonRule) walkEstimate(list *wordList, orig string) float64 {
	rs := []rune(orig)
	if len(rs) < minWalk {
		return math.Inf(1)
	}
	lead, trail := 0, 0
	for lead < len(rs) && !unicode.IsLetter(rs[lead]) {
		lead++
	}
	if lead == len(rs) {
		return walkGuesses(rs) // no letter at all: !@#$%^
	}
	for trail < len(rs) && !unicode.IsLetter(rs[len(rs)-1-trail]) {
		trail++
	}
	best := math.Inf(1)
	for i := 0; i <= lead; i++ {
		pre := decorationGuesses(list, rs[:i])
		for j := 0; j <= trail; j++ {
			suf := decorationGuesses(list, rs[len(rs)-j:])
			bound := min(best, guessableBelow) / (pre * suf)
			if bound <= 1 {
				continue
			}
			base := rs[i : len(rs)-j]
			g := min(walkGuesses(base), r.wordWalkGuesses(list, base, bound))
			best = min(best, pre*suf*g)
		}
	}
	return best
}

// minWordInWalk is the least number of letters of a word next to a walk.
const minWordInWalk = 3

// wordWalkGuesses estimates rs as a listed word followed or preceded by a
// keyboard walk, possibly with a decoration between them (Zomer#1qaz2wsx):
// the word's rank times the decoration's guesses times the walk's (or its
// rank, if the walk is listed itself), times 2 for the order and 2 for
// capitals in the word; +Inf if rs is no such pair or it needs bound
// guesses or more. The word is a run of letters at either end of rs, so that
// only those splits are tried (each costs a fold and a list look-up).
func (r notCommonRule) wordWalkGuesses(list *wordList, rs []rune, bound float64) float64 {
	best := math.Inf(1)
	// try estimates word and rest, where rest holds the walk and, at the end
	// next to the word (its start if wordFirst), any decoration.
	try := func(word, rest []rune, wordFirst bool) {
		if len(word) < minWordInWalk || len(rest) < minWalk {
			return
		}
		w := r.wordGuesses(list, []rune(fold(string(word))))
		if math.IsInf(w, 1) {
			return
		}
		w *= 2 // word first or walk first
		for _, c := range word {
			if unicode.IsUpper(c) {
				w *= 2
				break
			}
		}
		// The decoration is a run without letters at the junction; the walk
		// may begin (or end) with such characters too (1qaz), so every cut
		// of that run is tried.
		run := 0
		for run < len(rest) && !unicode.IsLetter(rest[junction(rest, run, wordFirst)]) {
			run++
		}
		for d := 0; d <= run && len(rest)-d >= minWalk; d++ {
			sep, walk := rest[:d], rest[d:]
			if !wordFirst {
				walk, sep = rest[:len(rest)-d], rest[len(rest)-d:]
			}
			g := w * decorationGuesses(list, sep)
			if g >= min(best, bound) {
				continue
			}
			walkG := walkGuesses(walk)
			if rank := list.rank(fold(string(walk))); rank > 0 {
				walkG = min(walkG, float64(rank)) // a listed walk: 1qaz2wsx
			}
			best = min(best, g*walkG)
		}
	}
	head, tail := 0, 0 // the runs of letters at either end
	for head < len(rs) && unicode.IsLetter(rs[head]) {
		head++
	}
	for tail < len(rs) && unicode.IsLetter(rs[len(rs)-1-tail]) {
		tail++
	}
	for k := minWordInWalk; k <= head && k <= len(rs)-minWalk; k++ {
		try(rs[:k], rs[k:], true)
	}
	for k := minWordInWalk; k <= tail && k <= len(rs)-minWalk; k++ {
		try(rs[len(rs)-k:], rs[:len(rs)-k], false)
	}
	return best
}

// junction is the index of the i-th character of rest counted from the
// word's side: from its start if the word comes first, else from its end.
func junction(rest []rune, i int, wordFirst bool) int {
	if wordFirst {
		return i
	}
	return len(rest) - 1 - i
}

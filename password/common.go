package password

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// The list of common passwords and words behind NotCommon: 75,217 folded
// words with their rank, built by internal/mkcommon from the MIT-licensed
// zxcvbn-ts language packages (see NOTICE).
// internal/mkcommon is run by hand, not by go generate: it needs the npm
// tarballs.
//
//go:embed common.txt.gz
var commonGz []byte

// wordList is the decompressed list: words sorted in byte order, and the
// rank of each.
type wordList struct {
	words []string
	ranks []uint32
}

var commonWords = sync.OnceValue(func() *wordList {
	zr, err := gzip.NewReader(bytes.NewReader(commonGz))
	if err != nil {
		panic("password: embedded word list: " + err.Error())
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		panic("password: embedded word list: " + err.Error())
	}
	text := string(data) // one allocation; the words are substrings of it
	n := strings.Count(text, "\n")
	l := &wordList{words: make([]string, 0, n), ranks: make([]uint32, 0, n)}
	for line := range strings.Lines(text) {
		word, rank, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "\t")
		r, err := strconv.ParseUint(rank, 10, 32)
		if !ok || err != nil {
			panic("password: embedded word list: bad line")
		}
		l.words = append(l.words, word)
		l.ranks = append(l.ranks, uint32(r))
	}
	return l
})

// rank returns the rank of the folded word w, or 0 if it is not listed.
func (l *wordList) rank(w string) int {
	if i, ok := slices.BinarySearch(l.words, w); ok {
		return int(l.ranks[i])
	}
	return 0
}

// guessableBelow is the number of guesses under which NotCommon calls a
// password guessable: 10^8, the boundary below which zxcvbn rates a password
// "somewhat guessable" or worse (score < 3).
const guessableBelow = 1e8

type notCommonRule struct {
	context map[string]bool // folded words of the service
}

// NotCommon returns a rule that the password is not a common one, as NIST SP
// 800-63B-4 §3.1.1.2 requires of a blocklist:
//
//   - It is not on the embedded list of 75,000 common passwords and Dutch
//     words ([CodeCommon]); case and diacritics do not matter.
//   - It is not such a password or word, or one of the context words, merely
//     dressed up ([CodeGuessable]): capitals, look-alike substitutions
//     (W3lk0m, P@ssw0rd), digits, years, dates and symbols before or after
//     (Welkom01!, Zomer2024!, Wachtwoord1!), or repeated (welkomwelkom).
//     Sequences and repetitions (12345678, aaaaaaaa, abcdefgh) count too,
//     and so do keyboard walks (Q1w2e3r4!, Zaq12wsx!, 1qaz2wsx!Q, asdfgh,
//     !@#$%^&*) on the QWERTY, AZERTY and QWERTZ keyboards: keys next to
//     each other, in a line, a zigzag or columns side by side, estimated
//     from the layouts rather than listed, alone or next to a listed word
//     (Hallo1qaz2wsx!, Qwerty!welkom). Digits alone are no walk (the
//     numeric keypad is so dense that random digits would look like one):
//     the list and the sequence rules cover them (147258369 is listed).
//
// For the second test the password is modelled as a base plus decorations,
// and the number of guesses an attacker needs is estimated as the rank of
// the base word times the guesses for each decoration (a year ~100, a single
// common symbol ~10, n random digits 10^n, a capital letter ×2); below 10^8
// the password is refused. A random 12-character password needs about 10^23
// guesses and passes; so does a sentence of several words.
//
// context are words of the service that attackers will try first, such as
// its name ("portero", "almere", "zorgportaal"). NotCommon only examines
// passwords of at most [MaxLength] characters; longer ones break the length
// rule anyway. The list is decompressed on first use, once per process
// (about 60 ms and 2.5 MB of memory); check a password at start-up to take
// that out of the first request.
func NotCommon(context ...string) Rule {
	r := notCommonRule{context: map[string]bool{}}
	for _, w := range context {
		if w = fold(Normalize(w)); w != "" {
			r.context[w] = true
		}
	}
	return r
}

func (notCommonRule) validate() error { return nil }

func (r notCommonRule) check(c *candidate, dst []Violation) []Violation {
	if c.length == 0 {
		return dst
	}
	pw := c.foldedPassword()
	list := commonWords()
	if list.rank(pw) > 0 || r.context[pw] {
		return append(dst, Violation{Code: CodeCommon})
	}
	if g := r.guesses(list, pw, c.pw); g < guessableBelow || r.walkEstimate(list, c.pw) < guessableBelow {
		return append(dst, Violation{Code: CodeGuessable})
	}
	return dst
}

// guesses estimates the guesses needed for the folded password s, whose
// NFKC form is orig, as the least over its splits into prefix, base and
// suffix, where prefix and suffix hold no letters.
func (r notCommonRule) guesses(list *wordList, s, orig string) float64 {
	rs := []rune(s)
	// The decorations can only be the runs of non-letters at either end.
	lead, trail := 0, 0
	for lead < len(rs) && !unicode.IsLetter(rs[lead]) {
		lead++
	}
	if lead == len(rs) {
		return decorationGuesses(list, rs) // no letter at all
	}
	for trail < len(rs) && !unicode.IsLetter(rs[len(rs)-1-trail]) {
		trail++
	}
	// The base may begin or end with a few look-alike characters (4dmin,
	// h3ll0): split at most maxLeetEdge characters into each run. This
	// bounds the work to a few splits whatever the input.
	caps := capsFactor(orig)
	best := math.Inf(1)
	for i := max(0, lead-maxLeetEdge); i <= lead; i++ {
		pre := decorationGuesses(list, rs[:i])
		for j := max(0, trail-maxLeetEdge); j <= trail; j++ {
			suf := decorationGuesses(list, rs[len(rs)-j:])
			if pre*suf*caps >= min(best, guessableBelow) {
				continue // cannot beat what we have, whatever the base
			}
			best = min(best, pre*suf*caps*r.baseGuesses(list, rs[i:len(rs)-j]))
		}
	}
	return best
}

// maxLeetEdge is how many look-alike characters a base may begin or end
// with.
const maxLeetEdge = 3

// baseGuesses estimates the guesses for the base of a password: a listed or
// context word (possibly with look-alike substitutions), a repetition of
// one, or a sequence. Anything else is guessed by brute force.
func (r notCommonRule) baseGuesses(list *wordList, rs []rune) float64 {
	best := bruteForce(rs)
	if g := r.wordGuesses(list, rs); g < best {
		best = g
	}
	if g := sequenceGuesses(rs); g < best {
		best = g
	}
	// A repetition of a shorter unit: welkomwelkom, abcabc, aaaa.
	if p := period(rs); p < len(rs) {
		unit := rs[:p]
		g := min(bruteForce(unit), r.wordGuesses(list, unit), sequenceGuesses(unit))
		best = min(best, g*float64(len(rs)/p))
	}
	return best
}

// wordGuesses returns the rank of rs as a word, trying it as it is and with
// look-alike characters replaced, or +Inf if it is no word.
func (r notCommonRule) wordGuesses(list *wordList, rs []rune) float64 {
	best := math.Inf(1)
	for v, table := range leetTables {
		w, subs := unleet(rs, table)
		if v > 0 && subs == 0 {
			break // no look-alikes: the same word again
		}
		rank := list.rank(w)
		if r.context[w] {
			rank = 1
		}
		if rank > 0 {
			best = min(best, float64(rank)*math.Pow(2, float64(subs)))
		}
	}
	return best
}

// leetTables map look-alike characters to letters; the second resolves the
// ambiguous ones the other way (1 is i or l).
var leetTables = [2]map[rune]rune{
	{'4': 'a', '@': 'a', '8': 'b', '3': 'e', '6': 'g', '9': 'g', '1': 'i', '!': 'i', '|': 'i', '0': 'o', '5': 's', '$': 's', '7': 't', '+': 't', '2': 'z'},
	{'4': 'a', '@': 'a', '8': 'b', '3': 'e', '6': 'b', '9': 'g', '1': 'l', '!': 'l', '|': 'l', '0': 'o', '5': 's', '$': 's', '7': 'l', '+': 't', '2': 'z'},
}

func unleet(rs []rune, table map[rune]rune) (string, int) {
	var b strings.Builder
	subs := 0
	for _, c := range rs {
		if l, ok := table[c]; ok {
			c = l
			subs++
		}
		b.WriteRune(c)
	}
	return b.String(), subs
}

// decorationGuesses estimates the guesses for a decoration without letters,
// such as "2024!" or "01", as the product over its runs of digits and of
// other characters.
func decorationGuesses(list *wordList, rs []rune) float64 {
	g := 1.0
	for len(rs) > 0 {
		digits := unicode.IsDigit(rs[0])
		n := 1
		for n < len(rs) && unicode.IsDigit(rs[n]) == digits {
			n++
		}
		run := rs[:n]
		if digits {
			g *= digitGuesses(list, run)
		} else {
			g *= symbolGuesses(list, run)
		}
		rs = rs[n:]
	}
	return g
}

func digitGuesses(list *wordList, rs []rune) float64 {
	best := math.Pow(10, float64(len(rs)))
	if g := sequenceGuesses(rs); g < best {
		best = g
	}
	if p := period(rs); p < len(rs) {
		best = min(best, math.Pow(10, float64(p))*float64(len(rs)/p))
	}
	if r := list.rank(string(rs)); r > 0 {
		best = min(best, float64(r))
	}
	s := string(rs)
	switch len(s) {
	case 4:
		if y, _ := strconv.Atoi(s); y >= 1950 && y <= 2049 {
			best = min(best, 100) // a year
		}
		if dayMonth(s) {
			best = min(best, 366) // ddmm or mmdd
		}
	case 6:
		if dayMonth(s[:4]) || dayMonth(s[2:]) {
			best = min(best, 366*100) // ddmmyy or yymmdd
		}
	case 8:
		if dayMonth(s[:4]) || dayMonth(s[4:]) {
			best = min(best, 366*100) // ddmmyyyy or yyyymmdd
		}
	}
	return best
}

// dayMonth reports whether the four ASCII digits dm are a day and a month,
// in either order.
func dayMonth(dm string) bool {
	a, errA := strconv.Atoi(dm[:2])
	b, errB := strconv.Atoi(dm[2:])
	if errA != nil || errB != nil {
		return false
	}
	return (a >= 1 && a <= 31 && b >= 1 && b <= 12) || (b >= 1 && b <= 31 && a >= 1 && a <= 12)
}

// commonSymbols are the symbols people add to meet a composition rule.
const commonSymbols = "!@#$%&*?._-"

func symbolGuesses(list *wordList, rs []rune) float64 {
	best := math.Pow(33, float64(len(rs)))
	if p := period(rs); p < len(rs) {
		best = min(best, symbolGuesses(list, rs[:p])*float64(len(rs)/p))
	}
	if len(rs) == 1 && strings.ContainsRune(commonSymbols, rs[0]) {
		best = min(best, 10)
	}
	if r := list.rank(string(rs)); r > 0 {
		best = min(best, float64(r))
	}
	return best
}

// sequenceGuesses returns the guesses for rs if it is an ascending or
// descending sequence of at least three letters or digits (abcdef, 98765;
// digits wrap around: 7890123), or +Inf.
func sequenceGuesses(rs []rune) float64 {
	if len(rs) < 3 {
		return math.Inf(1)
	}
	digits := true
	for _, c := range rs {
		digits = digits && '0' <= c && c <= '9'
	}
	diff := func(i int) rune {
		d := rs[i] - rs[i-1]
		if digits {
			d = (d + 10) % 10 // 9 → 0 is a step up, 0 → 9 one down
			if d == 9 {
				d = -1
			}
		}
		return d
	}
	step := diff(1)
	if step != 1 && step != -1 {
		return math.Inf(1)
	}
	for i := 2; i < len(rs); i++ {
		if diff(i) != step {
			return math.Inf(1)
		}
	}
	return 20 * float64(len(rs)) // a start and a direction
}

// period returns the length of the shortest unit that rs repeats a whole
// number of times, or len(rs) if it is no repetition.
func period(rs []rune) int {
	n := len(rs)
	for p := 1; p <= n/2; p++ {
		if n%p != 0 {
			continue
		}
		if slices.Equal(rs[p:], rs[:n-p]) {
			return p
		}
	}
	return n
}

// bruteForce estimates the guesses for rs character by character: 26 for
// a letter, 10 for a digit, 33 for anything else.
func bruteForce(rs []rune) float64 {
	g := 1.0
	for _, c := range rs {
		switch {
		case unicode.IsLetter(c):
			g *= 26
		case unicode.IsDigit(c):
			g *= 10
		default:
			g *= 33
		}
	}
	return g
}

// capsFactor is the number of ways to place the capitals of s: 1 if it has
// none, 2 for the usual patterns (Capitalised, ALL CAPS, last letter), and
// otherwise the number of ways to choose that many capitals among its letters.
func capsFactor(s string) float64 {
	var letters, upper int
	first, last := false, false
	for _, c := range s {
		if !unicode.IsLetter(c) {
			continue
		}
		up := unicode.IsUpper(c) || unicode.IsTitle(c)
		if up {
			upper++
			if letters == 0 {
				first = true
			}
		}
		last = up
		letters++
	}
	switch {
	case upper == 0:
		return 1
	case upper == letters, upper == 1 && (first || last):
		return 2
	}
	k := min(upper, letters-upper)
	c := 1.0
	for i := 0; i < k; i++ {
		c = c * float64(letters-i) / float64(i+1)
	}
	return c
}

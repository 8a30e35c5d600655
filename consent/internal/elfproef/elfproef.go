// Package elfproef recognises a citizen service number (BSN) in a string
// that should hold none, such as a subject key. (Package bsn has the full
// rules; the top-level packages of zorgkit do not import each other.)
package elfproef

import "unicode"

// LooksLikeBSN reports whether s would pass as a BSN: nine digits, or eight
// (issued before 2007, with a leading zero implied), that pass the
// eleven-proof, ignoring white space, dots and dashes and folding fullwidth
// digits, as people write and documents print a BSN.
func LooksLikeBSN(s string) bool {
	var d [9]int
	n := 0
	for _, r := range s {
		switch {
		case '0' <= r && r <= '9':
			r -= '0'
		case '０' <= r && r <= '９':
			r -= '０'
		case r == '.' || unicode.IsSpace(r) || unicode.Is(unicode.Dash, r):
			continue
		default:
			return false
		}
		if n == len(d) {
			return false
		}
		d[n] = int(r)
		n++
	}
	switch n {
	case 9:
	case 8:
		copy(d[1:], d[:8])
		d[0] = 0
	default:
		return false
	}
	sum := 9*d[0] + 8*d[1] + 7*d[2] + 6*d[3] + 5*d[4] + 4*d[5] + 3*d[6] + 2*d[7] - d[8]
	return sum != 0 && sum%11 == 0
}

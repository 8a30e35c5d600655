// Package textfold maps text to the form in which package password compares
// words: NFKC, case-folded, without diacritics. The generator of the
// embedded word list and the package itself use the same function, so that
// the list and the passwords checked against it agree.
package textfold

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Fold returns s case-folded (full Unicode case folding: ß → ss), with
// combining marks removed (é → e, ï → i) and in NFC. ASCII input takes a fast
// path that only lower-cases.
func Fold(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return foldUnicode(s)
		}
	}
	return strings.ToLower(s)
}

func foldUnicode(s string) string {
	// A Caser and the normalisers are stateful: a new chain per call.
	t := transform.Chain(norm.NFKC, cases.Fold(), norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		// Only possible for invalid input the transformers cannot span;
		// fall back to a simple lower-casing rather than failing a check.
		return strings.ToLower(s)
	}
	return out
}

package password

import (
	"strings"
	"unicode"
)

// Category is a set of character categories, combined with |.
type Category uint8

// The four character categories of the portals' composition rules. They are
// Unicode-aware: É is upper case, ß lower case, ٣ (Arabic-Indic three) a
// digit. Letters without case, such as Chinese characters, are in none of
// them; so are combining marks.
const (
	// Upper is an upper-case or title-case letter (Unicode Lu, Lt).
	Upper Category = 1 << iota
	// Lower is a lower-case letter (Unicode Ll).
	Lower
	// Digit is a decimal digit (Unicode Nd), 0 to 9 in the Latin script.
	Digit
	// Punct ("leesteken") is any other printable character that is not a
	// letter: punctuation, symbols such as $ € + and spaces (Unicode P, S,
	// Z, and N other than Nd).
	Punct

	// AllCategories is the set of all four categories.
	AllCategories = Upper | Lower | Digit | Punct
)

var categoryNames = [...]string{"upper", "lower", "digit", "punct"}

// String returns the names of the categories in the set, joined with "+",
// such as "upper+digit"; "none" for the empty set.
func (c Category) String() string {
	if c == 0 {
		return "none"
	}
	var names []string
	for i, name := range categoryNames {
		if c&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	return strings.Join(names, "+")
}

// Count returns the number of categories in the set.
func (c Category) Count() int {
	n := 0
	for ; c != 0; c &= c - 1 {
		n++
	}
	return n
}

// each calls f for each category in the set, in the order of the constants.
func (c Category) each(f func(Category)) {
	for i := range categoryNames {
		if bit := Category(1 << i); c&bit != 0 {
			f(bit)
		}
	}
}

// categoryOf returns the category of r, or 0 if r is in none of them.
func categoryOf(r rune) Category {
	switch {
	case r < 0x80:
		switch {
		case 'A' <= r && r <= 'Z':
			return Upper
		case 'a' <= r && r <= 'z':
			return Lower
		case '0' <= r && r <= '9':
			return Digit
		case r >= ' ' && r < 0x7f:
			return Punct
		}
		return 0
	case unicode.IsUpper(r) || unicode.IsTitle(r):
		return Upper
	case unicode.IsLower(r):
		return Lower
	case unicode.IsDigit(r):
		return Digit
	case unicode.IsLetter(r), unicode.IsMark(r), unicode.IsControl(r), unicode.Is(unicode.Cf, r):
		return 0
	case unicode.IsPunct(r), unicode.IsSymbol(r), unicode.IsSpace(r), unicode.IsNumber(r):
		return Punct
	}
	return 0
}

// Package bsn parses, validates and formats the Dutch citizen service number
// (burgerservicenummer, BSN).
//
// A BSN is the key to every client record in Dutch care, so this package is
// strict: it accepts exactly the numbers that pass the rules below, and it never
// puts the digits of an input into an error message or a log line.
//
// # The rules
//
// A BSN has nine digits d1…d9 whose weighted sum
//
//	9·d1 + 8·d2 + 7·d3 + 6·d4 + 5·d5 + 4·d6 + 3·d7 + 2·d8 − 1·d9
//
// is divisible by 11 (the "eleven-proof", elfproef). A weighted sum of zero
// (000000000, 100000009 and 28 others) is not a BSN. Numbers issued before 2007
// may have eight digits; [Parse] gives such a number exactly one leading zero.
// Shorter inputs are rejected: some popular validators pad any length with
// zeros, so that "12" passes; this package does not.
//
// Leading zeros are significant. A BSN is not an integer: never store or
// compare it as one. [Number] holds the nine digits as text.
//
// # Input as people type it
//
// [Parse] and [Valid] accept a number as people type it and as documents print
// it: white space (including non-breaking and other Unicode spaces), dots and
// hyphens (including the other Unicode dashes) are separators and are ignored.
// Fullwidth digits (U+FF10–U+FF19), as produced by East Asian input methods,
// are folded to ASCII. Any other character is an error that reports its
// position, never its value.
//
// # Placeholders
//
// Files for Statistics Netherlands (CBS), such as the youth-care data set, use
// 999999999 for "BSN unknown" and 000000000 for "unborn child". They are not
// BSNs and [Parse] rejects them, but with an error that matches [ErrUnknown] or
// [ErrUnborn] (and [ErrPlaceholder]), so that file processing can pass them
// through instead of rejecting the row or merging every unknown client into one
// person.
//
// # Privacy
//
// A [Number] logged through [log/slog] shows only its last three digits (see
// [Number.LogValue]). Error values carry the kind of problem and the position of
// a bad character; they never contain the input.
package bsn

import (
	"errors"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// Number is a valid citizen service number. It is a comparable value that holds
// the canonical nine digits; use == to compare two numbers.
//
// The zero Number means "no number"; [Number.IsZero] reports it. Every non-zero
// Number was produced by [Parse], [Number.UnmarshalText] or [Random] and passed
// the eleven-proof.
type Number struct {
	digits [9]byte // ASCII digits; all zero bytes for the zero Number
}

// Sentinel errors returned (wrapped in an [*Error]) by [Parse] and
// [Number.UnmarshalText]. Test for them with [errors.Is].
var (
	// ErrLength means the input does not have 9 digits (or 8, for a number
	// issued before 2007).
	ErrLength = errors.New("bsn: wrong number of digits: a BSN has 9 digits (8 for a number issued before 2007)")

	// ErrCharacter means the input contains a character that is neither a
	// digit nor a separator (space, dot or hyphen).
	ErrCharacter = errors.New("bsn: invalid character: use only digits, spaces, dots and hyphens")

	// ErrChecksum means the digits fail the eleven-proof, or their weighted
	// sum is zero. The number was probably mistyped.
	ErrChecksum = errors.New("bsn: not a valid BSN (eleven-proof fails): check the number for a typing error")

	// ErrPlaceholder matches both CBS placeholders, [ErrUnknown] and
	// [ErrUnborn].
	ErrPlaceholder = errors.New("bsn: CBS placeholder, not a BSN")

	// ErrUnknown means the input is the CBS placeholder 999999999, "BSN
	// unknown". errors.Is(err, ErrPlaceholder) also reports true.
	ErrUnknown error = &placeholderError{"bsn: CBS placeholder for an unknown BSN, not a BSN"}

	// ErrUnborn means the input is the CBS placeholder 000000000, "unborn
	// child". errors.Is(err, ErrPlaceholder) also reports true.
	ErrUnborn error = &placeholderError{"bsn: CBS placeholder for an unborn child, not a BSN"}
)

// placeholderError is the type of ErrUnknown and ErrUnborn: each is itself and
// also an ErrPlaceholder.
type placeholderError struct{ msg string }

func (e *placeholderError) Error() string        { return e.msg }
func (e *placeholderError) Is(target error) bool { return target == ErrPlaceholder }

// Error describes why an input is not a BSN. Err is one of the sentinel errors
// of this package; Pos is the 1-based position (in characters, not bytes) of
// the offending character when Err is [ErrCharacter], and 0 otherwise.
//
// An Error never contains the input itself.
type Error struct {
	Err error
	Pos int
}

// Error describes the problem and, for a bad character, its position; never
// the input.
func (e *Error) Error() string {
	if e.Pos > 0 {
		return "bsn: invalid character at position " + strconv.Itoa(e.Pos) + ": use only digits, spaces, dots and hyphens"
	}
	return e.Err.Error()
}

// Unwrap returns the sentinel error, so that errors.Is(err, ErrChecksum) and
// the like work.
func (e *Error) Unwrap() error { return e.Err }

// fault is what scan reports; a small enum rather than an error so that Valid
// does not allocate.
type fault uint8

const (
	ok fault = iota
	badLength
	badCharacter
	badChecksum
	isUnknown
	isUnborn
)

var faultErrors = [...]error{
	badLength:    ErrLength,
	badCharacter: ErrCharacter,
	badChecksum:  ErrChecksum,
	isUnknown:    ErrUnknown,
	isUnborn:     ErrUnborn,
}

// Parse returns the Number that s denotes. Separators (white space, dots,
// hyphens and other dashes) are ignored and fullwidth digits are folded to
// ASCII; an eight-digit number gets one leading zero.
//
// A non-nil error is an [*Error] that wraps [ErrLength], [ErrCharacter],
// [ErrChecksum], [ErrUnknown] or [ErrUnborn].
func Parse(s string) (Number, error) {
	var n Number
	f, pos := scan(s, &n.digits)
	if f != ok {
		if f == badCharacter {
			return Number{}, &Error{Err: ErrCharacter, Pos: pos}
		}
		return Number{}, &Error{Err: faultErrors[f]}
	}
	return n, nil
}

// Valid reports whether s denotes a BSN, with the same rules as [Parse]. It
// does not allocate.
func Valid(s string) bool {
	var d [9]byte
	f, _ := scan(s, &d)
	return f == ok
}

// scan normalises s into d and checks it. It returns the fault and, for
// badCharacter, the 1-based rune position of the bad character.
func scan(s string, d *[9]byte) (fault, int) {
	// Fast path: nine ASCII digits, the form of nearly every stored BSN.
	if len(s) == 9 && copyDigits(d, s) {
		return check(d), 0
	}
	n := 0 // digits seen
	pos := 0
	for i := 0; i < len(s); {
		pos++
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return badCharacter, pos
			}
			r = narrow(r)
		}
		i += size
		switch {
		case '0' <= r && r <= '9':
			if n < len(d) {
				d[n] = byte(r)
			}
			n++
		case isSeparator(r):
		default:
			return badCharacter, pos
		}
	}
	switch n {
	case 9:
	case 8:
		copy(d[1:], d[:8])
		d[0] = '0'
	default:
		return badLength, 0
	}
	return check(d), 0
}

// copyDigits copies s into d if s consists of nine ASCII digits.
func copyDigits(d *[9]byte, s string) bool {
	for i := range d {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		d[i] = c
	}
	return true
}

// narrow folds a fullwidth character, such as the digit U+FF11, to its ASCII
// counterpart and returns any other rune unchanged.
func narrow(r rune) rune {
	if p := width.LookupRune(r); p.Kind() == width.EastAsianFullwidth && p.Narrow() != 0 {
		return p.Narrow()
	}
	return r
}

// isSeparator reports whether r may appear between the digits of a BSN.
func isSeparator(r rune) bool {
	return r == ' ' || r == '.' || r == '-' ||
		unicode.IsSpace(r) || unicode.Is(unicode.Dash, r)
}

// check applies the eleven-proof to nine ASCII digits and recognises the CBS
// placeholders.
func check(d *[9]byte) fault {
	// Unrolled, with the ASCII offset of all nine digits taken off at once:
	// the weights sum to 9+8+…+2−1 = 43.
	sum := 9*int(d[0]) + 8*int(d[1]) + 7*int(d[2]) + 6*int(d[3]) +
		5*int(d[4]) + 4*int(d[5]) + 3*int(d[6]) + 2*int(d[7]) -
		int(d[8]) - 43*'0'
	switch {
	case sum == 0 && *d == [9]byte{'0', '0', '0', '0', '0', '0', '0', '0', '0'}:
		return isUnborn
	case sum%11 != 0 && *d == [9]byte{'9', '9', '9', '9', '9', '9', '9', '9', '9'}:
		return isUnknown
	case sum == 0 || sum%11 != 0:
		return badChecksum
	}
	return ok
}

// IsZero reports whether n is the zero Number, which means "no number".
func (n Number) IsZero() bool { return n == Number{} }

// Digits returns the nine digits, such as "123456782", or "" for the zero
// Number: the form to store and to send to whoever may see the number.
func (n Number) Digits() string { return n.String() }

// AppendDigits appends the nine digits to b, or nothing for the zero
// Number, as [Number.Digits] returns them; it does not allocate when b has
// room. It is the form for a keyed hash of the number, such as a pseudonym.
func (n Number) AppendDigits(b []byte) []byte {
	if n.IsZero() {
		return b
	}
	return append(b, n.digits[:]...)
}

// String returns the nine digits, such as "123456782", or "" for the zero
// Number. Use [Number.Masked] wherever the full number is not needed.
func (n Number) String() string {
	if n.IsZero() {
		return ""
	}
	return string(n.digits[:])
}

// Dotted returns the number as Dutch documents print it, such as
// "1234.56.782", or "" for the zero Number.
func (n Number) Dotted() string {
	if n.IsZero() {
		return ""
	}
	d := n.digits
	return string([]byte{d[0], d[1], d[2], d[3], '.', d[4], d[5], '.', d[6], d[7], d[8]})
}

// Masked returns the number with all but its last three digits hidden, such as
// "******782", or "" for the zero Number. It is the form for logs, screens
// that only need to confirm a number, and support conversations.
func (n Number) Masked() string {
	if n.IsZero() {
		return ""
	}
	return "******" + string(n.digits[6:])
}

// LogValue implements [slog.LogValuer]: a Number handed to a logger shows up
// masked, as [Number.Masked] returns it.
func (n Number) LogValue() slog.Value { return slog.StringValue(n.Masked()) }

// AppendText implements [encoding.TextAppender]. It appends the nine digits to
// b, or nothing for the zero Number; it does not allocate when b has room.
func (n Number) AppendText(b []byte) ([]byte, error) {
	if n.IsZero() {
		return b, nil
	}
	return append(b, n.digits[:]...), nil
}

// MarshalText implements [encoding.TextMarshaler]. It returns the nine digits,
// or an empty slice for the zero Number.
func (n Number) MarshalText() ([]byte, error) { return n.AppendText(make([]byte, 0, 9)) }

// UnmarshalText implements [encoding.TextUnmarshaler] with the rules of
// [Parse]. Empty text gives the zero Number, matching [Number.MarshalText].
func (n *Number) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*n = Number{}
		return nil
	}
	p, err := Parse(string(text))
	if err != nil {
		return err
	}
	*n = p
	return nil
}

// Random returns a valid Number drawn from src, uniformly over all valid BSNs:
// every number that [Parse] accepts is equally likely. It is meant for
// fixtures and load tests. If src is nil, Random uses the top-level source of
// math/rand/v2.
//
// Generated numbers are not reserved for testing: some belong to real people.
// Use the fictitious test persons in package bsntest where that matters.
func Random(src rand.Source) Number {
	uint64n := rand.Uint64N
	if src != nil {
		uint64n = rand.New(src).Uint64N
	}
	for {
		// Every eight-digit prefix has at most one check digit d9 in 0…9
		// that makes the weighted sum divisible by 11 (d9 ≡ prefix sum mod
		// 11), so drawing the prefix uniformly and rejecting prefixes
		// without one is uniform over all valid numbers. A prefix sum
		// below 11 would need d9 equal to it: a zero weighted sum.
		prefix := uint64n(100_000_000)
		var n Number
		sum := uint64(0)
		for i := 7; i >= 0; i-- {
			digit := prefix % 10
			prefix /= 10
			n.digits[i] = byte('0' + digit)
			sum += uint64(9-i) * digit
		}
		check := sum % 11
		if check == 10 || sum < 11 {
			continue
		}
		n.digits[8] = byte('0' + check)
		return n
	}
}

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
// # Privacy: one rule for printing
//
// A [Number] shows only its last three digits, as "******782", wherever it is
// printed or encoded without being asked for its digits: [Number.String],
// every verb of package fmt (%v, %+v, %#v, %s, %q, %x, %d, …), also inside a
// struct, slice or map, [log/slog] ([Number.LogValue]), and encoding/json,
// encoding/xml and other encoders that use [Number.MarshalText] or
// [Number.AppendText]; encoding/gob refuses it. Its digits come out only
// through [Number.Digits] (and [Number.AppendDigits], the same without
// allocating, as strconv.AppendInt is to Itoa): the form to store, to send to
// whoever may see the number, and to feed to a keyed hash for a pseudonym.
//
// Where fmt prints by reflection instead of calling a Number's methods (a
// Number in an unexported struct field, %p, which fmt handles before any
// method), it shows the Number's internal value, which is not the digits: a
// Number holds them enciphered under a key drawn at random when the process
// starts. That keeps them out of log lines; it is not encryption to rely on
// against someone who can read the process's memory, and a Number means
// nothing in another process: store the digits, never the Number's bytes.
//
// Encoding is therefore not a round trip. json.Marshal of a struct with a
// Number field gives "******782", and json.Unmarshal of that fails with
// [ErrCharacter]: a struct that holds a BSN is far more often logged or
// returned as JSON by accident than stored as JSON on purpose, and the
// accident must not disclose the number, while the purpose can say so with a
// string field that holds n.Digits(). [Number.UnmarshalText] parses a real
// number as [Parse] does, so a Number field still reads one from a request.
//
// Error values carry the kind of problem and the position of a bad character;
// they never contain the input.
package bsn

import (
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// Number is a valid citizen service number. It is a comparable value; use ==
// to compare two numbers, and use a Number as a map key. It prints masked
// (see the package documentation); [Number.Digits] gives the nine digits.
//
// The zero Number means "no number"; [Number.IsZero] reports it. Every non-zero
// Number was produced by [Parse], [Number.UnmarshalText] or [Random] and passed
// the eleven-proof.
type Number struct {
	// x is the number's value (its nine digits read as an integer),
	// enciphered with the process's key; 0 for the zero Number.
	x uint64
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
	var d [9]byte
	f, pos := scan(s, &d)
	if f != ok {
		if f == badCharacter {
			return Number{}, &Error{Err: ErrCharacter, Pos: pos}
		}
		return Number{}, &Error{Err: faultErrors[f]}
	}
	return fromDigits(&d), nil
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
// Number: the form to store and to send to whoever may see the number. It
// is the one way, with [Number.AppendDigits], to get them; everything else
// prints [Number.Masked].
func (n Number) Digits() string {
	if n.IsZero() {
		return ""
	}
	d := n.digits()
	return string(d[:])
}

// AppendDigits appends the nine digits to b, or nothing for the zero
// Number, as [Number.Digits] returns them; it does not allocate when b has
// room. It is the form for a keyed hash of the number, such as a pseudonym.
func (n Number) AppendDigits(b []byte) []byte {
	if n.IsZero() {
		return b
	}
	d := n.digits()
	return append(b, d[:]...)
}

// Masked returns the number with all but its last three digits hidden, such as
// "******782", or "" for the zero Number. It is the form for logs, screens
// that only need to confirm a number, and support conversations.
func (n Number) Masked() string {
	if n.IsZero() {
		return ""
	}
	d := n.digits()
	return string([]byte{'*', '*', '*', '*', '*', '*', d[6], d[7], d[8]})
}

// String returns [Number.Masked]: a Number printed by accident shows only
// its last three digits. Use [Number.Digits] for the number itself.
func (n Number) String() string { return n.Masked() }

// Format implements [fmt.Formatter]: every verb prints [Number.Masked], with
// the verb's width and flags; %q quotes it, and %#v prints
// bsn.Number("******782").
func (n Number) Format(f fmt.State, verb rune) {
	m := n.Masked()
	switch {
	case verb == 'v' && f.Flag('#'):
		m = `bsn.Number(` + strconv.Quote(m) + `)`
	case verb == 'q':
		m = strconv.Quote(m)
	}
	// Width and the '-' flag pad the text; precision, '+', '#', ' ' and
	// '0' do not apply to it.
	w, hasWidth := f.Width()
	pad := 0
	if hasWidth {
		pad = w - utf8.RuneCountInString(m)
	}
	if f.Flag('-') {
		fmt.Fprint(f, m)
		writeSpaces(f, pad)
		return
	}
	writeSpaces(f, pad)
	fmt.Fprint(f, m)
}

func writeSpaces(f fmt.State, n int) {
	for ; n > 0; n-- {
		f.Write([]byte{' '})
	}
}

// LogValue implements [slog.LogValuer]: a Number handed to a logger shows up
// masked, as [Number.Masked] returns it.
func (n Number) LogValue() slog.Value { return slog.StringValue(n.Masked()) }

// AppendText implements [encoding.TextAppender]. It appends [Number.Masked]
// to b: encoders print a Number masked, as fmt does (see the package
// documentation). Use [Number.AppendDigits] for the digits.
func (n Number) AppendText(b []byte) ([]byte, error) {
	if n.IsZero() {
		return b, nil
	}
	d := n.digits()
	return append(b, '*', '*', '*', '*', '*', '*', d[6], d[7], d[8]), nil
}

// MarshalText implements [encoding.TextMarshaler]. It returns
// [Number.Masked], or an empty slice for the zero Number, so that JSON and
// other encodings of a value holding a Number show it masked; the result
// does not parse back (see the package documentation). Store
// [Number.Digits] instead.
func (n Number) MarshalText() ([]byte, error) { return n.AppendText(make([]byte, 0, 9)) }

// UnmarshalText implements [encoding.TextUnmarshaler] with the rules of
// [Parse]. Empty text gives the zero Number. The masked form that
// MarshalText returns is not a number and gives an error wrapping
// [ErrCharacter].
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

// The digits of a Number are kept enciphered: its value v < 10⁹ (the nine
// digits read as an integer) goes through a four-round Feistel network on
// two 32-bit halves, with round keys drawn from crypto/rand when the
// process starts. That is a permutation of the 64-bit values, so equal
// numbers have equal Numbers and == works, and it costs a few nanoseconds.
// The keys are chosen so that no valid number enciphers to 0, the zero
// Number.
var roundKeys = func() [4]uint64 {
	for {
		var b [32]byte
		if _, err := crand.Read(b[:]); err != nil {
			panic("bsn: reading random keys: " + err.Error())
		}
		var k [4]uint64
		for i := range k {
			k[i] = binary.LittleEndian.Uint64(b[8*i:])
		}
		if decipher(&k, 0) >= 1_000_000_000 {
			return k
		}
	}
}()

// round is the Feistel round function: 32 bits of the SplitMix64
// finaliser of the half and the round key.
func round(k uint64, half uint32) uint32 {
	x := uint64(half) ^ k
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return uint32(x)
}

func encipher(k *[4]uint64, v uint64) uint64 {
	l, r := uint32(v>>32), uint32(v)
	for i := range k {
		l, r = r, l^round(k[i], r)
	}
	return uint64(l)<<32 | uint64(r)
}

func decipher(k *[4]uint64, x uint64) uint64 {
	l, r := uint32(x>>32), uint32(x)
	for i := len(k) - 1; i >= 0; i-- {
		l, r = r^round(k[i], l), l
	}
	return uint64(l)<<32 | uint64(r)
}

// fromDigits returns the Number of nine valid ASCII digits.
func fromDigits(d *[9]byte) Number {
	var v uint64
	for _, c := range d {
		v = v*10 + uint64(c-'0')
	}
	return Number{x: encipher(&roundKeys, v)}
}

// digits returns the nine ASCII digits of a non-zero Number.
func (n Number) digits() [9]byte {
	v := decipher(&roundKeys, n.x)
	var d [9]byte
	for i := 8; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return d
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
		var d [9]byte
		sum := uint64(0)
		for i := 7; i >= 0; i-- {
			digit := prefix % 10
			prefix /= 10
			d[i] = byte('0' + digit)
			sum += uint64(9-i) * digit
		}
		check := sum % 11
		if check == 10 || sum < 11 {
			continue
		}
		d[8] = byte('0' + check)
		return fromDigits(&d)
	}
}

// Package canon writes and strictly reads the canonical JSON that package
// consent and its subpackages MAC: written out here, so that the bytes never
// depend on encoding/json's choices, which have changed between Go releases
// (such as the escaping of \b and \f in Go 1.22).
//
// A value is a JSON object (RFC 8259) whose members come in a fixed order,
// without white space. Strings are escaped as in RFC 8785 (the JSON
// Canonicalization Scheme), section 3.2.2.2: the quotation mark, the
// backslash and U+0000 to U+001F, these as \b, \t, \n, \f, \r or \u00xx;
// everything else as itself. Numbers are unsigned decimal integers without
// leading zeros. Times are RFC 3339 strings in UTC with up to nine fraction
// digits and no trailing zeros. [V1] escapes as encoding/json of Go 1.22 to
// 1.26 did, for reading what was written then.
//
// The [Reader] expects the members in order and decodes escapes whatever
// their form; callers encode what they read again and compare, so that a
// value is accepted only in its one canonical form.
package canon

import (
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// The escaping versions of [Writer.Format].
const (
	V1 = 1 // as encoding/json of Go 1.22 to 1.26: also <, >, &, U+2028, U+2029
	V2 = 2 // RFC 8785
)

// The range of times written and read: [MinTime, MaxTime).
var (
	MinTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Writer appends canonical JSON to B.
type Writer struct {
	B      []byte
	Format int // V1 or V2 (the zero value writes V2)
	first  bool
}

// Open starts an object.
func (w *Writer) Open() {
	w.B = append(w.B, '{')
	w.first = true
}

// Close ends an object.
func (w *Writer) Close() {
	w.B = append(w.B, '}')
	w.first = false
}

// Key writes a member name, and the comma before it when needed.
func (w *Writer) Key(name string) {
	if !w.first {
		w.B = append(w.B, ',')
	}
	w.first = false
	w.B = append(w.B, '"')
	w.B = append(w.B, name...)
	w.B = append(w.B, '"', ':')
}

// String writes a string member.
func (w *Writer) String(name, value string) {
	w.Key(name)
	w.Str(value)
}

// Optional writes a string member unless the value is empty.
func (w *Writer) Optional(name, value string) {
	if value != "" {
		w.String(name, value)
	}
}

// Uint writes a number member.
func (w *Writer) Uint(name string, n uint64) {
	w.Key(name)
	w.B = strconv.AppendUint(w.B, n, 10)
}

// Bool writes a member true, or nothing for false.
func (w *Writer) Bool(name string, b bool) {
	if b {
		w.Key(name)
		w.B = append(w.B, "true"...)
	}
}

// Time writes a time member; a zero time is left out when optional.
func (w *Writer) Time(name string, t time.Time, optional bool) {
	if t.IsZero() && optional {
		return
	}
	w.Key(name)
	w.B = append(w.B, '"')
	w.B = AppendTime(w.B, t)
	w.B = append(w.B, '"')
}

// Array starts an array member; call Next before each element and End
// after the last.
func (w *Writer) Array(name string) {
	w.Key(name)
	w.B = append(w.B, '[')
	w.first = true
}

// Next writes the comma before an element when needed.
func (w *Writer) Next() {
	if !w.first {
		w.B = append(w.B, ',')
	}
	w.first = true // the element's own Open resets it
}

// End ends an array.
func (w *Writer) End() {
	w.B = append(w.B, ']')
	w.first = false
}

const hexDigits = "0123456789abcdef"

// Str writes a JSON string value. Version 2 escapes as RFC 8785 (JSON
// Canonicalization Scheme) section 3.2.2.2 does: the quote, the backslash
// and the control characters U+0000 to U+001F, the latter as \b, \t, \n, \f,
// \r or \u00xx; everything else is written as itself. Version 1 escapes as
// encoding/json did: also <, > and & as \u003c, \u003e, \u0026, U+2028 and
// U+2029 as \u2028 and \u2029, and invalid UTF-8 as \ufffd.
func (w *Writer) Str(s string) {
	b := append(w.B, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (w.Format != V1 || c != '<' && c != '>' && c != '&') {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\t':
				b = append(b, '\\', 't')
			case '\n':
				b = append(b, '\\', 'n')
			case '\f':
				b = append(b, '\\', 'f')
			case '\r':
				b = append(b, '\\', 'r')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if w.Format == V1 && (r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029') {
			b = append(b, s[start:i]...)
			switch r {
			case '\u2028':
				b = append(b, `\u2028`...)
			case '\u2029':
				b = append(b, `\u2029`...)
			default:
				b = append(b, `\ufffd`...)
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	w.B = append(b, '"')
}

// AppendTime appends t in UTC as YYYY-MM-DDThh:mm:ss, a fraction of one to
// nine digits without trailing zeros if t has one, and Z. Only years 0000 to
// 9999 have this form; callers keep times within [MinTime, MaxTime).
func AppendTime(b []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(b, time.RFC3339Nano)
}

// ErrSyntax is the error of every malformed value; the Reader's error says
// where.
var ErrSyntax = errors.New("not canonical JSON")

// Reader reads canonical JSON strictly: it expects the members in order and
// rejects anything else. After the first error every method does nothing;
// [Reader.Err] returns it.
type Reader struct {
	b   []byte
	i   int
	err error
}

// NewReader returns a Reader of b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Err returns the first error.
func (r *Reader) Err() error { return r.err }

// Fail records an error at the current position, unless there is one.
func (r *Reader) Fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s at byte %d", ErrSyntax, what, r.i)
	}
}

func (r *Reader) byte(c byte) {
	if r.err != nil {
		return
	}
	if r.i >= len(r.b) || r.b[r.i] != c {
		r.Fail(fmt.Sprintf("expected %q", c))
		return
	}
	r.i++
}

// Open reads the start of an object.
func (r *Reader) Open() { r.byte('{') }

// Close reads the end of an object.
func (r *Reader) Close() { r.byte('}') }

// Done checks that nothing follows the value.
func (r *Reader) Done() {
	if r.err == nil && r.i != len(r.b) {
		r.Fail("trailing data")
	}
}

// Has reports whether the next member is name (after a comma unless first),
// without consuming it.
func (r *Reader) Has(name string, first bool) bool {
	if r.err != nil {
		return false
	}
	i := r.i
	if !first {
		if i >= len(r.b) || r.b[i] != ',' {
			return false
		}
		i++
	}
	n := len(name)
	return i+n+3 <= len(r.b) && r.b[i] == '"' && string(r.b[i+1:i+1+n]) == name && r.b[i+1+n] == '"' && r.b[i+2+n] == ':'
}

// Key reads the member name, which must be next.
func (r *Reader) Key(name string, first bool) {
	if r.err != nil {
		return
	}
	if !r.Has(name, first) {
		r.Fail("expected member " + name)
		return
	}
	if !first {
		r.i++
	}
	r.i += len(name) + 3
}

// String reads a string member.
func (r *Reader) String(name string, first bool) string {
	r.Key(name, first)
	return r.Str()
}

// Optional reads a string member if it is next (never first), else returns
// "".
func (r *Reader) Optional(name string) string {
	if !r.Has(name, false) {
		return ""
	}
	return r.String(name, false)
}

// Uint reads a number member.
func (r *Reader) Uint(name string, first bool) uint64 {
	r.Key(name, first)
	if r.err != nil {
		return 0
	}
	start := r.i
	for r.i < len(r.b) && '0' <= r.b[r.i] && r.b[r.i] <= '9' {
		r.i++
	}
	n, err := strconv.ParseUint(string(r.b[start:r.i]), 10, 64)
	if err != nil || r.b[start] == '0' && r.i-start > 1 {
		r.Fail("expected an unsigned integer")
		return 0
	}
	return n
}

// Bool reads a member true if it is next (never first), else returns false.
func (r *Reader) Bool(name string) bool {
	if !r.Has(name, false) {
		return false
	}
	r.Key(name, false)
	if r.err == nil && !bytesHasPrefix(r.b[r.i:], "true") {
		r.Fail("expected true")
		return false
	}
	r.i += 4
	return r.err == nil
}

func bytesHasPrefix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[:len(s)]) == s
}

// Time reads a time member; an optional one may be absent (zero).
func (r *Reader) Time(name string, first, optional bool) time.Time {
	if optional && !r.Has(name, first) {
		return time.Time{}
	}
	s := r.String(name, first)
	if r.err != nil {
		return time.Time{}
	}
	t, err := ParseTime(s)
	if err != nil {
		r.Fail(err.Error())
	}
	return t
}

// Array reads the start of an array member.
func (r *Reader) Array(name string, first bool) {
	r.Key(name, first)
	r.byte('[')
}

// Next reports whether another element follows, reading the comma before
// it, or reads the end of the array and returns false.
func (r *Reader) Next(first bool) bool {
	if r.err != nil {
		return false
	}
	if r.i < len(r.b) && r.b[r.i] == ']' {
		r.i++
		return false
	}
	if !first {
		r.byte(',')
	}
	return r.err == nil
}

// ParseTime parses a time written by AppendTime, within [MinTime, MaxTime),
// and rejects any other form.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time is not RFC 3339")
	}
	t = t.UTC()
	if t.Before(MinTime) || !t.Before(MaxTime) {
		return time.Time{}, fmt.Errorf("time is out of range")
	}
	if string(AppendTime(nil, t)) != s {
		return time.Time{}, fmt.Errorf("time is not in canonical form")
	}
	return t, nil
}

// Str reads a JSON string value and decodes its escapes.
func (r *Reader) Str() string {
	if r.err != nil {
		return ""
	}
	r.byte('"')
	start := r.i
	// Fast path: no escapes.
	for r.i < len(r.b) {
		c := r.b[r.i]
		if c == '"' {
			s := string(r.b[start:r.i])
			r.i++
			if !utf8.ValidString(s) {
				r.Fail("invalid UTF-8")
			}
			return s
		}
		if c == '\\' || c < 0x20 {
			break
		}
		r.i++
	}
	buf := append([]byte(nil), r.b[start:r.i]...)
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			r.i++
			if !utf8.Valid(buf) {
				r.Fail("invalid UTF-8")
			}
			return string(buf)
		case c < 0x20:
			r.Fail("control character in a string")
			return ""
		case c != '\\':
			buf = append(buf, c)
			r.i++
			continue
		}
		if r.i+1 >= len(r.b) {
			break
		}
		esc := r.b[r.i+1]
		r.i += 2
		switch esc {
		case '"', '\\', '/':
			buf = append(buf, esc)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			c1, ok := r.hex4()
			if !ok {
				return ""
			}
			if 0xd800 <= c1 && c1 < 0xdc00 && r.i+1 < len(r.b) && r.b[r.i] == '\\' && r.b[r.i+1] == 'u' {
				r.i += 2
				c2, ok := r.hex4()
				if !ok {
					return ""
				}
				buf = utf8.AppendRune(buf, combineSurrogates(c1, c2))
				continue
			}
			buf = utf8.AppendRune(buf, c1) // a lone surrogate becomes U+FFFD
		default:
			r.Fail("unknown escape")
			return ""
		}
	}
	r.Fail("unterminated string")
	return ""
}

func (r *Reader) hex4() (rune, bool) {
	if r.i+4 > len(r.b) {
		r.Fail("short \\u escape")
		return 0, false
	}
	n, err := strconv.ParseUint(string(r.b[r.i:r.i+4]), 16, 32)
	if err != nil {
		r.Fail("bad \\u escape")
		return 0, false
	}
	r.i += 4
	return rune(n), true
}

func combineSurrogates(hi, lo rune) rune {
	if lo < 0xdc00 || lo >= 0xe000 {
		return utf8.RuneError
	}
	return 0x10000 + (hi-0xd800)<<10 + (lo - 0xdc00)
}

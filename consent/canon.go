package consent

import (
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// This file holds the canonical JSON that the package MACs: a writer and a
// strict reader, written out here so that the bytes never depend on
// encoding/json's choices, which have changed between Go releases (such as
// the escaping of \b and \f in Go 1.22). See [Event] for the rules.

// The encoding versions. Version 1 is what stores written before version 2
// hold: the member order of version 2, strings escaped as encoding/json of
// Go 1.22 to 1.26 escaped them. It is read, never written.
const (
	formatV1 = 1
	formatV2 = 2
)

// writer appends canonical JSON to b.
type writer struct {
	b      []byte
	format int
	first  bool // no member written yet in the current object
}

func (w *writer) open() {
	w.b = append(w.b, '{')
	w.first = true
}

func (w *writer) close() {
	w.b = append(w.b, '}')
	w.first = false
}

func (w *writer) key(name string) {
	if !w.first {
		w.b = append(w.b, ',')
	}
	w.first = false
	w.b = append(w.b, '"')
	w.b = append(w.b, name...)
	w.b = append(w.b, '"', ':')
}

// member writes a string member.
func (w *writer) member(name, value string) {
	w.key(name)
	w.str(value)
}

// optional writes a string member unless the value is empty.
func (w *writer) optional(name, value string) {
	if value != "" {
		w.member(name, value)
	}
}

func (w *writer) uint(name string, n uint64) {
	w.key(name)
	w.b = strconv.AppendUint(w.b, n, 10)
}

// time writes a time member; zero times are left out when optional.
func (w *writer) time(name string, t time.Time, optional bool) {
	if t.IsZero() && optional {
		return
	}
	w.key(name)
	w.b = append(w.b, '"')
	w.b = appendTime(w.b, t)
	w.b = append(w.b, '"')
}

const hexDigits = "0123456789abcdef"

// str writes a JSON string. Version 2 escapes as RFC 8785 (JSON
// Canonicalization Scheme) section 3.2.2.2 does: the quote, the backslash
// and the control characters U+0000 to U+001F, the latter as \b, \t, \n, \f,
// \r or \u00xx; everything else is written as itself. Version 1 escapes as
// encoding/json did: also <, > and & as \u003c, \u003e, \u0026, U+2028 and
// U+2029 as \u2028 and \u2029, and invalid UTF-8 as \ufffd.
func (w *writer) str(s string) {
	b := append(w.b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (w.format != formatV1 || c != '<' && c != '>' && c != '&') {
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
		if w.format == formatV1 && (r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029') {
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
	w.b = append(b, '"')
}

// appendTime appends t in UTC as YYYY-MM-DDThh:mm:ss, a fraction of one to
// nine digits without trailing zeros if t has one, and Z. Only years 0000 to
// 9999 have this form; validation keeps times within [MinTime, MaxTime).
func appendTime(b []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(b, time.RFC3339Nano)
}

// errSyntax is the error of every malformed payload; the reader says where.
var errSyntax = errors.New("not canonical JSON")

// reader reads canonical JSON written by writer, strictly: it expects the
// members in order and rejects anything else. Escapes are decoded whatever
// their form; the caller re-encodes what it read and compares, so that a
// payload is accepted only in its one canonical form.
type reader struct {
	b   []byte
	i   int
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s at byte %d", errSyntax, what, r.i)
	}
}

func (r *reader) byte(c byte) {
	if r.err != nil {
		return
	}
	if r.i >= len(r.b) || r.b[r.i] != c {
		r.fail(fmt.Sprintf("expected %q", c))
		return
	}
	r.i++
}

func (r *reader) open() { r.byte('{') }

func (r *reader) close() { r.byte('}') }

// done checks that nothing follows the value.
func (r *reader) done() {
	if r.err == nil && r.i != len(r.b) {
		r.fail("trailing data")
	}
}

// has reports whether the next member is name (after a comma unless first),
// without consuming it.
func (r *reader) has(name string, first bool) bool {
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

// key consumes the member name, which must be next.
func (r *reader) key(name string, first bool) {
	if r.err != nil {
		return
	}
	if !r.has(name, first) {
		r.fail("expected member " + name)
		return
	}
	if !first {
		r.i++
	}
	r.i += len(name) + 3
}

func (r *reader) member(name string, first bool) string {
	r.key(name, first)
	return r.str()
}

// optional reads a string member if it is next, else returns "".
func (r *reader) optional(name string) string {
	if !r.has(name, false) {
		return ""
	}
	return r.member(name, false)
}

func (r *reader) uint(name string, first bool) uint64 {
	r.key(name, first)
	if r.err != nil {
		return 0
	}
	start := r.i
	for r.i < len(r.b) && '0' <= r.b[r.i] && r.b[r.i] <= '9' {
		r.i++
	}
	n, err := strconv.ParseUint(string(r.b[start:r.i]), 10, 64)
	if err != nil || r.b[start] == '0' && r.i-start > 1 {
		r.fail("expected an unsigned integer")
		return 0
	}
	return n
}

func (r *reader) time(name string, first, optional bool) time.Time {
	if optional && !r.has(name, first) {
		return time.Time{}
	}
	s := r.member(name, first)
	if r.err != nil {
		return time.Time{}
	}
	t, err := parseTime(s)
	if err != nil {
		r.fail(err.Error())
	}
	return t
}

// parseTime parses a time written by appendTime, within [MinTime, MaxTime),
// and rejects any other form.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time is not RFC 3339")
	}
	t = t.UTC()
	if t.Before(MinTime) || !t.Before(MaxTime) {
		return time.Time{}, fmt.Errorf("time is out of range")
	}
	if string(appendTime(nil, t)) != s {
		return time.Time{}, fmt.Errorf("time is not in canonical form")
	}
	return t, nil
}

// str reads a JSON string and decodes its escapes.
func (r *reader) str() string {
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
				r.fail("invalid UTF-8")
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
				r.fail("invalid UTF-8")
			}
			return string(buf)
		case c < 0x20:
			r.fail("control character in a string")
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
			r.fail("unknown escape")
			return ""
		}
	}
	r.fail("unterminated string")
	return ""
}

func (r *reader) hex4() (rune, bool) {
	if r.i+4 > len(r.b) {
		r.fail("short \\u escape")
		return 0, false
	}
	n, err := strconv.ParseUint(string(r.b[r.i:r.i+4]), 16, 32)
	if err != nil {
		r.fail("bad \\u escape")
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

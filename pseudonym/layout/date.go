package layout

import "encoding/binary"

// A date is a day of the Gregorian calendar. It is small (8 bytes), as
// check keeps one per column of a row on the stack.
type date struct {
	year       int32
	month, day uint8
}

// key orders dates: a date is before another if its key is smaller.
func (d date) key() int32 { return d.year<<9 | int32(d.month)<<5 | int32(d.day) }

func (d date) before(e date) bool { return d.key() < e.key() }

// ageOn returns the age in whole years on the date on of someone born on
// birth, as package pseudonym counts it (born on 29 February: a year older
// on 1 March in a common year).
func ageOn(birth, on date) int {
	age := int(on.year - birth.year)
	if on.month < birth.month || on.month == birth.month && on.day < birth.day {
		age--
	}
	return age
}

// A dateFormat is a date format of a layout, such as "DD-MM-YYYY": fields
// YYYY, MM or M, DD or D, and separators between them. A format whose
// fields all have a fixed number of digits (all but M and D) has a fixed
// length, and is read by position: see fixedFormat.
type dateFormat struct {
	tokens []dateToken
	fixed  *fixedFormat // nil for a format of variable length
}

// A fixedFormat is a date format of fixed length, read by position.
type fixedFormat struct {
	length           int
	year, month, day int    // offsets of the fields (4, 2 and 2 digits)
	separators       []int  // offsets of the separators
	separatorBytes   []byte // the separators at those offsets
	// For a length of 8 to 16 (every fixed format of a day, month and
	// year): the two 8-byte words at the start and at the end of a date,
	// with 0xff at their digits and at their separators, and the
	// separators' bytes (see parseWords).
	words              bool
	digits, seps, want [2]uint64
}

// setWords fills in the words of a fixed format.
func (fx *fixedFormat) setWords() {
	if fx.length < 8 || fx.length > 16 {
		return
	}
	var digits, seps, want [16]byte
	for _, p := range []int{fx.year, fx.year + 1, fx.year + 2, fx.year + 3, fx.month, fx.month + 1, fx.day, fx.day + 1} {
		digits[p] = 0xff
	}
	for k, i := range fx.separators {
		seps[i], want[i] = 0xff, fx.separatorBytes[k]
	}
	for w, off := range [2]int{0, fx.length - 8} {
		fx.digits[w] = binary.LittleEndian.Uint64(digits[off:])
		fx.seps[w] = binary.LittleEndian.Uint64(seps[off:])
		fx.want[w] = binary.LittleEndian.Uint64(want[off:])
	}
	fx.words = true
}

type dateToken struct {
	field     byte // 'Y', 'M', 'D', or 0 for a separator
	min, max  int  // digits of a field
	separator byte
}

func parseDateFormat(s string) (dateFormat, bool) {
	f, ok := parseDateTokens(s)
	if !ok {
		return dateFormat{}, false
	}
	df := dateFormat{tokens: f}
	fx := &fixedFormat{}
	for _, t := range f {
		switch {
		case t.min != t.max:
			fx = nil
		case fx == nil:
		case t.field == 0:
			fx.separators = append(fx.separators, fx.length)
			fx.separatorBytes = append(fx.separatorBytes, t.separator)
			fx.length++
			continue
		case t.field == 'Y':
			fx.year = fx.length
		case t.field == 'M':
			fx.month = fx.length
		case t.field == 'D':
			fx.day = fx.length
		}
		if fx != nil {
			fx.length += t.max
		}
	}
	if fx != nil {
		fx.setWords()
	}
	df.fixed = fx
	return df, true
}

func parseDateTokens(s string) ([]dateToken, bool) {
	var f []dateToken
	seen := map[byte]bool{}
	for len(s) > 0 {
		switch {
		case len(s) >= 4 && s[:4] == "YYYY":
			f, s = append(f, dateToken{field: 'Y', min: 4, max: 4}), s[4:]
		case len(s) >= 2 && (s[:2] == "MM" || s[:2] == "DD"):
			f, s = append(f, dateToken{field: s[0], min: 2, max: 2}), s[2:]
		case s[0] == 'M' || s[0] == 'D':
			f, s = append(f, dateToken{field: s[0], min: 1, max: 2}), s[1:]
		case s[0] == '-' || s[0] == '/' || s[0] == '.':
			f, s = append(f, dateToken{separator: s[0]}), s[1:]
		default:
			return nil, false
		}
		if t := f[len(f)-1]; t.field != 0 {
			if seen[t.field] {
				return nil, false
			}
			seen[t.field] = true
		}
	}
	// Two fields of variable length side by side cannot be told apart.
	for i := 1; i < len(f); i++ {
		if f[i].field != 0 && f[i-1].field != 0 && (f[i].min != f[i].max || f[i-1].min != f[i-1].max) {
			return nil, false
		}
	}
	return f, len(seen) == 3
}

// parse reads a date in the format, and checks that the day exists.
func (f dateFormat) parse(s string) (date, bool) { return f.parseBytes([]byte(s)) }

func (f dateFormat) parseBytes(b []byte) (date, bool) {
	if fx := f.fixed; fx != nil {
		return fx.parse(b)
	}
	var d date
	for _, t := range f.tokens {
		if t.field == 0 {
			if len(b) == 0 || b[0] != t.separator {
				return date{}, false
			}
			b = b[1:]
			continue
		}
		n, v := 0, 0
		for n < t.max && n < len(b) && '0' <= b[n] && b[n] <= '9' {
			v = v*10 + int(b[n]-'0')
			n++
		}
		if n < t.min {
			return date{}, false
		}
		b = b[n:]
		switch t.field {
		case 'Y':
			d.year = int32(v)
		case 'M':
			d.month = uint8(v)
		case 'D':
			d.day = uint8(v)
		}
	}
	if len(b) > 0 {
		return date{}, false
	}
	return d, d.exists()
}

// parse reads a date of the fixed format: by position, its length first,
// so that a date in another format is turned down at once.
func (fx *fixedFormat) parse(b []byte) (date, bool) {
	if len(b) != fx.length {
		return date{}, false
	}
	if fx.words {
		return fx.parseWords(b)
	}
	for k, i := range fx.separators {
		if b[i] != fx.separatorBytes[k] {
			return date{}, false
		}
	}
	y, ok1 := digits4(b[fx.year:])
	m, ok2 := digits2(b[fx.month:])
	d, ok3 := digits2(b[fx.day:])
	if !ok1 || !ok2 || !ok3 {
		return date{}, false
	}
	dt := date{year: int32(y), month: uint8(m), day: uint8(d)}
	return dt, dt.exists()
}

// parseWords is parse for a format with words: two loads of eight bytes
// test every separator and digit at once.
func (fx *fixedFormat) parseWords(b []byte) (date, bool) {
	for w, x := range [2]uint64{binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[len(b)-8:])} {
		if x&fx.seps[w] != fx.want[w] {
			return date{}, false
		}
		// A byte is a digit if it is 0 to 9 after the xor with '0': a
		// high bit in it or in it plus 0x76 (its high bit cleared first,
		// so that no sum carries into the next byte) says it is not.
		t := x ^ 0x3030303030303030
		if (((t&0x7f7f7f7f7f7f7f7f)+0x7676767676767676)|t)&0x8080808080808080&fx.digits[w] != 0 {
			return date{}, false
		}
	}
	y := int(b[fx.year]-'0')*1000 + int(b[fx.year+1]-'0')*100 + int(b[fx.year+2]-'0')*10 + int(b[fx.year+3]-'0')
	dt := date{year: int32(y), month: (b[fx.month]-'0')*10 + b[fx.month+1] - '0', day: (b[fx.day]-'0')*10 + b[fx.day+1] - '0'}
	return dt, dt.exists()
}

// digits2 and digits4 read two and four ASCII digits at the start of b,
// which has them.
func digits2(b []byte) (int, bool) {
	d0, d1 := b[0]-'0', b[1]-'0'
	return int(d0)*10 + int(d1), d0 <= 9 && d1 <= 9
}

func digits4(b []byte) (int, bool) {
	hi, ok1 := digits2(b)
	lo, ok2 := digits2(b[2:])
	return hi*100 + lo, ok1 && ok2
}

// exists reports whether the date is a day of the calendar.
func (d date) exists() bool {
	return d.month >= 1 && d.month <= 12 && d.day >= 1 && int(d.day) <= daysIn(int(d.month), int(d.year))
}

// parseDate reads a date in one of the layout's formats.
func (l *Layout) parseDate(b []byte) (date, bool) {
	for i := range l.dateFormats {
		f := &l.dateFormats[i]
		if fx := f.fixed; fx != nil {
			// What parseBytes does, without its calls for a date of
			// another length.
			if len(b) == fx.length {
				if d, ok := fx.parse(b); ok {
					return d, true
				}
			}
			continue
		}
		if d, ok := f.parseBytes(b); ok {
			return d, true
		}
	}
	return date{}, false
}

// daysIn returns the number of days of a month in the Gregorian calendar.
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

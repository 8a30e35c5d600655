package layout

// A date is a day of the Gregorian calendar.
type date struct{ year, month, day int }

func (d date) before(e date) bool {
	if d.year != e.year {
		return d.year < e.year
	}
	if d.month != e.month {
		return d.month < e.month
	}
	return d.day < e.day
}

// ageOn returns the age in whole years on the date on of someone born on
// birth, as package pseudonym counts it (born on 29 February: a year older
// on 1 March in a common year).
func ageOn(birth, on date) int {
	age := on.year - birth.year
	if on.month < birth.month || on.month == birth.month && on.day < birth.day {
		age--
	}
	return age
}

// A dateFormat is a date format of a layout, such as "DD-MM-YYYY": fields
// YYYY, MM or M, DD or D, and separators between them.
type dateFormat []dateToken

type dateToken struct {
	field     byte // 'Y', 'M', 'D', or 0 for a separator
	min, max  int  // digits of a field
	separator byte
}

func parseDateFormat(s string) (dateFormat, bool) {
	var f dateFormat
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
	var d date
	for _, t := range f {
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
			d.year = v
		case 'M':
			d.month = v
		case 'D':
			d.day = v
		}
	}
	if len(b) > 0 || d.month < 1 || d.month > 12 || d.day < 1 || d.day > daysIn(d.month, d.year) {
		return date{}, false
	}
	return d, true
}

// parseDate reads a date in one of the layout's formats.
func (l *Layout) parseDate(b []byte) (date, bool) {
	for _, f := range l.dateFormats {
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

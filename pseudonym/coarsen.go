package pseudonym

import (
	"errors"
	"strconv"
	"time"
)

// Errors of the coarsening helpers. None of them contains the input.
var (
	// ErrPostcode means the text is not a Dutch postcode: four digits, the
	// first not 0, optionally a space and two letters (not SA, SD or SS).
	ErrPostcode = errors.New("pseudonym: invalid postcode: want four digits and two letters, such as 1012 JS")

	// ErrBirthDate means a date of birth lies after the date an age is
	// computed on.
	ErrBirthDate = errors.New("pseudonym: date of birth after the reference date: check the date or the reference date")

	// ErrAgeBands means the lower limits of age bands are not positive and
	// strictly increasing.
	ErrAgeBands = errors.New("pseudonym: invalid age bands: give the lower limits after 0 in increasing order, such as 4, 12, 18, 23")
)

// youthAgeBands are the age groups of CBS youth-care statistics: 0 to 4, 4
// to 12, 12 to 18 and 18 to 23 years, and older.
var youthAgeBands = []int{4, 12, 18, 23}

// PC4 coarsens a Dutch postcode to its four digits (PC6 "1234 AB" → PC4
// "1234"). It accepts upper- or lower-case letters, with or without a space,
// surrounding spaces, and a postcode that is already PC4.
func PC4(postcode string) (string, error) {
	i, ok := pc4(postcode)
	if !ok {
		return "", ErrPostcode
	}
	return postcode[i : i+4], nil
}

// pc4 returns the offset of the four digits of the postcode s.
func pc4[T string | []byte](s T) (int, bool) {
	start, end := 0, len(s)
	for start < end && s[start] == ' ' {
		start++
	}
	for end > start && s[end-1] == ' ' {
		end--
	}
	p := s[start:end]
	if len(p) < 4 || p[0] < '1' || p[0] > '9' || !isDigit(p[1]) || !isDigit(p[2]) || !isDigit(p[3]) {
		return 0, false
	}
	letters := p[4:]
	if len(letters) == 3 && letters[0] == ' ' {
		letters = letters[1:]
	}
	switch {
	case len(letters) == 0:
		return start, true
	case len(letters) != 2 || !isLetter(letters[0]) || !isLetter(letters[1]):
		return 0, false
	}
	// SA, SD and SS are not issued.
	if a, b := letters[0]|0x20, letters[1]|0x20; a == 's' && (b == 'a' || b == 'd' || b == 's') {
		return 0, false
	}
	return start, true
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// AgeBand returns the age band of someone born on birth, on the date on, as
// a label such as "12-17" or "23+". The bands start at 0; limits are the
// lower limits of the others, in increasing order. Without limits AgeBand
// uses the groups of CBS youth-care statistics: 0-3, 4-11, 12-17, 18-22 and
// 23+.
//
// Age is counted in whole years, in the calendar of the dates given: someone
// born on 29 February turns a year older on 1 March in a common year.
func AgeBand(birth, on time.Time, limits ...int) (string, error) {
	bands, err := newAgeBands(limits)
	if err != nil {
		return "", err
	}
	by, bm, bd := birth.Date()
	oy, om, od := on.Date()
	age := ageOn(date{by, int(bm), bd}, date{oy, int(om), od})
	if age < 0 {
		return "", ErrBirthDate
	}
	return bands.label(age), nil
}

// ageBands maps an age to its label.
type ageBands struct {
	limits []int
	labels []string // labels[i] for ages below limits[i]; the last for the rest
}

func newAgeBands(limits []int) (*ageBands, error) {
	if len(limits) == 0 {
		limits = youthAgeBands
	}
	b := &ageBands{limits: append([]int(nil), limits...)}
	lo := 0
	for _, hi := range b.limits {
		if hi <= lo {
			return nil, ErrAgeBands
		}
		b.labels = append(b.labels, strconv.Itoa(lo)+"-"+strconv.Itoa(hi-1))
		lo = hi
	}
	b.labels = append(b.labels, strconv.Itoa(lo)+"+")
	return b, nil
}

// label returns the band of a non-negative age.
func (b *ageBands) label(age int) string {
	for i, hi := range b.limits {
		if age < hi {
			return b.labels[i]
		}
	}
	return b.labels[len(b.limits)]
}

// ageOn returns the age in whole years on the date on of someone born on
// birth; it is negative if birth is after on.
func ageOn(birth, on date) int {
	age := on.year - birth.year
	if on.month < birth.month || on.month == birth.month && on.day < birth.day {
		age--
	}
	return age
}

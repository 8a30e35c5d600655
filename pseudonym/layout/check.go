package layout

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/zorgkit/zorgkit/bsn"
	"github.com/zorgkit/zorgkit/pseudonym"
)

// typ is the type of a column.
type typ uint8

const (
	typeText typ = iota
	typeBSN
	typeDate
	typeInteger
	typeCode
	typePostcode
)

var typeNames = [...]string{"text", "bsn", "date", "integer", "code", "postcode"}

func (t typ) String() string { return typeNames[t] }

// column is a compiled column.
type column struct {
	name                string
	names               []string // name and aliases, as the layout writes them
	required, mandatory bool
	typ                 typ
	severity            pseudonym.Severity
	codes               []Code
	codeSet             map[string]bool // by codeKey
	// The same codes for a quick look-up: codes of digits below 64 as a
	// bit set, and for a short list the other codes' keys, to compare one
	// by one (faster than hashing a value for a handful of codes).
	smallDigits      uint64
	otherKeys        []string // nil for a long list: use codeSet
	min, max         int64
	minDate, maxDate date
	minLen, maxLen   int
	chars            charClass
}

// charClass is the characters a text column allows: its chars.
type charClass uint8

const (
	anyChars   charClass = iota // chars left out
	digitChars                  // "digits"
	alnumChars                  // "alnum"
)

func compileColumn(fc fileColumn) (column, error) {
	c := column{name: fc.Name, required: fc.Required, mandatory: fc.Mandatory, minLen: fc.MinLength, maxLen: fc.MaxLength}
	var err error
	if c.severity, err = severityOf(fc.Severity); err != nil {
		return c, err
	}
	found := false
	for i, n := range typeNames {
		if fc.Type == n {
			c.typ, found = typ(i), true
		}
	}
	if !found {
		return c, fmt.Errorf("type %q: use one of %s", fc.Type, strings.Join(typeNames[:], ", "))
	}
	if (len(fc.Codes) > 0) != (c.typ == typeCode) {
		return c, errors.New("codes go with type code, and type code needs codes")
	}
	if len(fc.Codes) > maxCodes {
		return c, fmt.Errorf("more than %d codes", maxCodes)
	}
	c.codes = fc.Codes
	c.codeSet = map[string]bool{}
	for _, code := range fc.Codes {
		key := codeKey([]byte(code.Code))
		if key == "" || c.codeSet[key] {
			return c, fmt.Errorf("code %q is empty or given twice", code.Code)
		}
		c.codeSet[key] = true
		if n, ok := parseInt([]byte(key)); ok && key[0] != '-' && key[0] != '+' && n < 64 {
			c.smallDigits |= 1 << n
		} else {
			c.otherKeys = append(c.otherKeys, key)
		}
	}
	if len(c.otherKeys) > shortList {
		c.otherKeys = nil
	}
	if (fc.Min != nil || fc.Max != nil) && c.typ != typeInteger {
		return c, errors.New("min and max go with type integer")
	}
	c.min, c.max = -1<<62, 1<<62
	if fc.Min != nil {
		c.min = *fc.Min
	}
	if fc.Max != nil {
		c.max = *fc.Max
	}
	if c.min > c.max {
		return c, errors.New("min is above max")
	}
	if (fc.MinDate != "" || fc.MaxDate != "") && c.typ != typeDate {
		return c, errors.New("minDate and maxDate go with type date")
	}
	c.minDate, c.maxDate = date{0, 1, 1}, date{9999, 12, 31}
	iso, _ := parseDateFormat("YYYY-MM-DD")
	for _, d := range []struct {
		s   string
		dst *date
	}{{fc.MinDate, &c.minDate}, {fc.MaxDate, &c.maxDate}} {
		if d.s == "" {
			continue
		}
		v, ok := iso.parse(d.s)
		if !ok {
			return c, fmt.Errorf("date %q: use YYYY-MM-DD", d.s)
		}
		*d.dst = v
	}
	if c.maxDate.before(c.minDate) {
		return c, errors.New("minDate is after maxDate")
	}
	if (fc.MinLength != 0 || fc.MaxLength != 0 || fc.Chars != "") && c.typ != typeText {
		return c, errors.New("minLength, maxLength and chars go with type text")
	}
	if c.minLen < 0 || c.maxLen < 0 || c.maxLen != 0 && c.minLen > c.maxLen {
		return c, errors.New("minLength and maxLength: not negative, and min not above max")
	}
	switch fc.Chars {
	case "":
	case "digits":
		c.chars = digitChars
	case "alnum":
		c.chars = alnumChars
	default:
		return c, fmt.Errorf("chars %q: use digits, alnum or leave it out", fc.Chars)
	}
	return c, nil
}

// Kinds of rules.
const (
	ruleOrder = iota
	ruleAge
	ruleRequiredWith
	ruleOneOf
)

// rule is a compiled rule between the columns of a row.
type rule struct {
	kind     int
	cols     []int
	min, max int64
	severity pseudonym.Severity
}

func compileRule(fr fileRule, col func(string) (int, error), l *Layout) (rule, error) {
	var r rule
	var err error
	if r.severity, err = severityOf(fr.Severity); err != nil {
		return r, err
	}
	for _, n := range fr.Columns {
		i, err := col(n)
		if err != nil {
			return r, err
		}
		r.cols = append(r.cols, i)
	}
	isDate := func(i int) bool { return l.columns[i].typ == typeDate }
	switch fr.Kind {
	case "order", "age":
		r.kind = ruleOrder
		if len(r.cols) != 2 || !isDate(r.cols[0]) || !isDate(r.cols[1]) {
			return r, errors.New("give two date columns")
		}
		if fr.Kind == "age" {
			r.kind = ruleAge
			if fr.Min == nil || fr.Max == nil || *fr.Min > *fr.Max || *fr.Min < 0 {
				return r, errors.New("give min and max ages, min not above max")
			}
			r.min, r.max = *fr.Min, *fr.Max
		}
	case "requiredWith":
		r.kind = ruleRequiredWith
		if len(r.cols) != 2 {
			return r, errors.New("give two columns")
		}
	case "oneOf":
		r.kind = ruleOneOf
		if len(r.cols) < 2 {
			return r, errors.New("give two columns or more")
		}
	default:
		return r, errors.New("kind: use order, requiredWith, oneOf or age")
	}
	if fr.Kind != "age" && (fr.Min != nil || fr.Max != nil) {
		return r, errors.New("min and max go with kind age")
	}
	return r, nil
}

// indicator is a compiled indicator.
type indicator struct {
	Indicator
	cols, requires []int
	rules          []int // the rules that concern a column of cols
	read           []int // the columns judge reads: cols, requires and those of rules
}

// Bind implements [pseudonym.Schema]: it finds the layout's columns among
// names (case and surrounding spaces ignored; a column may go by one of its
// aliases) and returns the check of a row. Without names (a file without a
// header) the columns are taken by position, in the layout's order. A
// required column that is missing is an error; columns the layout does not
// have are left to the Processor's column policy.
func (l *Layout) Bind(names []string) (func(fields [][]byte, problems []pseudonym.Problem) []pseudonym.Problem, error) {
	b, err := l.bind(names)
	if err != nil {
		return nil, err
	}
	return b.check, nil
}

// binding is a layout bound to the columns of one file.
type binding struct {
	l     *Layout
	pos   []int    // by layout column: its field index, or -1
	names []string // by layout column: its name in the file
	// The layout columns the file has, in the layout's order: what check
	// goes through for every row.
	present []bound
}

// bound is a layout column that a file has.
type bound struct {
	c   *column
	i   int // in the layout
	pos int // in the row
}

func (l *Layout) bind(names []string) (*binding, error) {
	b := &binding{l: l, pos: make([]int, len(l.columns)), names: make([]string, len(l.columns))}
	for i, c := range l.columns {
		b.pos[i], b.names[i] = -1, c.name
		if names == nil {
			b.pos[i] = i
		}
	}
	for j, n := range names {
		i, ok := l.byName[fold(n)]
		if !ok {
			continue
		}
		if b.pos[i] >= 0 {
			return nil, fmt.Errorf("%w: layout: column %q is in the header twice", pseudonym.ErrHeader, l.columns[i].name)
		}
		b.pos[i], b.names[i] = j, n
	}
	var missing []string
	for i, c := range l.columns {
		if c.required && b.pos[i] < 0 {
			missing = append(missing, strconv.Quote(c.name))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: layout %s: the header lacks the required column(s) %s", pseudonym.ErrHeader, l.name, strings.Join(missing, ", "))
	}
	for i, j := range b.pos {
		if j >= 0 {
			b.present = append(b.present, bound{c: &l.columns[i], i: i, pos: j})
		}
	}
	return b, nil
}

// check appends the problems of a row to ps.
func (b *binding) check(fields [][]byte, ps []pseudonym.Problem) []pseudonym.Problem {
	l := b.l
	first := len(ps) // of this row
	// Per layout column: whether the row has the column, the date read,
	// and whether the value is filled and valid. On the stack for a layout of common size.
	var buf [32]cellState
	var cells []cellState
	if n := len(l.columns); n <= len(buf) {
		cells = buf[:n]
	} else {
		cells = make([]cellState, n)
	}
	problem := func(i int, code pseudonym.Code, s pseudonym.Severity) {
		for k := first; k < len(ps); k++ { // one problem a cell
			if ps[k].Column == b.pos[i]+1 {
				return
			}
		}
		ps = append(ps, pseudonym.Problem{Column: b.pos[i] + 1, Name: b.names[i], Code: code, Severity: s})
	}
	for k := range b.present {
		bc := &b.present[k]
		if bc.pos >= len(fields) {
			continue
		}
		i, c, cs := bc.i, bc.c, &cells[bc.i]
		cs.inRow = true
		v := trimSpace(fields[bc.pos])
		cs.filled = len(v) > 0
		if !cs.filled {
			if c.mandatory {
				problem(i, pseudonym.CodeMissing, c.severity)
			}
			continue
		}
		if code := c.checkValue(v, l, &cs.date); code != "" {
			problem(i, code, c.severity)
			continue
		}
		cs.valid = true
	}
	for k := range l.rules {
		r := &l.rules[k]
		if i, broken := r.broken(cells); broken {
			problem(i, r.code(), r.severity)
		}
	}
	return ps
}

// broken reports whether the row whose cells are given breaks the rule,
// and the layout column the problem goes to.
func (r *rule) broken(cells []cellState) (int, bool) {
	switch r.kind {
	case ruleOrder:
		a, z := &cells[r.cols[0]], &cells[r.cols[1]]
		return r.cols[1], a.valid && z.valid && z.date.before(a.date)
	case ruleAge:
		birth, on := &cells[r.cols[0]], &cells[r.cols[1]]
		if birth.valid && on.valid && !on.date.before(birth.date) { // else the order rule's case
			age := int64(ageOn(birth.date, on.date))
			return r.cols[0], age < r.min || age > r.max
		}
	case ruleRequiredWith:
		a, z := &cells[r.cols[0]], &cells[r.cols[1]]
		return r.cols[1], z.inRow && a.filled && !z.filled
	case ruleOneOf:
		any, present := false, -1
		for _, i := range r.cols {
			any = any || cells[i].filled
			if present < 0 && cells[i].inRow {
				present = i
			}
		}
		return present, !any && present >= 0
	}
	return 0, false
}

// code is the problem code of a broken rule.
func (r *rule) code() pseudonym.Code {
	switch r.kind {
	case ruleOrder:
		return pseudonym.CodeDateOrder
	case ruleAge:
		return pseudonym.CodeAge
	case ruleRequiredWith:
		return pseudonym.CodeRequiredWith
	}
	return pseudonym.CodeOneOf
}

// cellState is what check learns of one column of a row.
type cellState struct {
	date                 date
	inRow, filled, valid bool
}

// checkValue returns the problem with a non-empty value, or "". A date it
// reads goes into d.
func (c *column) checkValue(v []byte, l *Layout, d *date) pseudonym.Code {
	switch c.typ {
	case typeBSN:
		// Valid is Parse without making the Number: nearly every BSN is
		// valid, and only an invalid one needs Parse's error.
		if bsn.Valid(string(v)) {
			break
		}
		if _, err := bsn.Parse(string(v)); err != nil && !errors.Is(err, bsn.ErrUnknown) && !errors.Is(err, bsn.ErrUnborn) {
			return bsnCode(err)
		}
	case typeDate:
		var ok bool
		if *d, ok = l.parseDate(v); !ok {
			return pseudonym.CodeDate
		}
		if d.before(c.minDate) || c.maxDate.before(*d) {
			return pseudonym.CodeDateRange
		}
	case typeInteger:
		n, ok := parseInt(v)
		switch {
		case !ok:
			return pseudonym.CodeNumber
		case n < c.min || n > c.max:
			return pseudonym.CodeRange
		}
	case typeCode:
		if !c.hasCode(v) {
			return pseudonym.CodeNotInList
		}
	case typePostcode:
		if _, err := pseudonym.PC4(string(v)); err != nil {
			return pseudonym.CodePostcode
		}
	case typeText:
		if !c.charsOK(v) {
			return pseudonym.CodeFormat
		}
		n := len(v) // digits and letters of ASCII: a byte each
		if c.chars == anyChars {
			n = utf8.RuneCount(v)
		}
		if n < c.minLen || c.maxLen > 0 && n > c.maxLen {
			return pseudonym.CodeFormat
		}
	}
	return ""
}

func (c *column) charsOK(v []byte) bool {
	switch c.chars {
	case digitChars:
		for _, b := range v {
			if b < '0' || b > '9' {
				return false
			}
		}
	case alnumChars:
		for _, b := range v {
			if (b < '0' || b > '9') && (b|0x20 < 'a' || b|0x20 > 'z') {
				return false
			}
		}
	}
	return true
}

// bsnCode is the problem code of an error of bsn.Parse.
func bsnCode(err error) pseudonym.Code {
	switch {
	case errors.Is(err, bsn.ErrLength):
		return pseudonym.CodeBSNLength
	case errors.Is(err, bsn.ErrCharacter):
		return pseudonym.CodeBSNCharacter
	}
	return pseudonym.CodeBSNChecksum
}

// parseInt reads a whole number: an optional sign and ASCII digits.
func parseInt(v []byte) (int64, bool) {
	neg := false
	if len(v) > 0 && (v[0] == '-' || v[0] == '+') {
		neg, v = v[0] == '-', v[1:]
	}
	digits := len(v) > 0
	for len(v) > 1 && v[0] == '0' {
		v = v[1:]
	}
	if !digits || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func trimSpace(v []byte) []byte {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}

// Applies reports whether an indicator applies to a row: whether the row
// belongs in the denominator of the indicator's response rate. It applies
// when the columns the indicator requires (such as the end date of the
// care, for an outcome that can only be measured once the care has ended)
// are filled and valid in the layout's domains. Running care, without an
// end date, is not in the denominator; ended care without a valid measurement is, and lowers the
// rate. An indicator without required columns applies to every row.
//
// The row gives its values by column name as for [Layout.Valid], which
// implies Applies: a valid measurement is always counted in its
// denominator. An unknown indicator is [ErrIndicator]. Applies does not
// allocate for the usual rows.
func (l *Layout) Applies(name string, row map[string]string) (bool, error) {
	applies, _, err := l.judge(name, row)
	return applies, err
}

// Valid reports whether a row is a valid measurement for the indicator: it
// applies to the row (see [Layout.Applies]), the indicator's columns are
// filled and valid in the layout's domains, and no rule the row breaks
// concerns them. The row gives its values by column name, as the portal
// stores them after pseudonymisation: under one of a column's names as the
// layout writes them (the first of them, in the layout's order, if the row
// has more), or else under a name that matches one with case and
// surrounding spaces ignored (the first such name in sorted order). Only
// the indicator's columns, the ones it requires and those of the rules that
// concern them are read. An unknown indicator is [ErrIndicator].
//
// Valid does not allocate for the usual rows: a report calls it for every
// stored row.
func (l *Layout) Valid(name string, row map[string]string) (bool, error) {
	_, valid, err := l.judge(name, row)
	return valid, err
}

// judge is Applies and Valid.
func (l *Layout) judge(name string, row map[string]string) (applies, valid bool, err error) {
	var in *indicator
	for i := range l.indicators {
		if l.indicators[i].Name == name {
			in = &l.indicators[i]
		}
	}
	if in == nil {
		return false, false, fmt.Errorf("%w %q", ErrIndicator, name)
	}
	var buf [32]cellState
	var cells []cellState
	if n := len(l.columns); n <= len(buf) {
		cells = buf[:n]
	} else {
		cells = make([]cellState, n)
	}
	for _, i := range in.read {
		v, ok := l.value(row, i)
		cs := &cells[i]
		cs.inRow, cs.filled = ok, v != ""
		if cs.filled {
			var buf [64]byte // a copy for checkValue, on the stack if it fits
			cs.valid = l.columns[i].checkValue(append(buf[:0], v...), l, &cs.date) == ""
		}
	}
	for _, i := range in.requires {
		if !cells[i].valid {
			return false, false, nil
		}
	}
	for _, i := range in.cols {
		if !cells[i].valid {
			return true, false, nil
		}
	}
	for _, k := range in.rules {
		if _, broken := l.rules[k].broken(cells); broken {
			return true, false, nil
		}
	}
	return true, true, nil
}

// value returns the value row gives column i, without surrounding spaces
// and tabs, and whether the row names the column: see [Layout.Valid].
func (l *Layout) value(row map[string]string, i int) (string, bool) {
	for _, n := range l.columns[i].names {
		if v, ok := row[n]; ok {
			return strings.Trim(v, " \t"), true
		}
	}
	found, key, val := false, "", ""
	for k, v := range row {
		if j, ok := l.lookup(k); ok && j == i && (!found || k < key) {
			found, key, val = true, k, v
		}
	}
	return strings.Trim(val, " \t"), found
}

// lookup finds the column a name names, with case and surrounding spaces
// ignored, as fold compares them; without allocating for an ASCII name.
func (l *Layout) lookup(name string) (int, bool) {
	name = strings.TrimSpace(name)
	var buf [64]byte
	if len(name) <= len(buf) {
		for i := 0; i < len(name); i++ {
			c := name[i]
			if c >= utf8.RuneSelf {
				j, ok := l.byName[fold(name)]
				return j, ok
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
		}
		i, ok := l.byName[string(buf[:len(name)])]
		return i, ok
	}
	i, ok := l.byName[fold(name)]
	return i, ok
}

// codeKey is the form of a code that values match: in lower case, and
// digits without leading zeros ("01" is "1"), as files write "Ja" for "ja"
// and spreadsheets drop leading zeros.
func codeKey(v []byte) string {
	digits := len(v) > 0
	for _, c := range v {
		digits = digits && '0' <= c && c <= '9'
	}
	if digits {
		for len(v) > 1 && v[0] == '0' {
			v = v[1:]
		}
		return string(v)
	}
	return strings.ToLower(string(v))
}

// shortList is the most codes (other than small numbers) a column
// compares one by one rather than looking up in its codeSet.
const shortList = 8

// hasCode reports whether v is one of the column's codes, as codeKey
// compares them, without allocating for the usual values.
func (c *column) hasCode(v []byte) bool {
	digits, ascii, upper := len(v) > 0, true, false
	for _, b := range v {
		digits = digits && '0' <= b && b <= '9'
		ascii = ascii && b < utf8.RuneSelf
		upper = upper || 'A' <= b && b <= 'Z'
	}
	switch {
	case digits:
		for len(v) > 1 && v[0] == '0' {
			v = v[1:]
		}
		if n := int(v[0] - '0'); len(v) == 1 {
			return c.smallDigits>>n&1 == 1
		} else if n = n*10 + int(v[1]-'0'); len(v) == 2 && n < 64 {
			return c.smallDigits>>n&1 == 1 // the key of a code below 64 is in smallDigits only
		}
		return c.codeSet[string(v)]
	case !ascii:
		return c.codeSet[codeKey(v)]
	case upper && len(v) <= 64:
		var buf [64]byte
		for i, b := range v {
			if 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			buf[i] = b
		}
		return c.hasKey(buf[:len(v)])
	case upper:
		return c.codeSet[codeKey(v)]
	}
	return c.hasKey(v)
}

// hasKey reports whether key (a codeKey) is a code of the column.
func (c *column) hasKey(key []byte) bool {
	if c.otherKeys == nil {
		return c.codeSet[string(key)]
	}
	for _, k := range c.otherKeys {
		if k == string(key) {
			return true
		}
	}
	return false
}

package pseudonym

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/bits"
	"slices"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// detectWindow is how much of a file DetectEncoding looks at.
const detectWindow = 64 << 10

// readHead reads the first detectWindow bytes of a file, or the whole file
// if it is shorter.
func readHead(in io.Reader) (head []byte, whole bool, err error) {
	head = make([]byte, detectWindow)
	n, err := io.ReadFull(in, head)
	whole = err == io.EOF || err == io.ErrUnexpectedEOF
	if err != nil && !whole {
		return nil, false, err
	}
	return head[:n], whole, nil
}

// decode returns a text file as UTF-8, and the encoding it was read in;
// head is its first bytes, as readHead read them, and in the rest. For a file
// whose first detectWindow bytes are ASCII the encoding is not known yet:
// the sniffer it returns then decides on the first byte that is not ASCII.
func decode(head []byte, whole bool, in io.Reader, enc Encoding) (io.Reader, Encoding, *sniffer, error) {
	// The rest is read from in itself: no buffer in between to copy through.
	r := io.MultiReader(bytes.NewReader(head), in)
	switch {
	case bytes.HasPrefix(head, []byte("\xef\xbb\xbf")):
		// A byte-order mark decides: no Windows-1252 text starts with "ï»¿".
		head = head[3:]
		return io.MultiReader(bytes.NewReader(head), in), UTF8, nil, nil
	case bytes.HasPrefix(head, []byte("\xff\xfe")), bytes.HasPrefix(head, []byte("\xfe\xff")):
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		return transform.NewReader(r, dec), UTF16, nil, nil
	}
	if enc == DetectEncoding || enc == UTF16 {
		switch {
		case isASCII(head) && !whole:
			s := &sniffer{r: in, lines: 1 + lineCount(head)}
			s.lastCR = len(head) > 0 && head[len(head)-1] == '\r'
			return io.MultiReader(bytes.NewReader(head), s), UTF8, s, nil
		case validUTF8Prefix(head, whole):
			enc = UTF8
		default:
			enc = Windows1252
		}
	}
	if enc == Windows1252 {
		return transform.NewReader(r, charmap.Windows1252.NewDecoder()), enc, nil, nil
	}
	return r, enc, nil, nil
}

// A sniffer passes a file through that has been ASCII so far, and decides
// its encoding on the first byte that is not: if that byte starts valid
// UTF-8, the file is UTF-8; if not, the file is Windows-1252 from there on,
// which for the ASCII before it is the same as reading the whole file as
// Windows-1252. A Windows-1252 file whose first 64 KiB happen to be ASCII
// is so read right, instead of losing every later row with an "ë". Reads
// must ask for at least utf8.UTFMax bytes, as the framer's do.
type sniffer struct {
	r       io.Reader
	decided bool
	enc     Encoding  // once decided
	line    int       // the line of the first byte that is not ASCII, once decided
	lines   int       // line ends passed so far, plus one
	lastCR  bool      // the last byte passed was a '\r'
	carry   []byte    // the start of a multi-byte character cut off by a read
	dec     io.Reader // the Windows-1252 decoder, after the switch
}

func (s *sniffer) Read(p []byte) (int, error) {
	if s.dec != nil {
		return s.dec.Read(p)
	}
	if s.decided {
		return s.r.Read(p)
	}
	n := copy(p, s.carry)
	s.carry = s.carry[:0]
	m, err := s.r.Read(p[n:])
	n += m
	i := asciiPrefix(p[:n])
	if i == n {
		s.count(p[:n])
		return n, err
	}
	// The first byte that is not ASCII: a complete, valid character?
	r, size := utf8.DecodeRune(p[i:n])
	if r == utf8.RuneError && size <= 1 && !utf8.FullRune(p[i:n]) && err == nil {
		// Cut off by the read: decide when the rest is in.
		s.carry = append(s.carry, p[i:n]...)
		s.count(p[:i])
		return i, nil
	}
	s.count(p[:i])
	s.decided, s.line = true, s.lines
	if r != utf8.RuneError || size > 1 {
		s.enc = UTF8
		return n, err
	}
	s.enc = Windows1252
	rest := io.MultiReader(bytes.NewReader(bytes.Clone(p[i:n])), s.r)
	if err != nil {
		rest = io.MultiReader(bytes.NewReader(bytes.Clone(p[i:n])), errReader{err})
	}
	s.dec = transform.NewReader(rest, charmap.Windows1252.NewDecoder())
	return i, nil
}

// count counts the line ends in b: LF, CRLF and a lone CR.
func (s *sniffer) count(b []byte) {
	for _, c := range b {
		switch {
		case c == '\n' && s.lastCR: // the LF of a CRLF
		case c == '\n' || c == '\r':
			s.lines++
		}
		s.lastCR = c == '\r'
	}
}

// lineCount returns the number of line ends in b: LF, CRLF and a lone CR.
func lineCount(b []byte) int {
	s := &sniffer{}
	s.count(b)
	return s.lines
}

// errReader returns its error.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// asciiPrefix returns the length of the ASCII start of b.
func asciiPrefix(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&0x8080808080808080 != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		if b[i] >= utf8.RuneSelf {
			return i
		}
	}
	return i
}

// validUTF8Prefix reports whether b is valid UTF-8, allowing an incomplete
// character at its end unless b is the whole file.
func validUTF8Prefix(b []byte, whole bool) bool {
	if utf8.Valid(b) {
		return true
	}
	if whole {
		return false
	}
	for cut := 1; cut < utf8.UTFMax && cut <= len(b); cut++ {
		if utf8.Valid(b[:len(b)-cut]) {
			return !utf8.FullRune(b[len(b)-cut:])
		}
	}
	return false
}

// Sizes of the batches in which rows go through the pipeline: large, as
// every batch costs a few hand-overs between goroutines, and on a busy
// machine a goroutine that waits may wait for milliseconds. A batch is full
// at batchRows rows, or at batchBytes bytes of input, or earlier if its
// output would pass batchOut bytes: see pipeline.target. Variables only so
// that tests can make many small batches.
var (
	batchBytes = 512 << 10
	batchOut   = 1 << 20
	batchRows  = 8192
	readChunk  = 64 << 10 // the most a read asks for past the end of a batch
)

// rawRow is a row as the framer found it: bytes in[start:end] of its batch
// without the line ending, or a row the framer rejected (code set).
type rawRow struct {
	start, end int
	line       int
	quoted     bool // has a '"': split the slow way
	code       Code
}

// framer cuts the input into rows: a row ends at a newline that is not in a
// quoted field. Blank lines are skipped: they hold no data.
type framer struct {
	r        io.Reader
	fixed    bool // a fixed-width file: no quoting
	comma    byte // 0 until detected
	maxRow   int
	line     int    // the line on which the next row starts
	pending  []byte // bytes read past the last row of the previous batch
	eof      bool
	skipping bool     // discarding the rest of a rejected line
	sniff    *sniffer // deciding the encoding late, or nil
}

// frameStatus is what frame found at a position.
type frameStatus uint8

const (
	frameRow        frameStatus = iota // a complete row
	frameBlank                         // an empty line
	frameIncomplete                    // the row goes on past the data read
	frameEnd                           // no more data
	frameBad                           // a row to reject: see code
)

// frame is the row that starts at a position.
type frame struct {
	status frameStatus
	end    int // end of the row's bytes, without the line ending
	next   int // where the next row starts
	lines  int // line endings consumed
	quoted bool
	code   Code
}

// Quote states of a delimited row.
const (
	atFieldStart = iota
	inUnquoted
	inQuoted
	atQuoteInQuoted // a '"' inside a quoted field: its end, or the first of ""
)

// frame finds the row that starts at in[pos:].
func (f *framer) frame(in []byte, pos int) frame {
	state := atFieldStart
	quoted := false
	lines := 0
	for i := pos; ; {
		nl := bytes.IndexByte(in[i:], '\n')
		lineEnd := len(in)
		if nl >= 0 {
			lineEnd = i + nl
		}
		content := lineEnd
		if content > i && in[content-1] == '\r' && (nl >= 0 || f.eof) {
			content--
		}
		terminated := nl >= 0 || f.eof
		switch {
		case terminated && content-pos > f.maxRow, !terminated && lineEnd-pos > f.maxRow+1:
			return frame{status: frameBad, code: CodeRowTooLong}
		case !terminated:
			// Scan the quotes only once the line is whole: a '\r' at the
			// end of what was read may be the start of a line ending.
			return frame{status: frameIncomplete}
		}
		if !f.fixed && (state == inQuoted || bytes.IndexByte(in[i:content], '"') >= 0) {
			quoted = true
			var ok bool
			if state, ok = scanQuotes(in[i:content], state, f.comma); !ok {
				return frame{status: frameBad, code: CodeQuote}
			}
		}
		switch {
		case state == inQuoted && nl < 0:
			return frame{status: frameBad, code: CodeQuote} // unterminated at the end of the file
		case state == inQuoted:
			i = lineEnd + 1 // the quoted field goes on on the next line
			lines++
			continue
		case nl < 0 && content == pos:
			return frame{status: frameEnd, next: lineEnd}
		case nl < 0:
			return frame{status: frameRow, end: content, next: lineEnd, lines: lines, quoted: quoted}
		case content == pos:
			return frame{status: frameBlank, next: lineEnd + 1, lines: 1}
		}
		return frame{status: frameRow, end: content, next: lineEnd + 1, lines: lines + 1, quoted: quoted}
	}
}

// scanQuotes follows the quote state of a row through one line of it. It
// reports false for a quote that is neither the start or end of a quoted
// field nor doubled inside one. A quote inside an unquoted field is a
// character like any other.
func scanQuotes(line []byte, state int, comma byte) (int, bool) {
	for _, c := range line {
		switch state {
		case atFieldStart:
			switch c {
			case '"':
				state = inQuoted
			case comma:
			default:
				state = inUnquoted
			}
		case inUnquoted:
			if c == comma {
				state = atFieldStart
			}
		case inQuoted:
			if c == '"' {
				state = atQuoteInQuoted
			}
		case atQuoteInQuoted:
			switch c {
			case '"':
				state = inQuoted
			case comma:
				state = atFieldStart
			default:
				return state, false
			}
		}
	}
	if state == atQuoteInQuoted {
		state = atFieldStart // the field ended with the line
	}
	return state, true
}

// fill reads rows into b until it holds limit bytes of input (or
// batchRows rows) or the input ends; it reports whether there may be more
// rows.
func (f *framer) fill(b *batch, limit int) (more bool, err error) {
	b.in = append(b.in[:0], f.pending...)
	f.pending = f.pending[:0]
	pos := 0
	zeroReads := 0
	for {
		// Frame once the delimiter is known: the first line tells.
		if f.fixed || f.comma != 0 || f.detectComma(b.in) {
			if f.frameAll(b, &pos, limit) {
				break
			}
		}
		if f.eof {
			break
		}
		// Read about what the batch lacks: what is read past its end is
		// copied to the next batch, which a small batch should not pay for
		// with a large read.
		want := max(limit-len(b.in), 0) + min(readChunk, max(limit, 4<<10))
		b.in = slices.Grow(b.in, want)
		n, err := f.r.Read(b.in[len(b.in) : len(b.in)+want])
		b.in = b.in[:len(b.in)+n]
		switch {
		case err == io.EOF:
			f.eof = true
		case err != nil:
			return false, err
		case n == 0:
			if zeroReads++; zeroReads > 100 {
				return false, io.ErrNoProgress
			}
		default:
			zeroReads = 0
		}
		lineEnds(b.in, len(b.in)-n, f.eof)
	}
	f.pending = append(f.pending, b.in[pos:]...)
	b.in = b.in[:pos]
	return !f.eof || len(f.pending) > 0, nil
}

// lineEnds turns every lone carriage return in in[from:], one not followed
// by a line feed, into a line feed, so that the framer, which ends lines at
// '\n' (and drops a '\r' before it), reads the line ends of every platform:
// LF, CRLF, and the CR alone of classic Mac OS that Excel for Mac still
// writes as "CSV (Macintosh)". A lone CR in a CRLF file (a cell edited on
// another platform) then ends its line too, rather than merging two rows;
// inside a quoted field it becomes a line feed, a line break either way.
//
// A CR at the end of in is left for the next call to decide, unless the
// input has ended; a CR just before from, left by the last call, is decided
// now.
func lineEnds(in []byte, from int, eof bool) {
	if from > 0 && in[from-1] == '\r' {
		from--
	}
	for {
		i := bytes.IndexByte(in[from:], '\r')
		if i < 0 {
			return
		}
		i += from
		switch {
		case i+1 < len(in):
			if in[i+1] != '\n' {
				in[i] = '\n'
			}
		case eof:
			in[i] = '\n'
		}
		from = i + 1
	}
}

// detectComma sets the delimiter to the one of ';', '\t' and ',' that occurs
// most often in the first line that is not blank. It reports false if that
// line is not complete in in yet.
func (f *framer) detectComma(in []byte) bool {
	line := in
	for {
		nl := bytes.IndexByte(line, '\n')
		switch {
		case nl < 0 && !f.eof && len(line) <= f.maxRow:
			return false
		case nl < 0:
		case len(bytes.TrimRight(line[:nl], "\r")) == 0:
			line = line[nl+1:]
			continue
		default:
			line = line[:nl]
		}
		break
	}
	f.comma = ';'
	best := bytes.Count(line, []byte{';'})
	for _, c := range []byte{'\t', ','} {
		if n := bytes.Count(line, []byte{c}); n > best {
			f.comma, best = c, n
		}
	}
	return true
}

// frameAll adds the rows in b.in[*pos:] to b. It reports whether b is full;
// otherwise it needs more input, or the input has ended.
func (f *framer) frameAll(b *batch, pos *int, limit int) bool {
	for len(b.rows) < batchRows {
		if f.skipping {
			nl := bytes.IndexByte(b.in[*pos:], '\n')
			if nl < 0 {
				b.in = b.in[:*pos] // nothing of a batch row is past pos
				return false
			}
			*pos += nl + 1
			f.skipping = false
			continue
		}
		fr := f.frame(b.in, *pos)
		switch fr.status {
		case frameIncomplete:
			return false
		case frameEnd:
			*pos = fr.next
			return false
		case frameBlank:
			f.line++
		case frameRow:
			b.rows = append(b.rows, rawRow{start: *pos, end: fr.end, line: f.line, quoted: fr.quoted})
			f.line += fr.lines
		case frameBad:
			// Reject the first line of the row and go on with the next
			// line: a stray quote costs one row, not the rest of the file.
			b.rows = append(b.rows, rawRow{line: f.line, code: fr.code})
			f.line++
			nl := bytes.IndexByte(b.in[*pos:], '\n')
			if nl < 0 {
				f.skipping = true
				fr.next = len(b.in)
			} else {
				fr.next = *pos + nl + 1
			}
		}
		*pos = fr.next
		if *pos >= limit {
			return true
		}
	}
	return true
}

// splitter cuts a row into fields, reusing its buffers.
type splitter struct {
	comma     byte
	fixed     []fixedField
	maxFields int
	fields    [][]byte
	ends      []int
	scratch   []byte
	// Of the last row split whole without quotes: whether it is all ASCII
	// (so valid UTF-8) and whether it holds a carriage return. False and
	// true for any other row.
	ascii, cr bool
}

// split returns the fields of a row, valid until the next call, or the code
// of the problem that prevents splitting it.
func (s *splitter) split(row []byte, quoted bool) ([][]byte, Code) {
	s.ascii, s.cr = false, true
	if s.fixed != nil {
		return s.splitFixed(row)
	}
	if quoted {
		return s.splitQuoted(row)
	}
	// Eight bytes at a time: a mask of the delimiters in a word, one
	// bit a delimiter, rather than a comparison a byte (fields are too
	// short for bytes.IndexByte's set-up to pay).
	// The same pass finds whether the row is ASCII and has a carriage
	// return, which saves the worker two more.
	fields := s.fields[:0]
	start, i := 0, 0
	var all, crs uint64 // every byte ORed; the carriage returns' bits
	commas := uint64(s.comma) * lowBits
	for ; i+8 <= len(row); i += 8 {
		x := binary.LittleEndian.Uint64(row[i:])
		all |= x
		crs |= zeroBytes(x ^ '\r'*lowBits)
		m := zeroBytes(x ^ commas)
		for m != 0 {
			end := i + bits.TrailingZeros64(m)>>3
			m &= m - 1
			if len(fields) == s.maxFields-1 {
				return nil, CodeFieldCount
			}
			fields = append(fields, row[start:end])
			start = end + 1
		}
	}
	for ; i < len(row); i++ {
		c := row[i]
		all |= uint64(c)
		if c == '\r' {
			crs = 1
		}
		if c == s.comma {
			if len(fields) == s.maxFields-1 {
				return nil, CodeFieldCount
			}
			fields = append(fields, row[start:i])
			start = i + 1
		}
	}
	s.fields = append(fields, row[start:])
	s.ascii, s.cr = all&highBits == 0, crs != 0
	return s.fields, ""
}

const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// zeroBytes returns the high bit of every byte of x that is zero, and no
// other bit: exact, unlike (x-lowBits)&^x&highBits, since no byte's sum
// carries into the next.
func zeroBytes(x uint64) uint64 {
	const low7 = 0x7f7f7f7f7f7f7f7f
	return ^((x&low7 + low7) | x | low7)
}

// splitQuoted splits a row with quoted fields, unquoting them into scratch.
func (s *splitter) splitQuoted(row []byte) ([][]byte, Code) {
	s.scratch = s.scratch[:0]
	s.ends = s.ends[:0]
	state := atFieldStart
	for _, c := range row {
		switch state {
		case atFieldStart:
			switch c {
			case '"':
				state = inQuoted
				continue
			case s.comma:
				s.ends = append(s.ends, len(s.scratch))
				continue
			}
			state = inUnquoted
		case inUnquoted:
			if c == s.comma {
				s.ends = append(s.ends, len(s.scratch))
				state = atFieldStart
				continue
			}
		case inQuoted:
			if c == '"' {
				state = atQuoteInQuoted
				continue
			}
		case atQuoteInQuoted:
			switch c {
			case '"':
				state = inQuoted // "" is one quote
			case s.comma:
				s.ends = append(s.ends, len(s.scratch))
				state = atFieldStart
				continue
			default:
				return nil, CodeQuote
			}
		}
		s.scratch = append(s.scratch, c)
		if len(s.ends) >= s.maxFields {
			return nil, CodeFieldCount
		}
	}
	if state == inQuoted {
		return nil, CodeQuote
	}
	s.ends = append(s.ends, len(s.scratch))
	if len(s.ends) > s.maxFields {
		return nil, CodeFieldCount
	}
	s.fields = s.fields[:0]
	start := 0
	for _, end := range s.ends {
		s.fields = append(s.fields, s.scratch[start:end:end])
		start = end
	}
	return s.fields, ""
}

// splitFixed cuts a fixed-width line into its fields, in characters.
func (s *splitter) splitFixed(line []byte) ([][]byte, Code) {
	s.fields = s.fields[:0]
	ascii := isASCII(line)
	// offset returns the byte offset of character c, or len(line).
	at, char := 0, 0
	offset := func(c int) int {
		if ascii {
			return min(c, len(line))
		}
		for char < c && at < len(line) {
			_, size := utf8.DecodeRune(line[at:])
			at += size
			char++
		}
		return at
	}
	for _, f := range s.fixed {
		start := offset(f.start)
		end := offset(f.end)
		s.fields = append(s.fields, bytes.Trim(line[start:end], " "))
	}
	if rest := line[offset(s.fixed[len(s.fixed)-1].end):]; len(bytes.Trim(rest, " ")) > 0 {
		return nil, CodeLineLength
	}
	return s.fields, ""
}

func isASCII(b []byte) bool { return asciiPrefix(b) == len(b) }

// A date is a day of the calendar.
type date struct{ year, month, day int }

// parseDate reads a date in one of the layouts; the default layouts are read
// without package time, which is slower and allocates.
func parseDate(b []byte, layouts []string, defaults bool) (date, bool) {
	if !defaults {
		for _, layout := range layouts {
			if t, err := time.Parse(layout, string(b)); err == nil {
				y, m, d := t.Date()
				return date{y, int(m), d}, true
			}
		}
		return date{}, false
	}
	var d date
	switch {
	case len(b) == 10 && b[4] == '-' && b[7] == '-': // 2006-01-02
		d = date{digits(b[0:4]), digits(b[5:7]), digits(b[8:10])}
	case len(b) == 8: // 20060102
		d = date{digits(b[0:4]), digits(b[4:6]), digits(b[6:8])}
	case len(b) == 10 && b[2] == '-' && b[5] == '-': // 02-01-2006
		d = date{digits(b[6:10]), digits(b[3:5]), digits(b[0:2])}
	default:
		return date{}, false
	}
	if d.year < 0 || d.month < 1 || d.month > 12 || d.day < 1 || d.day > daysIn(d.month, d.year) {
		return date{}, false
	}
	return d, true
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

// digits returns the value of ASCII digits, or -1 if there is another byte.
func digits(b []byte) int {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

package pseudonym

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path"
	"strconv"
	"strings"

	"golang.org/x/text/language"
)

var englishTag = language.English

// Errors about the kind of file.
var (
	// ErrFileType means the file is not one a Processor reads: a legacy
	// Excel workbook (.xls), an OpenDocument spreadsheet, an .xlsx that
	// cannot be read, or another binary file. The error is a
	// *FileTypeError, whose Code has the text for users.
	ErrFileType = errors.New("pseudonym: unsupported file type")
)

// A FileTypeError says why a file cannot be read, as a [Code] with a Dutch
// and an English text that tell the user how to save the file instead.
// errors.Is(err, ErrFileType) holds for it.
type FileTypeError struct {
	Code Code
}

func (e *FileTypeError) Error() string {
	return "pseudonym: unsupported file type: " + e.Code.Text(englishTag)
}

// Is makes errors.Is(err, ErrFileType) true.
func (e *FileTypeError) Is(target error) bool { return target == ErrFileType }

// Codes of files that cannot be read.
const (
	CodeXLS      Code = "file-xls"       // a legacy Excel workbook (.xls), or a password-protected one
	CodeODS      Code = "file-ods"       // an OpenDocument spreadsheet (.ods)
	CodeXLSX     Code = "file-xlsx"      // an .xlsx that cannot be read
	CodeBinary   Code = "file-binary"    // not a text file nor a spreadsheet
	CodeTooLarge Code = "file-too-large" // a spreadsheet larger than MaxSpreadsheetBytes
)

// DefaultMaxSpreadsheetBytes is the default of Processor.MaxSpreadsheetBytes.
const DefaultMaxSpreadsheetBytes = 128 << 20

// Format is the kind of file a Processor read.
type Format uint8

const (
	Delimited  Format = iota // text with delimiters, such as CSV
	FixedWidth               // text in fixed-width fields (Processor.Layout)
	XLSX                     // an Excel workbook (Office Open XML)
)

var formatNames = [...]string{"delimited", "fixed-width", "xlsx"}

// String returns "delimited", "fixed-width" or "xlsx".
func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// fileKind is what the first bytes of a file say it is.
type fileKind uint8

const (
	kindText fileKind = iota
	kindZip
	kindOLE // a compound file: .xls, or an encrypted .xlsx
	kindBinary
)

// sniff tells a text file from the binary files providers upload instead.
func sniff(head []byte) fileKind {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return kindZip
	case bytes.HasPrefix(head, []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")):
		return kindOLE
	case bytes.HasPrefix(head, []byte("\xff\xfe")), bytes.HasPrefix(head, []byte("\xfe\xff")):
		return kindText // UTF-16 has zero bytes
	case bytes.HasPrefix(head, []byte("%PDF")), bytes.IndexByte(head, 0) >= 0:
		return kindBinary
	}
	return kindText
}

// markNumber starts a cell that was an 8-digit whole number in a
// spreadsheet: a BSN whose leading zero the spreadsheet may have dropped.
// Neither it nor the 0 that separates cells can occur in XML text.
const markNumber = 0x01

// A sheetSource reads the rows of the first worksheet (or Processor.Sheet)
// of an .xlsx as the framer reads the lines of a text file: into batches,
// the cells of a row separated by a 0 byte, a row's line its row number.
//
// The worksheet is streamed from the zip and parsed as it is read, so its
// size does not count. The zip itself needs random access: a file given as
// an io.ReaderAt with a Size method (*os.File, *bytes.Reader) is read in
// place; a stream, such as an HTTP request body, is held in memory, up to
// MaxSpreadsheetBytes. It is never written to a temporary file, as that
// would put the BSNs on disk in clear.
type sheetSource struct {
	dec      *xml.Decoder
	closer   io.Closer
	sst      []string
	dates    []bool // by cell style: a date format
	date1904 bool
	maxRow   int
	maxCells int
	width    int // cells of the first row: a row is padded to it
	eof      bool

	// The row being read.
	cells []cell
}

type cell struct {
	col   int
	value []byte
	mark  bool
}

// sizer is an io.ReaderAt that knows its size, such as *bytes.Reader.
type sizer interface {
	io.ReaderAt
	Size() int64
}

// statter is an io.ReaderAt that can stat itself, such as *os.File.
type statter interface {
	io.ReaderAt
	Stat() (fs.FileInfo, error)
}

// readerAt returns in as an io.ReaderAt from its start and its size, if it
// is one: a regular file or an in-memory reader.
func readerAt(in io.Reader) (io.ReaderAt, int64, bool) {
	switch r := in.(type) {
	case sizer:
		return r, r.Size(), true
	case statter:
		if fi, err := r.Stat(); err == nil && fi.Mode().IsRegular() {
			return r, fi.Size(), true
		}
	}
	return nil, 0, false
}

// close releases the worksheet's decompressor.
func (s *sheetSource) close() {
	if s.closer != nil {
		s.closer.Close()
		s.closer = nil
	}
}

// openSheet opens the worksheet of an .xlsx; in starts at the file's first
// byte.
func openSheet(in io.Reader, p *Processor, pl *plan) (*sheetSource, error) {
	var ra io.ReaderAt
	var size int64
	limit := int64(p.MaxSpreadsheetBytes)
	if limit <= 0 {
		limit = DefaultMaxSpreadsheetBytes
	}
	if r, n, ok := readerAt(in); ok {
		ra, size = r, n
	} else {
		b, err := io.ReadAll(io.LimitReader(in, limit+1))
		if err != nil {
			return nil, err
		}
		ra, size = bytes.NewReader(b), int64(len(b))
	}
	if size > limit {
		return nil, &FileTypeError{Code: CodeTooLarge}
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, &FileTypeError{Code: CodeXLSX}
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[strings.TrimPrefix(f.Name, "/")] = f
	}
	if files["xl/workbook.xml"] == nil {
		if f := files["mimetype"]; f != nil && strings.Contains(readSmall(f, 100), "opendocument") {
			return nil, &FileTypeError{Code: CodeODS}
		}
		return nil, &FileTypeError{Code: CodeXLSX}
	}
	s := &sheetSource{maxRow: pl.maxRow, maxCells: pl.maxFields}
	sheetPath, err := s.readWorkbook(files, p.Sheet)
	if err != nil {
		return nil, err
	}
	if f := files["xl/sharedStrings.xml"]; f != nil {
		if err := s.readSharedStrings(f); err != nil {
			return nil, err
		}
	}
	if f := files["xl/styles.xml"]; f != nil {
		if err := s.readStyles(f); err != nil {
			return nil, err
		}
	}
	f := files[sheetPath]
	if f == nil {
		return nil, &FileTypeError{Code: CodeXLSX}
	}
	rc, err := f.Open()
	if err != nil {
		return nil, &FileTypeError{Code: CodeXLSX}
	}
	s.dec, s.closer = xml.NewDecoder(rc), rc
	return s, nil
}

// maxPartBytes bounds the parts of an .xlsx read whole (workbook, shared
// strings, styles): a zip bomb cannot make them large.
const maxPartBytes = 256 << 20

// decoderOf returns a decoder of a part, bounded by maxPartBytes.
func decoderOf(f *zip.File) (*xml.Decoder, io.Closer, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, nil, &FileTypeError{Code: CodeXLSX}
	}
	return xml.NewDecoder(io.LimitReader(rc, maxPartBytes)), rc, nil
}

func readSmall(f *zip.File, n int64) string {
	rc, err := f.Open()
	if err != nil {
		return ""
	}
	defer rc.Close()
	b, _ := io.ReadAll(io.LimitReader(rc, n))
	return string(b)
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// readWorkbook finds the worksheet: the one named sheet, or the first.
func (s *sheetSource) readWorkbook(files map[string]*zip.File, sheet string) (string, error) {
	dec, c, err := decoderOf(files["xl/workbook.xml"])
	if err != nil {
		return "", err
	}
	defer c.Close()
	var rid string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", &FileTypeError{Code: CodeXLSX}
		}
		e, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch e.Name.Local {
		case "workbookPr":
			v := attr(e, "date1904")
			s.date1904 = v == "1" || v == "true"
		case "sheet":
			if rid == "" && (sheet == "" || attr(e, "name") == sheet) {
				rid = attr(e, "id")
			}
		}
	}
	if rid == "" {
		return "", &FileTypeError{Code: CodeXLSX}
	}
	rels := files["xl/_rels/workbook.xml.rels"]
	if rels == nil {
		return "", &FileTypeError{Code: CodeXLSX}
	}
	dec, c2, err := decoderOf(rels)
	if err != nil {
		return "", err
	}
	defer c2.Close()
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", &FileTypeError{Code: CodeXLSX}
		}
		if e, ok := tok.(xml.StartElement); ok && e.Name.Local == "Relationship" && attr(e, "Id") == rid {
			target := attr(e, "Target")
			if strings.HasPrefix(target, "/") {
				return strings.TrimPrefix(target, "/"), nil
			}
			return path.Join("xl", target), nil
		}
	}
}

// readSharedStrings reads the table of strings that cells refer to: the
// text of each item, its runs joined, without phonetic hints.
func (s *sheetSource) readSharedStrings(f *zip.File) error {
	dec, c, err := decoderOf(f)
	if err != nil {
		return err
	}
	defer c.Close()
	var text strings.Builder
	inT, skip := false, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &FileTypeError{Code: CodeXLSX}
		}
		switch e := tok.(type) {
		case xml.StartElement:
			switch e.Name.Local {
			case "si":
				text.Reset()
			case "t":
				inT = true
			case "rPh", "phoneticPr":
				skip++
			}
		case xml.EndElement:
			switch e.Name.Local {
			case "si":
				s.sst = append(s.sst, text.String())
			case "t":
				inT = false
			case "rPh", "phoneticPr":
				skip--
			}
		case xml.CharData:
			if inT && skip == 0 {
				text.Write(e)
			}
		}
	}
}

// readStyles finds the cell styles whose number format is a date.
func (s *sheetSource) readStyles(f *zip.File) error {
	dec, c, err := decoderOf(f)
	if err != nil {
		return err
	}
	defer c.Close()
	custom := map[int]bool{} // numFmtId: a date
	inXfs := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &FileTypeError{Code: CodeXLSX}
		}
		switch e := tok.(type) {
		case xml.StartElement:
			switch e.Name.Local {
			case "numFmt":
				id, _ := strconv.Atoi(attr(e, "numFmtId"))
				custom[id] = isDateFormat(attr(e, "formatCode"))
			case "cellXfs":
				inXfs = true
			case "xf":
				if inXfs {
					id, _ := strconv.Atoi(attr(e, "numFmtId"))
					date, ok := custom[id]
					if !ok {
						date = builtinDate(id)
					}
					s.dates = append(s.dates, date)
				}
			}
		case xml.EndElement:
			if e.Name.Local == "cellXfs" {
				inXfs = false
			}
		}
	}
}

// builtinDate reports whether a built-in number format shows a date
// (ECMA-376 part 1, 18.8.30; 27–36 and 50–58 are the East Asian dates).
func builtinDate(id int) bool {
	return 14 <= id && id <= 17 || id == 22 || 27 <= id && id <= 36 || 50 <= id && id <= 58
}

// isDateFormat reports whether a format code shows a date: it has a day or
// a year outside quoted text, brackets and escaped characters.
func isDateFormat(code string) bool {
	section, _, _ := strings.Cut(code, ";")
	quoted, bracket := false, false
	for i := 0; i < len(section); i++ {
		c := section[i]
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '[':
			bracket = true
		case c == ']':
			bracket = false
		case bracket:
		case c == '\\' || c == '_' || c == '*':
			i++
		case c == 'd' || c == 'D' || c == 'y' || c == 'Y':
			return true
		}
	}
	return false
}

// fill reads rows into b until it holds limit bytes of input (or batchRows
// rows) or the sheet ends; it reports whether there may be more rows.
func (s *sheetSource) fill(b *batch, limit int) (bool, error) {
	b.in = b.in[:0]
	for !s.eof && len(b.rows) < batchRows && len(b.in) < limit {
		line, ok, err := s.readRow()
		if err != nil {
			return false, err
		}
		if !ok {
			continue
		}
		b.rows = append(b.rows, s.frame(b, line))
	}
	if s.eof {
		s.close()
	}
	return !s.eof, nil
}

// frame appends the row read to b.in and returns it as a rawRow.
func (s *sheetSource) frame(b *batch, line int) rawRow {
	last := s.cells[len(s.cells)-1].col
	if s.width == 0 {
		s.width = last + 1
	}
	if last >= s.maxCells {
		return rawRow{line: line, code: CodeFieldCount}
	}
	start := len(b.in)
	col := 0
	for _, c := range s.cells {
		for ; col < c.col; col++ {
			b.in = append(b.in, 0)
		}
		if c.mark {
			b.in = append(b.in, markNumber)
		}
		b.in = append(b.in, c.value...)
	}
	for ; col < s.width-1; col++ { // Excel leaves out the empty cells at the end
		b.in = append(b.in, 0)
	}
	if len(b.in)-start > s.maxRow {
		b.in = b.in[:start]
		return rawRow{line: line, code: CodeRowTooLong}
	}
	return rawRow{start: start, end: len(b.in), line: line}
}

// readRow reads the next row with a cell that is not empty into s.cells,
// and returns its row number; ok is false at the end of the sheet or for a
// row without values.
func (s *sheetSource) readRow() (line int, ok bool, err error) {
	s.cells = s.cells[:0]
	for {
		tok, err := s.dec.RawToken()
		if err == io.EOF {
			s.eof = true
			return 0, false, nil
		}
		if err != nil {
			return 0, false, &FileTypeError{Code: CodeXLSX}
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if e.Name.Local == "row" {
				line, _ = strconv.Atoi(attr(e, "r"))
				if err := s.readCells(); err != nil {
					return 0, false, err
				}
				return line, len(s.cells) > 0, nil
			}
		case xml.EndElement:
			if e.Name.Local == "sheetData" {
				s.eof = true
				return 0, false, nil
			}
		}
	}
}

// readCells reads the cells of a row up to its end tag.
func (s *sheetSource) readCells() error {
	next := 0 // the column of a cell without a reference
	for {
		tok, err := s.dec.RawToken()
		if err != nil {
			return &FileTypeError{Code: CodeXLSX}
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if e.Name.Local != "c" {
				continue
			}
			col, ok := columnOf(attr(e, "r"))
			if !ok {
				col = next
			}
			next = col + 1
			c, err := s.readCell(e, col)
			if err != nil {
				return err
			}
			if len(c.value) > 0 {
				if n := len(s.cells); n > 0 && s.cells[n-1].col >= col {
					return &FileTypeError{Code: CodeXLSX} // cells out of order
				}
				s.cells = append(s.cells, c)
			}
		case xml.EndElement:
			if e.Name.Local == "row" {
				return nil
			}
		}
	}
}

// readCell reads one cell up to its end tag.
func (s *sheetSource) readCell(start xml.StartElement, col int) (cell, error) {
	typ, style := attr(start, "t"), attr(start, "s")
	var v, text []byte
	in := "" // the element whose text counts: "v", or "t" in an inline string
	depth, skip := 0, 0
	for {
		tok, err := s.dec.RawToken()
		if err != nil {
			return cell{}, &FileTypeError{Code: CodeXLSX}
		}
		switch e := tok.(type) {
		case xml.StartElement:
			depth++
			switch e.Name.Local {
			case "v", "t":
				in = e.Name.Local
			case "rPh":
				skip++
			}
		case xml.EndElement:
			if depth == 0 {
				return s.value(col, typ, style, v, text), nil
			}
			depth--
			switch e.Name.Local {
			case "v", "t":
				in = ""
			case "rPh":
				skip--
			}
		case xml.CharData:
			switch {
			case in == "v":
				v = append(v, e...)
			case in == "t" && skip == 0:
				text = append(text, e...)
			}
		}
	}
}

// value makes the text of a cell from its type, style and value.
func (s *sheetSource) value(col int, typ, style string, v, text []byte) cell {
	c := cell{col: col}
	switch typ {
	case "s":
		i, err := strconv.Atoi(string(v))
		if err == nil && 0 <= i && i < len(s.sst) {
			c.value = []byte(s.sst[i])
		}
	case "inlineStr":
		c.value = text
	case "d": // an ISO 8601 date, with or without a time
		d, _, _ := bytes.Cut(v, []byte("T"))
		c.value = d
	case "str", "e", "b":
		c.value = v
	default: // a number
		c.value = v
		f, err := strconv.ParseFloat(string(bytes.TrimSpace(v)), 64)
		if err != nil {
			break
		}
		st, _ := strconv.Atoi(style)
		if 0 <= st && st < len(s.dates) && s.dates[st] {
			if d, ok := serialDate(f, s.date1904); ok {
				c.value = []byte(d)
			}
			break
		}
		if f == math.Trunc(f) && math.Abs(f) < 1e15 {
			c.value = strconv.AppendInt(nil, int64(f), 10)
			c.mark = f >= 1e7 && f < 1e8 // eight digits
		}
	}
	return c
}

// serialDate returns the date of a spreadsheet's date serial number as
// YYYY-MM-DD: days since 30 December 1899 (which makes up for the 29
// February 1900 that Lotus 1-2-3 and Excel count), or since 1 January 1904.
func serialDate(f float64, date1904 bool) (string, bool) {
	if f < 0 || f > 2958465 { // 9999-12-31
		return "", false
	}
	days := int(f)
	y, m, d := 1899, 12, 30
	switch {
	case date1904:
		y, m, d = 1904, 1, 1
	case days < 60:
		d = 31 // before the day that does not exist
	case days == 60:
		return "1900-02-29", true // as Excel shows it
	}
	// Civil date from days (Howard Hinnant's algorithm), offset from the
	// epoch's day number.
	z := daysFromCivil(y, m, d) + days
	z += 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	yy := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	dd := doy - (153*mp+2)/5 + 1
	mm := mp + 3
	if mm > 12 {
		mm -= 12
	}
	if mm <= 2 {
		yy++
	}
	return fmt.Sprintf("%04d-%02d-%02d", yy, mm, dd), true
}

// daysFromCivil returns the days from 1970-01-01 to a date, minus 719468.
func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// columnOf returns the column of a cell reference such as "AB12", from 0.
func columnOf(ref string) (int, bool) {
	col, i := 0, 0
	for ; i < len(ref) && 'A' <= ref[i] && ref[i] <= 'Z'; i++ {
		col = col*26 + int(ref[i]-'A'+1)
		if col > 1<<20 {
			return 0, false
		}
	}
	if i == 0 {
		return 0, false
	}
	return col - 1, true
}

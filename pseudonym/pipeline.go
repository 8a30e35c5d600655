package pseudonym

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/zorgkit/zorgkit/bsn"
)

// A batch is a run of rows that goes through the pipeline together: read by
// the framer, transformed by a worker, written in order by the writer.
type batch struct {
	in   []byte
	rows []rawRow

	out      []byte // the output: delimited text, or the values of a rowSink
	problems []Problem
	counts   Counts

	// For a rowSink: per row written its line, its flag and its values.
	lines   []int
	flagged []bool
	values  []string

	valueBytes int // the memory the values of a rowSink take

	seq int // the batch's place in the file
}

func (b *batch) reset() {
	b.rows = b.rows[:0]
	b.out = b.out[:0]
	b.problems = b.problems[:0]
	b.counts = Counts{}
	b.lines = b.lines[:0]
	b.flagged = b.flagged[:0]
	clear(b.values) // let the strings go
	b.values = b.values[:0]
	b.valueBytes = 0
}

// A sink takes the batches in order.
type sink interface {
	values() bool // whether workers make Row values rather than text
	header(pl *plan) error
	write(pl *plan, b *batch) error
}

// csvSink writes delimited text.
type csvSink struct{ w io.Writer }

func (s *csvSink) values() bool { return false }

func (s *csvSink) header(pl *plan) error {
	if pl.outNames == nil {
		return nil
	}
	var line []byte
	for i, name := range pl.outNames {
		if i > 0 {
			line = append(line, pl.outComma)
		}
		line = appendField(line, []byte(name), pl.outComma)
	}
	_, err := s.w.Write(append(line, '\n'))
	return err
}

func (s *csvSink) write(_ *plan, b *batch) error {
	_, err := s.w.Write(b.out)
	return err
}

// rowSink hands rows to a function.
type rowSink struct {
	fn  func(Row) error
	row Row
}

func (s *rowSink) values() bool       { return true }
func (s *rowSink) header(*plan) error { return nil }

func (s *rowSink) write(pl *plan, b *batch) error {
	n := len(pl.out)
	for i, line := range b.lines {
		s.row = Row{Line: line, Fields: b.values[i*n : (i+1)*n : (i+1)*n], Flagged: b.flagged[i]}
		if err := s.fn(s.row); err != nil {
			return err
		}
	}
	return nil
}

// run is Process and ProcessRows.
func (p *Processor) run(ctx context.Context, in io.Reader, s sink) (*Report, error) {
	report := &Report{ByCode: make(map[Code]int)}
	pl, err := p.check()
	if err != nil {
		return report, err
	}
	head, whole, err := readHead(in)
	if err != nil {
		return report, fmt.Errorf("pseudonym: reading the file: %w", err)
	}
	var src source
	switch kind := sniff(head); {
	case kind == kindZip && pl.fixed == nil:
		if _, _, ok := readerAt(in); !ok {
			in = io.MultiReader(bytes.NewReader(head), in)
		} // else read in place, from its start
		sheet, err := openSheet(in, p, pl)
		if err != nil {
			return report, err
		}
		defer sheet.close()
		src, report.Format, report.Encoding = sheet, XLSX, UTF8
		pl.comma, pl.outComma, pl.sheet = 0, ';', true
	case kind == kindOLE:
		return report, &FileTypeError{Code: CodeXLS}
	case kind != kindText:
		return report, &FileTypeError{Code: CodeBinary}
	}
	if src == nil {
		s, err := pl.openText(head, whole, in, report)
		if err != nil {
			return report, err
		}
		src = s
	}
	// The first batch holds the first row, the header or a row that tells
	// the number of columns, however many blank lines come before it.
	first := &batch{}
	more := true
	for len(first.rows) == 0 && more {
		if more, err = src.fill(first, max(batchBytes/16, 1)); err != nil {
			return report, fmt.Errorf("pseudonym: reading the file: %w", err)
		}
	}
	if f, ok := src.(*framer); ok && !f.fixed {
		pl.comma, pl.outComma = f.comma, f.comma
		report.Comma = rune(pl.comma)
	}
	if err := pl.columns(first); err != nil {
		return report, err
	}
	if err := pl.bindSchema(); err != nil {
		return report, err
	}
	fc, err := p.Keyring.FieldCipher(p.Domain) // safe to share
	if err != nil {
		return report, err
	}
	ws := make([]*worker, p.workers())
	for i := range ws {
		if ws[i], err = pl.newWorker(s.values(), fc); err != nil {
			return report, err
		}
	}
	report.Columns = pl.outNames
	if err := s.header(pl); err != nil {
		return report, fmt.Errorf("pseudonym: writing: %w", err)
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	pp := &pipeline{ctx: ctx, cancel: cancel, p: p, pl: pl, sink: s, report: report, f: src, more: more, seq: 1}
	pp.cond = sync.NewCond(&pp.mu)
	pp.ready = make([]*batch, 2*len(ws)+2) // all the batches there are: the memory bound
	for range len(pp.ready) - 1 {
		pp.free = append(pp.free, &batch{})
	}
	stop := context.AfterFunc(ctx, func() { // wake the workers waiting for a batch
		pp.mu.Lock()
		pp.cond.Broadcast()
		pp.mu.Unlock()
	})
	defer stop()
	var wg sync.WaitGroup
	for _, w := range ws[1:] {
		wg.Go(func() { pp.work(w, nil) })
	}
	pp.work(ws[0], first) // this goroutine is a worker too
	wg.Wait()
	if f, ok := src.(*framer); ok && f.sniff != nil && f.sniff.decided {
		// The encoding was decided on the first byte that is not ASCII,
		// which a reading goroutine met; they have all stopped.
		report.Encoding, report.EncodingLine = f.sniff.enc, f.sniff.line
	}
	if err := context.Cause(ctx); err != nil {
		return report, err
	}
	if report.Rows.Read == 0 {
		return report, ErrNoRows
	}
	return report, nil
}

// A source cuts a file into batches of rows: a *framer for text, a
// *sheetSource for a spreadsheet.
type source interface {
	// fill reads rows into b until it holds limit bytes of input (or
	// batchRows rows) or the input ends; it reports whether there may be
	// more rows.
	fill(b *batch, limit int) (more bool, err error)
}

// openText returns the framer of a text file, whose first bytes are head.
func (pl *plan) openText(head []byte, whole bool, in io.Reader, report *Report) (*framer, error) {
	r, enc, sniff, err := decode(head, whole, in, pl.p.Encoding)
	if err != nil {
		return nil, fmt.Errorf("pseudonym: reading the file: %w", err)
	}
	report.Encoding = enc
	f := &framer{r: r, comma: pl.comma, fixed: pl.fixed != nil, maxRow: pl.maxRow, line: 1, sniff: sniff}
	if f.fixed {
		f.comma = pl.outComma
		report.Format = FixedWidth
	}
	return f, nil
}

// A pipeline takes a file through the workers. Every worker reads a batch
// (one at a time, in order), processes it (all at once), and hands it in;
// whoever hands in the batch that is next in order writes it, and the ones
// after it that are ready. No goroutine only reads or only writes: a stage
// that every row passes through cannot be starved of CPU by the others.
type pipeline struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	p      *Processor
	pl     *plan
	sink   sink
	report *Report // written by the writer of the moment only

	readMu sync.Mutex // held while reading: one reader at a time
	f      source

	mu      sync.Mutex
	cond    *sync.Cond // signalled when a batch is freed or the input ends
	free    []*batch
	more    bool     // the input may have more rows
	seq     int      // the number of the next batch to read
	ready   []*batch // processed batches waiting to be written, by seq
	next    int      // the number of the next batch to write
	writing bool     // a worker is writing

	inBytes, outBytes int64 // of the batches processed: their growth
}

// work is a worker's loop; b, if not nil, is its first batch.
func (pp *pipeline) work(w *worker, b *batch) {
	if b == nil {
		b = pp.read()
	}
	for b != nil {
		if pp.ctx.Err() == nil {
			w.process(b)
		}
		pp.handIn(b)
		b = pp.read()
	}
}

// read fills a free batch with the next rows, or returns nil at the end of
// the input or when the work is cancelled.
func (pp *pipeline) read() *batch {
	pp.mu.Lock()
	for len(pp.free) == 0 && pp.more && pp.ctx.Err() == nil {
		pp.cond.Wait()
	}
	if !pp.more || pp.ctx.Err() != nil {
		pp.mu.Unlock()
		return nil
	}
	b := pp.free[len(pp.free)-1]
	pp.free = pp.free[:len(pp.free)-1]
	pp.mu.Unlock()

	pp.readMu.Lock()
	defer pp.readMu.Unlock()
	pp.mu.Lock()
	more := pp.more // another worker may have read the last rows meanwhile
	pp.mu.Unlock()
	if !more {
		pp.putBack(b)
		return nil
	}
	more, err := pp.f.fill(b, pp.target())
	if err != nil {
		pp.cancel(fmt.Errorf("pseudonym: reading the file: %w", err))
	}
	pp.mu.Lock()
	b.seq = pp.seq
	pp.seq++
	pp.more = more && err == nil
	if !pp.more {
		pp.cond.Broadcast()
	}
	pp.mu.Unlock()
	return b
}

// target returns how many bytes of input the next batch takes: batchBytes,
// or less if the batches processed so far grew more than batchOut/batchBytes
// times, so that the memory a batch takes is bounded whatever the policy
// (an encrypted one-letter field grows forty times). Until a batch has been
// processed, the growth is unknown, and batches are small.
func (pp *pipeline) target() int {
	pp.mu.Lock()
	in, out := pp.inBytes, pp.outBytes
	pp.mu.Unlock()
	switch {
	case in == 0:
		return max(batchBytes/16, 1)
	case out <= in*int64(batchOut/batchBytes):
		return batchBytes
	}
	return max(int(int64(batchOut)*in/out), 1)
}

// putBack returns an unused batch.
func (pp *pipeline) putBack(b *batch) {
	pp.mu.Lock()
	pp.free = append(pp.free, b)
	pp.cond.Signal()
	pp.mu.Unlock()
}

// handIn takes a processed batch and writes, in order, every batch that is
// ready, unless another worker is writing already: that worker will find
// this batch too.
func (pp *pipeline) handIn(b *batch) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	pp.ready[b.seq%len(pp.ready)] = b
	pp.inBytes += int64(len(b.in))
	pp.outBytes += int64(len(b.out) + b.valueBytes)
	if pp.writing {
		return
	}
	pp.writing = true
	for {
		i := pp.next % len(pp.ready)
		b := pp.ready[i]
		if b == nil || b.seq != pp.next {
			break
		}
		pp.ready[i] = nil
		pp.mu.Unlock()
		pp.write(b)
		b.reset()
		pp.mu.Lock()
		pp.next++
		pp.free = append(pp.free, b)
		pp.cond.Signal()
	}
	pp.writing = false
}

// write writes a batch and counts it into the report. Only the worker that
// is writing calls it, so the callbacks are called one at a time, in order.
func (pp *pipeline) write(b *batch) {
	if pp.ctx.Err() != nil {
		return
	}
	if err := pp.sink.write(pp.pl, b); err != nil {
		pp.cancel(fmt.Errorf("pseudonym: writing: %w", err))
		return
	}
	pp.report.add(b, pp.p.maxProblems(), pp.p.OnProblem)
	if pp.p.Progress != nil {
		pp.p.Progress(pp.report.Rows)
	}
}

// add counts a written batch into the report.
func (r *Report) add(b *batch, kept int, onProblem func(Problem)) {
	r.Rows.Read += b.counts.Read
	r.Rows.Written += b.counts.Written
	r.Rows.Rejected += b.counts.Rejected
	r.Rows.Flagged += b.counts.Flagged
	for _, p := range b.problems {
		r.ByCode[p.Code]++
		if len(r.Problems) < kept {
			r.Problems = append(r.Problems, p)
		} else {
			r.Omitted++
		}
		if onProblem != nil {
			onProblem(p)
		}
	}
}

// columns takes the header (or, without one, the number of fields) from the
// first batch and resolves the policy.
func (pl *plan) columns(first *batch) error {
	if pl.fixed != nil {
		if pl.header && len(first.rows) > 0 {
			first.rows = append(first.rows[:0], first.rows[1:]...) // the layout names the columns
		}
		return pl.resolve()
	}
	if len(first.rows) == 0 {
		if pl.header {
			return fmt.Errorf("%w: the file is empty: expected a header row", ErrHeader)
		}
		return nil // no rows: nothing to resolve, nothing to write
	}
	row := first.rows[0]
	if row.code != "" {
		return fmt.Errorf("%w: the first row cannot be read (%s)", ErrHeader, row.code)
	}
	text := first.in[row.start:row.end]
	if !utf8.Valid(text) {
		return fmt.Errorf("%w: the first row is not valid UTF-8: set Encoding", ErrHeader)
	}
	sp := splitter{comma: pl.comma, maxFields: pl.maxFields}
	fields, code := sp.split(text, row.quoted)
	if code != "" {
		return fmt.Errorf("%w: the first row cannot be split into fields (%s)", ErrHeader, code)
	}
	pl.inFields = len(fields)
	if pl.header {
		for _, f := range fields {
			pl.names = append(pl.names, string(f))
		}
		first.rows = append(first.rows[:0], first.rows[1:]...)
	}
	return pl.resolve()
}

// bindSchema binds the Processor's Schema, if any, to the columns.
func (pl *plan) bindSchema() error {
	if pl.p.Schema == nil {
		return nil
	}
	check, err := pl.p.Schema.Bind(pl.names)
	if err != nil {
		if !errors.Is(err, ErrHeader) {
			err = fmt.Errorf("%w: %w", ErrHeader, err)
		}
		return err
	}
	pl.check = check
	return nil
}

// worker transforms batches; each worker goroutine has its own.
type worker struct {
	pl     *plan
	values bool
	pz     *Pseudonymiser // one per worker: not safe for concurrent use
	fc     *FieldCipher   // shared by the workers
	sp     splitter
	plain  bool // the current row needs no quotes
	ends   []int
	// For a spreadsheet: which fields of the row were 8-digit number
	// cells, and a BSN with its leading zero put back.
	numeric []bool
	padded  []byte
	checked [][]byte // the fields as the Schema's check gets them
}

func (pl *plan) newWorker(values bool, fc *FieldCipher) (*worker, error) {
	w := &worker{pl: pl, values: values, fc: fc, sp: splitter{comma: pl.comma, fixed: pl.fixed, maxFields: pl.maxFields}}
	var err error
	if w.pz, err = pl.p.Keyring.Pseudonymiser(pl.p.Domain); err != nil {
		return nil, err
	}
	return w, nil
}

// process transforms the rows of b.
func (w *worker) process(b *batch) {
	pl := w.pl
	for _, r := range b.rows {
		b.counts.Read++
		if r.code != "" {
			w.reject(b, r.line, r.code)
			continue
		}
		text := b.in[r.start:r.end]
		fields, code := w.sp.split(text, r.quoted)
		// An ASCII row is valid UTF-8: the split found out. Bytes that are
		// not UTF-8 are the row's problem before any other.
		if !w.sp.ascii && !utf8.Valid(text) {
			w.reject(b, r.line, CodeEncoding)
			continue
		}
		if code == "" && len(fields) != pl.inFields {
			code = CodeFieldCount
		}
		if code != "" {
			w.reject(b, r.line, code)
			continue
		}
		// A row of a delimited file without quotes or carriage returns
		// has no field that needs quotes: one scan, not one per field.
		w.plain = pl.fixed == nil && !pl.sheet && !r.quoted && !w.sp.cr
		w.row(b, r.line, fields)
	}
}

// reject lists a row rejected as a whole.
func (w *worker) reject(b *batch, line int, code Code) {
	b.counts.Rejected++
	b.problems = append(b.problems, Problem{Line: line, Code: code, Rejected: true, Severity: SeverityReject})
}

// row transforms one row and appends it to the output.
func (w *worker) row(b *batch, line int, fields [][]byte) {
	pl := w.pl
	first := len(b.problems) // of this row
	rejected := false
	if pl.sheet {
		// A number cell of eight digits carries a mark: see
		// NumericFromSpreadsheet.
		w.numeric = w.numeric[:0]
		for i, f := range fields {
			mark := len(f) > 0 && f[0] == markNumber
			if mark {
				fields[i] = f[1:]
			}
			w.numeric = append(w.numeric, mark)
		}
	}
	if pl.check != nil {
		// The check gets its own copy of the fields: whatever it does
		// with them, the output is the row's (see kept runs below).
		w.checked = append(w.checked[:0], fields...)
		b.problems = pl.check(w.checked, b.problems)
		for i := first; i < len(b.problems); i++ {
			p := &b.problems[i]
			p.Line = line
			p.Rejected = p.Severity == SeverityReject
			rejected = rejected || p.Rejected
		}
		if rejected {
			b.counts.Rejected++
			return
		}
	}
	flagged := len(b.problems) > first
	out := b.out // a local: the compiler keeps it in registers
	start := len(out)
	w.ends = w.ends[:0]
	// A plain row's fields are slices of it, one delimiter apart: a run
	// of kept columns is one slice of the row.
	runs := w.plain && !w.values && pl.outComma == pl.comma
	for i := 0; i < len(pl.out); i++ {
		col := &pl.out[i]
		if i > 0 && !w.values {
			out = append(out, pl.outComma)
		}
		if runs && col.kept > 1 {
			v := fields[col.src]
			n := len(v)
			for _, f := range fields[col.src+1 : col.src+col.kept] {
				n += 1 + len(f)
			}
			out = append(out, v[:n]...)
			i += col.kept - 1
			continue
		}
		cell := len(out)
		var code Code
		v := fields[col.src]
		if pl.sheet && col.action == Pseudonymise && w.numeric[col.src] {
			if !col.legacy {
				code = CodeBSNNumberCell
			} else {
				// A BSN that lost its leading zero: accepted, and said so.
				w.padded = append(append(w.padded[:0], '0'), v...)
				v = w.padded
				b.problems = append(b.problems, Problem{Line: line, Column: col.src + 1, Name: col.name,
					Code: CodeBSNLegacyNumber, Severity: SeverityWarning})
				flagged = true
			}
		}
		if code == "" {
			out, code = w.cell(out, col, v)
		}
		if code != "" {
			reject := pl.p.OnInvalid == RejectRow
			severity := SeverityWarning
			if reject {
				severity = SeverityReject
			}
			// One problem a cell: the schema's, if it found one, now
			// with what the cell's action made of it.
			p := findProblem(b.problems[first:], col.src+1)
			if p == nil {
				b.problems = append(b.problems, Problem{Line: line, Column: col.src + 1, Name: col.name, Code: code})
				p = &b.problems[len(b.problems)-1]
			}
			p.Rejected, p.Severity = reject, severity
			rejected = rejected || reject
			flagged = true
			out = append(out[:cell], code...) // never the invalid value
		}
		if w.values {
			w.ends = append(w.ends, len(out))
		}
	}
	switch {
	case rejected:
		b.out = out[:start]
		b.counts.Rejected++
		return
	case !w.values:
		if len(out) == start {
			out = append(out, `""`...) // one empty field, not a blank line
		}
		b.out = append(out, '\n')
	default:
		// One string per row, its values slices of it: the allocation
		// happens here, on all cores, rather than in the writer.
		s := string(out[start:])
		b.valueBytes += len(s) + 16*len(w.ends) // the bytes and a header per value
		from := 0
		for _, end := range w.ends {
			b.values = append(b.values, s[from:end-start])
			from = end - start
		}
		b.lines = append(b.lines, line)
		b.flagged = append(b.flagged, flagged)
		b.out = out[:start]
	}
	b.counts.Written++
	if flagged {
		b.counts.Flagged++
	}
}

// cell appends the output of one cell, or reports the problem with it.
func (w *worker) cell(out []byte, col *outCol, v []byte) ([]byte, Code) {
	switch col.action {
	case Keep:
		if w.values || w.plain {
			return append(out, v...), ""
		}
		return appendField(out, v, w.pl.outComma), ""
	case Pseudonymise:
		p, err := w.pz.Pseudonymise(string(v))
		if err != nil {
			return out, bsnCode(err, v)
		}
		out, _ = p.AppendText(out)
		return out, ""
	case Encrypt:
		if len(v) == 0 {
			return out, ""
		}
		return w.fc.AppendEncrypt(out, col.field, v), ""
	case CoarsenPC4:
		if isBlank(v) {
			return out, ""
		}
		i, ok := pc4(v)
		if !ok {
			return out, CodePostcode
		}
		return append(out, v[i:i+4]...), ""
	case CoarsenYear, CoarsenAgeBand:
		if isBlank(v) {
			return out, ""
		}
		pl := w.pl
		d, ok := parseDate(trimSpace(v), pl.dates, pl.defaultDates)
		if !ok {
			return out, CodeDate
		}
		if col.action == CoarsenYear {
			return appendYear(out, d.year), ""
		}
		age := ageOn(d, pl.ageOn)
		if age < 0 {
			return out, CodeDate
		}
		return append(out, pl.ageBands.label(age)...), ""
	}
	panic("pseudonym: unknown action " + col.action.String())
}

// appendYear appends year in decimal, as strconv.AppendInt does: the four
// digits of a year of four digits written at once.
func appendYear(out []byte, year int) []byte {
	if year < 1000 || year > 9999 {
		return strconv.AppendInt(out, int64(year), 10)
	}
	return append(out, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10))
}

// findProblem returns the problem of column col among ps, or nil.
func findProblem(ps []Problem, col int) *Problem {
	for i := range ps {
		if ps[i].Column == col {
			return &ps[i]
		}
	}
	return nil
}

// bsnCode is the problem code of an error of bsn.Parse.
func bsnCode(err error, v []byte) Code {
	switch {
	case errors.Is(err, bsn.ErrLength) && isBlank(v):
		return CodeBSNMissing
	case errors.Is(err, bsn.ErrLength):
		return CodeBSNLength
	case errors.Is(err, bsn.ErrCharacter):
		return CodeBSNCharacter
	}
	return CodeBSNChecksum
}

func isBlank(v []byte) bool { return len(trimSpace(v)) == 0 }

// trimSpace is bytes.TrimSpace, without its work for the common value that
// starts and ends with a printable ASCII character.
func trimSpace(v []byte) []byte {
	if n := len(v); n > 0 && printable(v[0]) && printable(v[n-1]) {
		return v
	}
	return bytes.TrimSpace(v)
}

// printable reports whether c is ASCII and neither a space nor a control
// character other than DEL, none of which is white space.
func printable(c byte) bool { return ' ' < c && c < utf8.RuneSelf }

// appendField appends v to dst as a field of delimited text, quoted if it
// holds the delimiter, a quote or a line break.
func appendField(dst, v []byte, comma byte) []byte {
	if !needsQuotes(v, comma) {
		return append(dst, v...)
	}
	dst = append(dst, '"')
	for {
		i := bytes.IndexByte(v, '"')
		if i < 0 {
			break
		}
		dst = append(dst, v[:i+1]...)
		dst = append(dst, '"')
		v = v[i+1:]
	}
	dst = append(dst, v...)
	return append(dst, '"')
}

func needsQuotes(v []byte, comma byte) bool {
	for _, c := range v {
		// Nearly every byte is above '"': one comparison for those.
		if (c <= '"' || c == comma) && (c == comma || c == '"' || c == '\n' || c == '\r') {
			return true
		}
	}
	return false
}

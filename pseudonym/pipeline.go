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

	done chan struct{} // a worker is done with the batch
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
	r, enc, err := decode(in, p.Encoding)
	if err != nil {
		return report, fmt.Errorf("pseudonym: reading the file: %w", err)
	}
	report.Encoding = enc
	f := &framer{r: r, comma: pl.comma, fixed: pl.fixed != nil, maxRow: pl.maxRow, line: 1}
	if f.fixed {
		f.comma = pl.outComma
	}

	batches := make(chan *batch, 2*p.workers()+2) // the free batches: all memory there is
	for range cap(batches) {
		batches <- &batch{done: make(chan struct{}, 1)}
	}
	first := <-batches
	more, err := f.fill(first)
	if err != nil {
		return report, fmt.Errorf("pseudonym: reading the file: %w", err)
	}
	if !f.fixed {
		pl.comma, pl.outComma = f.comma, f.comma
		report.Comma = rune(pl.comma)
	}
	if err := pl.columns(first); err != nil {
		return report, err
	}
	ws := make([]*worker, p.workers())
	for i := range ws {
		if ws[i], err = pl.newWorker(s.values()); err != nil {
			return report, err
		}
	}
	report.Columns = pl.outNames
	if err := s.header(pl); err != nil {
		return report, fmt.Errorf("pseudonym: writing: %w", err)
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan *batch, cap(batches))
	ordered := make(chan *batch, cap(batches))
	var wg sync.WaitGroup
	wg.Go(func() { // the reader
		defer close(work)
		defer close(ordered)
		b, more := first, more
		for {
			work <- b
			ordered <- b
			if !more {
				return
			}
			select {
			case b = <-batches:
			case <-ctx.Done():
				return
			}
			var err error
			if more, err = f.fill(b); err != nil {
				cancel(fmt.Errorf("pseudonym: reading the file: %w", err))
				b.done <- struct{}{} // an empty batch
				ordered <- b
				return
			}
		}
	})
	for _, w := range ws {
		wg.Go(func() {
			for b := range work {
				if ctx.Err() == nil {
					w.process(b)
				}
				b.done <- struct{}{}
			}
		})
	}

	// The writer: this goroutine, so that the callbacks run on it.
	kept := p.maxProblems()
	for b := range ordered {
		<-b.done
		if ctx.Err() == nil {
			if err := s.write(pl, b); err != nil {
				cancel(fmt.Errorf("pseudonym: writing: %w", err))
			} else {
				report.add(b, kept, p.OnProblem)
				if p.Progress != nil {
					p.Progress(report.Rows)
				}
			}
		}
		b.reset()
		batches <- b
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return report, err
	}
	return report, nil
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

// worker transforms batches; each worker goroutine has its own.
type worker struct {
	pl     *plan
	values bool
	pz     *Pseudonymiser
	fc     *FieldCipher
	sp     splitter
	ends   []int
}

func (pl *plan) newWorker(values bool) (*worker, error) {
	w := &worker{pl: pl, values: values, sp: splitter{comma: pl.comma, fixed: pl.fixed, maxFields: pl.maxFields}}
	var err error
	if w.pz, err = pl.p.Keyring.Pseudonymiser(pl.p.Domain); err != nil {
		return nil, err
	}
	if w.fc, err = pl.p.Keyring.FieldCipher(pl.p.Domain); err != nil {
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
		if !utf8.Valid(text) {
			w.reject(b, r.line, CodeEncoding)
			continue
		}
		fields, code := w.sp.split(text, r.quoted)
		if code == "" && len(fields) != pl.inFields {
			code = CodeFieldCount
		}
		if code != "" {
			w.reject(b, r.line, code)
			continue
		}
		w.row(b, r.line, fields)
	}
}

// reject lists a row rejected as a whole.
func (w *worker) reject(b *batch, line int, code Code) {
	b.counts.Rejected++
	b.problems = append(b.problems, Problem{Line: line, Code: code, Rejected: true})
}

// row transforms one row and appends it to the output.
func (w *worker) row(b *batch, line int, fields [][]byte) {
	pl := w.pl
	out := b.out // a local: the compiler keeps it in registers
	start := len(out)
	rejected, flagged := false, false
	w.ends = w.ends[:0]
	for i := range pl.out {
		col := &pl.out[i]
		if i > 0 && !w.values {
			out = append(out, pl.outComma)
		}
		cell := len(out)
		var code Code
		out, code = w.cell(out, col, fields[col.src])
		if code != "" {
			reject := pl.p.OnInvalid == RejectRow
			b.problems = append(b.problems, Problem{Line: line, Column: col.src + 1, Name: col.name, Code: code, Rejected: reject})
			rejected = rejected || reject
			flagged = true
			out = append(out[:cell], code...) // never the invalid value
		}
		w.ends = append(w.ends, len(out))
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
		if w.values {
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
		d, ok := parseDate(bytes.TrimSpace(v), pl.dates, pl.defaultDates)
		if !ok {
			return out, CodeDate
		}
		if col.action == CoarsenYear {
			return strconv.AppendInt(out, int64(d.year), 10), ""
		}
		age := ageOn(d, pl.ageOn)
		if age < 0 {
			return out, CodeDate
		}
		return append(out, pl.ageBands.label(age)...), ""
	}
	panic("pseudonym: unknown action " + col.action.String())
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

func isBlank(v []byte) bool { return len(bytes.TrimSpace(v)) == 0 }

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

package pseudonym_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/zorgkit/zorgkit/bsn/bsntest"
	"github.com/zorgkit/zorgkit/pseudonym"
	"github.com/zorgkit/zorgkit/pseudonym/layout"
	"github.com/zorgkit/zorgkit/pseudonym/pseudonymtest"
)

var (
	sinkBytes     []byte
	sinkPseudonym pseudonym.Pseudonym
)

// BenchmarkPseudonym compares one pseudonym, appended to a reused buffer,
// with the least it can cost: a bare, reused crypto/hmac SHA-256 over the
// same nine bytes.
func BenchmarkPseudonym(b *testing.B) {
	n := bsntest.TestPersons()[0]
	b.Run("impl=pseudonymiser", func(b *testing.B) {
		p, err := pseudonymtest.Keyring().Pseudonymiser("gemeente-almere")
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			sinkPseudonym = p.Pseudonym(n)
		}
	})
	b.Run("impl=bare-hmac", func(b *testing.B) {
		mac := hmac.New(sha256.New, pseudonymtest.Secret("k1"))
		digits := []byte(n.Digits())
		buf := make([]byte, 0, 128)
		b.ReportAllocs()
		for b.Loop() {
			mac.Reset()
			mac.Write(digits)
			sinkBytes = mac.Sum(buf[:0])
		}
	})
}

// BenchmarkPseudonymText is a pseudonym in its text form, appended to a
// reused buffer: the cost of BenchmarkPseudonym plus base32.
func BenchmarkPseudonymText(b *testing.B) {
	n := bsntest.TestPersons()[0]
	p, err := pseudonymtest.Keyring().Pseudonymiser("gemeente-almere")
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		sinkBytes, _ = p.Pseudonym(n).AppendText(buf[:0])
	}
}

// BenchmarkFile compares the whole pipeline on a file of CBS-like rows with
// a plain encoding/csv copy of the same file. The file (5 million rows
// unless BENCH_ROWS says otherwise) is written once to the temporary
// directory and read from there by both; BENCH_FROM=generator feeds both
// from the generator instead. Each iteration reads every row, so run it
// with -benchtime=1x.
func BenchmarkFile(b *testing.B) {
	rows := 5_000_000
	if s := os.Getenv("BENCH_ROWS"); s != "" {
		rows, _ = strconv.Atoi(s)
	}
	size, _ := io.Copy(io.Discard, pseudonymtest.CBSRows(1, rows))
	measure := measureGenerated
	if os.Getenv("BENCH_FROM") != "generator" {
		// The same file for both, read from the page cache, as a portal
		// reads an upload it has stored. (The generator costs about 0.4
		// µs a row, a third of the copy's CPU, and runs in the pipeline's
		// one reading goroutine at a time: it flattered neither.)
		path := filepath.Join(os.TempDir(), "zorgkit-bench-"+strconv.Itoa(rows)+".csv")
		if info, err := os.Stat(path); err != nil || info.Size() != size {
			if err := writeRows(path, rows); err != nil {
				b.Fatal(err)
			}
		}
		measure = func(b *testing.B, size int64, rows int, copy func(io.Reader, io.Writer) error) {
			measureFile(b, size, rows, openFile(b, path), copy)
		}
	}
	b.Run("impl=pipeline", func(b *testing.B) {
		p := cbsPolicy()
		measure(b, size, rows, func(r io.Reader, w io.Writer) error {
			_, err := p.Process(context.Background(), r, w)
			return err
		})
	})
	b.Run("impl=pipeline-layout", func(b *testing.B) {
		// As a portal runs it: every row checked against the youth-care
		// layout too.
		p := cbsPolicy()
		p.Schema = layout.Jeugdhulp()
		measure(b, size, rows, func(r io.Reader, w io.Writer) error {
			_, err := p.Process(context.Background(), r, w)
			return err
		})
	})
	b.Run("impl=csv-copy", func(b *testing.B) {
		measure(b, size, rows, csvCopy)
	})
}

// BenchmarkXLSX compares the pipeline on an .xlsx workbook of the same
// CBS-like rows with the least a copy of it costs: excelize's row iterator
// written out with encoding/csv. The workbook (200 000 rows unless
// BENCH_XLSX_ROWS says otherwise) is made once with excelize's stream
// writer, in a temporary file that both read from; run it with
// -benchtime=1x, one implementation per process for the memory figures.
func BenchmarkXLSX(b *testing.B) {
	rows := 200_000
	if s := os.Getenv("BENCH_XLSX_ROWS"); s != "" {
		rows, _ = strconv.Atoi(s)
	}
	path := filepath.Join(os.TempDir(), "zorgkit-bench-"+strconv.Itoa(rows)+".xlsx")
	if _, err := os.Stat(path); err != nil {
		if err := writeWorkbook(path, rows); err != nil {
			b.Fatal(err)
		}
	}
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	open := openFile(b, path)
	b.Run("impl=pipeline-layout", func(b *testing.B) {
		p := cbsPolicy()
		p.Schema = layout.Jeugdhulp()
		measureFile(b, info.Size(), rows, open, func(r io.Reader, w io.Writer) error {
			_, err := p.Process(context.Background(), r, w)
			return err
		})
	})
	b.Run("impl=excelize-csv-copy", func(b *testing.B) {
		measureFile(b, info.Size(), rows, open, excelizeCopy)
	})
}

// openFile returns a function that opens path afresh for each run.
func openFile(b *testing.B, path string) func() io.Reader {
	return func() io.Reader {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		return f
	}
}

// writeRows writes pseudonymtest.CBSRows(1, rows) to path.
func writeRows(path string, rows int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, pseudonymtest.CBSRows(1, rows)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// excelizeCopy is the baseline of an .xlsx: excelize's streaming row
// iterator, every row written with encoding/csv.
func excelizeCopy(r io.Reader, w io.Writer) error {
	f, err := excelize.OpenReader(r)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := f.Rows(f.GetSheetName(0))
	if err != nil {
		return err
	}
	defer rows.Close()
	bw := bufio.NewWriterSize(w, 64<<10)
	out := csv.NewWriter(bw)
	out.Comma = ';'
	for rows.Next() {
		rec, err := rows.Columns()
		if err != nil {
			return err
		}
		if err := out.Write(rec); err != nil {
			return err
		}
	}
	out.Flush()
	if err := out.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// writeWorkbook writes pseudonymtest.CBSRows(1, rows) as an .xlsx, every
// cell a string, as a spreadsheet with a text column for the BSN holds it.
func writeWorkbook(path string, rows int) error {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return err
	}
	in := csv.NewReader(pseudonymtest.CBSRows(1, rows))
	in.Comma = ';'
	for r := 1; ; r++ {
		rec, err := in.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		cells := make([]any, len(rec))
		for i, v := range rec {
			cells[i] = v
		}
		ref, _ := excelize.CoordinatesToCellName(1, r)
		if err := sw.SetRow(ref, cells); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.SaveAs(path)
}

// measureFile is measure for a file that open returns for each run.
func measureFile(b *testing.B, size int64, rows int, open func() io.Reader, copy func(io.Reader, io.Writer) error) {
	b.SetBytes(size)
	b.ReportAllocs()
	var peakGo atomic.Uint64
	var peakRSS uint64
	cpu := cpuTime()
	for b.Loop() {
		in := open()
		debug.FreeOSMemory()
		resetPeakRSS()
		stop := sampleGoMemory(&peakGo)
		if err := copy(in, io.Discard); err != nil {
			b.Fatal(err)
		}
		stop()
		peakRSS = max(peakRSS, readPeakRSS())
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(rows*b.N), "cpu-ns/row")
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(peakGo.Load())/(1<<20), "peak-go-MiB")
	if peakRSS > 0 {
		b.ReportMetric(float64(peakRSS)/(1<<20), "peak-rss-MiB")
	}
}

// csvCopy is the baseline: read every record with encoding/csv and write it
// back, without any cryptography.
func csvCopy(r io.Reader, w io.Writer) error {
	in := csv.NewReader(r)
	in.Comma = ';'
	in.ReuseRecord = true
	bw := bufio.NewWriterSize(w, 64<<10)
	out := csv.NewWriter(bw)
	out.Comma = ';'
	for {
		rec, err := in.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := out.Write(rec); err != nil {
			return err
		}
	}
	out.Flush()
	if err := out.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// measureGenerated runs copy on the rows as the generator makes them, and reports throughput, CPU time
// per row (user and system, all threads) and peak memory: the process's peak
// resident set (VmHWM, reset before each run after the heap is returned to
// the system) and the peak of the memory the Go runtime holds (mapped and not
// released), sampled every 5 ms. Run one implementation per process for the
// memory figures: a process keeps what an earlier benchmark grew.
func measureGenerated(b *testing.B, size int64, rows int, copy func(io.Reader, io.Writer) error) {
	measureFile(b, size, rows, func() io.Reader { return pseudonymtest.CBSRows(1, rows) }, copy)
}

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func sampleGoMemory(peak *atomic.Uint64) (stop func()) {
	sample := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64() - sample[1].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// resetPeakRSS resets VmHWM (Linux 4.0 and later); elsewhere it does nothing.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// readPeakRSS returns VmHWM in bytes, or 0 where there is none.
func readPeakRSS() uint64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	_, rest, ok := bytes.Cut(status, []byte("VmHWM:"))
	if !ok {
		return 0
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	kb, err := strconv.ParseUint(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(line), []byte("kB")))), 10, 64)
	if err != nil {
		return 0
	}
	return kb << 10
}

// BenchmarkRows is the CPU a row costs in the pipeline alone: 100 000 rows
// (BENCH_ROWS otherwise) held in memory, one worker (Workers: 1, no
// goroutine), to io.Discard, against the encoding/csv copy of the same
// bytes. Steadier than BenchmarkFile on a shared machine, and what
// -cpuprofile should be taken of.
func BenchmarkRows(b *testing.B) {
	rows := 100_000
	if s := os.Getenv("BENCH_ROWS"); s != "" {
		rows, _ = strconv.Atoi(s)
	}
	data, err := io.ReadAll(pseudonymtest.CBSRows(1, rows))
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, copy func(io.Reader, io.Writer) error) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			if err := copy(bytes.NewReader(data), io.Discard); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(cpuTime()-cpu)/float64(rows*b.N), "cpu-ns/row")
	}
	b.Run("impl=pipeline-layout", func(b *testing.B) {
		p := cbsPolicy()
		p.Schema = layout.Jeugdhulp()
		p.Workers = 1
		run(b, func(r io.Reader, w io.Writer) error {
			_, err := p.Process(context.Background(), r, w)
			return err
		})
	})
	b.Run("impl=csv-copy", func(b *testing.B) { run(b, csvCopy) })
}

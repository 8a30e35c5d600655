package main

import (
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/bsn/bsntest"
	"github.com/zorgkit/zorgkit/password"
)

// The load tests are benchmarks: loopback only, bounded by -benchtime. See
// BENCHMARKS.md for the figures and the commands.

// BenchmarkLogin measures the password step of a login at the default
// argon2id cost (m=19 MiB, t=2, p=1), with as many clients as GOMAXPROCS.
func BenchmarkLogin(b *testing.B) {
	p := newTestPortal(b)
	p.a.hashParams = password.DefaultParams()
	require.NoError(b, p.a.initAuth())
	pw := p.passwords["jdevries"]
	hash, err := p.a.hasher.Hash(context.Background(), pw)
	require.NoError(b, err)
	_, err = p.a.db.Exec(`UPDATE users SET password_hash = $1 WHERE username = 'jdevries'`, hash)
	require.NoError(b, err)

	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := p.browser()
		for pb.Next() {
			status, _ := c.post("/login", url.Values{"username": {"jdevries"}, "password": {pw}})
			if status != http.StatusOK {
				b.Errorf("login: status %d", status)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
}

// BenchmarkLookup measures client lookups by BSN with the consent decisions
// of the client page, and reports the 99th percentile of their latency.
func BenchmarkLookup(b *testing.B) {
	p := newTestPortal(b)
	persons := bsntest.TestPersons()
	var mu sync.Mutex
	var latencies []time.Duration
	c := p.browser() // one session, shared by the parallel clients
	c.login("jdevries")
	b.ResetTimer()
	cpu := processCPU()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for i := 0; pb.Next(); i++ {
			start := time.Now()
			status, _ := c.post("/clients/lookup", url.Values{"bsn": {persons[i%len(persons)].Digits()}})
			mine = append(mine, time.Since(start))
			if status != http.StatusOK {
				b.Errorf("lookup: status %d", status)
				return
			}
		}
		mu.Lock()
		latencies = append(latencies, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	// The process's CPU time per lookup, client and server together: on a
	// shared machine it says what a lookup costs, where time per lookup
	// says as much about the other processes.
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
	slices.Sort(latencies)
	if len(latencies) > 0 {
		b.ReportMetric(float64(len(latencies))/b.Elapsed().Seconds(), "lookups/s")
		b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// BenchmarkUpload streams a generated CBS data set of ZORGKIT_UPLOAD_MB
// megabytes (default 16) through the upload form: pseudonymised on arrival
// into the database. It reports the throughput and the process's peak
// resident memory (VmHWM), server and client together.
func BenchmarkUpload(b *testing.B) {
	size := int64(16)
	if v := os.Getenv("ZORGKIT_UPLOAD_MB"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		require.NoError(b, err)
		size = n
	}
	p := newTestPortal(b, func(c *config) { c.MaxUpload = (size + 64) << 20 })
	c := p.browser()
	c.login("jdevries")
	c.c.Timeout = 0 // a large file takes a while
	b.SetBytes(size << 20)
	resetPeakRSS() // measure this upload, not what ran before in the process
	b.ResetTimer()
	for range b.N {
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			fw, err := mw.CreateFormFile("file", "cbs.csv")
			if err == nil {
				_, err = io.Copy(fw, io.LimitReader(demoStream(size<<20), size<<20))
			}
			if err == nil {
				err = mw.Close()
			}
			pw.CloseWithError(err)
		}()
		resp, err := c.c.Post(p.srv.URL+"/uploads", mw.FormDataContentType(), pr)
		require.NoError(b, err)
		status, body := readBody(b, resp)
		require.Equal(b, http.StatusOK, status, text(body))
	}
	b.StopTimer()
	if hwm, ok := peakRSS(); ok {
		b.ReportMetric(float64(hwm)/(1<<20), "peak-RSS-MiB")
	}
}

// demoStream generates the demo data set endlessly, in whole lines, without
// holding it: a file of any size in constant memory.
func demoStream(limit int64) io.Reader {
	header := uploadHeader + "\n"
	var chunk strings.Builder
	rows, _ := io.ReadAll(demoDataset("load", 2000))
	chunk.Write(rows[len(header):])
	body := chunk.String()
	readers := []io.Reader{strings.NewReader(header)}
	for n := int64(len(header)); n < limit; n += int64(len(body)) {
		readers = append(readers, strings.NewReader(body))
	}
	// Cut the last line whole, so that the file ends cleanly.
	mr := io.MultiReader(readers...)
	return &wholeLines{r: io.LimitReader(mr, limit)}
}

// wholeLines passes a reader through, dropping a final incomplete line.
type wholeLines struct {
	r    io.Reader
	tail []byte
	done bool
}

func (w *wholeLines) Read(p []byte) (int, error) {
	if w.done {
		return 0, io.EOF
	}
	buf := make([]byte, len(p))
	n, err := w.r.Read(buf)
	data := append(w.tail, buf[:n]...)
	last := strings.LastIndexByte(string(data), '\n')
	out := 0
	if last >= 0 {
		out = copy(p, data[:last+1])
		w.tail = append([]byte(nil), data[out:]...)
	} else {
		w.tail = data
	}
	if err == io.EOF {
		w.done = true
		if out == 0 {
			return 0, io.EOF
		}
		return out, nil
	}
	return out, err
}

// resetPeakRSS returns freed memory to the system and resets the kernel's
// record of the process's peak resident set (Linux; elsewhere nothing).
func resetPeakRSS() {
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS returns the process's peak resident set size in bytes (Linux).
func peakRSS() (int64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kb); err == nil {
				return kb << 10, true
			}
		}
	}
	return 0, false
}

// processCPU returns the CPU time (user and system) the process has used.
func processCPU() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

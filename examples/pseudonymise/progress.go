package main

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/zorgkit/zorgkit/pseudonym"
)

// countingReader counts the bytes read, for the progress line.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// progress prints a progress line on standard error at most once a second,
// from the first second on: a short file prints none.
type progress struct {
	w       io.Writer
	size    int64 // of the input, -1 if unknown
	read    *atomic.Int64
	start   time.Time
	last    time.Time
	printed bool
	now     func() time.Time
}

func newProgress(w io.Writer, size int64) *progress {
	p := &progress{w: w, size: size, now: time.Now}
	p.start = p.now()
	p.last = p.start
	return p
}

// update is the Processor's Progress function.
func (p *progress) update(c pseudonym.Counts) {
	now := p.now()
	if now.Sub(p.last) < time.Second {
		return
	}
	p.last = now
	p.printed = true
	read := p.read.Load()
	rate := float64(c.Read) / now.Sub(p.start).Seconds()
	if p.size > 0 {
		fmt.Fprintf(p.w, "\r%d rows, %d rejected, %.0f MB of %.0f MB (%d%%), %.0f rows/s ",
			c.Read, c.Rejected, float64(read)/1e6, float64(p.size)/1e6, read*100/p.size, rate)
		return
	}
	fmt.Fprintf(p.w, "\r%d rows, %d rejected, %.0f MB, %.0f rows/s ", c.Read, c.Rejected, float64(read)/1e6, rate)
}

// done ends the progress line, if there is one.
func (p *progress) done() {
	if p.printed {
		fmt.Fprintln(p.w)
	}
}

package main

import (
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkRetention measures what two uploads of ZORGKIT_UPLOAD_MB
// megabytes (default 16) by one provider leave in the SQLite database: the
// sizes of the database file and its write-ahead log after each upload,
// after the nightly processing, and after the sweep (retention 0: chunks
// purged once processed, the superseded delivery's report rows deleted,
// the log checkpointed; then more sweeps, as the portal runs every few
// seconds, until the free pages are returned). See BENCHMARKS.md.
func BenchmarkRetention(b *testing.B) {
	size := int64(16)
	if v := os.Getenv("ZORGKIT_UPLOAD_MB"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		require.NoError(b, err)
		size = n
	}
	ctx := context.Background()
	for range b.N {
		p := newTestPortal(b, func(c *config) { c.MaxUpload = (size + 64) << 20 })
		c := p.browser()
		c.login("jdevries")
		c.c.Timeout = 0
		sizes := func(when string) {
			db, wal := fileSize(b, p, "zorgkit.db"), fileSize(b, p, "zorgkit.db-wal")
			var free, pageSize int64
			require.NoError(b, p.a.db.QueryRow(`PRAGMA freelist_count`).Scan(&free))
			require.NoError(b, p.a.db.QueryRow(`PRAGMA page_size`).Scan(&pageSize))
			b.Logf("%-34s database %7.1f MiB (%7.1f MiB free pages), WAL %7.1f MiB", when, mib(db), mib(free*pageSize), mib(wal))
		}
		sizes("start")
		for i := 1; i <= 2; i++ {
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
			sizes("after upload " + strconv.Itoa(i))
			_, err = p.a.processUploads(ctx)
			require.NoError(b, err)
			sizes("after processing " + strconv.Itoa(i))
			require.NoError(b, p.a.sweep(ctx))
			sizes("after the sweep " + strconv.Itoa(i))
			// A sweep returns at most 1 GiB of free pages; the portal
			// sweeps every few seconds, and the next ones return the rest.
			more := 0
			for ; more < 64 && freePages(b, p) > 0; more++ {
				before := freePages(b, p)
				require.NoError(b, p.a.sweep(ctx))
				if freePages(b, p) == before {
					break
				}
			}
			if more > 0 {
				sizes(fmt.Sprintf("after %d more sweeps", more))
			}
		}
		var rows int
		require.NoError(b, p.a.db.QueryRow(`SELECT COUNT(*) FROM report_records WHERE provider_id = 'zonnehuis'`).Scan(&rows))
		b.Logf("report rows of the provider: %d", rows)
		b.ReportMetric(mib(fileSize(b, p, "zorgkit.db")), "db-MiB")
		b.ReportMetric(mib(fileSize(b, p, "zorgkit.db-wal")), "wal-MiB")
	}
}

func fileSize(tb testing.TB, p *testPortal, name string) int64 {
	fi, err := os.Stat(filepath.Join(p.a.cfg.DataDir, name))
	if os.IsNotExist(err) {
		return 0
	}
	require.NoError(tb, err)
	return fi.Size()
}

func freePages(tb testing.TB, p *testPortal) int64 {
	var n int64
	require.NoError(tb, p.a.db.QueryRow(`PRAGMA freelist_count`).Scan(&n))
	return n
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// TestSweepsReturnFreePages: a sweep returns at most compactSteps ×
// compactStep free pages; what a large purge freed beyond that, the next
// sweeps return, although they have nothing to delete.
func TestSweepsReturnFreePages(t *testing.T) {
	defer func(steps, step int) { compactSteps, compactStep = steps, step }(compactSteps, compactStep)
	compactSteps, compactStep = 1, 64 // 256 KiB per sweep
	p := newTestPortal(t)
	ctx := t.Context()
	b := p.browser()
	b.login("jdevries")
	status, body := b.upload("/uploads", "cbs.csv", io.LimitReader(demoStream(1<<20), 1<<20))
	require.Equal(t, http.StatusOK, status, text(body))
	_, err := p.a.processUploads(ctx)
	require.NoError(t, err)
	require.NoError(t, p.a.sweep(ctx)) // purges the chunks and the old report rows
	require.Greater(t, freePages(t, p), int64(compactStep), "more was freed than one sweep returns")
	for i := 0; freePages(t, p) > 0; i++ {
		require.Less(t, i, 1000)
		before := freePages(t, p)
		require.NoError(t, p.a.sweep(ctx))
		require.Less(t, freePages(t, p), before, "a sweep without anything to delete still returns free pages")
	}
}

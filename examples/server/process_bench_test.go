package main

import (
	"encoding/csv"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkProcessRecord is the per-row work of the nightly processing:
// a stored row of the demo data set read as the reports need it, each
// indicator judged by the layout (whether it applies, whether the row is
// a valid measurement).
func BenchmarkProcessRecord(b *testing.B) {
	data, err := io.ReadAll(demoDataset("bench", 2000))
	require.NoError(b, err)
	r := csv.NewReader(strings.NewReader(string(data)))
	r.Comma = ';'
	rows, err := r.ReadAll()
	require.NoError(b, err)
	rr, err := newRowReader(rows[0])
	require.NoError(b, err)
	rows = rows[1:]
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, ok := rr.record(rows[i%len(rows)]); !ok {
			b.Fatal("a row of the wrong width")
		}
	}
}

// BenchmarkProcessUpload processes an accepted delivery of 5,000 rows into
// its provider's report (processUploads: the build steps and the swap),
// on SQLite; the upload itself is not timed.
func BenchmarkProcessUpload(b *testing.B) {
	p := newTestPortal(b)
	c := p.browser()
	c.login("jdevries")
	for b.Loop() {
		b.StopTimer()
		p.clock.Advance(1e9)
		status, body := c.upload("/uploads", "cbs.csv", demoDataset("bench", 5000))
		require.Equal(b, http.StatusOK, status, text(body))
		b.StartTimer()
		_, err := p.a.processUploads(b.Context())
		require.NoError(b, err)
	}
}

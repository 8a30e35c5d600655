package main

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/bsn/bsntest"
)

// TestFileKinds sends files as providers really produce them through the
// upload form, and checks every row arrives, nothing is rejected for the
// way the file was saved, and no raw BSN is stored.
func TestFileKinds(t *testing.T) {
	persons := bsntest.TestPersons()
	row := func(i int, product string) string {
		return fmt.Sprintf("%s;2012-05-0%d;V;1312 AB;0034;B%06d;%s;2026-01-01;2026-06-30;ja;8", persons[i%len(persons)].String(), 1+i%9, i, product)
	}
	lines := func(n int, product string) []string {
		out := []string{uploadHeader}
		for i := range n {
			out = append(out, row(i, product))
		}
		return out
	}
	// 64 KiB of ASCII rows, then rows with "ë" in Windows-1252 (0xEB).
	var late bytes.Buffer
	ascii := lines(1200, "45A11")
	late.WriteString(strings.Join(ascii, "\r\n") + "\r\n")
	require.Greater(t, late.Len(), 64<<10)
	for i := range 5 {
		late.WriteString(row(i, "45A\xeb1") + "\r\n")
	}
	loneCR := lines(10, "45A11")
	tests := []struct {
		name     string
		file     string
		rows     int
		encoding string
		line     int
	}{
		{"LF", strings.Join(lines(10, "45A11"), "\n") + "\n", 10, "UTF-8", 0},
		{"CRLF", strings.Join(lines(10, "45A11"), "\r\n") + "\r\n", 10, "UTF-8", 0},
		{"CR only (Excel for Mac)", strings.Join(lines(10, "45A11"), "\r") + "\r", 10, "UTF-8", 0},
		{"a lone CR in a CRLF file", strings.Join(loneCR[:5], "\r\n") + "\r" + strings.Join(loneCR[5:], "\r\n") + "\r\n", 10, "UTF-8", 0},
		{"Windows-1252 after 64 KiB of ASCII", late.String(), 1205, "Windows-1252", 1202},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestPortal(t)
			b := p.browser()
			b.login("jdevries")
			status, body := b.upload("/uploads", "cbs.csv", strings.NewReader(tt.file))
			require.Equal(t, http.StatusOK, status, text(body))
			assert.Contains(t, body, `data-status="accepted"`)
			var read, written, rejected int
			var report string
			require.NoError(t, p.a.db.QueryRow(`SELECT rows_read, rows_written, rows_rejected, report FROM uploads WHERE org_id = 'zonnehuis' AND status = 'accepted'`).
				Scan(&read, &written, &rejected, &report))
			assert.Equal(t, tt.rows, read, "every row read")
			assert.Equal(t, tt.rows, written, "and written")
			assert.Zero(t, rejected)
			assert.Contains(t, report, `"encoding":"`+tt.encoding+`"`)
			if tt.line > 0 {
				assert.Contains(t, report, fmt.Sprintf(`"encodingLine":%d`, tt.line), "the report says where it decided")
				assert.Contains(t, text(body), fmt.Sprintf("besloten op regel %d", tt.line))
			}
			var data string
			require.NoError(t, p.a.db.QueryRow(`SELECT string_agg(data, '') FROM upload_chunks c JOIN uploads u ON u.id = c.upload_id WHERE u.status = 'accepted'`).Scan(&data))
			for _, n := range persons {
				assert.NotContains(t, data, n.String(), "no raw BSN stored")
			}
			if tt.encoding == "Windows-1252" {
				assert.Contains(t, data, "45Aë1", "stored as UTF-8")
			}
		})
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/zorgkit/zorgkit/bsn"
	"github.com/zorgkit/zorgkit/bsn/bsntest"
	"github.com/zorgkit/zorgkit/pseudonym"
)

// TestFileKinds sends files as providers really produce them through the
// upload form, and checks every row arrives, nothing is rejected for the
// way the file was saved, and no raw BSN is stored.
func TestFileKinds(t *testing.T) {
	persons := bsntest.TestPersons()
	row := func(i int, product string) string {
		return fmt.Sprintf("%s;2012-05-0%d;2;1312 AB;0034;B%06d;87654321;01;%s;2026-01-01;2026-06-30;1;ja;8", persons[i%len(persons)].Digits(), 1+i%9, i, product)
	}
	lines := func(n int, product string) []string {
		out := []string{uploadHeader}
		for i := range n {
			out = append(out, row(i, product))
		}
		return out
	}
	// Windows-1252 as Excel on Dutch Windows saves "CSV": the header's
	// "Reden beëindiging" and a product code hold 0xEB, more than 64 KiB in.
	// (The portal's header itself has an "ë", so such a file is decided on
	// its first line; the library's tests cover a file whose first 64 KiB
	// are ASCII.)
	var cp1252 bytes.Buffer
	ascii := lines(1200, "45A11")
	cp1252.WriteString(strings.ReplaceAll(strings.Join(ascii, "\r\n"), "ë", "\xeb") + "\r\n")
	require.Greater(t, cp1252.Len(), 64<<10)
	for i := range 5 {
		cp1252.WriteString(row(i, "45A\xeb1") + "\r\n")
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
		{"Windows-1252 (Excel on Dutch Windows)", cp1252.String(), 1205, "Windows-1252", 0},
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
				assert.NotContains(t, data, n.Digits(), "no raw BSN stored")
			}
			if tt.encoding == "Windows-1252" {
				assert.Contains(t, data, "45Aë1", "stored as UTF-8")
			}
		})
	}
}

// TestSpreadsheetUploads: an .xlsx as providers save it (dates as dates, a
// BSN from before 2007 as a number without its leading zero) goes through
// the same column rules and checks; a legacy .xls is refused with a message
// that says to save it as .xlsx or CSV.
func TestSpreadsheetUploads(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	persons := bsntest.TestPersons()
	var legacy bsn.Number // a BSN from before 2007: a leading zero
	for _, n := range bsntest.Numbers(3, 2000) {
		if s := n.Digits(); s[0] == '0' && s[1] != '0' {
			legacy = n
			break
		}
	}
	require.NotEqual(t, bsn.Number{}, legacy)

	f := excelize.NewFile()
	sheet := f.GetSheetName(0)
	for i, h := range strings.Split(uploadHeader, ";") {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		require.NoError(t, f.SetCellValue(sheet, cell, h))
	}
	rows := [][]any{
		{persons[0].Digits(), time.Date(2012, 5, 1, 0, 0, 0, 0, time.UTC), 2, "1312 AB", "0034", "B000001", 87654321, "01", "45A11",
			time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC), 1, "ja", 8},
		{mustAtoi(t, legacy.Digits()), time.Date(2013, 7, 2, 0, 0, 0, 0, time.UTC), 1, "1312 AB", "0034", "B000002", 87654321, "02", "45A12",
			time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "", "", "nee", 6},
	}
	for r, row := range rows {
		for c, v := range row {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+2)
			require.NoError(t, f.SetCellValue(sheet, cell, v))
		}
	}
	var xlsx bytes.Buffer
	require.NoError(t, f.Write(&xlsx))

	status, body := b.upload("/uploads", "cbs.xlsx", &xlsx)
	require.Equal(t, http.StatusOK, status, text(body))
	assert.Contains(t, body, `data-status="accepted"`)
	var read, written int
	var report, data string
	require.NoError(t, p.a.db.QueryRow(`SELECT rows_read, rows_written, report, (SELECT string_agg(data, '') FROM upload_chunks c WHERE c.upload_id = u.id)
		FROM uploads u WHERE org_id = 'zonnehuis' AND status = 'accepted'`).Scan(&read, &written, &report, &data))
	assert.Equal(t, 2, read)
	assert.Equal(t, 2, written)
	assert.Contains(t, report, `"format":"xlsx"`)
	assert.Contains(t, report, `"code":"bsn-legacy-number"`, "the report says the BSN was read as the legacy form")
	ps, err := p.a.keyring.Pseudonyms("gemeente-0034", legacy)
	require.NoError(t, err)
	assert.Contains(t, data, ps[0].String(), "the number is the BSN with its leading zero")
	assert.NotContains(t, data, legacy.Digits()[1:])

	// The nightly job reads it like any other delivery.
	_, err = p.a.processUploads(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 2, reportRows(t, p, "zonnehuis"))

	// A legacy Excel workbook.
	xls, err := os.ReadFile(filepath.Join("..", "..", "pseudonym", "testdata", "clients-libreoffice.xls"))
	require.NoError(t, err)
	status, body = b.upload("/uploads", "cbs.xls", bytes.NewReader(xls))
	require.Equal(t, http.StatusOK, status, text(body))
	assert.Contains(t, body, `data-status="rejected"`)
	assert.Contains(t, text(body), ".xlsx", "the message says how to save it")
}

func mustAtoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

// TestFieldDomains sends values outside the data set's domains: each is
// listed with its line, column, code and severity, never its value; rows
// with a severe problem are rejected, others accepted with a warning or as
// no valid measurement, which the response rate then does not count.
func TestFieldDomains(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	persons := bsntest.TestPersons()
	set := func(row string, col, value string) string {
		cols := strings.Split(uploadHeader, ";")
		f := strings.Split(row, ";")
		for i, c := range cols {
			if c == col {
				f[i] = value
			}
		}
		return strings.Join(f, ";")
	}
	tests := []struct {
		col, value, code, severity string
	}{
		{"Geboortedatum", "2012-13-01", "date", "reject"},                   // month 13
		{"Geboortedatum", "1800-05-01", "date-range", "reject"},             // birth year 1800
		{"Einddatum", "2025-12-31", "date-order", "reject"},                 // an end before its start
		{"Geslacht", "Q", "value-not-in-list", "warning"},                   // sex Q
		{"Gemeentecode", "ABCD", "value-format", "warning"},                 // municipality ABCD
		{"Tevredenheid", "42", "value-range", "measurement"},                // a satisfaction of 42
		{"Doelrealisatie", "misschien", "value-not-in-list", "measurement"}, // a goal of "misschien"
	}
	file := uploadHeader + "\n" + cbsRow(persons[0].Digits(), 0) + "\n"
	for i, tt := range tests {
		file += set(cbsRow(persons[(i+1)%len(persons)].Digits(), i+1), tt.col, tt.value) + "\n"
	}
	status, body := b.upload("/uploads", "cbs.csv", strings.NewReader(file))
	require.Equal(t, http.StatusOK, status, text(body))
	var id, js string
	require.NoError(t, p.a.db.QueryRow(`SELECT id, report FROM uploads WHERE org_id = 'zonnehuis' AND status = 'accepted'`).Scan(&id, &js))
	var q qualityReportJSON
	require.NoError(t, json.Unmarshal([]byte(js), &q))
	assert.Equal(t, pseudonym.Counts{Read: 8, Written: 5, Rejected: 3, Flagged: 4}, q.Counts)
	for i, tt := range tests {
		t.Run(tt.col+"="+tt.value, func(t *testing.T) {
			line := i + 3 // the header is line 1, the good row line 2
			var found *problemJSON
			for j, pr := range q.Problems {
				if pr.Line == line {
					found = &q.Problems[j]
				}
			}
			require.NotNil(t, found, "a problem on line %d", line)
			assert.Equal(t, tt.col, found.Column)
			assert.Equal(t, tt.code, found.Code)
			assert.Equal(t, tt.severity, found.Severity)
			assert.NotContains(t, js, `"`+tt.value+`"`, "never the value")
		})
	}

	// The response rate counts only valid measurements: of the five rows
	// written, the satisfaction of 42 and the goal "misschien" are none.
	_, err := p.a.processUploads(t.Context())
	require.NoError(t, err)
	var decisions, goals, sats int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*), SUM(CASE WHEN goal_measured THEN 1 ELSE 0 END), SUM(CASE WHEN sat_measured THEN 1 ELSE 0 END)
		FROM report_records WHERE upload_id = $1`, id).Scan(&decisions, &goals, &sats))
	assert.Equal(t, 5, decisions)
	assert.Equal(t, 4, goals)
	assert.Equal(t, 4, sats)

	// The downloaded report says the same.
	_, csvText := b.get("/uploads/" + id + "/report.csv")
	assert.Contains(t, csvText, "value-range")
	assert.NotContains(t, csvText, "misschien")
}

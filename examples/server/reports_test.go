package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/bsn/bsntest"
	"github.com/zorgkit/zorgkit/disclosure"
)

func TestAgeOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string
		want []string
	}{
		{"by lower limit, not as text", []string{"18-22", "0-3", "12-17", "4-11"}, []string{"0-3", "4-11", "12-17", "18-22"}},
		{"open-ended last but one", []string{"23+", "4-11", "0-3"}, []string{"0-3", "4-11", "23+"}},
		{"unreadable last", []string{"onbekend", "12-17", "0-3"}, []string{"0-3", "12-17", "onbekend"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := map[string]bool{}
			for _, b := range tc.in {
				set[b] = true
			}
			assert.Equal(t, tc.want, ageOrder(set))
		})
	}
}

func TestReportPeriod(t *testing.T) {
	for _, tc := range []struct {
		name, begin, end, want string
	}{
		{"ended in the second half-year", "2026-03-01", "2026-07-31", "2026-2"},
		{"ended on the last day of June", "2026-01-01", "2026-06-30", "2026-1"},
		{"not ended: the half-year it began", "2025-09-15", "", "2025-2"},
		{"compact dates", "20250101", "20250331", "2025-1"},
		{"day first with dashes", "01-01-2025", "30-11-2025", "2025-2"},
		{"day first with slashes, no zeros", "1/1/2025", "3/2/2025", "2025-1"},
		{"an unreadable end falls back to the begin", "2024-08-01", "31-13-2024", "2024-2"},
		{"no usable date", "", "morgen", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, reportPeriod(tc.begin, tc.end))
		})
	}
}

// The protected report is protected one reporting year at a time, which is
// only as safe as protecting all years together because no published cell
// spans two years: there is no total over all periods, in the stored report,
// on the page or in the download, for anyone but a provider in its own
// (unprotected) view.
func TestZorgmonitorNoTotalOverYears(t *testing.T) {
	p := newTestPortal(t)
	d, err := p.a.reportData(t.Context())
	require.NoError(t, err)
	require.False(t, d.empty, "the demo has report records")
	years := map[string]bool{}
	for name, ix := range d.public {
		require.NotEmpty(t, ix.rows, name)
		for _, r := range ix.rows {
			period := r.Categories[posPeriod]
			require.NotEqual(t, disclosure.DefaultTotal, period, "%s: a row over all periods: %v", name, r.Categories)
			years[periodYear(period)] = true
		}
	}
	assert.GreaterOrEqual(t, len(years), 2, "the demo spans several years")

	gemeente := p.browser()
	gemeente.login("gemeente")
	status, body := gemeente.get("/reports")
	require.Equal(t, http.StatusOK, status)
	assert.NotContains(t, body, "Alle perioden")
	_, body = gemeente.get("/reports?" + url.Values{paramPeriod: {disclosure.DefaultTotal}}.Encode())
	assert.Contains(t, text(body), "De gekozen periode komt in de gegevens niet (meer) voor")
	status, body = gemeente.get("/reports.csv")
	require.Equal(t, http.StatusOK, status)
	for line := range strings.Lines(body) {
		assert.False(t, strings.HasPrefix(line, "Alle perioden") || strings.HasPrefix(line, "alle perioden"), "a CSV row over all periods: %q", line)
	}

	provider := p.browser()
	provider.login("jdevries")
	_, body = provider.get("/reports?" + url.Values{paramPeriod: {disclosure.DefaultTotal}}.Encode())
	assert.Contains(t, body, "Alle perioden", "a provider sees its own records over all periods")
	assert.NotContains(t, text(body), "komt in de gegevens niet (meer) voor")
}

// BenchmarkZorgmonitorProtect protects the demo's Zorgmonitor as the portal
// does, one reporting year at a time, and, for comparison, as one system
// over all years (with the total over all periods, which the portal does
// not publish).
func BenchmarkZorgmonitorProtect(b *testing.B) {
	p := newTestPortal(b)
	records, dims, err := p.a.reportRecords(b.Context())
	require.NoError(b, err)
	b.Run("per-year", func(b *testing.B) {
		for b.Loop() {
			_, _, err := p.a.protectReport(b.Context(), "bench")
			require.NoError(b, err)
		}
	})
	b.Run("all-years", func(b *testing.B) {
		for b.Loop() {
			tables, err := disclosure.Tabulate(dims, records, reportTables...)
			require.NoError(b, err)
			_, err = tables.Protect(b.Context(), reportRules)
			require.NoError(b, err)
		}
	})
}

// The processing job protects the Zorgmonitor of the new records itself:
// the first reader after the night does not wait for it.
func TestJobProtectsZorgmonitor(t *testing.T) {
	p := newTestPortal(t)
	ctx := t.Context()
	_, err := p.a.db.ExecContext(ctx, `DELETE FROM report_cache`)
	require.NoError(t, err)
	p.a.reports.mu.Lock()
	p.a.reports.data = nil
	p.a.reports.mu.Unlock()

	require.NoError(t, p.a.enqueueJob(ctx, "process:now:test", p.clock.Now()))
	ran, err := p.a.runNextJob(ctx, "test-instance")
	require.NoError(t, err)
	require.True(t, ran)

	version, err := p.a.reportVersion(ctx)
	require.NoError(t, err)
	var cached string
	require.NoError(t, p.a.db.QueryRowContext(ctx, `SELECT version FROM report_cache`).Scan(&cached))
	assert.Equal(t, version, cached, "the report of the current records is stored")
}

// A row without a Productcode or Gemeentecode, or with a Gemeentecode that
// is the label of the tables' total, is valid but for a warning (the layout
// does not require them), so it is written and becomes a report record. Its
// code must not take the Zorgmonitor down for every reader: it counts under
// "onbekend", like a record without a period.
func TestEmptyCodeKeepsZorgmonitor(t *testing.T) {
	p := newTestPortal(t)
	jan := p.browser()
	jan.login("jdevries")
	var file strings.Builder
	file.WriteString(uploadHeader + "\n")
	for i, n := range bsntest.TestPersons()[:6] {
		f := strings.Split(cbsRow(n.Digits(), i), ";")
		switch i % 3 {
		case 0:
			f[4] = "" // Gemeentecode
		case 1:
			f[8] = "" // Productcode
		case 2:
			f[4] = disclosure.DefaultTotal
		}
		file.WriteString(strings.Join(f, ";") + "\n")
	}
	status, body := jan.upload("/uploads", "cbs.csv", strings.NewReader(file.String()))
	require.Equal(t, http.StatusOK, status, text(body))
	_, err := p.a.processUploads(t.Context())
	require.NoError(t, err)
	require.Equal(t, 6, reportRows(t, p, "zonnehuis"))

	gemeente, owner := p.browser(), p.browser()
	gemeente.login("gemeente")
	owner.login("beheerder")
	for _, b := range []*browser{jan, gemeente, owner} {
		for _, path := range []string{"/reports", "/reports.csv", "/api/reports"} {
			status, body := b.get(path)
			assert.Equal(t, http.StatusOK, status, "%s: %s", path, text(body))
		}
	}
	_, own := jan.get("/reports.csv?periode=" + disclosure.DefaultTotal)
	assert.Contains(t, own, "productgroep onbekend")
	assert.Contains(t, own, "gemeente onbekend")
}

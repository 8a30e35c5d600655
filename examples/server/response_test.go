package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/bsn/bsntest"
)

// responseFile is a data set of one provider in Almere in the first half
// of 2026: finished decisions, measured of them with both outcome
// indicators, and running ones (no end date, no reason, nothing measured).
func responseFile(finished, measured, running int) string {
	numbers := bsntest.Numbers(42, finished+running)
	var b strings.Builder
	b.WriteString(uploadHeader + "\n")
	for i, n := range numbers {
		f := strings.Split(cbsRow(n.Digits(), i), ";") // ended 2026-06-30, goal "ja", satisfaction 8
		switch {
		case i >= finished: // running: begun in March, not ended
			f[9], f[10], f[11], f[12], f[13] = "2026-03-01", "", "", "", ""
		case i >= measured: // ended, not measured
			f[12], f[13] = "", ""
		}
		b.WriteString(strings.Join(f, ";") + "\n")
	}
	return b.String()
}

// rateRow returns the cells of the own provider's row (or the one named)
// in the per-provider table of a reports page.
func rateRow(t *testing.T, page reportsPage, provider string) []reportCell {
	t.Helper()
	for _, tab := range page.Tables {
		if tab.ID != "per-provider" {
			continue
		}
		for _, r := range tab.Rows {
			if provider == "" || r.Code == provider {
				return r.Cells
			}
		}
	}
	t.Fatalf("no row of %q in the per-provider table", provider)
	return nil
}

// A provider with running care gets the response of its finished care
// only: running care has no outcome yet and does not count in the
// denominator, in its own view, the municipality's and the downloads,
// which say so.
func TestResponseOfFinishedCare(t *testing.T) {
	p := newTestPortal(t)
	// Only this provider's records, so that protecting the report takes
	// milliseconds, not the demo's seconds.
	_, err := p.a.db.Exec(`UPDATE uploads SET status = 'superseded' WHERE status = 'processed'`)
	require.NoError(t, err)
	b := p.browser()
	b.login("jdevries")
	// 30 decisions: 18 ended, 9 of them measured; 12 running. Over all
	// decisions the response would be 30%; over the ended ones it is 50%.
	status, body := b.upload("/uploads", "cbs.csv", strings.NewReader(responseFile(18, 9, 12)))
	require.Equal(t, http.StatusOK, status, text(body))
	_, err = p.a.processUploads(t.Context())
	require.NoError(t, err)

	var decisions, goal, sat, known int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*), SUM(CASE WHEN goal_applies THEN 1 ELSE 0 END), SUM(CASE WHEN sat_applies THEN 1 ELSE 0 END),
		SUM(CASE WHEN applies_known THEN 1 ELSE 0 END) FROM report_records WHERE provider_id = 'zonnehuis'`).Scan(&decisions, &goal, &sat, &known))
	assert.Equal(t, []int{30, 18, 18, 30}, []int{decisions, goal, sat, known}, "stored when processed, per row")

	period := url.Values{paramPeriod: {"2026-1"}}.Encode()
	_, js := b.get("/api/reports?" + period)
	var own reportsPage
	require.NoError(t, json.Unmarshal([]byte(js), &own))
	require.True(t, own.Own)
	cells := rateRow(t, own, "")
	texts := make([]string, len(cells))
	for i, c := range cells {
		texts[i] = c.Text
	}
	assert.Equal(t, []string{"30", "18", "9", "50%", "18", "9", "50%"}, texts,
		"decisions; per indicator applicable, measured and response of the applicable ones")
	require.NotEmpty(t, own.Notes)
	assert.Equal(t, noteResponseApplicable, own.Notes[0].Code)
	assert.Contains(t, own.Notes[0].Text, "waarop de indicator van toepassing is")
	assert.Len(t, own.Notes, 1, "every row was judged when processed")

	_, js = b.get("/api/reports?lang=en&" + period)
	var en reportsPage
	require.NoError(t, json.Unmarshal([]byte(js), &en))
	require.NotEmpty(t, en.Notes)
	assert.Equal(t, noteResponseApplicable, en.Notes[0].Code, "the same stable code")
	assert.Contains(t, en.Notes[0].Text, "decisions to which the indicator applies")

	_, page := b.get("/reports?" + period)
	assert.Contains(t, page, `data-code="response-applicable"`)
	assert.Contains(t, text(page), "Van toepassing")

	_, csvText := b.get("/reports.csv")
	assert.Contains(t, csvText, "respons (% van de beschikkingen waarop de indicator van toepassing is)")
	assert.Contains(t, csvText, ";30;getoond;18;getoond;9;getoond;50,0;getoond", "the provider's own row, unprotected")

	// The municipality's protected report divides the same way: where the
	// provider's response is shown, it is 50%, never 30%.
	gemeente := p.browser()
	gemeente.login("gemeente")
	_, js = gemeente.get("/api/reports?" + url.Values{paramPeriod: {"2026-1"}, paramProvider: {"zonnehuis"}}.Encode())
	var public reportsPage
	require.NoError(t, json.Unmarshal([]byte(js), &public))
	require.False(t, public.Own)
	require.NotEmpty(t, public.Notes)
	assert.Equal(t, noteResponseApplicable, public.Notes[0].Code)
	shown := 0
	for _, tab := range public.Tables {
		for _, r := range tab.Rows {
			if tab.ID == "per-provider" && r.Code == "zonnehuis" {
				for _, i := range []int{3, 6} {
					if !r.Cells[i].Withheld() {
						shown++
						assert.Equal(t, "50%", r.Cells[i].Text)
					}
				}
			}
		}
	}
	assert.Positive(t, shown, "the provider's response is shown to the municipality: %s", js)
}

// TestMigration011 migrates report rows stored before the applicability
// was: they count as applicable, as before (a valid measurement implies
// it), and the report says that it is not known for them, with their
// number to their own provider and without it to the others.
func TestMigration011(t *testing.T) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db, exec := openBefore(t, databaseConfigs[name](t), "011")
			exec(`INSERT INTO organisations (id, name, kind, domains, created_at) VALUES ('p', 'P', 'provider', 'p.example', 1)`)
			exec(`INSERT INTO uploads (id, org_id, user_id, created_at, status, rows_written, report) VALUES ('u', 'p', 'u', 1, 'processed', 2, '{}')`)
			exec(`INSERT INTO report_rows (provider_id, upload_id, seq, municipality, category, product, age_band, goal_measured, sat_measured, period)
				VALUES ('p', 'u', 0, '0034', '45', '45A11', '12-17', TRUE, FALSE, '2026-1'), ('p', 'u', 0, '0034', '45', '45A11', '12-17', FALSE, FALSE, '2026-1')`)
			require.NoError(t, migrate(ctx, db, migrations, "migrations"))
			var n, goal, sat, known int
			require.NoError(t, db.QueryRowContext(ctx, `SELECT COUNT(*), SUM(CASE WHEN goal_applies THEN 1 ELSE 0 END), SUM(CASE WHEN sat_applies THEN 1 ELSE 0 END),
				SUM(CASE WHEN applies_known THEN 1 ELSE 0 END) FROM report_records`).Scan(&n, &goal, &sat, &known))
			assert.Equal(t, []int{2, 2, 2, 0}, []int{n, goal, sat, known}, "applicable as before, marked as not judged")

			a := &app{db: db}
			d := &reportData{}
			notes, err := a.responseNotes(ctx, d, &readerView{own: true, provider: "p"}, language.Dutch)
			require.NoError(t, err)
			require.Len(t, notes, 2)
			assert.Equal(t, noteAppliesUnknownOwn, notes[1].Code)
			assert.Contains(t, notes[1].Text, "Van 2 van uw beschikkingen")
			notes, err = a.responseNotes(ctx, d, &readerView{municipality: "0034"}, language.Dutch)
			require.NoError(t, err)
			require.Len(t, notes, 2)
			assert.Equal(t, noteAppliesUnknown, notes[1].Code)
			assert.NotContains(t, notes[1].Text, "2", "no count for a protected audience")
			notes, err = a.responseNotes(ctx, d, &readerView{municipality: "0995"}, language.Dutch)
			require.NoError(t, err)
			assert.Len(t, notes, 1, "another municipality has no such rows")
		})
	}
}

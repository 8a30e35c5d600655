package pseudonym_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/pseudonym"
	"github.com/zorgkit/zorgkit/pseudonym/layout"
	"github.com/zorgkit/zorgkit/pseudonym/pseudonymtest"
)

// qualityReport processes a youth-care file with problems of every
// severity, and a hostile column name.
func qualityReport(t *testing.T) *pseudonym.Report {
	file := "BSN;Geboortedatum;Geslacht;Postcode;Begindatum;Einddatum;Reden beëindiging;Tevredenheid;=HYPERLINK(\"x\")<script>\n" +
		"999993847;2011-02-28;Q;1315 KA;2024-01-15;2024-06-30;1;42;a\n" +
		"999992077;1800-07-14;2;1316 AB;2024-02-01;;;;b\n" +
		"123456781;2011-02-28;1;1316 AB;2024-02-01;;;;c\n" +
		"999990482;2012-03-01;1;1317 CD;2024-02-01;;;;d\n"
	p := &pseudonym.Processor{
		Keyring: pseudonymtest.Keyring(),
		Header:  true,
		Schema:  layout.Jeugdhulp(),
		Columns: []pseudonym.Column{{Name: "BSN", Action: pseudonym.Pseudonymise}},
		Other:   pseudonym.Keep,
	}
	report, err := p.Process(context.Background(), strings.NewReader(file), &strings.Builder{})
	require.NoError(t, err)
	require.Len(t, report.Problems, 4)
	return report
}

func TestReportCSV(t *testing.T) {
	report := qualityReport(t)
	var out strings.Builder
	require.NoError(t, report.WriteCSV(&out, language.Dutch))
	assert.True(t, strings.HasPrefix(out.String(), "regel;kolom;naam;code;gevolg;omschrijving\r\n"), out.String())
	r := csv.NewReader(strings.NewReader(out.String()))
	r.Comma = ';'
	records, err := r.ReadAll()
	require.NoError(t, err)
	require.Len(t, records, 5)
	assert.Equal(t, []string{"2", "3", "Geslacht", "value-not-in-list", "waarschuwing", "waarde staat niet in de codelijst van deze kolom"}, records[1])
	assert.Equal(t, []string{"2", "8", "Tevredenheid", "value-range", "geen geldige meting", "getal buiten het toegestane bereik"}, records[2])
	assert.Equal(t, []string{"3", "2", "Geboortedatum", "date-range", "rij afgewezen", "datum buiten het toegestane bereik"}, records[3])
	assert.Equal(t, "bsn-checksum", records[4][3])

	out.Reset()
	formula := &pseudonym.Report{Problems: []pseudonym.Problem{{Line: 2, Column: 1, Name: "=HYPERLINK(\"x\")", Code: pseudonym.CodeMissing}}}
	require.NoError(t, formula.WriteCSV(&out, language.Dutch))
	assert.Contains(t, out.String(), `;"'=HYPERLINK(""x"")";`, "a column name is never a formula")

	out.Reset()
	require.NoError(t, report.WriteCSV(&out, language.English))
	assert.True(t, strings.HasPrefix(out.String(), "line;column;name;code;outcome;description\r\n"))
	assert.Contains(t, out.String(), "not a valid measurement")
}

func TestReportHTML(t *testing.T) {
	report := qualityReport(t)
	var out strings.Builder
	require.NoError(t, report.WriteHTML(&out, language.Dutch, "Zonnehuis <test> 2026"))
	page := out.String()
	for _, want := range []string{`<html lang="nl">`, "<title>Zonnehuis &lt;test&gt; 2026</title>", "rijen gelezen", `<td class="num">4</td>`,
		"Problemen per soort", "geen geldige meting", "rij afgewezen", "@media print", "tekenset", "UTF-8"} {
		assert.Contains(t, page, want)
	}
	assert.NotContains(t, page, "<test>")
	out.Reset()
	require.NoError(t, report.WriteHTML(&out, language.English, ""))
	assert.Contains(t, out.String(), "<title>Quality report</title>")
	assert.Contains(t, out.String(), `<html lang="en">`)

	empty := &pseudonym.Report{Rows: pseudonym.Counts{Read: 3, Written: 3}}
	out.Reset()
	require.NoError(t, empty.WriteHTML(&out, language.Dutch, ""))
	assert.Contains(t, out.String(), "Geen problemen gevonden.")
}

// TestReportHTMLStructure holds the printable report to the structure of
// the portal's pages (see ACCESSIBILITY.md): a skip link first, to the one
// main landmark, which holds the one h1 and everything else; every table
// with a caption, in a region named by it that scrolls on a narrow screen;
// a row header in every row.
func TestReportHTMLStructure(t *testing.T) {
	for _, tc := range []struct {
		name   string
		report *pseudonym.Report
		tag    language.Tag
		skip   string
		tables int
	}{
		{"problems, Dutch", qualityReport(t), language.Dutch, "Direct naar de inhoud", 3},
		{"problems, English", qualityReport(t), language.English, "Skip to content", 3},
		{"no problems", &pseudonym.Report{Rows: pseudonym.Counts{Read: 3, Written: 3}}, language.Dutch, "Direct naar de inhoud", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			require.NoError(t, tc.report.WriteHTML(&out, tc.tag, ""))
			page := out.String()
			body := page[strings.Index(page, "<body>")+len("<body>"):]
			skip := `<a class="skip-link" href="#main">` + tc.skip + `</a>`
			assert.True(t, strings.HasPrefix(strings.TrimSpace(body), skip), "the skip link comes first: %.80q", strings.TrimSpace(body))
			assert.Equal(t, 1, strings.Count(page, "<main"), "one main landmark")
			assert.Equal(t, 1, strings.Count(page, `id="main"`), "one target of the skip link")
			start, end := strings.Index(page, `<main id="main" tabindex="-1">`), strings.Index(page, "</main>")
			require.True(t, start >= 0 && end > start, "main is a landmark the skip link can focus")
			main := page[start:end]
			assert.Equal(t, 1, strings.Count(page, "<h1>"), "one h1")
			assert.Contains(t, main, "<h1>", "the h1 is in main")
			assert.Equal(t, tc.tables, strings.Count(main, "<table>"), "every table is in main")
			assert.Equal(t, tc.tables, strings.Count(page, "<table>"))
			assert.Equal(t, tc.tables, strings.Count(page, "<caption id="), "every table has a caption")
			for _, id := range regexp.MustCompile(`<caption id="([a-z-]+)">`).FindAllStringSubmatch(page, -1) {
				assert.Contains(t, page, `<div class="table-scroll" role="region" aria-labelledby="`+id[1]+`" tabindex="0">`, "a region named by the caption")
			}
			for _, row := range regexp.MustCompile(`(?s)<tbody>.*?</tbody>`).FindAllString(page, -1) {
				assert.Equal(t, strings.Count(row, "<tr"), strings.Count(row, `<th scope="row"`), "a row header in every row")
			}
			assert.NotContains(t, page, "<td><code>", "codes are row headers, not data cells")
		})
	}
}

// TestReportNoValues renders the report of a file full of BSNs in every
// form and looks for them.
func TestReportNoValues(t *testing.T) {
	file, err := os.ReadFile("testdata/clients.csv")
	require.NoError(t, err)
	p := clientsPolicy()
	p.OnInvalid = pseudonym.KeepFlagged
	_, report := process(t, p, string(file))
	var all strings.Builder
	require.NoError(t, report.WriteCSV(&all, language.Dutch))
	require.NoError(t, report.WriteHTML(&all, language.English, ""))
	js, err := json.Marshal(report)
	require.NoError(t, err)
	all.Write(js)
	digits := strings.NewReplacer(".", "", " ", "", "-", "").Replace(all.String())
	for _, bsn := range []string{"999993847", "999996631", "99999670", "9921", "999996708"} {
		assert.NotContains(t, digits, bsn)
	}
}

// TestReportJSON: a portal stores the report as JSON and renders it later.
func TestReportJSON(t *testing.T) {
	report := qualityReport(t)
	js, err := json.Marshal(report)
	require.NoError(t, err)
	var back pseudonym.Report
	require.NoError(t, json.Unmarshal(js, &back))
	assert.Equal(t, *report, back)
}

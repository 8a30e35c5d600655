package layout_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/pseudonym"
	"github.com/zorgkit/zorgkit/pseudonym/layout"
	"github.com/zorgkit/zorgkit/pseudonym/pseudonymtest"
)

// header is a header of the youth-care data set as the portal receives it.
const header = "BSN;Geboortedatum;Geslacht;Postcode;Gemeentecode;Beschikkingsnummer;Verwijzer;Productcode;Begindatum;Einddatum;Reden beëindiging;Doelrealisatie;Tevredenheid\n"

// good is a row without problems; row replaces its fields by name.
var good = map[string]string{
	"BSN": "999993847", "Geboortedatum": "2011-02-28", "Geslacht": "1", "Postcode": "1315 KA", "Gemeentecode": "0034",
	"Beschikkingsnummer": "B-2024-001", "Verwijzer": "02", "Productcode": "45A12", "Begindatum": "2024-01-15",
	"Einddatum": "2024-06-30", "Reden beëindiging": "1", "Doelrealisatie": "ja", "Tevredenheid": "8",
}

func row(changes map[string]string) string {
	var fields []string
	for _, name := range strings.Split(strings.TrimSpace(header), ";") {
		v := good[name]
		if c, ok := changes[name]; ok {
			v = c
		}
		fields = append(fields, v)
	}
	return strings.Join(fields, ";") + "\n"
}

// processor checks files against the youth-care layout.
func processor() *pseudonym.Processor {
	return &pseudonym.Processor{
		Keyring: pseudonymtest.Keyring(),
		Header:  true,
		Schema:  layout.Jeugdhulp(),
		Columns: []pseudonym.Column{{Name: "BSN", Action: pseudonym.Pseudonymise}},
		Other:   pseudonym.Keep,
	}
}

// TestDomains runs one row a violation through a Processor with the
// youth-care layout: each is flagged with its line, column, code and
// severity, and the row's fate follows the severity.
func TestDomains(t *testing.T) {
	tests := []struct {
		reason   string
		changes  map[string]string
		column   string
		code     pseudonym.Code
		severity pseudonym.Severity
	}{
		{"month 13", map[string]string{"Begindatum": "2024-13-01"}, "Begindatum", pseudonym.CodeDate, pseudonym.SeverityReject},
		{"30 February", map[string]string{"Geboortedatum": "30-02-2012"}, "Geboortedatum", pseudonym.CodeDate, pseudonym.SeverityReject},
		{"sex Q", map[string]string{"Geslacht": "Q"}, "Geslacht", pseudonym.CodeNotInList, pseudonym.SeverityWarning},
		{"satisfaction 42", map[string]string{"Tevredenheid": "42"}, "Tevredenheid", pseudonym.CodeRange, pseudonym.SeverityMeasurement},
		{"satisfaction 0", map[string]string{"Tevredenheid": "0"}, "Tevredenheid", pseudonym.CodeRange, pseudonym.SeverityMeasurement},
		{"satisfaction 7.5", map[string]string{"Tevredenheid": "7.5"}, "Tevredenheid", pseudonym.CodeNumber, pseudonym.SeverityMeasurement},
		{"goal misschien", map[string]string{"Doelrealisatie": "misschien"}, "Doelrealisatie", pseudonym.CodeNotInList, pseudonym.SeverityMeasurement},
		{"municipality ABCD", map[string]string{"Gemeentecode": "ABCD"}, "Gemeentecode", pseudonym.CodeFormat, pseudonym.SeverityWarning},
		{"municipality of 5 digits", map[string]string{"Gemeentecode": "00344"}, "Gemeentecode", pseudonym.CodeFormat, pseudonym.SeverityWarning},
		{"birth year 1800", map[string]string{"Geboortedatum": "1800-05-01"}, "Geboortedatum", pseudonym.CodeDateRange, pseudonym.SeverityReject},
		{"end before start", map[string]string{"Einddatum": "2023-12-31"}, "Einddatum", pseudonym.CodeDateOrder, pseudonym.SeverityReject},
		{"start before birth", map[string]string{"Begindatum": "2010-01-01"}, "Begindatum", pseudonym.CodeDateOrder, pseudonym.SeverityReject},
		{"older than 23 at the start", map[string]string{"Geboortedatum": "1990-01-01"}, "Geboortedatum", pseudonym.CodeAge, pseudonym.SeverityWarning},
		{"end without reason", map[string]string{"Reden beëindiging": ""}, "Reden beëindiging", pseudonym.CodeRequiredWith, pseudonym.SeverityWarning},
		{"reason 9", map[string]string{"Reden beëindiging": "9"}, "Reden beëindiging", pseudonym.CodeNotInList, pseudonym.SeverityWarning},
		{"referrer 07", map[string]string{"Verwijzer": "07"}, "Verwijzer", pseudonym.CodeNotInList, pseudonym.SeverityWarning},
		{"no postcode, no municipality", map[string]string{"Postcode": "", "Gemeentecode": ""}, "Postcode", pseudonym.CodeOneOf, pseudonym.SeverityWarning},
		{"postcode 0123 AB", map[string]string{"Postcode": "0123 AB"}, "Postcode", pseudonym.CodePostcode, pseudonym.SeverityWarning},
		{"sex missing", map[string]string{"Geslacht": " "}, "Geslacht", pseudonym.CodeMissing, pseudonym.SeverityWarning},
		{"start missing", map[string]string{"Begindatum": ""}, "Begindatum", pseudonym.CodeMissing, pseudonym.SeverityReject},
		{"product code too long", map[string]string{"Productcode": "45A123"}, "Productcode", pseudonym.CodeFormat, pseudonym.SeverityWarning},
		{"BSN checksum", map[string]string{"BSN": "123456781"}, "BSN", pseudonym.CodeBSNChecksum, pseudonym.SeverityReject},
	}
	names := strings.Split(strings.TrimSpace(header), ";")
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			var out strings.Builder
			in := header + row(nil) + row(tt.changes)
			report, err := processor().Process(context.Background(), strings.NewReader(in), &out)
			require.NoError(t, err)
			require.Len(t, report.Problems, 1, "%v", report.Problems)
			p := report.Problems[0]
			assert.Equal(t, 3, p.Line)
			assert.Equal(t, tt.column, p.Name)
			assert.Equal(t, tt.column, names[p.Column-1])
			assert.Equal(t, tt.code, p.Code)
			assert.Equal(t, tt.severity, p.Severity)
			assert.Equal(t, tt.severity == pseudonym.SeverityReject, p.Rejected)
			rejected := 0
			if p.Rejected {
				rejected = 1
			}
			assert.Equal(t, pseudonym.Counts{Read: 2, Written: 2 - rejected, Rejected: rejected, Flagged: 1 - rejected}, report.Rows)
			text := p.Text(language.Dutch) + p.Text(language.English)
			for _, v := range tt.changes {
				if strings.TrimSpace(v) != "" {
					assert.NotContains(t, text, v, "the problem never holds the value")
				}
			}
		})
	}
	t.Run("a good row has no problem", func(t *testing.T) {
		report, err := processor().Process(context.Background(), strings.NewReader(header+row(nil)+row(map[string]string{
			"Einddatum": "", "Reden beëindiging": "", "Doelrealisatie": "", "Tevredenheid": "", "Postcode": "",
			"Geslacht": "2", "Verwijzer": "8", "Geboortedatum": "1-3-2009", "Doelrealisatie ": "NEE",
		})), &strings.Builder{})
		require.NoError(t, err)
		assert.Empty(t, report.Problems)
	})
}

func TestBind(t *testing.T) {
	l := layout.Jeugdhulp()
	_, err := l.Bind([]string{"BSN", "Geslacht"})
	assert.ErrorIs(t, err, pseudonym.ErrHeader)
	assert.ErrorContains(t, err, `"Geboortedatum"`)
	_, err = l.Bind([]string{"BSN", "Geboortedatum", "Geslacht", "Begindatum", "burgerservicenummer"})
	assert.ErrorIs(t, err, pseudonym.ErrHeader, "a column twice, by an alias")
	check, err := l.Bind([]string{" geslacht ", "BSN", "Datum aanvang jeugdhulp", "GEBOORTEDATUM", "Opmerking"})
	require.NoError(t, err, "names fold, aliases count, other columns are left alone")
	ps := check([][]byte{[]byte("Q"), []byte("999993847"), []byte("2024-01-01"), []byte("2011-01-01"), []byte("vrij")}, nil)
	require.Len(t, ps, 1)
	assert.Equal(t, pseudonym.Problem{Column: 1, Name: " geslacht ", Code: pseudonym.CodeNotInList, Severity: pseudonym.SeverityWarning}, ps[0])

	check, err = l.Bind(nil)
	require.NoError(t, err, "without a header, by position")
	ps = check([][]byte{[]byte("999993847"), []byte("2011-01-01"), []byte("3")}, nil)
	require.Len(t, ps, 1, "a short row is checked as far as it goes")
	assert.Equal(t, 3, ps[0].Column)
}

func TestValid(t *testing.T) {
	l := layout.Jeugdhulp()
	tests := []struct {
		reason    string
		indicator string
		row       map[string]string
		want      bool
	}{
		{"satisfaction 8 at the end", "tevredenheid", map[string]string{"Tevredenheid": "8", "Einddatum": "2024-06-30"}, true},
		{"names fold", "tevredenheid", map[string]string{"tevredenheid": " 10 ", "datum einde jeugdhulp": "2024-06-30"}, true},
		{"satisfaction 42", "tevredenheid", map[string]string{"Tevredenheid": "42", "Einddatum": "2024-06-30"}, false},
		{"satisfaction missing", "tevredenheid", map[string]string{"Einddatum": "2024-06-30"}, false},
		{"care not ended", "tevredenheid", map[string]string{"Tevredenheid": "8", "Einddatum": ""}, false},
		{"goal ja", "doelrealisatie", map[string]string{"Doelrealisatie": "Ja", "Einddatum": "2024-06-30"}, true},
		{"goal misschien", "doelrealisatie", map[string]string{"Doelrealisatie": "misschien", "Einddatum": "2024-06-30"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			got, err := l.Valid(tt.indicator, tt.row)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	_, err := l.Valid("wachttijd", nil)
	assert.ErrorIs(t, err, layout.ErrIndicator)
}

func TestApplies(t *testing.T) {
	l := layout.Jeugdhulp()
	tests := []struct {
		reason         string
		row            map[string]string
		applies, valid bool
	}{
		{"ended, measured", map[string]string{"Tevredenheid": "8", "Einddatum": "2024-06-30"}, true, true},
		{"ended, not measured", map[string]string{"Tevredenheid": "", "Einddatum": "2024-06-30"}, true, false},
		{"ended, score out of range", map[string]string{"Tevredenheid": "42", "Einddatum": "30-6-2024"}, true, false},
		{"running care", map[string]string{"Tevredenheid": "", "Einddatum": ""}, false, false},
		{"running care, a score already", map[string]string{"Tevredenheid": "8", "Einddatum": " "}, false, false},
		{"no end date column", map[string]string{"Tevredenheid": "8"}, false, false},
		{"an end date that is no date", map[string]string{"Tevredenheid": "8", "Einddatum": "2024-13-01"}, false, false},
		{"an end date out of range", map[string]string{"Tevredenheid": "8", "Einddatum": "2124-01-01"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			applies, err := l.Applies("tevredenheid", tt.row)
			require.NoError(t, err)
			valid, err := l.Valid("tevredenheid", tt.row)
			require.NoError(t, err)
			assert.Equal(t, tt.applies, applies, "applies")
			assert.Equal(t, tt.valid, valid, "valid")
		})
	}
	_, err := l.Applies("wachttijd", nil)
	assert.ErrorIs(t, err, layout.ErrIndicator)

	t.Run("an indicator without required columns applies to every row", func(t *testing.T) {
		l, err := layout.Parse([]byte(`{"name": "t", "columns": [{"name": "Cijfer", "type": "integer", "min": 1, "max": 10}],
			"indicators": [{"name": "cijfer", "columns": ["Cijfer"]}]}`))
		require.NoError(t, err)
		for _, v := range []string{"", "8", "42"} {
			applies, err := l.Applies("cijfer", map[string]string{"Cijfer": v})
			require.NoError(t, err)
			assert.True(t, applies, v)
		}
	})
}

// TestResponseRate counts a response rate as a report does with the layout:
// valid measurements over the rows the indicator applies to. Running care
// does not lower a provider's rate; ended care without a measurement does.
func TestResponseRate(t *testing.T) {
	l := layout.Jeugdhulp()
	rate := func(rows []map[string]string) (measured, applicable int) {
		for _, r := range rows {
			valid, err := l.Valid("doelrealisatie", r)
			require.NoError(t, err)
			applies, err := l.Applies("doelrealisatie", r)
			require.NoError(t, err)
			if valid {
				measured++
			}
			if applies {
				applicable++
			}
		}
		return measured, applicable
	}
	ended := func(goal string) map[string]string {
		return map[string]string{"Begindatum": "2024-01-15", "Einddatum": "2024-06-30", "Reden beëindiging": "1", "Doelrealisatie": goal}
	}
	running := map[string]string{"Begindatum": "2024-03-01", "Einddatum": "", "Reden beëindiging": "", "Doelrealisatie": ""}
	base := []map[string]string{ended("ja"), ended("nee"), ended("ja"), ended("")}
	m, n := rate(base)
	require.Equal(t, [2]int{3, 4}, [2]int{m, n})

	m, n = rate(append(slices.Clone(base), running, running, running))
	assert.Equal(t, [2]int{3, 4}, [2]int{m, n}, "running care is in neither count")

	m, n = rate(append(slices.Clone(base), ended(""), ended("misschien")))
	assert.Equal(t, [2]int{3, 6}, [2]int{m, n}, "ended care without a valid measurement lowers the rate")
}

// TestValidRows: which of a row's values Valid reads when the row names a
// column more than once or in another case, and the rules that concern an
// indicator's columns.
func TestValidRows(t *testing.T) {
	l, err := layout.Parse([]byte(`{"name": "t", "columns": [
		{"name": "Start", "type": "date"},
		{"name": "Meting", "aliases": ["Datum meting"], "type": "date"},
		{"name": "Cijfer", "type": "integer", "min": 1, "max": 10},
		{"name": "Ëxtra", "type": "text"}],
	  "rules": [{"kind": "order", "columns": ["Start", "Meting"]}],
	  "indicators": [
		{"name": "cijfer", "columns": ["Cijfer"], "requires": ["Ëxtra"]},
		{"name": "meting", "columns": ["Meting"]}]}`))
	require.NoError(t, err)
	tests := []struct {
		reason    string
		indicator string
		row       map[string]string
		want      bool
	}{
		{"the name as written wins over another case", "cijfer",
			map[string]string{"Cijfer": "8", "cijfer": "42", "Ëxtra": "x"}, true},
		{"and over a name with spaces", "cijfer",
			map[string]string{" cijfer ": "8", "Cijfer": "42", "Ëxtra": "x"}, false},
		{"other cases: the first in sorted order", "cijfer",
			map[string]string{"CIJFER": "42", "cijfer": "8", "Ëxtra": "x"}, false},
		{"a non-ASCII name in another case", "cijfer",
			map[string]string{"Cijfer": "8", " ËXTRA\t": "x"}, true},
		{"a required value of spaces is empty", "cijfer",
			map[string]string{"Cijfer": "8", "ëxtra": " \t "}, false},
		{"a value between spaces", "cijfer",
			map[string]string{"Cijfer": "\t10 ", "ëxtra": "x"}, true},
		{"an alias", "meting",
			map[string]string{"Start": "2024-01-01", "datum meting": "2024-02-01"}, true},
		{"a rule on the indicator's column, broken", "meting",
			map[string]string{"Start": "2024-03-01", "Meting": "2024-02-01"}, false},
		{"the rule's other column not in the row", "meting",
			map[string]string{"Meting": "2024-02-01"}, true},
		{"a rule that does not concern the indicator", "cijfer",
			map[string]string{"Start": "2024-03-01", "Meting": "2024-02-01", "Cijfer": "7", "Ëxtra": "x"}, true},
		{"a long name that is no column", "cijfer",
			map[string]string{strings.Repeat("Cijfer", 20): "42", "Cijfer": "8", "Ëxtra": "x"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			for range 20 { // map order must not matter
				got, err := l.Valid(tt.indicator, tt.row)
				require.NoError(t, err)
				require.Equal(t, tt.want, got)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	base := func(columns, rest string) string {
		return `{"name": "t", "columns": [` + columns + `]` + rest + `}`
	}
	col := `{"name": "a", "type": "date"}, {"name": "b", "type": "date"}`
	tests := []struct{ reason, file string }{
		{"not JSON", "{"},
		{"unknown field", base(col, `, "colour": "red"`)},
		{"no name", `{"columns": [` + col + `]}`},
		{"no columns", base("", "")},
		{"unknown type", base(`{"name": "a", "type": "money"}`, "")},
		{"code without codes", base(`{"name": "a", "type": "code"}`, "")},
		{"codes twice", base(`{"name": "a", "type": "code", "codes": [{"code": "01"}, {"code": "1"}]}`, "")},
		{"min above max", base(`{"name": "a", "type": "integer", "min": 5, "max": 1}`, "")},
		{"min on a date", base(`{"name": "a", "type": "date", "min": 5}`, "")},
		{"bad date range", base(`{"name": "a", "type": "date", "minDate": "2020-13-01"}`, "")},
		{"bad severity", base(`{"name": "a", "type": "text", "severity": "fatal"}`, "")},
		{"bad chars", base(`{"name": "a", "type": "text", "chars": "hex"}`, "")},
		{"name twice", base(`{"name": "a", "type": "text"}, {"name": "x", "aliases": ["A"], "type": "text"}`, "")},
		{"rule on an unknown column", base(col, `, "rules": [{"kind": "order", "columns": ["a", "c"]}]`)},
		{"order of a text", base(col+`, {"name": "c", "type": "text"}`, `, "rules": [{"kind": "order", "columns": ["a", "c"]}]`)},
		{"unknown rule", base(col, `, "rules": [{"kind": "sum", "columns": ["a", "b"]}]`)},
		{"age without range", base(col, `, "rules": [{"kind": "age", "columns": ["a", "b"]}]`)},
		{"indicator on an unknown column", base(col, `, "indicators": [{"name": "x", "columns": ["z"]}]`)},
		{"indicator twice", base(col, `, "indicators": [{"name": "x", "columns": ["a"]}, {"name": "x", "columns": ["b"]}]`)},
		{"bad date format", base(col, `, "dateFormats": ["DDMMYY"]`)},
		{"ambiguous date format", base(col, `, "dateFormats": ["DMYYYY"]`)},
		{"two layouts", base(col, "") + base(col, "")},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			_, err := layout.Parse([]byte(tt.file))
			assert.ErrorIs(t, err, layout.ErrLayout)
		})
	}
	_, err := layout.Parse([]byte(base(col, `, "rules": [{"kind": "order", "columns": ["a", "b"]}], "dateFormats": ["D.M.YYYY", "YYYYMMDD"]`)))
	assert.NoError(t, err)
}

func TestJeugdhulp(t *testing.T) {
	l := layout.Jeugdhulp()
	name, version := l.Name()
	assert.Equal(t, "Beleidsinformatie Jeugd: jeugdhulp", name)
	assert.NotEmpty(t, version)
	cols := l.Columns()
	assert.Equal(t, "BSN", cols[0].Name)
	assert.True(t, cols[0].Required)
	var sexCodes []string
	for _, c := range cols {
		if c.Name == "Geslacht" {
			for _, code := range c.Codes {
				sexCodes = append(sexCodes, code.Code)
			}
		}
	}
	assert.Equal(t, []string{"0", "1", "2"}, sexCodes)
	cols[0].Codes = append(cols[0].Codes, layout.Code{Code: "x"})
	assert.Empty(t, l.Columns()[0].Codes, "Columns returns copies")
	var inds []string
	for _, in := range l.Indicators() {
		inds = append(inds, in.Name)
	}
	assert.Equal(t, []string{"tevredenheid", "doelrealisatie"}, inds)
}

func ExampleLayout_Valid() {
	l := layout.Jeugdhulp()
	for _, satisfaction := range []string{"8", "42"} {
		ok, err := l.Valid("tevredenheid", map[string]string{"Tevredenheid": satisfaction, "Einddatum": "2026-06-30"})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(satisfaction, ok)
	}
	// Output:
	// 8 true
	// 42 false
}

func ExampleLayout_Applies() {
	l := layout.Jeugdhulp()
	for _, row := range []map[string]string{
		{"Einddatum": "2026-06-30", "Tevredenheid": "8"}, // ended, measured
		{"Einddatum": "2026-06-30", "Tevredenheid": ""},  // ended, not measured
		{"Einddatum": "", "Tevredenheid": ""},            // running care
	} {
		applies, _ := l.Applies("tevredenheid", row)
		valid, _ := l.Valid("tevredenheid", row)
		fmt.Printf("in the denominator %v, measured %v\n", applies, valid)
	}
	// Output:
	// in the denominator true, measured true
	// in the denominator true, measured false
	// in the denominator false, measured false
}

func Example() {
	p := &pseudonym.Processor{
		Keyring: pseudonymtest.Keyring(), // in production: pseudonym.ReadKeyring
		Header:  true,
		Schema:  layout.Jeugdhulp(),
		Columns: []pseudonym.Column{{Name: "BSN", Action: pseudonym.Pseudonymise}},
		Other:   pseudonym.Keep,
	}
	file := "BSN;Geboortedatum;Geslacht;Postcode;Begindatum;Einddatum;Reden beëindiging;Tevredenheid\n" +
		"999993847;2011-02-28;Q;1315 KA;2024-01-15;2024-06-30;1;42\n" +
		"999992077;1800-07-14;2;1316 AB;2024-02-01;;;\n"
	report, err := p.Process(context.Background(), strings.NewReader(file), &strings.Builder{})
	if err != nil && !errors.Is(err, pseudonym.ErrNoRows) {
		fmt.Println(err)
		return
	}
	for _, problem := range report.Problems {
		fmt.Println(problem.Text(language.English), "-", problem.Severity)
	}
	// Output:
	// line 2, column 3 (Geslacht): value is not in this column's code list (kept, flagged) - warning
	// line 2, column 8 (Tevredenheid): number outside the allowed range (kept; not a valid measurement) - measurement
	// line 3, column 2 (Geboortedatum): date outside the allowed range - reject
}

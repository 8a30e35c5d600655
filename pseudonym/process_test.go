package pseudonym_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/bsn"
	"github.com/zorgkit/zorgkit/bsn/bsntest"
	"github.com/zorgkit/zorgkit/pseudonym"
	"github.com/zorgkit/zorgkit/pseudonym/layout"
	"github.com/zorgkit/zorgkit/pseudonym/pseudonymtest"
)

// clientsPolicy is the policy for testdata/clients.csv.
func clientsPolicy() *pseudonym.Processor {
	return &pseudonym.Processor{
		Keyring: pseudonymtest.Keyring(),
		Domain:  "gemeente-almere",
		Header:  true,
		Columns: []pseudonym.Column{
			{Name: "bsn", Action: pseudonym.Pseudonymise},
			{Name: "Geboortedatum", Action: pseudonym.CoarsenYear},
			{Name: "postcode", Action: pseudonym.CoarsenPC4},
			{Name: "geslacht", Action: pseudonym.Keep},
			{Pos: 5, Action: pseudonym.Encrypt},
		},
	}
}

func process(t testing.TB, p *pseudonym.Processor, in string) (string, *pseudonym.Report) {
	t.Helper()
	var out strings.Builder
	report, err := p.Process(context.Background(), strings.NewReader(in), &out)
	require.NoError(t, err)
	return out.String(), report
}

// TestNoBSNInOutput pseudonymises a file of known BSNs and looks for every
// one of them, in every form, in everything the processor produces.
func TestNoBSNInOutput(t *testing.T) {
	file, err := os.ReadFile("testdata/clients.csv")
	require.NoError(t, err)
	var forbidden []string
	add := func(s string) {
		n, err := bsn.Parse(s)
		require.NoError(t, err)
		d := n.Digits()
		forbidden = append(forbidden, d, d[:4]+"."+d[4:6]+"."+d[6:], d[:4]+" "+d[4:6]+" "+d[6:])
		if d[0] == '0' {
			forbidden = append(forbidden, d[1:]) // the eight-digit form
		}
	}
	for _, n := range bsntest.TestPersons() {
		add(n.Digits())
	}
	forbidden = append(forbidden, "999996631", "99999670") // invalid, yet a client's number
	for _, f := range forbidden {
		require.Contains(t, string(bytes.NewBuffer(file).String()+"|"+strings.NewReplacer(".", "", " ", "").Replace(string(file))), strings.NewReplacer(".", "", " ", "").Replace(f)[:8], "the file has the BSN to look for")
	}

	for _, onInvalid := range []pseudonym.OnInvalid{pseudonym.RejectRow, pseudonym.KeepFlagged} {
		t.Run(fmt.Sprint(onInvalid), func(t *testing.T) {
			p := clientsPolicy()
			p.OnInvalid = onInvalid
			var seen []string
			p.OnProblem = func(pr pseudonym.Problem) { seen = append(seen, pr.String(), fmt.Sprintf("%+v %#v", pr, pr)) }
			out, report := process(t, p, string(file))
			var everything strings.Builder
			everything.WriteString(out)
			require.NoError(t, report.WriteText(&everything, language.Dutch))
			require.NoError(t, report.WriteText(&everything, language.English))
			fmt.Fprintf(&everything, "%v %+v %#v", report, report, report)
			everything.WriteString(strings.Join(seen, "\n"))
			text := everything.String()
			squeezed := strings.NewReplacer(".", "", " ", "", "-", "").Replace(text)
			for _, f := range forbidden {
				assert.NotContains(t, text, f)
				assert.NotContains(t, squeezed, strings.NewReplacer(".", "", " ", "").Replace(f))
			}
			assert.Equal(t, 17, report.Rows.Read)
			assert.Equal(t, report.Rows.Read, report.Rows.Written+report.Rows.Rejected, "every row written or rejected")
		})
	}
}

func TestProcessClients(t *testing.T) {
	file, err := os.ReadFile("testdata/clients.csv")
	require.NoError(t, err)
	p := clientsPolicy()
	out, report := process(t, p, string(file))

	pz, err := p.Keyring.Pseudonymiser("gemeente-almere")
	require.NoError(t, err)
	ps := func(s string) string { return mustPseudonymise(t, pz, s).String() }
	records, err := csv.NewReader(strings.NewReader(strings.ReplaceAll(out, ";", ","))).ReadAll()
	require.NoError(t, err)
	require.Len(t, records, 14, "header and 13 rows")
	assert.Equal(t, []string{"BSN", "Geboortedatum", "Postcode", "Geslacht", "Opmerking"}, records[0])
	want := [][]string{
		{ps("999993847"), "2011", "1315", "1"},
		{ps("999992077"), "2009", "1316", "2"},
		{ps("999990482"), "2015", "1317", "1"},
		{ps("000009921"), "2003", "1318", "2"},
		{ps("000009921"), "2003", "1318", "2"},
		{ps("999993653"), "2012", "1319", "1"},
		{"999999999", "2016", "1320", "2"},
		{"000000000", "", "1321", "1"},
		{ps("999996642"), "2010", "1322", "2"},
		{ps("999996654"), "2008", "1323", "1"},
		{ps("999996666"), "2008", "1324", "2"},
		{ps("999996678"), "2008", "1325", "1"},
		{ps("999996708"), "2008", "1326", "2"},
	}
	plain := []string{"", "verhuisd", "", "acht cijfers, van voor 2007", "dezelfde client met negen cijfers", "",
		"BSN onbekend", "ongeboren kind", "", "tussen aanhalingstekens; met puntkomma", "", "", "meerdere\nregels"}
	c, err := p.Keyring.FieldCipher("gemeente-almere")
	require.NoError(t, err)
	for i, rec := range records[1:] {
		assert.Equal(t, want[i], rec[:4], "row %d", i+1)
		if plain[i] == "" {
			assert.Empty(t, rec[4], "an empty value stays empty")
			continue
		}
		got, err := c.Decrypt("opmerking", rec[4])
		require.NoError(t, err, "row %d", i+1)
		assert.Equal(t, plain[i], string(got))
	}
	assert.Equal(t, pseudonym.Counts{Read: 17, Written: 13, Rejected: 4}, report.Rows)
	assert.Equal(t, []pseudonym.Problem{
		{Line: 10, Column: 1, Name: "BSN", Code: pseudonym.CodeBSNChecksum, Rejected: true},
		{Line: 15, Column: 2, Name: "Geboortedatum", Code: pseudonym.CodeDate, Rejected: true},
		{Line: 18, Column: 1, Name: "BSN", Code: pseudonym.CodeBSNChecksum, Rejected: true},
		{Line: 19, Code: pseudonym.CodeFieldCount, Rejected: true},
	}, report.Problems)
	assert.Equal(t, map[pseudonym.Code]int{pseudonym.CodeBSNChecksum: 2, pseudonym.CodeDate: 1, pseudonym.CodeFieldCount: 1}, report.ByCode)
	assert.Equal(t, ';', report.Comma)
	assert.Equal(t, pseudonym.UTF8, report.Encoding)
	assert.Equal(t, records[0], report.Columns)

	var text strings.Builder
	require.NoError(t, report.WriteText(&text, language.Dutch))
	assert.Equal(t, `rijen gelezen: 17, geschreven: 13 (waarvan gemarkeerd: 0), afgewezen: 4
regel 10, kolom 1 (BSN): BSN klopt niet (elfproef); controleer het op een typefout
regel 15, kolom 2 (Geboortedatum): ongeldige datum, of een geboortedatum na de peildatum
regel 18, kolom 1 (BSN): BSN klopt niet (elfproef); controleer het op een typefout
regel 19: aantal velden wijkt af van de kopregel
`, text.String())
	text.Reset()
	require.NoError(t, report.WriteText(&text, language.BritishEnglish))
	assert.Contains(t, text.String(), "rows read: 17, written: 13 (of which flagged: 0), rejected: 4\nline 10, column 1 (BSN): BSN fails the eleven-proof")

	t.Run("keep flagged", func(t *testing.T) {
		p := clientsPolicy()
		p.OnInvalid = pseudonym.KeepFlagged
		p.Columns[4].Action = pseudonym.Drop
		out, report := process(t, p, string(file))
		assert.Equal(t, pseudonym.Counts{Read: 17, Written: 16, Rejected: 1, Flagged: 3}, report.Rows)
		assert.Contains(t, out, "\nbsn-checksum;2010;1322;2\n")
		assert.Contains(t, out, "\n"+ps("999996708")+";date;1326;2\n")
		assert.False(t, report.Problems[0].Rejected)
		assert.True(t, report.Problems[3].Rejected, "a wrong field count always rejects")
		assert.Equal(t, "line 10, column 1 (BSN): BSN fails the eleven-proof; check it for a typing error (kept, flagged)", report.Problems[0].Text(language.English))
	})
}

// TestProcessFormats covers framing, quoting, encodings and layouts; each
// case gives the input, the expected output and the problems as
// "line:column:code".
func TestProcessFormats(t *testing.T) {
	pseudonym.SmallBatches(t, 16) // a batch boundary in every row
	keep := []pseudonym.Column{}
	tests := []struct {
		reason   string
		p        pseudonym.Processor
		in, want string
		problems []string
	}{
		{"comma detected, CRLF, blank lines, no final newline", pseudonym.Processor{Header: true},
			"a,b\r\n1,2\r\n\r\n\n3,4", "a,b\n1,2\n3,4\n", nil},
		{"blank lines before the header", pseudonym.Processor{Header: true},
			"\n\r\n\n\na;b\n1;2\n", "a;b\n1;2\n", nil},
		{"blank lines before the first row", pseudonym.Processor{},
			"\n\n\n\n1;2\n\n3;4", "1;2\n3;4\n", nil},
		{"tab detected", pseudonym.Processor{Header: true},
			"a\tb;c\n1\t2;3\n", "a\tb;c\n1\t2;3\n", nil},
		{"semicolon wins a tie", pseudonym.Processor{Header: true},
			"a;b,c\n1;2,3\n", "a;b,c\n1;2,3\n", nil},
		{"one column", pseudonym.Processor{Header: true},
			"a\n1\n", "a\n1\n", nil},
		{"configured comma", pseudonym.Processor{Header: true, Comma: ','},
			"a;b,c\n1;2,3\n", "a;b,c\n1;2,3\n", nil},
		{"quoted fields keep delimiters, quotes and newlines", pseudonym.Processor{Header: true},
			"a;b\n\"x;y\";\"say \"\"hi\"\"\"\n\"multi\nline\";z\n", "a;b\n\"x;y\";\"say \"\"hi\"\"\"\n\"multi\nline\";z\n", nil},
		{"quoted empty field and needless quotes", pseudonym.Processor{Header: true},
			"a;b\n\"\";\"plain\"\n", "a;b\n;plain\n", nil},
		{"bare quote inside an unquoted field is text", pseudonym.Processor{Header: true},
			"a;b\n5\" disk;x\n", "a;b\n\"5\"\" disk\";x\n", nil},
		{"text after a closing quote", pseudonym.Processor{Header: true},
			"a;b\n\"x\"y;1\n2;3\n", "a;b\n2;3\n", []string{"2:0:quote"}},
		{"unterminated quote costs its first line only", pseudonym.Processor{Header: true},
			"a;b\n\"x;1\n2;3\n4;5\n", "a;b\n2;3\n4;5\n", []string{"2:0:quote"}},
		{"wrong field counts", pseudonym.Processor{Header: true},
			"a;b\n1\n1;2;3\n;\n", "a;b\n;\n", []string{"2:0:field-count", "3:0:field-count"}},
		{"too many fields", pseudonym.Processor{Header: true, MaxFields: 3},
			"a;b\n1;2;3;4;5\n\"1\";2;3;4\n", "a;b\n", []string{"2:0:field-count", "3:0:field-count"}},
		{"row too long, single line", pseudonym.Processor{Header: true, MaxRowBytes: 8},
			"a;b\n12345;678\n1;2\n123;4567\n1234;5678\r\n", "a;b\n1;2\n123;4567\n", []string{"2:0:row-too-long", "5:0:row-too-long"}},
		{"row too long, quoted field over lines", pseudonym.Processor{Header: true, MaxRowBytes: 8},
			"a;b\n\"1\n2\n3\n4\n5\";x\n1;2\n", "a;b\n\"5\"\"\";x\n1;2\n", []string{"2:0:row-too-long", "3:0:field-count", "4:0:field-count", "5:0:field-count"}},
		{"invalid UTF-8 in a UTF-8 file", pseudonym.Processor{Header: true, Encoding: pseudonym.UTF8},
			"a;b\n\xe9;1\n2;3\n", "a;b\n2;3\n", []string{"2:0:encoding"}},
		{"invalid UTF-8 past the first eight bytes, and before a field count that is wrong too", pseudonym.Processor{Header: true, Encoding: pseudonym.UTF8, MaxFields: 3},
			"a;b\nabcdefghij\xe9;1\nabcdefgh;ijklmnop\xc3\xa9\n1;2;3;4;\xe9\n\xe9;2;3;4\n", "a;b\nabcdefgh;ijklmnop\xc3\xa9\n", []string{"2:0:encoding", "4:0:encoding", "5:0:encoding"}},
		{"BOM", pseudonym.Processor{Header: true, Columns: []pseudonym.Column{{Name: "a", Action: pseudonym.Keep}}},
			"\xef\xbb\xbfa;b\n1;2\n", "a;b\n1;2\n", nil},
		{"Windows-1252 detected", pseudonym.Processor{Header: true},
			"naam;plaats\nZo\xeb;\x80\n", "naam;plaats\nZoë;€\n", nil},
		{"Windows-1252 configured", pseudonym.Processor{Header: true, Encoding: pseudonym.Windows1252},
			"naam\nZo\xc3\xab\n", "naam\nZoÃ«\n", nil},
		{"no header, by position", pseudonym.Processor{Columns: []pseudonym.Column{{Pos: 2, Action: pseudonym.Drop}}},
			"1;2;3\n4;5;6\n", "1;3\n4;6\n", nil},
		{"fixed width", pseudonym.Processor{Layout: []pseudonym.Field{{"pc", 1, 7}, {"naam", 9, 5}, {"x", 15, 1}}, Columns: []pseudonym.Column{{Name: "PC", Action: pseudonym.CoarsenPC4}}},
			"1315 KA Zoë   1\n1234AB  Jan    \n1234AB  Jan   2X\n12\n", "pc;naam;x\n1315;Zoë;1\n1234;Jan;\n", []string{"3:0:line-length", "4:1:postcode"}},
		{"fixed width with a header line", pseudonym.Processor{Header: true, Layout: []pseudonym.Field{{"a", 1, 2}, {"b", 3, 2}}},
			"AABB\n1 2\n", "a;b\n1;2\n", nil},
		{"CR line ends (Excel for Mac)", pseudonym.Processor{Header: true},
			"a;b\r1;2\r3;4\r", "a;b\n1;2\n3;4\n", nil},
		{"CR line ends, no final line end, blank lines", pseudonym.Processor{Header: true},
			"\r\ra;b\r\r1;2\r3;4", "a;b\n1;2\n3;4\n", nil},
		{"CR line ends, a quoted field over lines", pseudonym.Processor{Header: true},
			"a;b\r\"x\ry\";2\r3;4\r", "a;b\n\"x\ny\";2\n3;4\n", nil},
		{"a lone CR in a CRLF file ends its line", pseudonym.Processor{Header: true},
			"a;b\r\n1;2\r3;4\r\n5;6\r\n", "a;b\n1;2\n3;4\n5;6\n", nil},
		{"LF, CRLF and CR mixed; line numbers count each", pseudonym.Processor{Header: true, MaxFields: 2},
			"a;b\n1;2\r\n3;4\r5;6;7\n8;9\r", "a;b\n1;2\n3;4\n8;9\n", []string{"4:0:field-count"}},
		{"CR line ends in a fixed-width file", pseudonym.Processor{Layout: []pseudonym.Field{{"a", 1, 2}, {"b", 3, 2}}},
			"1 2 \r3 4 \r", "a;b\n1;2\n3;4\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			p := tt.p
			p.Keyring = pseudonymtest.Keyring()
			if p.Columns == nil {
				p.Columns = keep
			}
			p.Other = pseudonym.Keep
			var problems []string
			p.OnProblem = func(pr pseudonym.Problem) {
				problems = append(problems, fmt.Sprintf("%d:%d:%s", pr.Line, pr.Column, pr.Code))
			}
			out, report := process(t, &p, tt.in)
			assert.Equal(t, tt.want, out)
			assert.Equal(t, tt.problems, problems)
			assert.Equal(t, report.Rows.Read, report.Rows.Written+report.Rows.Rejected)
		})
	}
}

// TestProcessNoRows: a file without data rows is an error, never "0 rows
// read" and success.
func TestProcessNoRows(t *testing.T) {
	for _, tt := range []struct {
		reason, in string
		header     bool
		want       string
	}{
		{"empty file", "", false, ""},
		{"blank lines only", "\n\r\n\r", false, ""},
		{"header only", "a;b\n", true, "a;b\n"},
		{"header and blank lines", "a;b\r\n\r\n\r\n", true, "a;b\n"},
	} {
		t.Run(tt.reason, func(t *testing.T) {
			p := &pseudonym.Processor{Keyring: pseudonymtest.Keyring(), Header: tt.header, Other: pseudonym.Keep}
			var out strings.Builder
			report, err := p.Process(context.Background(), strings.NewReader(tt.in), &out)
			assert.ErrorIs(t, err, pseudonym.ErrNoRows)
			assert.Equal(t, tt.want, out.String())
			assert.Zero(t, report.Rows.Read)
		})
	}
}

func TestProcessUTF16(t *testing.T) {
	enc := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder()
	in, err := enc.String("naam\tbsn\r\nZoë\t999993847\r\n")
	require.NoError(t, err)
	p := &pseudonym.Processor{Keyring: pseudonymtest.Keyring(), Header: true, Other: pseudonym.Keep,
		Columns: []pseudonym.Column{{Name: "bsn", Action: pseudonym.Pseudonymise}}}
	out, report := process(t, p, in)
	assert.Equal(t, pseudonym.UTF16, report.Encoding)
	assert.Equal(t, '\t', report.Comma)
	assert.True(t, strings.HasPrefix(out, "naam\tbsn\nZoë\tv1.2026-11."), out)
}

func TestProcessCoarsening(t *testing.T) {
	p := &pseudonym.Processor{
		Keyring:     pseudonymtest.Keyring(),
		Header:      true,
		Columns:     []pseudonym.Column{{Name: "geboren", Action: pseudonym.CoarsenAgeBand}, {Name: "jaar", Action: pseudonym.CoarsenYear}},
		AgeOn:       time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC),
		DateLayouts: []string{"2-1-2006", "2006-01-02"},
		OnInvalid:   pseudonym.KeepFlagged,
	}
	out, report := process(t, p, "geboren;jaar\n1-3-2012;2012-03-01\n31-12-2026;5-5-1999\n1-1-2027;\n2012-02-30; 2012-02-29 \n")
	assert.Equal(t, "geboren;jaar\n12-17;2012\n0-3;1999\ndate;\ndate;2012\n", out)
	assert.Equal(t, 2, report.Rows.Flagged)

	p.AgeBands = []int{18, 65}
	out, _ = process(t, p, "geboren;jaar\n1-3-2012;\n")
	assert.Equal(t, "geboren;jaar\n0-17;\n", out)
}

func TestProcessConfigErrors(t *testing.T) {
	tests := []struct {
		reason string
		p      pseudonym.Processor
		in     string
		want   error
	}{
		{"no keyring", pseudonym.Processor{Keyring: nil, Other: pseudonym.Keep}, "a\n", pseudonym.ErrConfig},
		{"bad comma", pseudonym.Processor{Comma: '|', Other: pseudonym.Keep}, "a\n", pseudonym.ErrConfig},
		{"name without header", pseudonym.Processor{Columns: []pseudonym.Column{{Name: "a", Action: pseudonym.Keep}}}, "a\n", pseudonym.ErrConfig},
		{"name and position", pseudonym.Processor{Header: true, Columns: []pseudonym.Column{{Name: "a", Pos: 1, Action: pseudonym.Keep}}}, "a\n", pseudonym.ErrConfig},
		{"no action", pseudonym.Processor{Header: true, Columns: []pseudonym.Column{{Name: "a"}}}, "a\n", pseudonym.ErrConfig},
		{"age band without reference date", pseudonym.Processor{Header: true, Columns: []pseudonym.Column{{Name: "a", Action: pseudonym.CoarsenAgeBand}}}, "a\n", pseudonym.ErrConfig},
		{"bad age bands", pseudonym.Processor{Header: true, AgeOn: time.Now(), AgeBands: []int{5, 5}, Columns: []pseudonym.Column{{Name: "a", Action: pseudonym.CoarsenAgeBand}}}, "a\n", pseudonym.ErrConfig},
		{"bad domain", pseudonym.Processor{Domain: "\xff", Other: pseudonym.Keep}, "a\n", pseudonym.ErrConfig},
		{"two rules for one column", pseudonym.Processor{Header: true, Columns: []pseudonym.Column{{Name: "a", Action: pseudonym.Keep}, {Pos: 1, Action: pseudonym.Drop}}}, "a\n", pseudonym.ErrConfig},
		{"everything dropped", pseudonym.Processor{Header: true, Other: pseudonym.Drop}, "a\n", pseudonym.ErrConfig},
		{"layout overlaps", pseudonym.Processor{Layout: []pseudonym.Field{{"a", 1, 3}, {"b", 3, 1}}, Other: pseudonym.Keep}, "a\n", pseudonym.ErrConfig},
		{"empty date layouts", pseudonym.Processor{DateLayouts: []string{}, Other: pseudonym.Keep}, "a\n", pseudonym.ErrConfig},
		{"column not in header", pseudonym.Processor{Header: true, Columns: []pseudonym.Column{{Name: "bsn", Action: pseudonym.Pseudonymise}}, Other: pseudonym.Keep}, "a;b\n", pseudonym.ErrHeader},
		{"column without rule", pseudonym.Processor{Header: true, Columns: []pseudonym.Column{{Name: "a", Action: pseudonym.Keep}}}, "a;postcode\n", pseudonym.ErrHeader},
		{"position past the last column", pseudonym.Processor{Columns: []pseudonym.Column{{Pos: 3, Action: pseudonym.Keep}}, Other: pseudonym.Keep}, "1;2\n", pseudonym.ErrHeader},
		{"ambiguous header", pseudonym.Processor{Header: true, Columns: []pseudonym.Column{{Name: "a", Action: pseudonym.Keep}}, Other: pseudonym.Keep}, "a;A \n", pseudonym.ErrHeader},
		{"a BSN as header", pseudonym.Processor{Header: true, Columns: []pseudonym.Column{{Pos: 1, Action: pseudonym.Pseudonymise}}, Other: pseudonym.Keep}, "999993847;x\n", pseudonym.ErrHeader},
		{"an invalid BSN as header", pseudonym.Processor{Header: true, Columns: []pseudonym.Column{{Pos: 2, Action: pseudonym.Pseudonymise}}, Other: pseudonym.Keep}, "x;9999.93.848\n", pseudonym.ErrHeader},
		{"a BSN as the header of a column without rule", pseudonym.Processor{Header: true, Columns: []pseudonym.Column{{Pos: 2, Action: pseudonym.Keep}}}, "999993847;x\n", pseudonym.ErrHeader},
		{"empty file, header expected", pseudonym.Processor{Header: true, Other: pseudonym.Keep}, "\n\n", pseudonym.ErrHeader},
		{"header cannot be read", pseudonym.Processor{Header: true, Other: pseudonym.Keep}, "\"a\"b;c\n", pseudonym.ErrHeader},
		{"header not UTF-8", pseudonym.Processor{Header: true, Encoding: pseudonym.UTF8, Other: pseudonym.Keep}, "\xe9\n", pseudonym.ErrHeader},
		{"a number as long as a BSN in the header of a kept column", pseudonym.Processor{Header: true, Other: pseudonym.Keep}, "naam;x 1234 5678\n", pseudonym.ErrHeader},
		{"BSNs in a header cell (a file read as one line)", pseudonym.Processor{Header: true, Other: pseudonym.Keep, MaxRowBytes: 1 << 20},
			"BSN;naam\xa0999993847;x\xa0999992077;y\n", pseudonym.ErrHeader},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			p := tt.p
			if tt.reason != "no keyring" {
				p.Keyring = pseudonymtest.Keyring()
			}
			var out bytes.Buffer
			_, err := p.Process(context.Background(), strings.NewReader(tt.in), &out)
			assert.ErrorIs(t, err, tt.want)
			assert.Empty(t, out.String(), "nothing written")
			digits := strings.NewReplacer(".", "", " ", "").Replace(err.Error())
			assert.NotRegexp(t, `\d{5}`, digits, "no number from the file in an error")
		})
	}
}

// TestProcessDeterministic runs a generated file through differently sized
// reads and different numbers of workers: the output and the report must not
// change.
func TestProcessDeterministic(t *testing.T) {
	const rows = 5000
	pseudonym.SmallBatches(t, 4<<10) // some 80 batches
	for _, schema := range []pseudonym.Schema{nil, layout.Jeugdhulp()} {
		name := "policy"
		if schema != nil {
			name = "policy and layout" // a third of the rows with a problem
		}
		t.Run(name, func(t *testing.T) {
			run := func(workers int, wrap func(io.Reader) io.Reader) (string, *pseudonym.Report) {
				p := cbsPolicy()
				p.Schema = schema
				p.Workers = workers
				p.MaxProblems = 10
				var out strings.Builder
				report, err := p.Process(context.Background(), wrap(pseudonymtest.CBSRows(7, rows)), &out)
				require.NoError(t, err)
				return out.String(), report
			}
			same := func(r io.Reader) io.Reader { return r }
			want, wantReport := run(1, same)
			assert.Equal(t, rows, wantReport.Rows.Read)
			assert.Equal(t, rows+1, strings.Count(want, "\n")-0+wantReport.Rows.Rejected, "header and every row written, or rejected")
			assert.Greater(t, wantReport.Rows.Rejected, 0, "the generator makes some invalid BSNs")
			if schema == nil {
				assert.Equal(t, wantReport.Rows.Rejected, len(wantReport.Problems)+wantReport.Omitted)
			} else {
				assert.Greater(t, wantReport.Rows.Flagged, 0, "the layout flags some rows")
			}
			for _, tt := range []struct {
				workers int
				wrap    func(io.Reader) io.Reader
				reason  string
			}{
				{4, same, "four workers"},
				{3, iotest.HalfReader, "half reads"},
				{2, func(r io.Reader) io.Reader { return io.LimitReader(iotest.OneByteReader(r), 1<<40) }, "one byte a read"},
				{0, iotest.DataErrReader, "EOF with the data"},
			} {
				t.Run(tt.reason, func(t *testing.T) {
					got, report := run(tt.workers, tt.wrap)
					assert.True(t, want == got, "output differs")
					assert.Equal(t, wantReport, report)
				})
			}
		})
	}
}

// cbsPolicy is a policy for pseudonymtest.CBSRows without encryption, whose
// output is deterministic.
func cbsPolicy() *pseudonym.Processor {
	return &pseudonym.Processor{
		Keyring: pseudonymtest.Keyring(),
		Domain:  "gemeente-almere",
		Header:  true,
		Columns: []pseudonym.Column{
			{Name: "BSN", Action: pseudonym.Pseudonymise},
			{Name: "Geboortedatum", Action: pseudonym.CoarsenYear},
			{Name: "Postcode", Action: pseudonym.CoarsenPC4},
		},
		Other: pseudonym.Keep,
	}
}

func TestProcessRows(t *testing.T) {
	p := clientsPolicy()
	file, err := os.Open("testdata/clients.csv")
	require.NoError(t, err)
	defer file.Close()
	var rows []pseudonym.Row
	report, err := p.ProcessRows(context.Background(), file, func(r pseudonym.Row) error {
		r.Fields = append([]string(nil), r.Fields...)
		rows = append(rows, r)
		return nil
	})
	require.NoError(t, err)
	require.Len(t, rows, report.Rows.Written)
	assert.Equal(t, 2, rows[0].Line)
	assert.Equal(t, 16, rows[len(rows)-1].Line, "a row over two lines starts on the first")
	assert.Len(t, rows[0].Fields, 5)
	assert.Equal(t, "1", rows[0].Fields[3])
	c, err := p.Keyring.FieldCipher(p.Domain)
	require.NoError(t, err)
	plain, err := c.Decrypt("opmerking", rows[len(rows)-1].Fields[4])
	require.NoError(t, err)
	assert.Equal(t, "meerdere\nregels", string(plain), "values are not quoted")

	p.OnInvalid = pseudonym.KeepFlagged
	var flagged []string
	_, err = p.ProcessRows(context.Background(), strings.NewReader("bsn;geboortedatum;postcode;geslacht;opmerking\n123456781;2010-01-01;1234AB;1;\n"), func(r pseudonym.Row) error {
		if r.Flagged {
			flagged = append(flagged, r.Fields...)
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"bsn-checksum", "2010", "1234", "1", ""}, flagged)

	stop := errors.New("database full")
	calls := 0
	_, err = p.ProcessRows(context.Background(), strings.NewReader(pseudonymtest.CBSHeader), func(pseudonym.Row) error { return nil })
	assert.ErrorIs(t, err, pseudonym.ErrHeader, "CBS header against the clients policy")
	cbs := cbsPolicy()
	report, err = cbs.ProcessRows(context.Background(), pseudonymtest.CBSRows(1, 3000), func(pseudonym.Row) error {
		calls++
		if calls == 10 {
			return stop
		}
		return nil
	})
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, 10, calls, "no row after the error")
	assert.Less(t, report.Rows.Written, 3000)
}

// failingWriter fails after n bytes.
type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestProcessStops(t *testing.T) {
	before := runtime.NumGoroutine()
	p := cbsPolicy()

	t.Run("writer error", func(t *testing.T) {
		_, err := p.Process(context.Background(), pseudonymtest.CBSRows(1, 20000), &failingWriter{n: 200 << 10})
		assert.ErrorContains(t, err, "disk full")
	})
	t.Run("reader error", func(t *testing.T) {
		r := io.MultiReader(io.LimitReader(pseudonymtest.CBSRows(1, 20000), 300<<10), iotest.ErrReader(errors.New("connection reset")))
		report, err := p.Process(context.Background(), r, io.Discard)
		assert.ErrorContains(t, err, "connection reset")
		assert.Less(t, report.Rows.Read, 20000)
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		p := cbsPolicy()
		p.Progress = func(c pseudonym.Counts) {
			if c.Read > 2000 {
				cancel()
			}
		}
		report, err := p.Process(ctx, pseudonymtest.CBSRows(1, 50000), io.Discard)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Less(t, report.Rows.Read, 50000)
	})
	// No goroutine is left behind. (Not assert.Eventually: it adds its own.)
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestProcessReportLimit(t *testing.T) {
	p := cbsPolicy()
	p.MaxProblems = 3
	var all int
	p.OnProblem = func(pseudonym.Problem) { all++ }
	_, report := processReader(t, p, pseudonymtest.CBSRows(3, 20000))
	assert.Len(t, report.Problems, 3)
	assert.Equal(t, all, 3+report.Omitted)
	assert.Equal(t, all, report.Rows.Rejected)
	sum := 0
	for _, n := range report.ByCode {
		sum += n
	}
	assert.Equal(t, all, sum)
	var text strings.Builder
	require.NoError(t, report.WriteText(&text, language.Dutch))
	assert.Contains(t, text.String(), fmt.Sprintf("… en nog %d problemen\n", report.Omitted))
}

func processReader(t testing.TB, p *pseudonym.Processor, r io.Reader) (string, *pseudonym.Report) {
	t.Helper()
	var out strings.Builder
	report, err := p.Process(context.Background(), r, &out)
	require.NoError(t, err)
	return out.String(), report
}

func TestCodeTexts(t *testing.T) {
	codes := []pseudonym.Code{pseudonym.CodeBSNMissing, pseudonym.CodeBSNLength, pseudonym.CodeBSNCharacter,
		pseudonym.CodeBSNChecksum, pseudonym.CodeDate, pseudonym.CodePostcode, pseudonym.CodeFieldCount,
		pseudonym.CodeLineLength, pseudonym.CodeEncoding, pseudonym.CodeQuote, pseudonym.CodeRowTooLong}
	code := regexp.MustCompile(`^[a-z0-9-]+$`)
	for _, c := range codes {
		nl, en := c.Text(language.Dutch), c.Text(language.English)
		assert.Regexp(t, code, string(c))
		assert.NotEqual(t, string(c), nl, "%s has a Dutch text", c)
		assert.NotEqual(t, nl, en, "%s has an English text", c)
		assert.Equal(t, nl, c.Text(language.German), "Dutch is the default")
		assert.Equal(t, en, c.Text(language.AmericanEnglish))
	}
	assert.Equal(t, "unknown-code", pseudonym.Code("unknown-code").Text(language.Dutch))
}

// TestLateEncoding reads files whose first 64 KiB are ASCII: the encoding
// is decided on the first byte that is not.
func TestLateEncoding(t *testing.T) {
	pseudonym.SmallBatches(t, 4<<10)
	const asciiRows = 5000 // some 100 KiB, past the 64 KiB window
	ascii := strings.Repeat("Jansen;1234AB\n", asciiRows)
	cp1252 := func(s string) string {
		b, err := charmap.Windows1252.NewEncoder().String(s)
		require.NoError(t, err)
		return b
	}
	tests := []struct {
		reason   string
		enc      pseudonym.Encoding
		rest     string
		want     pseudonym.Encoding
		line     int
		rejected int
		wantRest string
	}{
		{"Windows-1252 after 64 KiB of ASCII", pseudonym.DetectEncoding, cp1252("Zoë;1315 KA\nCoëlho;1316\n"), pseudonym.Windows1252, asciiRows + 2, 0, "Zoë;1315 KA\nCoëlho;1316\n"},
		{"UTF-8 after 64 KiB of ASCII", pseudonym.DetectEncoding, "Zoë;1315 KA\nCoëlho;1316\n", pseudonym.UTF8, asciiRows + 2, 0, "Zoë;1315 KA\nCoëlho;1316\n"},
		{"UTF-8, then a stray byte: that row is rejected", pseudonym.DetectEncoding, "Zoë;1315 KA\nCo\xeblho;1316\nJan;1\n", pseudonym.UTF8, asciiRows + 2, 1, "Zoë;1315 KA\nJan;1\n"},
		{"configured UTF-8 decides nothing late", pseudonym.UTF8, cp1252("Zoë;1\n"), pseudonym.UTF8, 0, 1, ""},
		{"ASCII throughout", pseudonym.DetectEncoding, "Jan;1\n", pseudonym.UTF8, 0, 0, "Jan;1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			p := &pseudonym.Processor{Keyring: pseudonymtest.Keyring(), Header: true, Other: pseudonym.Keep, Encoding: tt.enc}
			// Cut the reads so that a character may fall across two.
			r := iotest.HalfReader(strings.NewReader("naam;postcode\n" + ascii + tt.rest))
			var out strings.Builder
			report, err := p.Process(context.Background(), r, &out)
			require.NoError(t, err)
			assert.Equal(t, tt.want, report.Encoding)
			assert.Equal(t, tt.line, report.EncodingLine)
			assert.Equal(t, tt.rejected, report.Rows.Rejected)
			assert.Equal(t, "naam;postcode\n"+ascii+tt.wantRest, out.String())
			if tt.line > 0 {
				var text strings.Builder
				require.NoError(t, report.WriteText(&text, language.Dutch))
				assert.Contains(t, text.String(), fmt.Sprintf("tekenset: %s, vastgesteld op regel %d", tt.want, tt.line))
			}
		})
	}
}

func TestWindows1252EveryByte(t *testing.T) {
	// Every byte Windows-1252 defines decodes to the same text as x/text's
	// decoder gives.
	var in []byte
	for c := 0xa0; c <= 0xff; c++ {
		in = append(in, byte(c))
	}
	want, err := charmap.Windows1252.NewDecoder().Bytes(in)
	require.NoError(t, err)
	p := &pseudonym.Processor{Keyring: pseudonymtest.Keyring(), Header: true, Other: pseudonym.Keep, Encoding: pseudonym.Windows1252}
	out, _ := process(t, p, "x\n"+string(in)+"\n")
	assert.Equal(t, "x\n"+string(want)+"\n", out)
}

// meddlingSchema is a Schema whose check overwrites every field it gets.
type meddlingSchema struct{}

func (meddlingSchema) Bind([]string) (func([][]byte, []pseudonym.Problem) []pseudonym.Problem, error) {
	return func(fields [][]byte, ps []pseudonym.Problem) []pseudonym.Problem {
		for i := range fields {
			fields[i] = []byte("X;Y")
		}
		return ps
	}, nil
}

// TestKeptRuns covers columns kept side by side, which a row without
// quotes copies as one slice: runs broken by a dropped column and by a
// coarsened one, empty fields, quoted rows (copied field by field), and a
// Schema that changes the fields it is given (the output does not change).
func TestKeptRuns(t *testing.T) {
	in := "id;naam;postcode;plaats;x;y;z\n" +
		"1;Jan;1315 KA;Almere;geheim;;z\n" +
		"2;\"De; Vries\";1316AB;\"\";g;y;\n" +
		"3;;1317 CD;;g;;\n" +
		";;;;;;\n"
	want := "id;naam;postcode;plaats;y;z\n" +
		"1;Jan;1315;Almere;;z\n" +
		"2;\"De; Vries\";1316;;y;\n" +
		"3;;1317;;;\n" +
		";;;;;\n"
	for _, schema := range []pseudonym.Schema{nil, meddlingSchema{}} {
		for _, workers := range []int{1, 2} {
			p := &pseudonym.Processor{Keyring: pseudonymtest.Keyring(), Header: true, Schema: schema, Workers: workers,
				Columns: []pseudonym.Column{{Name: "postcode", Action: pseudonym.CoarsenPC4}, {Name: "x", Action: pseudonym.Drop}},
				Other:   pseudonym.Keep}
			var out strings.Builder
			report, err := p.Process(context.Background(), strings.NewReader(in), &out)
			require.NoError(t, err)
			assert.Equal(t, want, out.String(), "schema %T, %d workers", schema, workers)
			assert.Equal(t, 4, report.Rows.Written)
		}
	}
}

package pseudonym_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/pseudonym"
	"github.com/zorgkit/zorgkit/pseudonym/pseudonymtest"
)

// workbook makes an .xlsx with excelize: rows of cells, each a string, a
// number (int or float64), or a dateCell.
func workbook(t testing.TB, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	iso, err := f.NewStyle(&excelize.Style{NumFmt: 14}) // the built-in short date
	require.NoError(t, err)
	custom := "dd-mm-yyyy"
	dutch, err := f.NewStyle(&excelize.Style{CustomNumFmt: &custom})
	require.NoError(t, err)
	for r, row := range rows {
		for c, v := range row {
			ref, err := excelize.CoordinatesToCellName(c+1, r+1)
			require.NoError(t, err)
			switch v := v.(type) {
			case nil:
			case dateCell:
				require.NoError(t, f.SetCellValue("Sheet1", ref, v.serial))
				style := iso
				if v.custom {
					style = dutch
				}
				require.NoError(t, f.SetCellStyle("Sheet1", ref, ref, style))
			default:
				require.NoError(t, f.SetCellValue("Sheet1", ref, v))
			}
		}
	}
	var buf bytes.Buffer
	require.NoError(t, f.Write(&buf))
	return buf.Bytes()
}

// dateCell is a date as a spreadsheet stores it: a serial number of days,
// formatted as a date.
type dateCell struct {
	serial float64
	custom bool // dd-mm-yyyy rather than the built-in short date
}

func TestProcessXLSX(t *testing.T) {
	file := workbook(t, [][]any{
		{"BSN", "Geboortedatum", "Postcode", "Opmerking", "Aantal"},
		{"999993847", dateCell{40602, false}, "1315 KA", "tekst met ; en \"quotes\"", 3},
		{999992077, dateCell{40602.75, true}, "1316AB", "Zoë & <Jan>\nop twee regels", 2.5},
		{"00009921", "2003-12-31", "1318EF", nil, nil}, // empty cells at the end
		nil, // an empty row
		{40645678, "2010-01-01", "1319 AB", "acht cijfers als getal", 1},
		{"123456781", "2010-01-01", "1320 AB", "elfproef", 1},
	})
	p := &pseudonym.Processor{
		Keyring: pseudonymtest.Keyring(),
		Header:  true,
		Columns: []pseudonym.Column{
			{Name: "BSN", Action: pseudonym.Pseudonymise},
			{Name: "Geboortedatum", Action: pseudonym.Keep},
		},
		Other: pseudonym.Keep,
	}
	pz, err := p.Keyring.Pseudonymiser("")
	require.NoError(t, err)
	ps := func(s string) string { return mustPseudonymise(t, pz, s).String() }

	for _, tt := range []struct {
		reason string
		in     func() any
	}{
		{"in memory, read in place", func() any { return bytes.NewReader(file) }},
		{"a stream, in small reads", func() any { return iotest.HalfReader(bytes.NewReader(file)) }},
	} {
		t.Run(tt.reason, func(t *testing.T) {
			var out strings.Builder
			report, err := p.Process(context.Background(), tt.in().(interface{ Read([]byte) (int, error) }), &out)
			require.NoError(t, err)
			assert.Equal(t, pseudonym.XLSX, report.Format)
			assert.Equal(t, pseudonym.UTF8, report.Encoding)
			assert.Equal(t, "BSN;Geboortedatum;Postcode;Opmerking;Aantal\n"+
				ps("999993847")+";2011-02-28;1315 KA;\"tekst met ; en \"\"quotes\"\"\";3\n"+
				ps("999992077")+";2011-02-28;1316AB;\"Zoë & <Jan>\nop twee regels\";2.5\n"+
				ps("000009921")+";2003-12-31;1318EF;;\n", out.String())
			assert.Equal(t, pseudonym.Counts{Read: 5, Written: 3, Rejected: 2}, report.Rows)
			assert.Equal(t, []pseudonym.Problem{
				{Line: 6, Column: 1, Name: "BSN", Code: pseudonym.CodeBSNNumberCell, Rejected: true},
				{Line: 7, Column: 1, Name: "BSN", Code: pseudonym.CodeBSNChecksum, Rejected: true},
			}, report.Problems, "lines are row numbers")
		})
	}

	t.Run("a column declared numeric from a spreadsheet", func(t *testing.T) {
		p := *p
		p.Columns = []pseudonym.Column{{Name: "BSN", Action: pseudonym.Pseudonymise, NumericFromSpreadsheet: true}}
		var out strings.Builder
		report, err := p.Process(context.Background(), bytes.NewReader(file), &out)
		require.NoError(t, err)
		assert.Contains(t, out.String(), "\n"+ps("040645678")+";2010-01-01;1319 AB;acht cijfers als getal;1\n")
		assert.Equal(t, pseudonym.Counts{Read: 5, Written: 4, Rejected: 1, Flagged: 1}, report.Rows)
		require.Len(t, report.Problems, 2)
		assert.Equal(t, pseudonym.Problem{Line: 6, Column: 1, Name: "BSN", Code: pseudonym.CodeBSNLegacyNumber, Severity: pseudonym.SeverityWarning}, report.Problems[0])
		assert.Contains(t, report.Problems[0].Text(language.Dutch), "voorloopnul")
	})
}

// TestProcessFileTypes: files that are not text nor .xlsx are refused with
// a message that tells the provider what to do.
func TestProcessFileTypes(t *testing.T) {
	tests := []struct {
		reason string
		file   []byte
		want   pseudonym.Code
	}{
		{"legacy .xls (a compound file)", append([]byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), make([]byte, 600)...), pseudonym.CodeXLS},
		{"PDF", []byte("%PDF-1.7\n%âãÏÓ\n1 0 obj"), pseudonym.CodeBinary},
		{"an image with zero bytes", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), pseudonym.CodeBinary},
		{"a zip that is no workbook", zipOf(t, "readme.txt", "hallo"), pseudonym.CodeXLSX},
		{"an OpenDocument spreadsheet", zipOf(t, "mimetype", "application/vnd.oasis.opendocument.spreadsheet"), pseudonym.CodeODS},
		{"a cut-off .xlsx", workbook(t, [][]any{{"BSN"}, {"999993847"}})[:200], pseudonym.CodeXLSX},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			p := &pseudonym.Processor{Keyring: pseudonymtest.Keyring(), Header: true, Other: pseudonym.Keep}
			var out strings.Builder
			_, err := p.Process(context.Background(), bytes.NewReader(tt.file), &out)
			require.ErrorIs(t, err, pseudonym.ErrFileType)
			var fe *pseudonym.FileTypeError
			require.True(t, errors.As(err, &fe))
			assert.Equal(t, tt.want, fe.Code)
			assert.Empty(t, out.String())
			nl := fe.Code.Text(language.Dutch)
			assert.NotEqual(t, string(fe.Code), nl, "a Dutch text")
		})
	}
	t.Run("the .xls message says what to do", func(t *testing.T) {
		assert.Contains(t, pseudonym.CodeXLS.Text(language.Dutch), ".xlsx")
		assert.Contains(t, pseudonym.CodeXLS.Text(language.Dutch), "CSV")
	})
	t.Run("too large", func(t *testing.T) {
		file := workbook(t, [][]any{{"BSN"}, {"999993847"}})
		p := &pseudonym.Processor{Keyring: pseudonymtest.Keyring(), Header: true, Other: pseudonym.Keep, MaxSpreadsheetBytes: len(file) - 1}
		_, err := p.Process(context.Background(), iotest.HalfReader(bytes.NewReader(file)), &strings.Builder{})
		var fe *pseudonym.FileTypeError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, pseudonym.CodeTooLarge, fe.Code)
	})
}

// TestProcessRealSpreadsheets reads files saved by LibreOffice Calc from
// testdata/clients.csv: an .xlsx, read like the CSV, and an .xls, refused.
func TestProcessRealSpreadsheets(t *testing.T) {
	csvFile, err := os.ReadFile("testdata/clients.csv")
	require.NoError(t, err)
	p := clientsPolicy()
	p.Columns[4].Action = pseudonym.Drop // the encrypted remark differs every run
	want, wantReport := process(t, p, string(csvFile))

	xlsx, err := os.Open("testdata/clients-libreoffice.xlsx")
	require.NoError(t, err)
	defer xlsx.Close()
	var out strings.Builder
	report, err := p.Process(context.Background(), xlsx, &out)
	require.NoError(t, err)
	assert.Equal(t, pseudonym.XLSX, report.Format)
	// The CSV's last row lacks its last field; a spreadsheet row has every
	// cell, so there it is written.
	lines := strings.SplitAfter(want, "\n")
	last := lines[len(lines)-2]
	assert.Equal(t, want+last, out.String())
	assert.Equal(t, pseudonym.Counts{Read: 17, Written: wantReport.Rows.Written + 1, Rejected: wantReport.Rows.Rejected - 1}, report.Rows)

	xls, err := os.ReadFile("testdata/clients-libreoffice.xls")
	require.NoError(t, err)
	_, err = p.Process(context.Background(), bytes.NewReader(xls), &out)
	var fe *pseudonym.FileTypeError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, pseudonym.CodeXLS, fe.Code)
}

// zipOf returns a zip file with one file.
func zipOf(t testing.TB, name, content string) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	f, err := w.Create(name)
	require.NoError(t, err)
	_, err = f.Write([]byte(content))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// FuzzXLSX makes workbooks with excelize from arbitrary cells (a row a
// line, cells separated by ';', a cell of digits stored as a number) and
// compares the rows the Processor writes with the rows excelize reads from
// the same workbook. With flip set, one byte of the workbook is changed
// first: the Processor must then fail with ErrFileType or read it, never
// panic or hang.
func FuzzXLSX(f *testing.F) {
	f.Add("a;b;c\n1;x;\n;;y\n\n12345678;z y;\"q\"", uint16(0), false)
	f.Add("BSN;naam\n999993847;Zoë & <Jan>\n40645678;a\nb", uint16(300), true)
	f.Add("x\n\ty", uint16(0), false)
	ring := pseudonymtest.Keyring()
	pseudonym.SmallBatches(f, 256)
	f.Fuzz(func(t *testing.T, cells string, at uint16, flip bool) {
		if !utf8.ValidString(cells) || len(cells) > 4000 {
			return
		}
		var rows [][]any
		for _, line := range strings.Split(cells, "\n") {
			var row []any
			for _, c := range strings.Split(line, ";") {
				switch n, err := strconv.ParseInt(c, 10, 64); {
				case c == "":
					row = append(row, nil)
				case err == nil && strconv.FormatInt(n, 10) == c && n < 1e15 && n > -1e15:
					row = append(row, n)
				case strings.IndexFunc(c, func(r rune) bool { return r < ' ' && r != '\n' || r == 0xfffe || r == 0xffff }) >= 0:
					return // not text XML can hold
				default:
					row = append(row, c)
				}
			}
			rows = append(rows, row)
		}
		file := workbook(t, rows)
		if flip {
			file[int(at)%len(file)] ^= 0x5a
		}
		p := &pseudonym.Processor{Keyring: ring, Header: true, Other: pseudonym.Keep, MaxFields: 64, Workers: 2}
		var out bytes.Buffer
		report, err := p.Process(context.Background(), bytes.NewReader(file), &out)
		if flip {
			if err != nil && !errors.Is(err, pseudonym.ErrFileType) && !errors.Is(err, pseudonym.ErrHeader) && !errors.Is(err, pseudonym.ErrNoRows) {
				t.Fatalf("a damaged workbook: %v", err)
			}
			return
		}
		// The reference: excelize's rows, without empty ones, each as
		// wide as the first.
		x, err2 := excelize.OpenReader(bytes.NewReader(file))
		require.NoError(t, err2)
		ref, err2 := x.GetRows("Sheet1")
		require.NoError(t, err2)
		var want [][]string
		for _, r := range ref {
			if strings.Join(r, "") != "" {
				want = append(want, r)
			}
		}
		if len(want) == 0 {
			if !errors.Is(err, pseudonym.ErrHeader) && !errors.Is(err, pseudonym.ErrNoRows) {
				t.Fatalf("an empty sheet: %v", err)
			}
			return
		}
		if errors.Is(err, pseudonym.ErrHeader) || errors.Is(err, pseudonym.ErrNoRows) {
			return // a header with a number as long as a BSN, or no data rows
		}
		require.NoError(t, err)
		r := csv.NewReader(&out)
		r.Comma = ';'
		r.FieldsPerRecord = -1
		got, err := r.ReadAll()
		require.NoError(t, err)
		width := len(want[0])
		var same [][]string
		for _, w := range want {
			if len(w) > width {
				continue // rejected: more cells than the header
			}
			same = append(same, append(w, make([]string, width-len(w))...))
		}
		if len(same) != len(got) || len(got) != report.Rows.Written+1 {
			t.Fatalf("rows: excelize %d, written %d (%+v)\n%q\n%q", len(same), len(got), report.Rows, same, got)
		}
		for i := range got {
			if strings.Join(got[i], "\x00") != strings.Join(same[i], "\x00") {
				t.Fatalf("row %d: excelize %q, written %q", i, same[i], got[i])
			}
		}
	})
}

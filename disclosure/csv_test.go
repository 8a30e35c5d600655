package disclosure_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/disclosure"
)

// csvDims are the dimensions of the CSV files in testdata/csv: provinces
// over municipalities, and a flat care type.
var csvDims = []disclosure.Dimension{
	{Name: "gemeente", Categories: []disclosure.Category{
		{Code: "Flevoland"}, {Code: "Almere", Parent: "Flevoland"}, {Code: "Lelystad", Parent: "Flevoland"},
		{Code: "Fryslân"}, {Code: "Súdwest-Fryslân", Parent: "Fryslân"}, {Code: "Leeuwarden", Parent: "Fryslân"},
	}},
	{Name: "zorgvorm"},
}

var csvSpec = disclosure.Spec{Name: "toewijzingen", Dimensions: []string{"gemeente", "zorgvorm"}}

// The inner cells of the files in testdata/csv.
var csvCells = []disclosure.Aggregate{
	{Categories: []string{"Almere", "wmo"}, Count: 12},
	{Categories: []string{"Almere", "jeugdhulp"}, Count: 3},
	{Categories: []string{"Lelystad", "wmo"}, Count: 7},
	{Categories: []string{"Lelystad", "jeugdhulp"}, Count: 0},
	{Categories: []string{"Súdwest-Fryslân", "wmo"}, Count: 4},
	{Categories: []string{"Súdwest-Fryslân", "jeugdhulp"}, Count: 9},
	{Categories: []string{"Leeuwarden", "wmo"}, Count: 21},
}

// Files as spreadsheets and R write them give the same table as its inner
// cells.
func TestReadCSV(t *testing.T) {
	want, err := disclosure.FromAggregates(csvDims, csvSpec, csvCells)
	require.NoError(t, err)
	wantP, err := want.Protect(context.Background(), disclosure.Rules{})
	require.NoError(t, err)
	tests := []struct {
		file, reason string
	}{
		{"toewijzingen-excel-windows.csv", "Excel on Windows in Dutch: semicolons, Windows-1252, CRLF, with totals"},
		{"toewijzingen-r.csv", "R's write.csv with a byte order mark: quoted codes, commas, a Freq column, no totals"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			f, err := os.Open("testdata/csv/" + tt.file)
			require.NoError(t, err)
			defer f.Close()
			tabs, err := disclosure.ReadCSV(f, csvDims, csvSpec)
			require.NoError(t, err)
			p, err := tabs.Protect(context.Background(), disclosure.Rules{})
			require.NoError(t, err)
			assert.Equal(t, wantP.Table("toewijzingen").Rows(), p.Table("toewijzingen").Rows())
			assert.Equal(t, 56.0, cells(t, p.Table("toewijzingen"))["Totaal/Totaal"].Value)
		})
	}
}

func TestReadCSVErrors(t *testing.T) {
	tests := []struct {
		reason, file string
		line         int    // of the first problem
		problem      string // part of its text
	}{
		{"empty file", "", 1, "empty"},
		{"no count column", "gemeente,zorgvorm\nAlmere,wmo\n", 1, "exactly one column besides the dimensions"},
		{"two extra columns", "gemeente,zorgvorm,aantal,bedrag\nAlmere,wmo,1,2\n", 1, `"aantal", "bedrag"`},
		{"a dimension's column missing", "gemeente,aantal\nAlmere,1\n", 1, `no column for dimension "zorgvorm"`},
		{"header twice the same", "gemeente,zorgvorm,gemeente,aantal\nAlmere,wmo,Almere,1\n", 1, "same name"},
		{"not a whole number", "gemeente,zorgvorm,aantal\nAlmere,wmo,1\nLelystad,wmo,2.5\n", 3, `"2.5" is not a whole number`},
		{"empty count", "gemeente,zorgvorm,aantal\nAlmere,wmo,\n", 2, "not a whole number"},
		{"negative count", "gemeente;zorgvorm;aantal\nAlmere;wmo;-3\n", 2, "negative"},
		{"unknown municipality", "gemeente,zorgvorm,aantal\nAlmere,wmo,1\nZwolle,wmo,4\n", 3, `"Zwolle" is not a category of dimension "gemeente"`},
		{"the same cell twice", "gemeente,zorgvorm,aantal\nAlmere,wmo,1\nLelystad,wmo,2\n Almere ,wmo,1\n", 4, "the same cell as line 2"},
		{"the same total twice", "gemeente,zorgvorm,aantal\nAlmere,wmo,1\nTotaal,wmo,1\nTotaal,wmo,1\n", 4, "the same cell as line 3"},
		{"a total that does not add up", "gemeente,zorgvorm,aantal\nAlmere,wmo,1\nLelystad,wmo,2\nFlevoland,wmo,4\n", 4, "the total gemeente=Flevoland; zorgvorm=wmo is 4, but its inner cells add up to 3"},
		{"only totals", "gemeente,zorgvorm,aantal\nFlevoland,wmo,0\n", 1, "no inner cells"},
		{"a row too short", "gemeente,zorgvorm,aantal\nAlmere,wmo\n", 2, "the row has 2 fields, the header 3"},
		{"a number that may be a citizen service number", "gemeente,zorgvorm,aantal\nAlmere,wmo,111222333x\n", 2, `"•••••••••x"`},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			_, err := disclosure.ReadCSV(strings.NewReader(tt.file), csvDims, csvSpec)
			require.Error(t, err)
			assert.ErrorIs(t, err, disclosure.ErrCSV)
			var ce *disclosure.CSVError
			require.True(t, errors.As(err, &ce), "%v", err)
			assert.Equal(t, tt.line, ce.Line, "%v", err)
			assert.Contains(t, err.Error(), tt.problem)
			assert.NotContains(t, err.Error(), "111222333", "no long number from the file in an error")
		})
	}

	t.Run("a wrong total in a Windows-1252 file", func(t *testing.T) {
		f, err := os.Open("testdata/csv/toewijzingen-wrong-total.csv")
		require.NoError(t, err)
		defer f.Close()
		_, err = disclosure.ReadCSV(f, csvDims, csvSpec)
		var ce *disclosure.CSVError
		require.True(t, errors.As(err, &ce), "%v", err)
		assert.Equal(t, 11, ce.Line)
		assert.Contains(t, ce.Problem, "is 57, but its inner cells add up to 56")
	})
	t.Run("every problem of the file, not only the first", func(t *testing.T) {
		_, err := disclosure.ReadCSV(strings.NewReader("gemeente,zorgvorm,aantal\nAlmere,wmo,x\nZwolle,wmo,1\nLelystad,wmo,-1\n"), csvDims, csvSpec)
		require.Error(t, err)
		assert.Len(t, strings.Split(err.Error(), "\n"), 3, "%v", err)
	})
	t.Run("a sum table", func(t *testing.T) {
		_, err := disclosure.ReadCSV(strings.NewReader("gemeente,zorgvorm,uren\nAlmere,wmo,1\n"), csvDims,
			disclosure.Spec{Name: "uren", Kind: disclosure.Sum, Dimensions: []string{"gemeente", "zorgvorm"}})
		assert.ErrorIs(t, err, disclosure.ErrSpec)
	})
}

// FuzzReadCSV reads arbitrary files: ReadCSV returns tables or an error,
// never panics, and what it accepts protects cleanly.
func FuzzReadCSV(f *testing.F) {
	for _, name := range []string{"toewijzingen-excel-windows.csv", "toewijzingen-r.csv", "toewijzingen-wrong-total.csv"} {
		b, err := os.ReadFile("testdata/csv/" + name)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte("gemeente\tzorgvorm\taantal\nAlmere\twmo\t3\nTotaal\twmo\t3\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tabs, err := disclosure.ReadCSV(strings.NewReader(string(b)), csvDims, csvSpec)
		if err != nil {
			assert.True(t, errors.Is(err, disclosure.ErrCSV) || errors.Is(err, disclosure.ErrDimension) || errors.Is(err, disclosure.ErrRecord), "untyped error: %v", err)
			return
		}
		p, err := tabs.Protect(context.Background(), disclosure.Rules{})
		require.NoError(t, err)
		assertAuditClean(t, p)
	})
}

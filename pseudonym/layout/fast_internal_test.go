package layout

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// genericParse reads a date with the format's tokens only, as every format
// was read before fixed formats were read by position.
func genericParse(f dateFormat, b []byte) (date, bool) {
	f.fixed = nil
	return f.parseBytes(b)
}

// codeColumn compiles a column of type code with the given codes.
func codeColumn(t testing.TB, codes ...string) column {
	fc := fileColumn{Name: "c", Type: "code"}
	for _, c := range codes {
		fc.Codes = append(fc.Codes, Code{Code: c})
	}
	c, err := compileColumn(fc)
	require.NoError(t, err)
	return c
}

// The quick paths (dates of a fixed format read by position, codes in a bit
// set or a short list) answer as the general ones do.
func FuzzQuickPaths(f *testing.F) {
	for _, s := range []string{"2024-02-29", "2023-02-29", "20240101", "01-12-2024", "1-2-2024", "31-04-2024",
		"2024-1-01", "2024/01/01", "0", "00", "01", "8", "08", "63", "64", "065", "7", "Ja", "NEE", "ja ", "é", "x9", ""} {
		f.Add(s)
	}
	formats := []string{"YYYY-MM-DD", "YYYYMMDD", "DD-MM-YYYY", "D-M-YYYY", "MM/DD/YYYY", "DD.MM.YYYY", "YYYY-M-D"}
	columns := []column{
		codeColumn(f, "0", "1", "2"),
		codeColumn(f, "01", "02", "03", "04", "05", "06", "08"),
		codeColumn(f, "ja", "nee"),
		codeColumn(f, "1", "63", "64", "100", "ja", "Nee", "x"),
		codeColumn(f, "a", "b", "c", "d", "e", "f", "g", "h", "i", "j"), // a long list: the map
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, name := range formats {
			df, ok := parseDateFormat(name)
			require.True(t, ok, name)
			d1, ok1 := df.parseBytes([]byte(s))
			d2, ok2 := genericParse(df, []byte(s))
			assert.Equal(t, ok2, ok1, "%s %q", name, s)
			assert.Equal(t, d2, d1, "%s %q", name, s)
		}
		if s == "" {
			return // never asked: an empty value is not filled
		}
		for i := range columns {
			c := &columns[i]
			assert.Equal(t, c.codeSet[codeKey([]byte(s))], c.hasCode([]byte(s)), "column %d, %q", i, s)
		}
	})
}

func TestFixedFormats(t *testing.T) {
	for _, tc := range []struct {
		format string
		fixed  bool
		length int
	}{
		{"YYYY-MM-DD", true, 10},
		{"YYYYMMDD", true, 8},
		{"DD-MM-YYYY", true, 10},
		{"D-M-YYYY", false, 0},
		{"YYYY-M-DD", false, 0},
	} {
		t.Run(tc.format, func(t *testing.T) {
			df, ok := parseDateFormat(tc.format)
			require.True(t, ok)
			assert.Equal(t, tc.fixed, df.fixed != nil, "read by position")
			if tc.fixed {
				assert.Equal(t, tc.length, df.fixed.length)
			}
		})
	}
}

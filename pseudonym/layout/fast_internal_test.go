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

// TestQuickPaths: the quick paths (dates of a fixed format read by
// position, codes in a bit set or a short list) answer as the general ones
// do, on dates put together from parts that are right, nearly right and
// wrong, in every order and with every separator, and on every short code.
// (A test rather than a fuzz target: CI gives each target seconds it does
// not have to spare, and these inputs cover the cases.)
func TestQuickPaths(t *testing.T) {
	formats := []string{"YYYY-MM-DD", "YYYYMMDD", "DD-MM-YYYY", "D-M-YYYY", "MM/DD/YYYY", "DD.MM.YYYY", "YYYY-M-D"}
	var dfs []dateFormat
	for _, name := range formats {
		df, ok := parseDateFormat(name)
		require.True(t, ok, name)
		dfs = append(dfs, df)
	}
	years := []string{"0000", "1899", "1900", "2000", "2023", "2024", "2100", "9999", "123", "12345", "20a4", "２０２４", "20:4", "2/24", "2\xb024", "\x7f024"}
	months := []string{"0", "00", "1", "01", "02", "2", "04", "12", "13", "1a", "", "001", ":1", "1/", "\xb1"}
	days := []string{"0", "00", "1", "01", "28", "29", "30", "31", "32", "", "3x", "3:", "/1", "\xb9\xb9"}
	seps := []string{"-", "/", ".", " ", ""}
	n := 0
	for _, y := range years {
		for _, m := range months {
			for _, d := range days {
				for _, sep := range seps {
					for _, s := range []string{y + sep + m + sep + d, d + sep + m + sep + y, m + sep + d + sep + y, y + sep + m + sep + d + sep} {
						for i, df := range dfs {
							d1, ok1 := df.parseBytes([]byte(s))
							d2, ok2 := genericParse(df, []byte(s))
							if ok1 != ok2 || d1 != d2 {
								t.Fatalf("%s %q: by position %v %v, by tokens %v %v", formats[i], s, d1, ok1, d2, ok2)
							}
							if fx := df.fixed; fx != nil {
								require.True(t, fx.words, formats[i])
								bytewise := *fx
								bytewise.words = false
								if d3, ok3 := bytewise.parse([]byte(s)); ok3 != ok2 || d3 != d2 {
									t.Fatalf("%s %q: byte by byte %v %v, by tokens %v %v", formats[i], s, d3, ok3, d2, ok2)
								}
							}
							n++
						}
					}
				}
			}
		}
	}
	t.Logf("%d dates compared", n)

	columns := []column{
		codeColumn(t, "0", "1", "2"),
		codeColumn(t, "01", "02", "03", "04", "05", "06", "08"),
		codeColumn(t, "ja", "nee"),
		codeColumn(t, "1", "63", "64", "100", "ja", "Nee", "x"),
		codeColumn(t, "a", "b", "c", "d", "e", "f", "g", "h", "i", "j"), // a long list: the map
	}
	alphabet := []string{"0", "1", "6", "3", "4", "8", "a", "J", "N", "e", "é", " ", "+"}
	values := []string{"ja", "JA", "Nee", "nEE", "x", "X", "63", "063", "0063", "64", "064", "100", "0100", "99", "1000000000000000000000", "-1", "+1"}
	var grow func(prefix string, depth int)
	grow = func(prefix string, depth int) {
		if prefix != "" {
			values = append(values, prefix)
		}
		if depth == 0 {
			return
		}
		for _, c := range alphabet {
			grow(prefix+c, depth-1)
		}
	}
	grow("", 3)
	for _, v := range values {
		for i := range columns {
			c := &columns[i]
			if want, got := c.codeSet[codeKey([]byte(v))], c.hasCode([]byte(v)); want != got {
				t.Fatalf("column %d, %q: hasCode %v, the code set %v", i, v, got, want)
			}
		}
	}
	t.Logf("%d codes compared", len(values))
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

// BenchmarkFixedDate compares the two ways a fixed format is read, in one
// process: byte by byte (impl=bytes) and two words at a time (impl=words),
// on the dates of the youth-care layout's first format.
func BenchmarkFixedDate(b *testing.B) {
	dates := [][]byte{[]byte("2015-01-24"), []byte("2024-11-04"), []byte("2025-09-25"), []byte("2009-04-28"), []byte("2024-02-30"), []byte("20240230")}
	for _, words := range []bool{false, true} {
		name := "impl=bytes"
		if words {
			name = "impl=words"
		}
		b.Run(name, func(b *testing.B) {
			df, _ := parseDateFormat("YYYY-MM-DD")
			fx := *df.fixed
			fx.words = words
			n := 0
			for i := 0; b.Loop(); i++ {
				if _, ok := fx.parse(dates[i%len(dates)]); ok {
					n++
				}
			}
			if n == 0 {
				b.Fatal("no date read")
			}
		})
	}
}

package pseudonym_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/zorgkit/zorgkit/pseudonym"
	"github.com/zorgkit/zorgkit/pseudonym/pseudonymtest"
)

// FuzzParse checks that Parse never panics, accepts only canonical text
// (Parse then String gives the input back), and fails with a fixed sentinel
// error that cannot contain the input.
func FuzzParse(f *testing.F) {
	for _, v := range pseudonymtest.Vectors() {
		f.Add(v.Pseudonym)
		f.Add(v.Input)
	}
	f.Add("v2.k1.abc")
	f.Add("v1..")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := pseudonym.Parse(s)
		if err != nil {
			if !p.IsZero() {
				t.Fatalf("Parse(%q) failed but returned %v", s, p)
			}
			// The errors are the fixed sentinels, so they cannot contain
			// the input.
			if err != pseudonym.ErrFormat && err != pseudonym.ErrVersion {
				t.Fatalf("Parse(%q) error %v is not a sentinel", s, err)
			}
			return
		}
		if got := p.String(); got != s {
			t.Fatalf("Parse(%q).String() = %q: not canonical", s, got)
		}
		var q pseudonym.Pseudonym
		text, _ := p.MarshalText()
		if err := q.UnmarshalText(text); err != nil || !q.Equal(p) {
			t.Fatalf("text round trip of %q: %v, %v", s, q, err)
		}
	})
}

// FuzzProcess feeds arbitrary files to the processor. It checks that every
// row is written or rejected, that the output is well-formed delimited text
// with the same number of fields in every row, and, for files that
// encoding/csv reads without error, that the rows written are the rows
// encoding/csv reads.
func FuzzProcess(f *testing.F) {
	f.Add([]byte("a;b\n1;2\n"), false)
	f.Add([]byte("\"x;y\";\"say \"\"hi\"\"\"\r\n\"multi\nline\";z\n"), false)
	f.Add([]byte("1;2\n\"unterminated;3\n4;5"), false)
	f.Add([]byte("1;2\n5\" disk;x\n\"x\"y;1\n;\n\n\r\n"), false)
	f.Add([]byte("1315 KA Zoë   1\n1234AB  Jan    \n"), true)
	f.Add([]byte("\xe9;\xff\n"), false)
	ring := pseudonymtest.Keyring()
	f.Fuzz(func(t *testing.T, data []byte, fixed bool) {
		for _, maxRow := range []int{16, 1 << 20} {
			p := &pseudonym.Processor{Keyring: ring, Comma: ';', Other: pseudonym.Keep, Encoding: pseudonym.UTF8, MaxRowBytes: maxRow, MaxFields: 64, Workers: 2}
			if fixed {
				p.Layout = []pseudonym.Field{{Name: "a", Start: 1, Width: 3}, {Name: "b", Start: 5, Width: 2}, {Name: "c", Start: 7, Width: 4}}
			}
			var out bytes.Buffer
			report, err := p.Process(context.Background(), bytes.NewReader(data), &out)
			if errors.Is(err, pseudonym.ErrHeader) && !fixed {
				return // the first row sets the number of fields and cannot be read
			}
			if err != nil {
				t.Fatalf("Process: %v", err)
			}
			rows := report.Rows
			if rows.Read != rows.Written+rows.Rejected || rows.Flagged != 0 {
				t.Fatalf("counts do not add up: %+v", rows)
			}
			if len(report.Problems) < rows.Rejected {
				t.Fatalf("%d rows rejected, %d problems", rows.Rejected, len(report.Problems))
			}
			r := csv.NewReader(&out)
			r.Comma = ';'
			written, err := r.ReadAll()
			if err != nil {
				t.Fatalf("output is not well-formed: %v\n%q", err, out.String())
			}
			if fixed {
				written = written[1:] // the header from the layout
			}
			if len(written) != rows.Written {
				t.Fatalf("%d rows in the output, %d written", len(written), rows.Written)
			}
			if maxRow < 1<<20 || fixed || bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
				continue
			}
			in := csv.NewReader(bytes.NewReader(data))
			in.Comma = ';'
			in.FieldsPerRecord = -1
			want, err := in.ReadAll()
			if err != nil || !utf8.Valid(data) || len(want) == 0 {
				continue
			}
			var same [][]string
			for _, rec := range want {
				if len(rec) == len(want[0]) {
					same = append(same, rec)
				}
			}
			if !reflect.DeepEqual(same, written) && !(len(same) == 0 && len(written) == 0) {
				t.Fatalf("rows differ from encoding/csv\ninput %q\nwant %q\ngot  %q", data, same, written)
			}
		}
	})
}

package layout_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"testing"

	"github.com/zorgkit/zorgkit/pseudonym"
	"github.com/zorgkit/zorgkit/pseudonym/layout"
	"github.com/zorgkit/zorgkit/pseudonym/pseudonymtest"
)

// BenchmarkCheck checks rows of the CBS-like generator against the
// youth-care layout: the cost a Schema adds to every row of an upload.
func BenchmarkCheck(b *testing.B) {
	r := csv.NewReader(pseudonymtest.CBSRows(1, 1000))
	r.Comma = ';'
	records, err := r.ReadAll()
	if err != nil && err != io.EOF {
		b.Fatal(err)
	}
	check, err := layout.Jeugdhulp().Bind(records[0])
	if err != nil {
		b.Fatal(err)
	}
	var rows [][][]byte
	for _, rec := range records[1:] {
		var fields [][]byte
		for _, v := range rec {
			fields = append(fields, bytes.Clone([]byte(v)))
		}
		rows = append(rows, fields)
	}
	var ps []pseudonym.Problem
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ps = check(rows[i%len(rows)], ps[:0])
		i++
	}
}

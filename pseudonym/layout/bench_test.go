package layout_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"syscall"
	"testing"
	"time"

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
	cpu := cpuTime()
	for b.Loop() {
		ps = check(rows[i%len(rows)], ps[:0])
		i++
	}
	// CPU time is what the check takes from the pipeline's cores; on a
	// shared machine it varies less than the time per operation.
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkValid judges both indicators of a stored row, as a report's
// response rate does for every row of every delivery.
func BenchmarkValid(b *testing.B) {
	l := layout.Jeugdhulp()
	row := map[string]string{
		"Geslacht": "2", "Gemeentecode": "0034", "Productcode": "45A12", "Begindatum": "2024-03-01",
		"Einddatum": "2025-01-31", "Reden beëindiging": "1", "Doelrealisatie": "ja", "Tevredenheid": "8",
	}
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		goal, err1 := l.Valid("doelrealisatie", row)
		sat, err2 := l.Valid("tevredenheid", row)
		if !goal || !sat || err1 != nil || err2 != nil {
			b.Fatal(goal, sat, err1, err2)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}

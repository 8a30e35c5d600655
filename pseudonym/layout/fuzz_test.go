package layout_test

import (
	"encoding/csv"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/pseudonym"
	"github.com/zorgkit/zorgkit/pseudonym/layout"
)

// FuzzParse reads arbitrary layout files: each is refused with ErrLayout or
// gives a layout whose check runs on any row without panicking.
func FuzzParse(f *testing.F) {
	embedded, err := os.ReadFile("jeugdhulp.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(embedded), "a;b;c")
	f.Add(`{"name": "t", "columns": [{"name": "a", "type": "date"}, {"name": "b", "type": "date"}], "rules": [{"kind": "age", "columns": ["a", "b"], "min": 0, "max": 3}]}`, "2020-01-01;2024-01-01")
	f.Add(`{"name": "t", "columns": [{"name": "a", "type": "code", "codes": [{"code": "01"}]}], "indicators": [{"name": "x", "columns": ["a"]}]}`, "1")
	f.Add(`{"name": "t", "dateFormats": ["D.M.YYYY"], "columns": [{"name": "a", "type": "text", "chars": "alnum", "maxLength": 2}]}`, "é")
	f.Fuzz(func(t *testing.T, file, line string) {
		l, err := layout.Parse([]byte(file))
		if err != nil {
			if !errors.Is(err, layout.ErrLayout) {
				t.Fatalf("error %v does not wrap ErrLayout", err)
			}
			return
		}
		var fields [][]byte
		for _, v := range strings.Split(line, ";") {
			fields = append(fields, []byte(v))
		}
		check, err := l.Bind(nil)
		if err != nil {
			t.Fatalf("Bind without a header: %v", err)
		}
		for _, p := range check(fields, nil) {
			if p.Column < 1 || p.Column > len(fields) || p.Code.Text(language.Dutch) == "" {
				t.Fatalf("problem %+v outside the row of %d fields", p, len(fields))
			}
		}
		for _, in := range l.Indicators() {
			row := map[string]string{}
			for i, c := range l.Columns() {
				if i < len(fields) {
					row[c.Name] = string(fields[i])
				}
			}
			valid, err := l.Valid(in.Name, row)
			if err != nil {
				t.Fatalf("Valid(%q): %v", in.Name, err)
			}
			applies, err := l.Applies(in.Name, row)
			if err != nil || valid && !applies {
				t.Fatalf("Applies(%q) = %v (%v), and Valid %v: a valid measurement is in the denominator", in.Name, applies, err, valid)
			}
		}
	})
}

// FuzzCheck checks arbitrary rows, as encoding/csv reads them, against the
// youth-care layout, and compares the verdict on single columns with
// independent statements of their domains: strconv for the satisfaction
// score, time.Parse for dates, a set for the sex codes; and Valid's verdict
// on the satisfaction score with the same statement.
func FuzzCheck(f *testing.F) {
	f.Add(strings.TrimSpace(row(nil)))
	f.Add(strings.TrimSpace(row(map[string]string{"Begindatum": "2024-13-01", "Geslacht": "Q", "Tevredenheid": "42"})))
	f.Add(strings.TrimSpace(row(map[string]string{"Geboortedatum": "29-2-2012", "Tevredenheid": "+7", "Geslacht": "01"})))
	f.Add(`"999993847";"2011-02-28";" 2 ";;;;;;"20240115";;;;"10"`)
	l := layout.Jeugdhulp()
	names := strings.Split(strings.TrimSpace(header), ";")
	check, err := l.Bind(names)
	if err != nil {
		f.Fatal(err)
	}
	col := func(name string) int {
		for i, n := range names {
			if n == name {
				return i
			}
		}
		panic(name)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r := csv.NewReader(strings.NewReader(line))
		r.Comma = ';'
		rec, err := r.Read()
		if err != nil || len(rec) != len(names) {
			return
		}
		fields := make([][]byte, len(rec))
		for i, v := range rec {
			fields[i] = []byte(v)
		}
		problems := check(fields, nil)
		byColumn := map[int]pseudonym.Problem{}
		for _, p := range problems {
			if _, dup := byColumn[p.Column]; dup {
				t.Fatalf("two problems in column %d: %v", p.Column, problems)
			}
			byColumn[p.Column] = p
		}
		has := func(name string, codes ...pseudonym.Code) bool {
			p, ok := byColumn[col(name)+1]
			if !ok {
				return false
			}
			for _, c := range codes {
				if p.Code == c {
					return true
				}
			}
			return false
		}
		// Satisfaction: a whole number from 1 to 10, or empty.
		sat := strings.Trim(rec[col("Tevredenheid")], " \t")
		n, err := strconv.Atoi(sat)
		wantSat := sat != "" && (err != nil || n < 1 || n > 10)
		if got := has("Tevredenheid", pseudonym.CodeNumber, pseudonym.CodeRange); got != wantSat {
			t.Fatalf("satisfaction %q: problem %v, want %v", sat, got, wantSat)
		}
		// Satisfaction applies with a valid end date; a valid measurement
		// of it is the score as above too (no rule of the layout concerns
		// the score).
		values := map[string]string{}
		for i, n := range names {
			values[n] = rec[i]
		}
		ended := validDate(strings.Trim(rec[col("Einddatum")], " \t"))
		if got, err := l.Applies("tevredenheid", values); err != nil || got != ended {
			t.Fatalf("end %q: applies %v (%v), want %v", rec[col("Einddatum")], got, err, ended)
		}
		wantValid := sat != "" && !wantSat && ended
		if got, err := l.Valid("tevredenheid", values); err != nil || got != wantValid {
			t.Fatalf("satisfaction %q, end %q: valid %v (%v), want %v", sat, rec[col("Einddatum")], got, err, wantValid)
		}
		// Sex: 0, 1 or 2 (leading zeros allowed), never empty.
		sex := strings.Trim(rec[col("Geslacht")], " \t")
		k, err := strconv.ParseUint(sex, 10, 64)
		wantSex := sex == "" || err != nil || k > 2 || strings.ContainsAny(sex, "+-")
		if got := has("Geslacht", pseudonym.CodeNotInList, pseudonym.CodeMissing); got != wantSex {
			t.Fatalf("sex %q: problem %v, want %v", sex, got, wantSex)
		}
		// Start date: one of the layout's formats, a real day, 1900–2099.
		start := strings.Trim(rec[col("Begindatum")], " \t")
		valid := validDate(start)
		if got := has("Begindatum", pseudonym.CodeDate, pseudonym.CodeDateRange, pseudonym.CodeMissing); got == valid {
			t.Fatalf("start %q: problem %v, valid %v", start, got, valid)
		}
	})
}

// validDate is the youth-care layout's domain of a date, stated with
// package time: one of its formats, a real day, 1900–2099.
func validDate(s string) bool {
	for _, layout := range []string{"2006-01-02", "20060102", "02-01-2006", "2-1-2006"} {
		if d, err := time.Parse(layout, s); err == nil && d.Year() >= 1900 && d.Year() <= 2099 {
			return true
		}
	}
	return false
}

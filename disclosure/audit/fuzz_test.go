package audit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
)

// systemFromBytes decodes a small System and attackers from fuzz input.
// Indices may be out of range and values inconsistent: Validate must say
// so. With consistent set, each Sum's total gets the sum of its parts when
// all parts come before it, so that more inputs are valid.
func systemFromBytes(data []byte) (s *System, attackers []Attacker) {
	next := func() int {
		if len(data) == 0 {
			return 0
		}
		b := int(data[0])
		data = data[1:]
		return b
	}
	s = &System{}
	n := 1 + next()%14
	flags := next()
	for i := range n {
		b := next()
		c := Cell{Name: fmt.Sprint("c", i), Value: float64(b % 23), Published: b&0x20 != 0, Sensitive: b&0x40 != 0}
		switch b {
		case 0xfd:
			c.Value = math.NaN()
		case 0xfe:
			c.Value = -1
		case 0xff:
			c.Value = 0.1
		}
		c.Margin = float64(next() % 4)
		s.Cells = append(s.Cells, c)
	}
	for range next() % 9 {
		sum := Sum{Total: next() % (n + 1)}
		for range next() % 5 {
			sum.Parts = append(sum.Parts, next()%(n+1))
		}
		s.Sums = append(s.Sums, sum)
	}
	for range next() % 3 {
		s.Ratios = append(s.Ratios, Ratio{Numerator: next() % n, Denominator: next() % n, Published: next()%4 != 0})
	}
	if flags&1 != 0 { // make totals consistent where the order allows
		for _, sum := range s.Sums {
			if sum.Total >= n {
				continue
			}
			v, ok := 0.0, true
			for _, p := range sum.Parts {
				if p >= sum.Total {
					ok = false
					break
				}
				v += s.Cells[p].Value
			}
			if ok {
				s.Cells[sum.Total].Value = v
			}
		}
	}
	for a := range next() % 3 {
		att := Attacker{Name: fmt.Sprint("a", a)}
		for range next() % 3 {
			att.Knows = append(att.Knows, next()%(n+1))
		}
		attackers = append(attackers, att)
	}
	return s, attackers
}

// FuzzAudit checks that neither audit panics on any System, that both
// reject what Validate rejects, and that on valid input the exact audit
// agrees with brute force, every derivation holds, and the intervals hold
// the true values and are single values for exact cells.
func FuzzAudit(f *testing.F) {
	f.Add([]byte{3, 1, 0x21, 0, 0x42, 1, 0x22, 0, 1, 2, 2, 0, 1})
	f.Add([]byte{6, 1, 0x25, 0, 0x43, 2, 0x46, 1, 0x24, 0, 0x21, 0, 0x40, 3, 3, 6, 3, 0, 1, 2, 6, 2, 3, 4, 1, 0, 1, 1, 1, 1, 2})
	f.Add([]byte{2, 0, 0xfd, 0, 0xfe, 0})
	f.Add([]byte{4, 1, 0xff, 0, 0xff, 0, 0x42, 0, 0x60, 0, 1, 3, 2, 0, 1, 1, 2, 3, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, attackers := systemFromBytes(data)
		verr := s.Validate()
		if verr == nil {
			verr = s.validateAttackers(attackers)
		}
		findings, err := Exact(context.Background(), s, attackers...)
		if (err == nil) != (verr == nil) {
			t.Fatalf("Exact error %v, validation error %v", err, verr)
		}
		ivs, ierr := Intervals(context.Background(), s, attackers...)
		if err != nil {
			var serr *SystemError
			if !errors.As(err, &serr) || !(errors.Is(err, ErrInvalid) || errors.Is(err, ErrInconsistent)) {
				t.Fatalf("Exact error %v is not a *SystemError", err)
			}
			if ierr == nil {
				t.Fatalf("Intervals accepts what Exact rejects: %v", err)
			}
			return
		}
		want := expectedFindings(s, attackers)
		got := map[string]bool{}
		for _, name := range findingNames(findings) {
			got[name] = true
		}
		if fmt.Sprint(keys(want)) != fmt.Sprint(keys(got)) {
			t.Fatalf("findings %v, brute force %v", keys(got), keys(want))
		}
		checkDerivations(t, s, attackers, findings)
		if errors.Is(ierr, ErrNegative) {
			return
		}
		if ierr != nil {
			t.Fatalf("Intervals: %v", ierr)
		}
		pinned := map[string]bool{}
		for _, iv := range ivs {
			if iv.Min > iv.Value || iv.Max < iv.Value {
				t.Fatalf("%v: the true value lies outside", iv)
			}
			if iv.Exact() {
				pinned[iv.Attacker+":"+iv.Name] = true
			}
		}
		for _, f := range findings {
			if f.Sensitive && !pinned[f.Attacker+":"+f.Name] && !pinned[":"+f.Name] {
				t.Fatalf("%v: exact, but its interval is not a single value", f)
			}
		}
	})
}

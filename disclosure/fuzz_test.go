package disclosure_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/disclosure"
)

// FuzzProtect builds small linked tables from the fuzzer's bytes (response
// tables among them, with and without records to which the indicator does
// not apply), protects
// them, and has the independent audit check the result: no reader,
// insiders included, can compute a primary cell.
func FuzzProtect(f *testing.F) {
	f.Add([]byte("\x02\x01\x03\x05\x11\x22\x33\x44\x55\x66\x77\x88\x99"))
	f.Add([]byte("\x13\x27\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"))
	f.Add([]byte("\xff\xfe\xfd\xfc\x10\x20\x30\x40\x50\x60\x70\x80\x90\xa0\xb0\xc0\xd0\xe0"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 4 || len(data) > 400 {
			return
		}
		next := func() byte {
			b := data[0]
			data = data[1:]
			if len(data) == 0 {
				data = []byte{b ^ 0x5a}
			}
			return b
		}
		// Dimensions: 2 or 3, each 2–3 top categories, the first split
		// into 2 leaves when a bit says so.
		var dims []disclosure.Dimension
		var leaves [][]string
		for d := range 2 + int(next()%2) {
			dim := disclosure.Dimension{Name: fmt.Sprint("d", d)}
			var ls []string
			top := 2 + int(next()%2)
			split := next()
			for i := range top {
				code := fmt.Sprintf("c%d%d", d, i)
				dim.Categories = append(dim.Categories, disclosure.Category{Code: code})
				if split&(1<<i) != 0 {
					for k := range 2 {
						leaf := fmt.Sprintf("%s.%d", code, k)
						dim.Categories = append(dim.Categories, disclosure.Category{Code: leaf, Parent: code})
						ls = append(ls, leaf)
					}
				} else {
					ls = append(ls, code)
				}
			}
			dims = append(dims, dim)
			leaves = append(leaves, ls)
		}
		flags := next()
		rules := disclosure.Rules{
			ZerosSensitive: flags&1 != 0,
			RowMode:        flags&2 != 0,
			MinFrequency:   1 + int(next()%5),
		}
		response := flags>>2%4 == 2
		var recs []disclosure.Record
		for range 5 + int(next()%60) {
			b := next()
			rec := disclosure.Record{Value: float64(b%50 + 1)}
			if b&0x80 != 0 {
				rec.Contributor = fmt.Sprint("p", b%3)
			}
			for d := range dims {
				rec.Categories = append(rec.Categories, leaves[d][int(next())%len(leaves[d])])
			}
			if b&1 != 0 && response {
				rec.Measured = []string{"k"}
			}
			if response && flags&0x40 != 0 {
				// Which records the indicator applies to: the measured
				// ones, and some of the others (running care).
				rec.Applies = []string{"k"}
				if b&3 == 2 {
					rec.Applies = []string{}
				}
			}
			recs = append(recs, rec)
		}
		names := []string{"d0", "d1"}
		specs := []disclosure.Spec{{Name: "count", Dimensions: names, Profile: names[:1]}}
		switch flags >> 2 % 4 {
		case 1:
			specs = append(specs, disclosure.Spec{Name: "sum", Kind: disclosure.Sum, Dimensions: names})
			rules.Dominance = []disclosure.Dominance{{N: 1, K: 70}}
			rules.PPercent = 15
		case 2:
			specs = append(specs, disclosure.Spec{Name: "response", Kind: disclosure.Response, Dimensions: names[1:], Indicators: []string{"k"}})
		case 3:
			if len(dims) == 3 {
				specs = append(specs, disclosure.Spec{Name: "other", Dimensions: []string{"d2", "d1"}})
			}
		}
		tabs, err := disclosure.Tabulate(dims, recs, specs...)
		require.NoError(t, err)
		p, err := tabs.Protect(context.Background(), rules)
		require.NoError(t, err)
		assertAuditClean(t, p)
	})
}

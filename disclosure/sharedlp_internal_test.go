package disclosure

import (
	"context"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A program of sharedLP is made for one primary cell and then serves the
// checks (and reach) of every other primary cell of its box: each must
// get exactly the answer a program made for it alone gives (the same
// point, the same reach), whatever the checks before it priced and
// bounded, for readers that know cells and for none.
func TestSharedLPAcrossColumns(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 99))
	ctx := context.Background()
	compared, found, reused := 0, 0, 0
	for range 12 {
		tabs := randomCubeTables(t, r)
		for _, iv := range testIVGroups(t, tabs, Rules{Width: 5, Intervals: true}) {
			n := int32(iv.gp.n)
			// Some more cells withheld, so that programs have room.
			for range n / 3 {
				iv.withhold(r.Int32N(n))
			}
			var cols []int32 // the cells a check may be for: withheld, not empty
			for c := range n {
				if iv.withheld[c] && !iv.fixed[c] {
					cols = append(cols, c)
				}
			}
			if len(cols) < 2 {
				continue
			}
			readers := []int32{noReaders}
			for _, k := range iv.knownBy {
				if k >= 0 && !slices.Contains(readers, k) {
					readers = append(readers, k)
				}
			}
			fresh := func(f func()) {
				saved := iv.lps
				iv.lps = map[lpKey]*lp{}
				f()
				iv.lps = saved
			}
			for range 40 {
				box := iv.box(cols[r.IntN(len(cols))], r.IntN(boxLevels))
				if r.IntN(3) == 0 { // a random box
					box = nil
					for c := range n {
						if r.IntN(2) == 0 {
							box = append(box, c)
						}
					}
				}
				// The columns of the box that may move: the targets.
				var in []int32
				for _, c := range cols {
					if _, ok := slices.BinarySearch(box, c); ok {
						in = append(in, c)
					}
				}
				if len(in) < 2 {
					continue
				}
				before := len(iv.lps)
				for range 6 {
					col := in[r.IntN(len(in))]
					key := certKey{col, r.IntN(2) == 0, readers[r.IntN(len(readers))]}
					amount := big.NewRat(int64(1+r.IntN(6)), int64(1+r.IntN(2)))
					pt, ok := iv.solveCheck(ctx, key, amount, box)
					var want ivPoint
					var wantOK bool
					fresh(func() { want, wantOK = iv.solveCheck(ctx, key, amount, box) })
					assert.Equal(t, wantOK, ok, "check %v over %d cells", key, len(box))
					assert.Equal(t, want.support, pt.support, "check %v", key)
					assert.Equal(t, want.deltaF, pt.deltaF, "check %v", key)
					for i := range pt.delta {
						if i < len(want.delta) {
							assert.Zero(t, want.delta[i].Cmp(pt.delta[i]), "check %v", key)
						}
					}
					lv := levels{width: float64(1 + r.IntN(8))}
					got := iv.reach(ctx, key, box, lv)
					var wantR *big.Rat
					fresh(func() { wantR = iv.reach(ctx, key, box, lv) })
					if assert.Equal(t, wantR == nil, got == nil, "reach %v", key) && got != nil {
						assert.Zero(t, wantR.Cmp(got), "reach %v: %v, alone %v", key, got, wantR)
					}
					compared++
					if ok {
						found++
					}
				}
				if len(box) < int(n) && len(iv.lps) <= before+2 {
					reused++ // one program per kind for the box, whatever the columns
				}
			}
		}
	}
	t.Logf("%d checks compared, %d found a point, %d boxes with one program per kind", compared, found, reused)
	assert.Greater(t, compared, 500)
	assert.Greater(t, found, compared/10)
}

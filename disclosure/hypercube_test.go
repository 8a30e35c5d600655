package disclosure

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// randomHierarchy returns a dimension of 1 to 3 levels below the total,
// with 1 to 3 members per group, and its leaf codes.
func randomHierarchy(r *rand.Rand, name string) (Dimension, []string) {
	d := Dimension{Name: name}
	var leaves []string
	var grow func(parent string, depth int)
	grow = func(parent string, depth int) {
		for i := range 1 + r.IntN(3) {
			code := fmt.Sprintf("%s%s.%d", name, parent, i)
			d.Categories = append(d.Categories, Category{Code: code, Parent: parent})
			if depth > 1 && r.IntN(3) > 0 {
				grow(code, depth-1)
			} else {
				leaves = append(leaves, code)
			}
		}
	}
	grow("", 1+r.IntN(3))
	return d, leaves
}

// testIVGroups builds the interval protection's groups of tabs the way
// Protect does, after the exact protection.
func testIVGroups(t *testing.T, tabs *Tables, r Rules) []*ivGroup {
	t.Helper()
	cs := tabs.contributors()
	fams := tabs.families()
	for _, f := range fams {
		require.NoError(t, f.build(tabs, cs, r.topK()))
	}
	masks := tabs.primaries(r, fams)
	nonneg := make([]bool, 1+len(cs.names)+max(len(tabs.records), len(tabs.aggs)))
	nonneg[zeroReader] = true
	var out []*ivGroup
	for _, g := range groups(fams) {
		gp := newGroupProblem(tabs, r, g, fams, masks, nonneg)
		require.NoError(t, gp.solve(context.Background(), stageSecondary))
		out = append(out, newIVGroup(gp))
	}
	return out
}

// randomCubeTables returns random hierarchical count tables of 1 to 3
// dimensions.
func randomCubeTables(t *testing.T, r *rand.Rand) *Tables {
	t.Helper()
	nd := 1 + r.IntN(3)
	var dims []Dimension
	var leaves [][]string
	var names []string
	for j := range nd {
		d, l := randomHierarchy(r, string(rune('a'+j)))
		dims = append(dims, d)
		leaves = append(leaves, l)
		names = append(names, d.Name)
	}
	var recs []Record
	for range 10 + r.IntN(60) {
		cats := make([]string, nd)
		for j := range cats {
			cats[j] = leaves[j][r.IntN(len(leaves[j]))]
		}
		recs = append(recs, Record{Categories: cats, Value: 1, Contributor: fmt.Sprint("z", r.IntN(6))})
	}
	tabs, err := Tabulate(dims, recs, Spec{Name: "t", Dimensions: names})
	require.NoError(t, err)
	return tabs
}

// The cube construction against a brute check: for every choice of a
// leaf and a sibling's leaf per dimension, moving the 2^d corners by ±1
// moves, summed over the base cells under each cell, exactly the cells
// cubeCells lists, with their signs, and every relation of the group
// still holds.
func TestCubeCells(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 2))
	for n := range 20 {
		tabs := randomCubeTables(t, r)
		for _, iv := range testIVGroups(t, tabs, Rules{Width: 5, Intervals: true}) {
			gp := iv.gp
			for range 8 {
				col := int32(r.IntN(gp.n))
				if !iv.cubeable(col) {
					continue
				}
				k, c := gp.locate(col)
				f := gp.pfs[k]
				all := iv.cubeSides(col, r.IntN(2) == 0)
				pick := make([]*cubeSide, len(all))
				for j := range all {
					require.NotEmpty(t, all[j])
					pick[j] = &all[j][r.IntN(len(all[j]))]
				}
				// The corners: per dimension the deepest node of each side.
				coords := f.coords(c, nil)
				type corner struct {
					nodes []int32
					sign  int
				}
				corners := []corner{{nil, 1}}
				for j, sd := range pick {
					stride := int32(f.stride[j])
					plusLeaf := coords[j] + sd.offs[sd.nplus-1]/stride
					opts := []int32{plusLeaf}
					if sd.nplus < len(sd.offs) {
						opts = append(opts, coords[j]+sd.offs[len(sd.offs)-1]/stride)
					}
					dm := tabs.dims[f.dims[j]]
					for _, o := range opts {
						require.True(t, dm.isLeaf(o), "table %d: a side ends in a leaf", n)
					}
					// The top of the side: x or an ancestor, first.
					top := coords[j] + sd.offs[0]/stride
					require.True(t, isUnder(dm, coords[j], top), "table %d: the side starts above x", n)
					if len(opts) == 2 {
						sib := ancestorAt(dm, opts[1], depth(dm, top))
						require.NotEqual(t, top, sib, "table %d: a sibling", n)
						require.Equal(t, dm.parent[top], dm.parent[sib], "table %d: a sibling", n)
					} else {
						require.Equal(t, int32(-1), dm.parent[top], "table %d: no sibling only at the total", n)
					}
					var next []corner
					for _, cr := range corners {
						for i, o := range opts {
							s := cr.sign
							if i == 1 {
								s = -s
							}
							next = append(next, corner{append(slices.Clone(cr.nodes), o), s})
						}
					}
					corners = next
				}
				// Brute: the move of every cell of the family is the sum of
				// the corners under it.
				want := map[int32]int8{}
				var cc []int32
				for cell := range f.n {
					cc = f.coords(cell, cc)
					sum := 0
					for _, cr := range corners {
						under := true
						for j := range cc {
							if !isUnder(tabs.dims[f.dims[j]], cr.nodes[j], cc[j]) {
								under = false
								break
							}
						}
						if under {
							sum += cr.sign
						}
					}
					require.LessOrEqual(t, abs(sum), 1)
					if sum != 0 {
						want[int32(gp.offset[k]+cell)] = int8(sum)
					}
				}
				got := map[int32]int8{}
				for c, s := range cubeCells(col, pick) {
					_, dup := got[c]
					require.False(t, dup, "table %d: a cell twice", n)
					got[c] = s
				}
				assert.Equal(t, want, got, "table %d", n)
				assert.Equal(t, int8(1), got[col], "table %d: the primary cell moves with +", n)
				// Every relation of the group holds.
				delta := map[int32]*big.Rat{}
				for c, s := range got {
					delta[c] = big.NewRat(int64(s), 1)
				}
				_, ok := iv.exactPoint(delta)
				assert.True(t, ok, "table %d: relations hold", n)
				for ri, rel := range iv.rels {
					sum := 0
					for _, tm := range rel {
						sum += int(tm.coef) * int(got[tm.col])
					}
					assert.Zero(t, sum, "table %d: relation %d", n, ri)
				}
			}
		}
	}
}

// cubeCert's points are certificates: checked here on their own, every
// relation holds, every moved cell is withheld (after its cells are) and
// not empty, and the primary cell moves by the amount asked, with every
// cell non-negative.
func TestCubeCert(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 3))
	found := 0
	for range 8 {
		tabs := randomCubeTables(t, r)
		for _, iv := range testIVGroups(t, tabs, Rules{Width: 5, Intervals: true}) {
			for range 24 {
				col := int32(r.IntN(iv.gp.n))
				if !iv.withheld[col] {
					continue
				}
				for _, down := range []bool{true, false} {
					amount := big.NewRat(int64(1+r.IntN(6)), 1)
					if down {
						amount = minRat(amount, iv.exactValue(col))
						if amount.Sign() == 0 {
							continue
						}
					}
					key := certKey{col, down, noReaders}
					add, _, ok := iv.cubeCert(key, amount, 1e9, r.IntN(2) == 0)
					if !ok {
						continue
					}
					found++
					for _, c := range add {
						iv.withhold(c)
					}
					pt := iv.pool[len(iv.pool)-1]
					support, ok := iv.fromPool(key, amount)
					require.True(t, ok)
					assert.Equal(t, pt.support, support)
					d := map[int32]*big.Rat{}
					for m, c := range pt.support {
						d[c] = pt.delta[m]
						assert.True(t, iv.withheld[c])
						assert.False(t, iv.fixed[c])
						assert.GreaterOrEqual(t, new(big.Rat).Add(iv.exactValue(c), pt.delta[m]).Sign(), 0)
					}
					for _, rel := range iv.rels {
						sum := new(big.Rat)
						for _, tm := range rel {
							if x := d[tm.col]; x != nil {
								sum.Add(sum, new(big.Rat).Mul(x, big.NewRat(int64(tm.coef), 1)))
							}
						}
						assert.Zero(t, sum.Sign())
					}
					move := d[col]
					require.NotNil(t, move)
					if down {
						move = new(big.Rat).Neg(move)
					}
					assert.Zero(t, move.Cmp(amount))
				}
			}
		}
	}
	assert.Greater(t, found, 10)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// isUnder reports whether node n is x or under it.
func isUnder(d *dim, n, x int32) bool {
	for ; n >= 0; n = d.parent[n] {
		if n == x {
			return true
		}
	}
	return false
}

// depth returns how many levels node n is below the total.
func depth(d *dim, n int32) int {
	k := 0
	for ; d.parent[n] >= 0; n = d.parent[n] {
		k++
	}
	return k
}

// ancestorAt returns the ancestor of n (or n) at depth k.
func ancestorAt(d *dim, n int32, k int) int32 {
	for depth(d, n) > k {
		n = d.parent[n]
	}
	return n
}

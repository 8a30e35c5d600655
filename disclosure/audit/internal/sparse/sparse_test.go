package sparse

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// interesting returns integers around the int64 boundaries, where the fast
// path must hand over to math/big, and beyond them.
func interesting(r *rand.Rand) *big.Int {
	edges := []int64{0, 1, -1, 2, -2, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1,
		1 << 31, -(1 << 31), 1 << 32, 3037000499, 3037000500, -3037000500}
	switch r.IntN(4) {
	case 0:
		return big.NewInt(edges[r.IntN(len(edges))])
	case 1:
		return big.NewInt(r.Int64N(2001) - 1000)
	case 2:
		return big.NewInt(int64(r.Uint64()))
	default:
		x := new(big.Int).Lsh(big.NewInt(r.Int64()), uint(r.IntN(80)))
		if r.IntN(2) == 0 {
			x.Neg(x)
		}
		return x
	}
}

func TestIntAgainstBig(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		a, b := interesting(r), interesting(r)
		x, y := NewBig(a), NewBig(b)
		check := func(op string, got Int, want *big.Int) {
			t.Helper()
			require.Equalf(t, 0, got.Big().Cmp(want), "%s(%v, %v) = %v, want %v", op, a, b, got, want)
			if want.IsInt64() && want.Int64() != math.MinInt64 {
				require.Nilf(t, got.b, "%s(%v, %v) = %v is not in the int64 fast path", op, a, b, got)
			}
		}
		check("Add", Add(x, y), new(big.Int).Add(a, b))
		check("Sub", Sub(x, y), new(big.Int).Sub(a, b))
		check("Mul", Mul(x, y), new(big.Int).Mul(a, b))
		check("Neg", x.Neg(), new(big.Int).Neg(a))
		check("Abs", x.Abs(), new(big.Int).Abs(a))
		check("GCD", GCD(x, y), new(big.Int).GCD(nil, nil, new(big.Int).Abs(a), new(big.Int).Abs(b)))
		if b.Sign() != 0 {
			check("Quo", Quo(x, y), new(big.Int).Quo(a, b))
		}
		require.Equal(t, a.Cmp(b), x.Cmp(y), "Cmp")
		require.Equal(t, a.CmpAbs(b), x.CmpAbs(y), "CmpAbs")
		require.Equal(t, a.Sign(), x.Sign(), "Sign")
		require.Equal(t, a.String(), x.String(), "String")
	}
}

func TestIntImmutable(t *testing.T) {
	x := NewBig(new(big.Int).Lsh(big.NewInt(1), 70))
	before := x.String()
	_ = Add(x, x)
	_ = Mul(x, x)
	_ = x.Neg()
	_ = GCD(x, NewInt(6))
	b := x.Big()
	b.SetInt64(0)
	assert.Equal(t, before, x.String(), "an operation changed its operand")
}

// dense turns v into a dense big.Int slice of length n.
func dense(v Vec, n int) []*big.Int {
	out := make([]*big.Int, n)
	for i := range out {
		out[i] = new(big.Int)
	}
	for k, i := range v.Idx {
		out[i] = v.Val[k].Big()
	}
	return out
}

func randomVec(r *rand.Rand, n int) Vec {
	var v Vec
	for i := range n {
		if r.IntN(3) == 0 {
			continue
		}
		x := NewBig(interesting(r))
		if r.IntN(2) == 0 {
			x = NewInt(r.Int64N(7) - 3)
		}
		if !x.IsZero() {
			v.Idx = append(v.Idx, int32(i))
			v.Val = append(v.Val, x)
		}
	}
	return v
}

func TestEliminate(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const n = 12
	for range 2000 {
		x, y := randomVec(r, n), randomVec(r, n)
		if y.Len() == 0 {
			continue
		}
		col := y.Idx[r.IntN(y.Len())]
		xc, yc := x.Clone(), y.Clone()
		got := Eliminate(x, y, col)
		assert.Equal(t, xc, x, "Eliminate changed x")
		assert.Equal(t, yc, y, "Eliminate changed y")
		assert.False(t, got.Has(col), "the pivot column is still there")
		for k := 1; k < got.Len(); k++ {
			require.Less(t, got.Idx[k-1], got.Idx[k], "indices not increasing")
		}
		for _, v := range got.Val {
			require.False(t, v.IsZero(), "a zero entry is stored")
		}
		// EliminateInPlace gives the same row and reports the fill-in.
		inPlace := x.Clone()
		var w Workspace
		limit := int32(r.IntN(n + 1))
		added := w.EliminateInPlace(&inPlace, y, col, limit)
		require.Equal(t, got.Idx, inPlace.Idx)
		require.Equal(t, len(got.Val), len(inPlace.Val))
		for k := range got.Val {
			require.Equal(t, 0, got.Val[k].Cmp(inPlace.Val[k]))
		}
		var fill []int32
		for _, j := range got.Idx {
			if j < limit && !x.Has(j) {
				fill = append(fill, j)
			}
		}
		assert.Equal(t, fill, added, "fill-in below %d", limit)
		if !x.Has(col) {
			assert.Equal(t, x, got)
			continue
		}
		if got.Len() > 0 {
			assert.True(t, got.Content().IsOne(), "the result is not reduced")
		}
		// got must be a positive multiple of y[col]·x − x[col]·y (or of
		// its negation when y[col] < 0), the combination that removes col.
		gx, gy := x.Get(col), y.Get(col)
		want := dense(Combine(gy, x, gx, y), n)
		if gy.Sign() < 0 {
			for _, w := range want {
				w.Neg(w)
			}
		}
		gd := dense(got, n)
		var ratio *big.Rat
		for i := range n {
			if want[i].Sign() == 0 {
				require.Zero(t, gd[i].Sign(), "entry %d", i)
				continue
			}
			q := new(big.Rat).SetFrac(gd[i], want[i])
			if ratio == nil {
				ratio = q
			}
			require.Equal(t, 0, ratio.Cmp(q), "not a multiple of the combination")
		}
		if ratio != nil {
			assert.Positive(t, ratio.Sign(), "the multiple is not positive")
		}
	}
}

func TestVecFind(t *testing.T) {
	v := Vec{Idx: []int32{1, 4, 9}, Val: []Int{NewInt(2), NewInt(-3), NewInt(5)}}
	assert.Equal(t, NewInt(-3), v.Get(4))
	assert.True(t, v.Get(5).IsZero())
	assert.True(t, v.Has(9))
	assert.False(t, v.Has(0))
	assert.Equal(t, 2, v.CountBelow(9))
	assert.Equal(t, 3, v.CountBelow(10))
	assert.Equal(t, NewInt(1), v.Content())
	assert.Equal(t, Vec{Idx: []int32{1, 4}, Val: []Int{NewInt(3), NewInt(-2)}},
		Vec{Idx: []int32{1, 4}, Val: []Int{NewInt(6), NewInt(-4)}}.Reduce())
}

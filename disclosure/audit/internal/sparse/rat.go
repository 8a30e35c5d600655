package sparse

import (
	"math"
	"math/big"
	"strconv"
)

// Decimal returns f as an exact rational: the shortest decimal that rounds
// to f, so that 0.1 is one tenth rather than the binary fraction nearest to
// it. f must be finite.
func Decimal(f float64) *big.Rat {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return new(big.Rat).SetInt64(int64(f))
	}
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
	if !ok {
		panic("sparse: Decimal of a value that is not finite")
	}
	return r
}

// Frac returns the numerator and the (positive) denominator of r.
func Frac(r *big.Rat) (num, den Int) {
	return NewBig(r.Num()), NewBig(r.Denom())
}

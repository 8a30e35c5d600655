// Package sparse provides the exact arithmetic of the audit: an integer that
// is an int64 while it fits and a big.Int beyond, and sparse integer vectors
// with the row operation of fraction-free elimination.
//
// Table relations have coefficients 0 and ±1, and eliminating them produces
// small integers, so nearly all arithmetic stays in int64; the rare entry
// that would overflow widens to math/big instead of wrapping round. Results
// are therefore exact, whatever the input.
package sparse

import (
	"math"
	"math/big"
	"math/bits"
)

// Int is an exact integer. The zero Int is 0. An Int is immutable: the
// operations return new values and never modify their operands, so Ints may
// be copied and shared freely.
type Int struct {
	v int64    // the value, when b is nil
	b *big.Int // the value, when it lies outside [-MaxInt64, MaxInt64]; never modified
}

// NewInt returns v as an Int.
func NewInt(v int64) Int {
	if v == math.MinInt64 {
		return Int{b: big.NewInt(v)}
	}
	return Int{v: v}
}

// NewBig returns x as an Int. x is copied.
func NewBig(x *big.Int) Int {
	if x.IsInt64() && x.Int64() != math.MinInt64 {
		return Int{v: x.Int64()}
	}
	return Int{b: new(big.Int).Set(x)}
}

// own is NewBig for a *big.Int that nobody else holds.
func own(x *big.Int) Int {
	if x.IsInt64() && x.Int64() != math.MinInt64 {
		return Int{v: x.Int64()}
	}
	return Int{b: x}
}

// Big returns x as a new big.Int.
func (x Int) Big() *big.Int {
	if x.b != nil {
		return new(big.Int).Set(x.b)
	}
	return big.NewInt(x.v)
}

// big returns x as a big.Int that the caller must not modify.
func (x Int) big() *big.Int {
	if x.b != nil {
		return x.b
	}
	return big.NewInt(x.v)
}

// Int64 returns x and true if x fits in an int64.
func (x Int) Int64() (int64, bool) {
	if x.b != nil {
		return 0, false
	}
	return x.v, true
}

// Sign returns -1, 0 or +1 as x is negative, zero or positive.
func (x Int) Sign() int {
	if x.b != nil {
		return x.b.Sign()
	}
	switch {
	case x.v < 0:
		return -1
	case x.v > 0:
		return 1
	}
	return 0
}

// IsZero reports whether x is 0.
func (x Int) IsZero() bool { return x.b == nil && x.v == 0 }

// IsOne reports whether x is 1.
func (x Int) IsOne() bool { return x.b == nil && x.v == 1 }

// Cmp returns -1, 0 or +1 as x is less than, equal to or greater than y.
func (x Int) Cmp(y Int) int {
	if x.b == nil && y.b == nil {
		switch {
		case x.v < y.v:
			return -1
		case x.v > y.v:
			return 1
		}
		return 0
	}
	return x.big().Cmp(y.big())
}

// CmpAbs compares |x| and |y|.
func (x Int) CmpAbs(y Int) int {
	if x.b == nil && y.b == nil {
		return NewInt(absInt(x.v)).Cmp(NewInt(absInt(y.v)))
	}
	return x.big().CmpAbs(y.big())
}

// Neg returns -x.
func (x Int) Neg() Int {
	if x.b == nil {
		return Int{v: -x.v}
	}
	return own(new(big.Int).Neg(x.b))
}

// Abs returns |x|.
func (x Int) Abs() Int {
	if x.Sign() < 0 {
		return x.Neg()
	}
	return x
}

// Add returns x + y.
func Add(x, y Int) Int {
	if x.b == nil && y.b == nil {
		r := x.v + y.v
		if (x.v^r)&(y.v^r) >= 0 && r != math.MinInt64 {
			return Int{v: r}
		}
	}
	return own(new(big.Int).Add(x.big(), y.big()))
}

// Sub returns x - y.
func Sub(x, y Int) Int {
	if x.b == nil && y.b == nil {
		r := x.v - y.v
		if (x.v^y.v)&(x.v^r) >= 0 && r != math.MinInt64 {
			return Int{v: r}
		}
	}
	return own(new(big.Int).Sub(x.big(), y.big()))
}

// Mul returns x·y.
func Mul(x, y Int) Int {
	if x.b == nil && y.b == nil {
		hi, lo := bits.Mul64(uint64(absInt(x.v)), uint64(absInt(y.v)))
		if hi == 0 && lo <= math.MaxInt64 {
			r := int64(lo)
			if (x.v < 0) != (y.v < 0) {
				r = -r
			}
			return Int{v: r}
		}
	}
	return own(new(big.Int).Mul(x.big(), y.big()))
}

// Quo returns x/y rounded towards zero; it panics if y is 0. The audit uses
// it only where the division is exact.
func Quo(x, y Int) Int {
	if x.b == nil && y.b == nil {
		return Int{v: x.v / y.v} // |x.v| <= MaxInt64, so no overflow
	}
	return own(new(big.Int).Quo(x.big(), y.big()))
}

// GCD returns the greatest common divisor of |x| and |y|; GCD(0, 0) is 0.
func GCD(x, y Int) Int {
	if x.b == nil && y.b == nil {
		return Int{v: int64(gcd64(uint64(absInt(x.v)), uint64(absInt(y.v))))}
	}
	return own(new(big.Int).GCD(nil, nil, new(big.Int).Abs(x.big()), new(big.Int).Abs(y.big())))
}

// Rat returns x/y as a new big.Rat; it panics if y is 0.
func Rat(x, y Int) *big.Rat {
	return new(big.Rat).SetFrac(x.big(), y.big())
}

// String returns x in decimal.
func (x Int) String() string { return x.big().String() }

// gcd64 is Stein's binary GCD.
func gcd64(a, b uint64) uint64 {
	if a == 0 {
		return b
	}
	if b == 0 {
		return a
	}
	shift := bits.TrailingZeros64(a | b)
	a >>= bits.TrailingZeros64(a)
	for b != 0 {
		b >>= bits.TrailingZeros64(b)
		if a > b {
			a, b = b, a
		}
		b -= a
	}
	return a << shift
}

// absInt returns |v| for v > MinInt64.
func absInt(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

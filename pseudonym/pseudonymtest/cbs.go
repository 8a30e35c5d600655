package pseudonymtest

import (
	"io"
	"math/bits"
	"math/rand/v2"
)

// CBSHeader is the header row of the files [CBSRows] generates.
const CBSHeader = "BSN;Geboortedatum;Geslacht;Postcode;Gemeentecode;AGB-code;Productcode;Begindatum;Einddatum;Reden beëindiging\n"

// CBSRows returns a reader of a file like the youth-care data set providers
// send to CBS: a header and n rows delimited by ';', made up as they are
// read, so that a file of any size takes no memory. The same seed gives the
// same file.
//
// Of the BSNs, about 1% is the placeholder 999999999 ("unknown"), 0.1%
// 000000000 ("unborn"), 0.1% fails the eleven-proof, and a number with a
// leading zero is written without it half of the time, as in files from
// before 2007. The valid BSNs are drawn from all valid numbers; some belong
// to real people, so do not show these files to anyone.
func CBSRows(seed uint64, n int) io.Reader {
	return &cbsReader{rng: rand.NewPCG(seed, seed^0x5eed), left: n, buf: []byte(CBSHeader)}
}

type cbsReader struct {
	rng  *rand.PCG
	left int
	buf  []byte // generated, not yet read
	off  int
}

func (r *cbsReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if r.off == len(r.buf) {
			if r.left == 0 {
				break
			}
			r.buf = r.row(r.buf[:0])
			r.off = 0
			r.left--
		}
		c := copy(p[n:], r.buf[r.off:])
		r.off += c
		n += c
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// intn returns a number in [0, n), by multiplication rather than a slow
// division (Lemire's method, without its rejection step: the bias is far
// below what a fixture cares about).
func (r *cbsReader) intn(n uint64) uint64 {
	hi, _ := bits.Mul64(r.rng.Uint64(), n)
	return hi
}

// row appends one row. It is written for speed, as benchmarks read millions
// of rows: few random draws, each split into several fields, and digits
// written without strconv.
func (r *cbsReader) row(b []byte) []byte {
	b = r.bsn(b)
	// Birth date in 2000–2024; sex; postcode number, letters and space.
	x := r.intn(25 * 12 * 28 * 2 * 9000 * 26 * 26 * 2)
	b = append(b, ';')
	b = appendDate(b, 2000+x%25, 1+x/25%12, 1+x/300%28)
	x /= 25 * 12 * 28
	b = append(b, ';', byte('1'+x%2), ';')
	x /= 2
	b = appendDigits(b, 1000+x%9000, 4)
	x /= 9000
	first, second := byte('A'+x%26), byte('A'+x/26%26)
	if first == 'S' && (second == 'A' || second == 'D' || second == 'S') {
		second = 'B' // not issued
	}
	if x/676 == 0 {
		b = append(b, ' ')
	}
	b = append(b, first, second, ';')
	// Municipality code, AGB code, product code.
	x = r.intn(1999 * 100_000_000 * 10 * 3 * 100)
	b = appendDigits(b, 1+x%1999, 4)
	x /= 1999
	b = append(b, ';')
	b = appendDigits(b, x%100_000_000, 8)
	x /= 100_000_000
	b = append(b, ';', '4', byte('0'+x%10), byte('A'+x/10%3))
	b = appendDigits(b, x/30%100, 2)
	// Start date in 2024; end date in 2025 and reason for two rows in three.
	x = r.intn(12 * 28 * 3 * 12 * 28 * 9)
	b = append(b, ';')
	b = appendDate(b, 2024, 1+x%12, 1+x/12%28)
	x /= 12 * 28
	b = append(b, ';')
	if x%3 > 0 {
		x /= 3
		b = appendDate(b, 2025, 1+x%12, 1+x/12%28)
		b = append(b, ';', byte('1'+x/336%9))
	} else {
		b = append(b, ';')
	}
	return append(b, '\n')
}

// bsn appends a BSN field.
func (r *cbsReader) bsn(b []byte) []byte {
	for {
		x := r.intn(1000 * 100_000_000 * 2)
		switch kind := x % 1000; {
		case kind < 10:
			return append(b, "999999999"...)
		case kind < 11:
			return append(b, "000000000"...)
		case kind < 12:
			return append(b, "123456781"...) // eleven-proof fails
		}
		x /= 1000
		var d [9]byte
		prefix := x % 100_000_000
		sum := uint64(0)
		for i := 7; i >= 0; i-- {
			digit := prefix % 10
			prefix /= 10
			d[i] = byte('0' + digit)
			sum += uint64(9-i) * digit
		}
		check := sum % 11
		if check == 10 || sum < 11 {
			continue
		}
		d[8] = byte('0' + check)
		if d[0] == '0' && x/100_000_000 == 0 {
			return append(b, d[1:]...)
		}
		return append(b, d[:]...)
	}
}

// appendDate appends a date as 2006-01-02.
func appendDate(b []byte, year, month, day uint64) []byte {
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, month, 2)
	b = append(b, '-')
	return appendDigits(b, day, 2)
}

// appendDigits appends the last width digits of v, with leading zeros.
func appendDigits(b []byte, v uint64, width int) []byte {
	var d [20]byte
	for i := width - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:width]...)
}

package pseudonymtest

import (
	"io"
	"math/bits"
	"math/rand/v2"
	"strconv"
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

// row appends one row.
func (r *cbsReader) row(b []byte) []byte {
	b = r.bsn(b)
	b = append(b, ';')
	b = r.date(b, 2000, 25)
	b = append(b, ';', byte('1'+r.intn(2)), ';')
	b = strconv.AppendUint(b, 1000+r.intn(9000), 10)
	if r.intn(2) == 0 {
		b = append(b, ' ')
	}
	first := byte('A' + r.intn(26))
	second := byte('A' + r.intn(26))
	if first == 'S' && (second == 'A' || second == 'D' || second == 'S') {
		second = 'B' // not issued
	}
	b = append(b, first, second, ';')
	b = appendPadded(b, 1+r.intn(1999), 4) // municipality code
	b = append(b, ';')
	b = appendPadded(b, r.intn(100_000_000), 8) // AGB code
	b = append(b, ';', '4', byte('0'+r.intn(10)), byte('A'+r.intn(3)))
	b = appendPadded(b, r.intn(100), 2)
	b = append(b, ';')
	b = r.date(b, 2024, 1)
	b = append(b, ';')
	if r.intn(3) > 0 {
		b = r.date(b, 2025, 1)
		b = append(b, ';', byte('1'+r.intn(9)))
	} else {
		b = append(b, ';')
	}
	return append(b, '\n')
}

// bsn appends a BSN field.
func (r *cbsReader) bsn(b []byte) []byte {
	switch x := r.intn(1000); {
	case x < 10:
		return append(b, "999999999"...)
	case x < 11:
		return append(b, "000000000"...)
	case x < 12:
		return append(b, "123456781"...) // eleven-proof fails
	}
	for {
		prefix := r.intn(100_000_000)
		var d [9]byte
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
		if d[0] == '0' && r.intn(2) == 0 {
			return append(b, d[1:]...)
		}
		return append(b, d[:]...)
	}
}

// date appends a date in one of years from first, as 2006-01-02.
func (r *cbsReader) date(b []byte, first, years uint64) []byte {
	b = strconv.AppendUint(b, first+r.intn(years), 10)
	b = append(b, '-')
	b = appendPadded(b, 1+r.intn(12), 2)
	b = append(b, '-')
	return appendPadded(b, 1+r.intn(28), 2)
}

// appendPadded appends v with leading zeros to width digits.
func appendPadded(b []byte, v uint64, width int) []byte {
	var d [20]byte
	i := len(d)
	for ; width > 0 || v > 0; width-- {
		i--
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[i:]...)
}

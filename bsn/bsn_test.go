package bsn_test

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/bsn"
	"github.com/zorgkit/zorgkit/bsn/bsntest"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		in, want, reason string
	}{
		{"123456782", "123456782", "nine ASCII digits"},
		{"1234.56.782", "123456782", "printed form with dots"},
		{"1234 56 782", "123456782", "spaces"},
		{" 123456782\n", "123456782", "surrounding white space"},
		{"1234\u00a056\u00a0782", "123456782", "non-breaking spaces"},
		{"1234\u202f56\u2009782", "123456782", "narrow no-break and thin spaces"},
		{"1234\u300056 782", "123456782", "ideographic space"},
		{"1234-56-782", "123456782", "hyphens"},
		{"1234\u201356\u2014782", "123456782", "en and em dash"},
		{"1234\u201056\u2212782", "123456782", "Unicode hyphen and minus sign"},
		{"１２３４５６７８２", "123456782", "fullwidth digits"},
		{"１２３４．５６．７８２", "123456782", "fullwidth digits and full stops"},
		{"12345678２", "123456782", "mixed ASCII and fullwidth"},
		{"40645678", "040645678", "eight digits, issued before 2007: one leading zero"},
		{"4064.56.78", "040645678", "eight digits with separators"},
		{"040645678", "040645678", "the same number with its leading zero"},
		{"000009921", "000009921", "leading zeros kept"},
		{"999993847", "999993847", "BRP test person"},
		{"1.2.3.4.5.6.7.8.2", "123456782", "separator between every digit"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			n, err := bsn.Parse(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, n.Digits())
			assert.True(t, bsn.Valid(tt.in), "Valid disagrees with Parse")
		})
	}
}

func TestParseInvalid(t *testing.T) {
	for _, tt := range bsntest.InvalidInputs() {
		t.Run(tt.Reason, func(t *testing.T) {
			n, err := bsn.Parse(tt.Input)
			require.Error(t, err)
			assert.True(t, n.IsZero(), "a failed Parse returns the zero Number")
			assert.ErrorIs(t, err, tt.Err)
			var perr *bsn.Error
			require.ErrorAs(t, err, &perr)
			assert.Equal(t, tt.Pos, perr.Pos, "position")
			assert.False(t, bsn.Valid(tt.Input), "Valid disagrees with Parse")
			assertNoInput(t, err.Error(), tt.Input)
		})
	}
}

// assertNoInput fails if msg contains the input or any run of 3 digits of it.
func assertNoInput(t *testing.T, msg, input string) {
	t.Helper()
	var digits []byte
	for _, r := range input {
		if '0' <= r && r <= '9' {
			digits = append(digits, byte(r))
		}
	}
	for i := 0; i+3 <= len(digits); i++ {
		assert.NotContains(t, msg, string(digits[i:i+3]), "error message contains digits of the input")
	}
}

func TestPlaceholders(t *testing.T) {
	tests := []struct {
		in     string
		want   error
		reason string
	}{
		{"999999999", bsn.ErrUnknown, "CBS: BSN unknown"},
		{"000000000", bsn.ErrUnborn, "CBS: unborn child"},
		{"0000.00.000", bsn.ErrUnborn, "unborn with separators"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			_, err := bsn.Parse(tt.in)
			assert.ErrorIs(t, err, tt.want)
			assert.ErrorIs(t, err, bsn.ErrPlaceholder)
			assert.NotErrorIs(t, err, bsn.ErrChecksum, "a placeholder is told apart from a typing error")
		})
	}
	_, err := bsn.Parse("123456781")
	assert.NotErrorIs(t, err, bsn.ErrPlaceholder, "a checksum error is not a placeholder")
	assert.NotErrorIs(t, bsn.ErrUnknown, bsn.ErrUnborn)
}

// TestZeroSum enumerates every nine-digit string whose weighted sum is zero:
// there are exactly 30, and none is a BSN.
func TestZeroSum(t *testing.T) {
	var found []string
	var walk func(prefix []byte, sum int)
	walk = func(prefix []byte, sum int) {
		if len(prefix) == 8 {
			if sum <= 9 { // d9 = sum makes the weighted sum zero
				found = append(found, string(append(prefix, byte('0'+sum))))
			}
			return
		}
		w := 9 - len(prefix)
		for d := 0; sum+w*d <= 9; d++ {
			walk(append(prefix, byte('0'+d)), sum+w*d)
		}
	}
	walk(make([]byte, 0, 9), 0)
	require.Len(t, found, 30)
	assert.Contains(t, found, "000000000")
	assert.Contains(t, found, "100000009")
	for _, s := range found {
		assert.False(t, bsn.Valid(s), s)
		_, err := bsn.Parse(s)
		if s == "000000000" {
			assert.ErrorIs(t, err, bsn.ErrUnborn)
		} else {
			assert.ErrorIs(t, err, bsn.ErrChecksum, s)
		}
	}
}

// TestSubstitution checks the guarantee of the eleven-proof: changing any one
// digit of a valid number gives an invalid one.
func TestSubstitution(t *testing.T) {
	sample := append(bsntest.TestPersons(), bsntest.Numbers(1, 2000)...)
	for _, n := range sample {
		s := []byte(n.Digits())
		for i := range s {
			orig := s[i]
			for d := byte('0'); d <= '9'; d++ {
				if d == orig {
					continue
				}
				s[i] = d
				if bsn.Valid(string(s)) {
					t.Errorf("%s with digit %d changed to %c is valid", n.Masked(), i+1, d)
				}
			}
			s[i] = orig
		}
	}
}

func TestEightDigits(t *testing.T) {
	// Every valid number with a leading zero is also accepted without it,
	// and parses to the same Number.
	for _, n := range bsntest.Numbers(2, 5000) {
		s := n.Digits()
		if s[0] != '0' {
			continue
		}
		short, err := bsn.Parse(s[1:])
		require.NoError(t, err)
		assert.Equal(t, n, short)
		if s[1] == '0' {
			_, err := bsn.Parse(s[2:])
			assert.ErrorIs(t, err, bsn.ErrLength, "only one leading zero is added")
		}
	}
}

func TestFormats(t *testing.T) {
	n, err := bsn.Parse("040645678")
	require.NoError(t, err)
	assert.Equal(t, "040645678", n.Digits())
	assert.Equal(t, "******678", n.Masked())
	assert.Equal(t, "******678", n.String(), "String masks")
	assert.False(t, n.IsZero())

	buf := make([]byte, 0, 16)
	assert.Equal(t, "040645678", string(n.AppendDigits(buf)))
	assert.Zero(t, testing.AllocsPerRun(100, func() { buf = n.AppendDigits(buf[:0]) }), "AppendDigits")

	again, err := bsn.Parse(n.Digits())
	require.NoError(t, err)
	assert.Equal(t, n, again, "the digits parse back")

	var zero bsn.Number
	assert.True(t, zero.IsZero())
	assert.Empty(t, zero.String())
	assert.Empty(t, zero.Digits())
	assert.Empty(t, zero.Masked())
	assert.Empty(t, zero.AppendDigits(nil))
	assert.Empty(t, fmt.Sprint(zero))
}

// TestComparable: equal numbers are equal Numbers, whatever the input form,
// and work as map keys.
func TestComparable(t *testing.T) {
	a, err := bsn.Parse("1234.56.782")
	require.NoError(t, err)
	b, err := bsn.Parse("１２３４５６７８２")
	require.NoError(t, err)
	c, err := bsn.Parse("040645678")
	require.NoError(t, err)
	assert.True(t, a == b)
	assert.False(t, a == c)
	assert.False(t, a == bsn.Number{})
	m := map[bsn.Number]int{a: 1, c: 2}
	assert.Equal(t, 1, m[b])
	for _, n := range bsntest.Numbers(3, 2000) {
		assert.False(t, n.IsZero(), "no valid number is the zero Number")
		back, err := bsn.Parse(n.Digits())
		require.NoError(t, err)
		assert.Equal(t, n, back)
	}
}

// digitForms are the ways the digits of n could show up in output: plain,
// printed with dots, and as the decimal byte values that reflection prints
// for a [9]byte.
func digitForms(n bsn.Number) []string {
	d := n.Digits()
	var codes []string
	for i := range 9 {
		codes = append(codes, strconv.Itoa(int(d[i])))
	}
	forms := []string{d, d[:4] + "." + d[4:6] + "." + d[6:], d[:6], strings.Join(codes[:6], " "), fmt.Sprintf("%x", d[:6])}
	if v, err := strconv.Atoi(d); err == nil {
		forms = append(forms, strconv.Itoa(v), strconv.FormatInt(int64(v), 16))
	}
	return forms
}

type withNumber struct {
	Name string
	BSN  bsn.Number
}

type withHidden struct {
	name string
	bsn  bsn.Number // unexported: fmt cannot call its methods
}

type withPointer struct {
	BSN *bsn.Number
}

// TestFormatEveryVerb: every fmt verb, on a Number, a pointer to one, a
// struct holding one in an exported or an unexported field, a slice and a
// map, prints it masked or not at all; never its digits.
func TestFormatEveryVerb(t *testing.T) {
	n, err := bsn.Parse("999993847")
	require.NoError(t, err)
	values := map[string]any{
		"Number":           n,
		"*Number":          &n,
		"struct":           withNumber{"Jan", n},
		"*struct":          &withNumber{"Jan", n},
		"unexported field": withHidden{"Jan", n},
		"pointer field":    withPointer{&n},
		"slice":            []bsn.Number{n, n},
		"map key":          map[bsn.Number]string{n: "Jan"},
		"map value":        map[string]bsn.Number{"Jan": n},
		"array":            [1]bsn.Number{n},
		"any":              []any{n},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%o", "%b", "%c", "%U", "%e", "%f", "%g", "%t", "%p", "%T",
		"%10v", "%-12s|", "%.3s", "%08d", "% x", "%#x", "%+q", "%#q", "%!", "%z"}
	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			for _, verb := range verbs {
				out := fmt.Sprintf(verb, v)
				for _, form := range digitForms(n) {
					assert.NotContains(t, out, form, "fmt.Sprintf(%q) of a %s shows the number: %s", verb, name, out)
				}
			}
			for _, out := range []string{fmt.Sprint(v), fmt.Sprintln(v), fmt.Errorf("client %v", v).Error(), fmt.Errorf("client %w", fmt.Errorf("%v", v)).Error()} {
				assert.NotContains(t, out, n.Digits())
			}
		})
	}
	tests := []struct {
		format string
		want   string
	}{
		{"%v", "******847"},
		{"%s", "******847"},
		{"%d", "******847"},
		{"%x", "******847"},
		{"%q", `"******847"`},
		{"%#v", `bsn.Number("******847")`},
		{"%+v", "******847"},
		{"%12v|", "   ******847|"},
		{"%-12v|", "******847   |"},
		{"%T", "bsn.Number"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, fmt.Sprintf(tt.format, n), tt.format)
	}
	assert.Equal(t, "{Name:Jan BSN:******847}", fmt.Sprintf("%+v", withNumber{"Jan", n}))
	assert.Equal(t, "[******847 ******847]", fmt.Sprint([]bsn.Number{n, n}))
}

// TestEncodings: JSON, XML and slog show a Number masked, alone or inside a
// struct or slice, and gob refuses it; UnmarshalText still reads a real
// number.
func TestEncodings(t *testing.T) {
	n, err := bsn.Parse("1234.56.782")
	require.NoError(t, err)

	type client struct {
		BSN  bsn.Number   `json:"bsn" xml:"bsn"`
		All  []bsn.Number `json:"all" xml:"all"`
		Name string       `json:"name" xml:"name"`
	}
	c := client{BSN: n, All: []bsn.Number{n}, Name: "Jan"}
	j, err := json.Marshal(c)
	require.NoError(t, err)
	assert.JSONEq(t, `{"bsn":"******782","all":["******782"],"name":"Jan"}`, string(j))
	x, err := xml.Marshal(c)
	require.NoError(t, err)
	assert.Equal(t, `<client><bsn>******782</bsn><all>******782</all><name>Jan</name></client>`, string(x))
	var g bytes.Buffer
	assert.Error(t, gob.NewEncoder(&g).Encode(c), "gob refuses a Number (it uses no TextMarshaler)")

	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logs, nil), slog.NewJSONHandler(&logs, nil)} {
		log := slog.New(h)
		log.Info("lookup", "bsn", n)
		log.Info("lookup", slog.Any("client", n), slog.Group("g", "bsn", n))
		log.Info("lookup", "client", c, "numbers", []bsn.Number{n, n}, "hidden", withHidden{"Jan", n}, "ptr", &n)
	}
	for name, out := range map[string]string{"JSON": string(j), "XML": string(x), "gob": g.String(), "slog": logs.String()} {
		for _, form := range digitForms(n) {
			assert.NotContains(t, out, form, "%s shows the number", name)
		}
	}
	assert.Contains(t, logs.String(), "******782")

	// Not a round trip: the masked form does not parse back.
	var back client
	err = json.Unmarshal(j, &back)
	assert.ErrorIs(t, err, bsn.ErrCharacter, "the masked form is not a number")
	assert.True(t, back.BSN.IsZero())

	// Reading a real number from a request still works.
	var req struct {
		BSN bsn.Number `json:"bsn"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"bsn":"1234 56 782"}`), &req))
	assert.Equal(t, n, req.BSN)
	assert.ErrorIs(t, json.Unmarshal([]byte(`{"bsn":"12"}`), &req), bsn.ErrLength)

	b, err := n.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "******782", string(b))
	buf := make([]byte, 0, 16)
	out, err := n.AppendText(buf)
	require.NoError(t, err)
	assert.Equal(t, "******782", string(out))

	var got bsn.Number
	require.NoError(t, got.UnmarshalText([]byte("1234 56 782")))
	assert.Equal(t, n, got)
	err = got.UnmarshalText([]byte("123456781"))
	assert.ErrorIs(t, err, bsn.ErrChecksum)
	assert.Equal(t, n, got, "a failed UnmarshalText leaves the value alone")
	require.NoError(t, got.UnmarshalText(nil))
	assert.True(t, got.IsZero(), "empty text is the zero Number")
	var zero bsn.Number
	b, err = zero.MarshalText()
	require.NoError(t, err)
	assert.Empty(t, b)
}

func TestErrorMessages(t *testing.T) {
	_, err := bsn.Parse("1234x6782")
	require.Error(t, err)
	assert.Equal(t, "bsn: invalid character at position 5: use only digits, spaces, dots and hyphens", err.Error())
	for _, s := range []string{"123456781", "12345", "999999999"} {
		_, err := bsn.Parse(s)
		require.Error(t, err)
		assert.True(t, strings.HasPrefix(err.Error(), "bsn: "), err.Error())
		assertNoInput(t, err.Error(), s)
	}
}

func TestNoAllocation(t *testing.T) {
	for _, s := range []string{"123456782", "1234.56.782", "１２３４５６７８２", "123456781", "12x"} {
		assert.Zero(t, testing.AllocsPerRun(100, func() { bsn.Valid(s) }), "Valid(%q)", s)
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = bsn.Parse("123456782") }), "Parse")
}

func TestTestPersons(t *testing.T) {
	persons := bsntest.TestPersons()
	require.NotEmpty(t, persons)
	seen := map[bsn.Number]bool{}
	for _, n := range persons {
		assert.False(t, n.IsZero())
		assert.False(t, seen[n], "duplicate test person")
		seen[n] = true
	}
	assert.Contains(t, persons, mustParse(t, "000009921"))
}

func TestNumbersDeterministic(t *testing.T) {
	a, b := bsntest.Numbers(42, 100), bsntest.Numbers(42, 100)
	assert.Equal(t, a, b, "same seed, same numbers")
	assert.NotEqual(t, a, bsntest.Numbers(43, 100), "another seed, other numbers")
	for _, n := range a {
		assert.True(t, bsn.Valid(n.Digits()))
	}
}

// TestRandomUniform compares the frequencies of the first and the last digit of
// generated numbers with their exact frequencies among all valid BSNs, by a
// chi-squared test. The seed is fixed, so the test is deterministic.
func TestRandomUniform(t *testing.T) {
	first, last := exactDigitCounts()
	total := 0
	for _, c := range first {
		total += c
	}
	const draws = 200_000
	var gotFirst, gotLast [10]int
	src := rand.NewPCG(7, 11)
	for range draws {
		s := bsn.Random(src).Digits()
		gotFirst[s[0]-'0']++
		gotLast[s[8]-'0']++
	}
	// 27.88 is the 0.999 quantile of chi-squared with 9 degrees of freedom.
	const critical = 27.88
	assert.Less(t, chiSquared(gotFirst, first, total, draws), critical, "first digit")
	assert.Less(t, chiSquared(gotLast, last, total, draws), critical, "check digit")

	assert.True(t, bsn.Valid(bsn.Random(nil).Digits()), "nil source")
}

// exactDigitCounts counts, over all valid BSNs, how many start and how many end
// with each digit. It counts prefixes by their weighted sum modulo 11 with
// dynamic programming, then removes the 30 numbers of weighted sum zero.
func exactDigitCounts() (first, last [10]int) {
	// tail[r] counts digit strings d2…d8 with weighted sum ≡ r (mod 11).
	var tail [11]int
	tail[0] = 1
	for w := 8; w >= 2; w-- {
		var next [11]int
		for r, c := range tail {
			for d := range 10 {
				next[(r+w*d)%11] += c
			}
		}
		tail = next
	}
	for d1 := range 10 {
		for r, c := range tail {
			check := (r + 9*d1) % 11
			if check == 10 {
				continue
			}
			first[d1] += c
			last[check] += c
		}
	}
	// Remove the zero-sum strings: prefix sums 0…9 with d9 equal to it.
	var walk func(pos, sum, d1 int)
	walk = func(pos, sum, d1 int) {
		if pos == 8 {
			first[d1]--
			last[sum]--
			return
		}
		w := 9 - pos
		for d := 0; sum+w*d <= 9; d++ {
			if pos == 0 {
				d1 = d
			}
			walk(pos+1, sum+w*d, d1)
		}
	}
	walk(0, 0, 0)
	return first, last
}

func chiSquared(got, exact [10]int, total, draws int) float64 {
	x := 0.0
	for i := range got {
		want := float64(exact[i]) / float64(total) * float64(draws)
		d := float64(got[i]) - want
		x += d * d / want
	}
	return x
}

func mustParse(t *testing.T, s string) bsn.Number {
	t.Helper()
	n, err := bsn.Parse(s)
	require.NoError(t, err)
	return n
}

func TestErrorUnwrap(t *testing.T) {
	_, err := bsn.Parse("12x")
	var perr *bsn.Error
	require.True(t, errors.As(err, &perr))
	assert.Equal(t, bsn.ErrCharacter, perr.Err)
	assert.Equal(t, 3, perr.Pos)
}

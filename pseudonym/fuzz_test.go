package pseudonym_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/zorgkit/zorgkit/bsn"
	"github.com/zorgkit/zorgkit/bsn/bsntest"
	"github.com/zorgkit/zorgkit/pseudonym"
	"github.com/zorgkit/zorgkit/pseudonym/pseudonymtest"
)

// FuzzParse checks that Parse never panics, accepts only canonical text
// (Parse then String gives the input back), and fails with a fixed sentinel
// error that cannot contain the input.
// FuzzParse reads arbitrary text as a pseudonym, and as a BSN to
// pseudonymise (see checkPseudonymise): one target for both, as CI gives
// each target the same few seconds.
func FuzzParse(f *testing.F) {
	for _, v := range pseudonymtest.Vectors() {
		f.Add(v.Pseudonym)
		f.Add(v.Input)
	}
	f.Add("v2.k1.abc")
	f.Add("v1..")
	for _, s := range []string{"123456782", "12345678", "123456781", "999999999", "000000000", "1234 56782", "12345678a", "０１２３４５６７８"} {
		f.Add(s)
	}
	pz, err := pseudonymtest.Keyring().Pseudonymiser("gemeente-almere")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkPseudonymise(t, pz, s)
		p, err := pseudonym.Parse(s)
		if err != nil {
			if !p.IsZero() {
				t.Fatalf("Parse(%q) failed but returned %v", s, p)
			}
			// The errors are the fixed sentinels, so they cannot contain
			// the input.
			if err != pseudonym.ErrFormat && err != pseudonym.ErrVersion {
				t.Fatalf("Parse(%q) error %v is not a sentinel", s, err)
			}
			return
		}
		if got := p.String(); got != s {
			t.Fatalf("Parse(%q).String() = %q: not canonical", s, got)
		}
		var q pseudonym.Pseudonym
		text, _ := p.MarshalText()
		if err := q.UnmarshalText(text); err != nil || !q.Equal(p) {
			t.Fatalf("text round trip of %q: %v, %v", s, q, err)
		}
	})
}

// checkPseudonymise holds Pseudonymise (with its quick path for nine
// digits) to its definition: the pseudonym of the Number bsn.Parse makes,
// the placeholders for the CBS placeholders, and bsn's error otherwise.
func checkPseudonymise(t *testing.T, p *pseudonym.Pseudonymiser, s string) {
	got, err := p.Pseudonymise(s)
	n, perr := bsn.Parse(s)
	switch {
	case perr == nil:
		if err != nil || !got.Equal(p.Pseudonym(n)) {
			t.Fatalf("Pseudonymise(%q) = %v, %v; want the pseudonym of its Number", s, got, err)
		}
	case errors.Is(perr, bsn.ErrUnknown):
		if err != nil || got.Kind() != pseudonym.UnknownBSN {
			t.Fatalf("Pseudonymise(%q) = %v, %v; want the unknown-BSN placeholder", s, got, err)
		}
	case errors.Is(perr, bsn.ErrUnborn):
		if err != nil || got.Kind() != pseudonym.UnbornChild {
			t.Fatalf("Pseudonymise(%q) = %v, %v; want the unborn-child placeholder", s, got, err)
		}
	default:
		if err == nil || err.Error() != perr.Error() || !got.IsZero() {
			t.Fatalf("Pseudonymise(%q) = %v, %v; want bsn's error %v", s, got, err, perr)
		}
	}
}

// FuzzProcess feeds arbitrary files to the processor. It checks that every
// row is written or rejected, that the output is well-formed delimited text
// with the same number of fields in every row, and, for files that
// encoding/csv reads without error, that the rows written are the rows
// encoding/csv reads.
func FuzzProcess(f *testing.F) {
	f.Add([]byte("a;b\n1;2\n"), false)
	f.Add([]byte("\"x;y\";\"say \"\"hi\"\"\"\r\n\"multi\nline\";z\n"), false)
	f.Add([]byte("1;2\n\"unterminated;3\n4;5"), false)
	f.Add([]byte("1;2\n5\" disk;x\n\"x\"y;1\n;\n\n\r\n"), false)
	f.Add([]byte("1315 KA Zoë   1\n1234AB  Jan    \n"), true)
	f.Add([]byte("\xe9;\xff\n"), false)
	f.Add([]byte("a;b\r1;2\r\"x\ry\";3\r\n4;5\r"), false)
	ring := pseudonymtest.Keyring()
	pseudonym.SmallBatches(f, 64) // rows cross batch boundaries
	f.Fuzz(func(t *testing.T, data []byte, fixed bool) {
		for _, maxRow := range []int{16, 1 << 20} {
			p := &pseudonym.Processor{Keyring: ring, Comma: ';', Other: pseudonym.Keep, Encoding: pseudonym.UTF8, MaxRowBytes: maxRow, MaxFields: 64, Workers: 2}
			if fixed {
				p.Layout = []pseudonym.Field{{Name: "a", Start: 1, Width: 3}, {Name: "b", Start: 5, Width: 2}, {Name: "c", Start: 7, Width: 4}}
			}
			var out bytes.Buffer
			report, err := p.Process(context.Background(), bytes.NewReader(data), &out)
			if errors.Is(err, pseudonym.ErrHeader) && !fixed {
				return // the first row sets the number of fields and cannot be read
			}
			if errors.Is(err, pseudonym.ErrFileType) {
				// Refused as a binary file or a spreadsheet that cannot be
				// read: only a file with a zero byte or a binary format's
				// signature may be.
				binary := bytes.IndexByte(data, 0) >= 0 || bytes.HasPrefix(data, []byte("%PDF")) ||
					bytes.HasPrefix(data, []byte("PK\x03\x04")) || bytes.HasPrefix(data, []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"))
				if !binary {
					t.Fatalf("a text file refused as binary: %q", data)
				}
				return
			}
			if errors.Is(err, pseudonym.ErrNoRows) {
				if report.Rows.Read != 0 {
					t.Fatalf("ErrNoRows after %d rows", report.Rows.Read)
				}
				plain := utf8.Valid(data) && !bytes.HasPrefix(data, []byte("\xef\xbb\xbf"))
				if plain && len(bytes.Trim(data, "\r\n")) != 0 && !fixed {
					t.Fatalf("ErrNoRows for a file with more than line ends: %q", data)
				}
				return
			}
			if err != nil {
				t.Fatalf("Process: %v", err)
			}
			rows := report.Rows
			if rows.Read != rows.Written+rows.Rejected || rows.Flagged != 0 {
				t.Fatalf("counts do not add up: %+v", rows)
			}
			if len(report.Problems) < rows.Rejected {
				t.Fatalf("%d rows rejected, %d problems", rows.Rejected, len(report.Problems))
			}
			r := csv.NewReader(&out)
			r.Comma = ';'
			written, err := r.ReadAll()
			if err != nil {
				t.Fatalf("output is not well-formed: %v\n%q", err, out.String())
			}
			if fixed {
				written = written[1:] // the header from the layout
			}
			if len(written) != rows.Written {
				t.Fatalf("%d rows in the output, %d written", len(written), rows.Written)
			}
			if maxRow < 1<<20 || fixed || bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
				continue
			}
			// encoding/csv ends lines at LF and CRLF only; the processor
			// also at a lone CR, as Excel for Mac writes them.
			in := csv.NewReader(bytes.NewReader(loneCRToLF(data)))
			in.Comma = ';'
			in.FieldsPerRecord = -1
			want, err := in.ReadAll()
			if err != nil || !utf8.Valid(data) || len(want) == 0 {
				continue
			}
			var same [][]string
			for _, rec := range want {
				if len(rec) == len(want[0]) {
					same = append(same, rec)
				}
			}
			if !reflect.DeepEqual(same, written) && !(len(same) == 0 && len(written) == 0) {
				t.Fatalf("rows differ from encoding/csv\ninput %q\nwant %q\ngot  %q", data, same, written)
			}
		}
	})
}

// FuzzReadKeyring reads arbitrary key files. A file is read or refused with
// ErrKeyFile, whose message never holds a secret; a file that is read gives
// the keys an independent reading of its lines gives: the same ids in the
// same order, and the same pseudonyms as keys made from the secrets
// directly.
func FuzzReadKeyring(f *testing.F) {
	b64 := func(id string) string { return base64.StdEncoding.EncodeToString(pseudonymtest.Secret(id)) }
	f.Add("# keys\n2026-11 " + b64("2026-11") + "\nk1\t" + strings.TrimRight(b64("k1"), "=") + "\n")
	f.Add("k1 " + b64("k1") + "\r\n\r\n  k3   " + b64("k3") + "  \n")
	f.Add("k1 " + b64("k1") + "\nk1 " + b64("k3") + "\n")
	f.Add("k.1 " + b64("k1") + "\n")
	f.Add("k1 AAAA\n")
	f.Add("k1 " + b64("k1") + "!\n")
	f.Add("")
	n := bsntest.TestPersons()[0]
	f.Fuzz(func(t *testing.T, file string) {
		ring, err := pseudonym.ReadKeyring(strings.NewReader(file))
		if err != nil {
			if !errors.Is(err, pseudonym.ErrKeyFile) {
				t.Fatalf("error %v does not wrap ErrKeyFile", err)
			}
			for _, line := range strings.Split(file, "\n") {
				fields := strings.Fields(line)
				for _, secret := range fields[min(1, len(fields)):] {
					if len(secret) >= 8 && strings.Contains(err.Error(), secret) {
						t.Fatalf("error %q shows a secret", err)
					}
				}
			}
			return
		}
		var want []*pseudonym.Key
		for _, line := range strings.Split(file, "\n") {
			line = strings.TrimSpace(line)
			if line == "" || line[0] == '#' {
				continue
			}
			id, secret, ok := strings.Cut(line, " ")
			if i := strings.IndexByte(line, '\t'); !ok || i >= 0 && i < len(id) {
				id, secret, _ = strings.Cut(line, "\t")
			}
			raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(strings.TrimSpace(secret), "="))
			if err != nil {
				t.Fatalf("read a line whose secret is not base64: %q", line)
			}
			k, err := pseudonym.NewKey(id, raw)
			if err != nil {
				t.Fatalf("read a line that makes no key: %q: %v", line, err)
			}
			want = append(want, k)
		}
		got := ring.Keys()
		if len(got) != len(want) {
			t.Fatalf("%d keys read, %d lines with keys", len(got), len(want))
		}
		for i := range got {
			if got[i].ID() != want[i].ID() {
				t.Fatalf("key %d: id %q, want %q", i, got[i].ID(), want[i].ID())
			}
			p, _ := got[i].Pseudonymiser("d")
			q, _ := want[i].Pseudonymiser("d")
			if !p.Pseudonym(n).Equal(q.Pseudonym(n)) {
				t.Fatalf("key %q differs from the key its line makes", got[i].ID())
			}
		}
	})
}

// FuzzDecrypt decrypts arbitrary text: it fails with one of the three
// sentinel errors (which cannot hold the input) and returns no plaintext, or
// it decrypts a value that this cipher made for that field. Encrypting what
// the fuzzer gives and decrypting it gives it back.
func FuzzDecrypt(f *testing.F) {
	ring := pseudonymtest.Keyring()
	c, err := ring.FieldCipher("gemeente-almere")
	if err != nil {
		f.Fatal(err)
	}
	for _, v := range pseudonymtest.FieldVectors() {
		f.Add(v.Field, v.Text)
	}
	f.Add("postcode", c.Encrypt("postcode", []byte("1234 AB")))
	f.Add("postcode", c.Encrypt("postcode", nil))
	f.Add("x", "e1.k9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("x", "e1..")
	f.Add("", "e1.2026-11.")
	f.Fuzz(func(t *testing.T, field, text string) {
		plain, err := c.Decrypt(field, text)
		switch err {
		case nil:
			again, err := c.Decrypt(field, c.Encrypt(field, plain))
			if err != nil || !bytes.Equal(again, plain) {
				t.Fatalf("round trip of a decrypted value: %v", err)
			}
		case pseudonym.ErrCiphertext, pseudonym.ErrUnknownKey, pseudonym.ErrDecrypt:
			if plain != nil {
				t.Fatalf("error %v with plaintext", err)
			}
		default:
			t.Fatalf("error %v is not a sentinel", err)
		}
		value := []byte(text)
		got, err := c.Decrypt(field, c.Encrypt(field, value))
		if err != nil || !bytes.Equal(got, value) {
			t.Fatalf("round trip: %v", err)
		}
		if _, err := c.Decrypt(field+"x", c.Encrypt(field, value)); err != pseudonym.ErrDecrypt {
			t.Fatalf("a value decrypts in another field: %v", err)
		}
	})
}

// pc4Ref is an independent statement of a Dutch postcode: four digits, the
// first not 0, then optionally an optional space and two letters, with
// spaces around.
var pc4Ref = regexp.MustCompile(`^ *([1-9][0-9]{3})(?: ?([A-Za-z]{2}))? *$`)

// FuzzPC4 compares PC4 with pc4Ref on arbitrary text; the error is the
// sentinel, which cannot hold the input.
func FuzzPC4(f *testing.F) {
	for _, s := range []string{"1234 AB", "1234ab", " 1315 KA ", "9999", "0123AB", "1234SA", "1234 sd", "1234  AB", "1234É1", "", "1234\u00a0AB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := pseudonym.PC4(s)
		m := pc4Ref.FindStringSubmatch(s)
		if m != nil && len(m[2]) == 2 {
			if l := strings.ToUpper(m[2]); l == "SA" || l == "SD" || l == "SS" {
				m = nil // not issued
			}
		}
		switch {
		case m == nil && err != pseudonym.ErrPostcode:
			t.Fatalf("PC4(%q) = %q, %v; want ErrPostcode", s, got, err)
		case m != nil && (err != nil || got != m[1]):
			t.Fatalf("PC4(%q) = %q, %v; want %q", s, got, err, m[1])
		}
	})
}

// FuzzAgeBand compares AgeBand with an age counted by time.AddDate (which
// takes 29 February to 1 March in a common year, as AgeBand documents) on
// arbitrary dates and band limits.
func FuzzAgeBand(f *testing.F) {
	f.Add(int32(0), int32(365*12), []byte{})
	f.Add(int32(-1), int32(365*4+1), []byte{4, 12, 18, 23})
	f.Add(int32(11016), int32(11016+365), []byte{1})               // 29 February 2000
	f.Add(int32(11016), int32(11016+365*4+1), []byte{4, 4})        // limits not increasing
	f.Add(int32(20000), int32(10000), []byte{18, 65})              // born after the date
	f.Add(int32(-700000), int32(700000), []byte{100, 200, 255, 3}) // far apart
	f.Fuzz(func(t *testing.T, birthDay, onDay int32, limitBytes []byte) {
		day := func(d int32) time.Time { return time.Unix(int64(d%3_000_000)*86400, 0).UTC() }
		birth, on := day(birthDay), day(onDay)
		var limits []int
		for _, b := range limitBytes[:min(len(limitBytes), 8)] {
			limits = append(limits, int(b))
		}
		got, err := pseudonym.AgeBand(birth, on, limits...)

		if len(limits) == 0 {
			limits = []int{4, 12, 18, 23}
		}
		for i, l := range limits {
			if l <= 0 || i > 0 && l <= limits[i-1] {
				if err != pseudonym.ErrAgeBands {
					t.Fatalf("limits %v: %q, %v; want ErrAgeBands", limits, got, err)
				}
				return
			}
		}
		if birth.After(on) {
			if err != pseudonym.ErrBirthDate {
				t.Fatalf("born %v, on %v: %q, %v; want ErrBirthDate", birth, on, got, err)
			}
			return
		}
		age := on.Year() - birth.Year()
		if birth.AddDate(age, 0, 0).After(on) {
			age--
		}
		want := strconv.Itoa(limits[len(limits)-1]) + "+"
		for i, l := range limits {
			if age < l {
				lo := 0
				if i > 0 {
					lo = limits[i-1]
				}
				want = strconv.Itoa(lo) + "-" + strconv.Itoa(l-1)
				break
			}
		}
		if err != nil || got != want {
			t.Fatalf("born %v, on %v, limits %v: %q, %v; want %q (age %d)", birth, on, limits, got, err, want, age)
		}
	})
}

// loneCRToLF returns data with every CR that is not followed by an LF
// replaced by an LF.
func loneCRToLF(data []byte) []byte {
	out := bytes.Clone(data)
	for i, c := range out {
		if c == '\r' && (i+1 == len(out) || out[i+1] != '\n') {
			out[i] = '\n'
		}
	}
	return out
}

package pseudonym

import (
	"crypto/sha256"
	"crypto/subtle"
	"database/sql/driver"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/zorgkit/zorgkit/bsn"
)

// Size is the number of bytes of a pseudonym's HMAC-SHA256 value.
const Size = sha256.Size

// encodedLen is the length of the base32 part of the text form.
var encodedLen = b32.EncodedLen(Size)

// b32 is RFC 4648 base32 in lower case, without padding.
var b32 = base32.NewEncoding(b32Alphabet).WithPadding(base32.NoPadding)

// b32Alphabet is the alphabet of b32.
const b32Alphabet = "abcdefghijklmnopqrstuvwxyz234567"

// appendBase32 appends b32's encoding of a value, unrolled for its size:
// twice as fast as the general encoder, and the text form is on the hot path.
func appendBase32(dst []byte, src *[Size]byte) []byte {
	const a = b32Alphabet
	n := len(dst)
	dst = slices.Grow(dst, textSize)[:n+textSize]
	out := dst[n : n+textSize]
	for i, o := 0, 0; i < 30; i, o = i+5, o+8 { // six groups of 5 bytes, 8 characters each
		v := uint64(src[i])<<32 | uint64(src[i+1])<<24 | uint64(src[i+2])<<16 | uint64(src[i+3])<<8 | uint64(src[i+4])
		g := out[o : o+8]
		g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7] = a[v>>35&31], a[v>>30&31], a[v>>25&31], a[v>>20&31], a[v>>15&31], a[v>>10&31], a[v>>5&31], a[v&31]
	}
	v := uint64(src[30])<<8 | uint64(src[31]) // 16 bits: 4 characters, the last padded with zero bits
	out[48], out[49], out[50], out[51] = a[v>>11&31], a[v>>6&31], a[v>>1&31], a[v&1<<4]
	return dst
}

// textSize is the length of the base32 text of a MAC: 256 bits in
// characters of 5 bits.
const textSize = (8*Size + 4) / 5

// The text forms of the CBS placeholders, which pseudonyms pass through.
const (
	unknownText = "999999999"
	unbornText  = "000000000"
)

// Errors of [Parse] and [Pseudonym.UnmarshalText]. They never contain the
// input, which may be a BSN pasted into the wrong field.
var (
	// ErrFormat means the text is not the text form of a pseudonym.
	ErrFormat = errors.New("pseudonym: malformed pseudonym: want v1.<key id>.<52 base32 characters>, 999999999 or 000000000")

	// ErrVersion means the text is a pseudonym of a version this package
	// does not know.
	ErrVersion = errors.New("pseudonym: unsupported pseudonym version: this package reads v1")
)

// Kind tells a pseudonym of a person from the CBS placeholders.
type Kind uint8

// The kinds of [Pseudonym]. The zero Kind belongs to the zero Pseudonym.
const (
	Person      Kind = iota + 1 // the pseudonym of a BSN
	UnknownBSN                  // the CBS placeholder 999999999, "BSN unknown"
	UnbornChild                 // the CBS placeholder 000000000, "unborn child"
)

// String returns "person", "unknown BSN", "unborn child" or "none".
func (k Kind) String() string {
	switch k {
	case Person:
		return "person"
	case UnknownBSN:
		return "unknown BSN"
	case UnbornChild:
		return "unborn child"
	}
	return "none"
}

// A Pseudonym stands for a BSN in one domain under one key; see the package
// documentation for how it is made. Its text form is
//
//	v1.<key id>.<HMAC in lower-case base32 without padding>
//
// for a person, and 999999999 or 000000000 for the CBS placeholders, which
// pass through unchanged (they identify no one, and hashing them would merge
// every unknown client into one pseudo-person).
//
// A Pseudonym is a small comparable value; compare two with [Pseudonym.Equal],
// which takes constant time. The zero Pseudonym means "none".
type Pseudonym struct {
	kid  string
	mac  [Size]byte
	kind Kind
}

// Kind reports whether p is a person's pseudonym or a placeholder; it is zero
// for the zero Pseudonym.
func (p Pseudonym) Kind() Kind { return p.kind }

// IsZero reports whether p is the zero Pseudonym.
func (p Pseudonym) IsZero() bool { return p.kind == 0 }

// KeyID returns the id of the key that made p, or "" for a placeholder.
func (p Pseudonym) KeyID() string { return p.kid }

// Equal reports whether p and q are the same pseudonym. It compares the HMAC
// values in constant time.
func (p Pseudonym) Equal(q Pseudonym) bool {
	same := subtle.ConstantTimeCompare(p.mac[:], q.mac[:]) == 1
	return same && p.kind == q.kind && p.kid == q.kid
}

// String returns the text form, or "" for the zero Pseudonym.
func (p Pseudonym) String() string {
	b, _ := p.AppendText(make([]byte, 0, 4+len(p.kid)+encodedLen))
	return string(b)
}

// AppendText implements [encoding.TextAppender]: it appends the text form to
// b (nothing for the zero Pseudonym) and does not allocate when b has room.
func (p Pseudonym) AppendText(b []byte) ([]byte, error) {
	switch p.kind {
	case Person:
		b = append(b, "v1."...)
		b = append(b, p.kid...)
		b = append(b, '.')
		return appendBase32(b, &p.mac), nil
	case UnknownBSN:
		return append(b, unknownText...), nil
	case UnbornChild:
		return append(b, unbornText...), nil
	}
	return b, nil
}

// MarshalText implements [encoding.TextMarshaler].
func (p Pseudonym) MarshalText() ([]byte, error) { return p.AppendText(nil) }

// UnmarshalText implements [encoding.TextUnmarshaler] with the rules of
// [Parse]; empty text gives the zero Pseudonym.
func (p *Pseudonym) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*p = Pseudonym{}
		return nil
	}
	q, err := Parse(string(text))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// Value implements [driver.Valuer]: a pseudonym is stored as its text form,
// the zero Pseudonym as NULL.
func (p Pseudonym) Value() (driver.Value, error) {
	if p.IsZero() {
		return nil, nil
	}
	return p.String(), nil
}

// Scan implements [database/sql.Scanner] for a text column written by
// [Pseudonym.Value]; NULL gives the zero Pseudonym.
func (p *Pseudonym) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*p = Pseudonym{}
		return nil
	case string:
		return p.UnmarshalText([]byte(v))
	case []byte:
		return p.UnmarshalText(v)
	}
	return fmt.Errorf("pseudonym: cannot scan a %T into a Pseudonym: store its text form", src)
}

// Parse returns the Pseudonym whose text form is s. It accepts only the
// canonical form that [Pseudonym.String] returns, so that equal pseudonyms
// have equal text (a database may compare them as strings).
func Parse(s string) (Pseudonym, error) {
	switch s {
	case unknownText:
		return Pseudonym{kind: UnknownBSN}, nil
	case unbornText:
		return Pseudonym{kind: UnbornChild}, nil
	}
	version, rest, ok := strings.Cut(s, ".")
	if !ok {
		return Pseudonym{}, ErrFormat
	}
	if version != "v1" {
		if len(version) >= 2 && version[0] == 'v' && strings.Trim(version[1:], "0123456789") == "" {
			return Pseudonym{}, ErrVersion
		}
		return Pseudonym{}, ErrFormat
	}
	kid, encoded, ok := strings.Cut(rest, ".")
	if !ok || !validKeyID(kid) || len(encoded) != encodedLen {
		return Pseudonym{}, ErrFormat
	}
	p := Pseudonym{kid: kid, kind: Person}
	n, err := b32.Decode(p.mac[:], []byte(encoded))
	// The last character carries one bit of the value and four zero bits;
	// anything else is a second spelling of the same value.
	if err != nil || n != Size || b32.EncodeToString(p.mac[:]) != encoded {
		return Pseudonym{}, ErrFormat
	}
	return p, nil
}

// A Pseudonymiser makes the pseudonyms of one domain under one key. It keeps
// its HMAC state between calls, so making a pseudonym does not allocate; like
// a [hash.Hash] it is not safe for concurrent use: give every goroutine its
// own. It never shows its key, nor the last BSN it saw (see [Key]).
type Pseudonymiser struct {
	kid    string
	domain string
	// mac returns HMAC-SHA256 under the subkey of the nine digits of n. The
	// closure holds the key and the state, out of reach of reflection.
	mac func(n bsn.Number) [Size]byte
	// macDigits is mac of a number given by its nine ASCII digits.
	macDigits func(d [9]byte) [Size]byte
}

// Pseudonymiser returns a pseudonymiser for domain under the current key.
// A domain is a recipient (such as a municipality) whose pseudonyms must not
// be joinable with another recipient's; "" is the key holder's own domain.
func (r *Keyring) Pseudonymiser(domain string) (*Pseudonymiser, error) {
	return r.Current().Pseudonymiser(domain)
}

// Pseudonymiser returns a pseudonymiser for domain under k. Use
// [Keyring.Pseudonymiser] for new pseudonyms; this method is for looking a
// BSN up under an older key.
func (k *Key) Pseudonymiser(domain string) (*Pseudonymiser, error) {
	subkey, err := k.subkey(infoPseudonym, domain)
	if err != nil {
		return nil, err
	}
	macDigits := newDigitsMAC(subkey)
	clear(subkey)
	var digits [9]byte // of the closure: see newDigitsMAC
	mac := func(n bsn.Number) [Size]byte {
		n.AppendDigits(digits[:0])
		sum := macDigits(digits)
		clear(digits[:])
		return sum
	}
	return &Pseudonymiser{kid: k.id, domain: domain, mac: mac, macDigits: macDigits}, nil
}

// Pseudonym returns the pseudonym of n, which must be a valid (non-zero)
// number. It does not allocate.
func (p *Pseudonymiser) Pseudonym(n bsn.Number) Pseudonym {
	if n.IsZero() {
		panic("pseudonym: Pseudonym of the zero bsn.Number")
	}
	return Pseudonym{kid: p.kid, mac: p.mac(n), kind: Person}
}

// Pseudonymise parses s as a BSN with [bsn.Parse] and returns its pseudonym;
// "40645678" and "040645678" give the same one. A CBS placeholder gives the
// placeholder Pseudonym (kind [UnknownBSN] or [UnbornChild]) and no error.
// Any other input that is not a BSN gives bsn's error, which never contains
// the input.
func (p *Pseudonymiser) Pseudonymise(s string) (Pseudonym, error) {
	// Nearly every BSN of a file is nine digits that pass [bsn.Valid]:
	// they are the digits the MAC is taken of, without the round trip
	// through a bsn.Number.
	if d, ok := nineDigits(s); ok && bsn.Valid(s) {
		mac := p.macDigits(d)
		clear(d[:])
		return Pseudonym{kid: p.kid, mac: mac, kind: Person}, nil
	}
	n, err := bsn.Parse(s)
	switch {
	case err == nil:
		return p.Pseudonym(n), nil
	case errors.Is(err, bsn.ErrUnknown):
		return Pseudonym{kind: UnknownBSN}, nil
	case errors.Is(err, bsn.ErrUnborn):
		return Pseudonym{kind: UnbornChild}, nil
	}
	return Pseudonym{}, err
}

// nineDigits returns s as nine ASCII digits, if it is that.
func nineDigits(s string) (d [9]byte, ok bool) {
	if len(s) != 9 {
		return d, false
	}
	for i := range 9 {
		if s[i] < '0' || s[i] > '9' {
			return d, false
		}
		d[i] = s[i]
	}
	return d, true
}

// String returns "pseudonym.Pseudonymiser(<key id>, <domain>)".
func (p Pseudonymiser) String() string {
	return fmt.Sprintf("pseudonym.Pseudonymiser(%s, %q)", p.kid, p.domain)
}

// Format implements [fmt.Formatter] like [Key.Format].
func (p Pseudonymiser) Format(f fmt.State, verb rune) {
	formatSafe(f, verb, p.String(), p.String())
}

// Pseudonyms returns the pseudonyms of n in domain under every key of the
// ring, the current key first: the values to look n up by in data made
// before a rotation.
func (r *Keyring) Pseudonyms(domain string, n bsn.Number) ([]Pseudonym, error) {
	ps := make([]Pseudonym, 0, len(r.keys))
	for _, k := range r.keys {
		p, err := k.Pseudonymiser(domain)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p.Pseudonym(n))
	}
	return ps, nil
}

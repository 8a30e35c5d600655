package pseudonym

import (
	"bufio"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MinSecretSize is the least number of secret bytes a [Key] accepts: 256 bits.
const MinSecretSize = 32

// maxKeyIDLen bounds a key id, which every pseudonym and encrypted value
// repeats.
const maxKeyIDLen = 32

// maxDomainLen bounds a domain name.
const maxDomainLen = 255

// Labels of the key derivation; see the package documentation.
const (
	hkdfSalt      = "zorgkit/pseudonym/v1"
	infoPseudonym = "pseudonym\x00"
	infoField     = "field\x00"
)

// Errors about keys and domains. Test for them with [errors.Is].
var (
	// ErrKeyID means a key id is empty, too long, or has a character other
	// than an ASCII letter, digit, '-' or '_'.
	ErrKeyID = errors.New("pseudonym: invalid key id: use 1 to 32 ASCII letters, digits, '-' or '_'")

	// ErrShortSecret means a key's secret has fewer than [MinSecretSize]
	// bytes.
	ErrShortSecret = errors.New("pseudonym: key secret too short: use at least 32 random bytes")

	// ErrDuplicateKey means two keys in a keyring have the same id.
	ErrDuplicateKey = errors.New("pseudonym: two keys have the same id: give every key its own id")

	// ErrNoKey means a keyring was made without a key.
	ErrNoKey = errors.New("pseudonym: no key: a keyring needs at least its current key")

	// ErrUnknownKey means a value names a key id that the keyring does not
	// hold: the key was retired, or the value comes from another key holder.
	ErrUnknownKey = errors.New("pseudonym: unknown key id: the keyring has no key with the id this value names")

	// ErrDomain means a domain name is not valid UTF-8 or longer than 255
	// bytes.
	ErrDomain = errors.New("pseudonym: invalid domain: use valid UTF-8 of at most 255 bytes")

	// ErrZeroKey means a Key was not made by [NewKey]: the zero Key holds
	// no secret.
	ErrZeroKey = errors.New("pseudonym: zero Key: make keys with NewKey or ReadKeyring")

	// ErrKeyFile means a key file does not follow the format [ReadKeyring]
	// documents. The error never contains the secret.
	ErrKeyFile = errors.New("pseudonym: malformed key file")
)

// A Key is a secret from configuration with an id. Every pseudonym and
// encrypted value names the id of the key that made it, so that a keyring can
// tell which key to use after a rotation.
//
// A Key never shows its secret: [Key.String], [Key.GoString], [Key.Format]
// and [Key.LogValue] show only the id, and encoding/json sees no exported
// field. It keeps only the HKDF pseudorandom key derived from the secret, not
// the secret itself, and keeps even that out of reach of reflection: inside
// a function value, which no reflection-based printer (fmt's %p, or %+v of a
// struct that holds a Key; go-spew; a test's diff) can look into. The same
// holds for the derived keys in a [Pseudonymiser] and a [FieldCipher].
type Key struct {
	id string
	// expand is HKDF-Expand under the key's PRK, which only this closure
	// holds; nil in the zero Key.
	expand func(info string) ([]byte, error)
}

// NewKey returns a key with the given id and secret. The id has 1 to 32 ASCII
// letters, digits, '-' or '_' (it appears in every output, so keep it short);
// the secret has at least [MinSecretSize] bytes and should come from a random
// source through configuration, never from code. NewKey does not keep secret.
func NewKey(id string, secret []byte) (*Key, error) {
	if !validKeyID(id) {
		return nil, ErrKeyID
	}
	if len(secret) < MinSecretSize {
		return nil, ErrShortSecret
	}
	prk, err := hkdf.Extract(sha256.New, secret, []byte(hkdfSalt))
	if err != nil {
		return nil, fmt.Errorf("pseudonym: deriving key: %w", err)
	}
	expand := func(info string) ([]byte, error) { return hkdf.Expand(sha256.New, prk, info, 32) }
	return &Key{id: id, expand: expand}, nil
}

// validKeyID reports whether id may be a key id.
func validKeyID(id string) bool {
	if len(id) == 0 || len(id) > maxKeyIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !isKeyIDByte(id[i]) {
			return false
		}
	}
	return true
}

func isKeyIDByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// ID returns the key's id.
func (k *Key) ID() string { return k.id }

// String returns "pseudonym.Key(<id>)".
func (k Key) String() string { return "pseudonym.Key(" + k.id + ")" }

// GoString returns a Go-like form that shows the id and hides the secret.
func (k Key) GoString() string { return `&pseudonym.Key{id:"` + k.id + `", secret:<hidden>}` }

// Format implements [fmt.Formatter] so that no verb or flag shows the secret:
// %#v prints [Key.GoString], %q the quoted [Key.String], and every other verb
// [Key.String].
func (k Key) Format(f fmt.State, verb rune) { formatSafe(f, verb, k.String(), k.GoString()) }

// LogValue implements [slog.LogValuer]: a logged key shows its id only.
func (k Key) LogValue() slog.Value { return slog.GroupValue(slog.String("id", k.id)) }

// formatSafe prints s (or gs for %#v) whatever the verb, so that a value that
// holds a secret never reaches fmt's reflection.
func formatSafe(f fmt.State, verb rune, s, gs string) {
	switch {
	case verb == 'v' && f.Flag('#'):
		io.WriteString(f, gs)
	case verb == 'q':
		io.WriteString(f, strconv.Quote(s))
	default:
		io.WriteString(f, s)
	}
}

// subkey derives the 32-byte key for one purpose (infoPseudonym or infoField)
// in one domain.
func (k *Key) subkey(purpose, domain string) ([]byte, error) {
	if len(domain) > maxDomainLen || !utf8.ValidString(domain) {
		return nil, ErrDomain
	}
	if k.expand == nil {
		return nil, ErrZeroKey
	}
	b, err := k.expand(purpose + domain)
	if err != nil {
		return nil, fmt.Errorf("pseudonym: deriving key: %w", err)
	}
	return b, nil
}

// A Keyring holds the current key, which makes every new pseudonym and
// encrypted value, and older keys, which still recognise and decrypt what
// they made before a rotation. A Keyring is immutable and safe for concurrent
// use.
type Keyring struct {
	keys []*Key // keys[0] is the current key
}

// NewKeyring returns a keyring with the current key and older ones, newest
// first. Key ids must be unique.
func NewKeyring(current *Key, older ...*Key) (*Keyring, error) {
	if current == nil {
		return nil, ErrNoKey
	}
	keys := append([]*Key{current}, older...)
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if k == nil {
			return nil, ErrNoKey
		}
		if seen[k.id] {
			return nil, fmt.Errorf("%w (id %q)", ErrDuplicateKey, k.id)
		}
		seen[k.id] = true
	}
	return &Keyring{keys: keys}, nil
}

// Current returns the key that makes new pseudonyms and encrypted values.
func (r *Keyring) Current() *Key { return r.keys[0] }

// Key returns the key with the given id, or nil if the keyring has none.
func (r *Keyring) Key(id string) *Key {
	for _, k := range r.keys {
		if k.id == id {
			return k
		}
	}
	return nil
}

// Keys returns the keys of the ring, the current one first. Each call
// returns a new slice.
func (r *Keyring) Keys() []*Key { return append([]*Key(nil), r.keys...) }

// String lists the key ids, the current one first.
func (r Keyring) String() string {
	ids := make([]string, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.id
	}
	return "pseudonym.Keyring(" + strings.Join(ids, ",") + ")"
}

// GoString is [Keyring.String]: a keyring never shows its secrets.
func (r Keyring) GoString() string { return r.String() }

// Format implements [fmt.Formatter] like [Key.Format].
func (r Keyring) Format(f fmt.State, verb rune) { formatSafe(f, verb, r.String(), r.String()) }

// LogValue implements [slog.LogValuer]: a logged keyring shows its key ids.
func (r Keyring) LogValue() slog.Value { return slog.StringValue(r.String()) }

// ReadKeyring reads a keyring from a key file. Each line holds one key: its
// id, white space, and its secret in standard base64 (with or without
// padding); the first key is the current one, the others are older keys,
// newest first. Empty lines and lines starting with '#' are ignored:
//
//	# zorgkit pseudonym keys, current first. Make a secret with
//	#   head -c 32 /dev/urandom | base64
//	2026-11 6tC9Gf1lDXbJwFh0fNRZ6Y8b4HqUcW1aZ0pV7qGvXcM=
//	2026-05 Q3Jb0m3d3k6lZq2F1rW9y8XvT5uN4aP7sH2gK1jL0oE=
//
// Errors name the line, never the secret. Keep the file readable by the
// service alone.
func ReadKeyring(r io.Reader) (*Keyring, error) {
	var keys []*Key
	lines := make(map[string]int) // of the key ids
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		id, encoded, ok := strings.Cut(text, " ")
		if !ok {
			id, encoded, ok = strings.Cut(text, "\t")
		}
		if !ok {
			return nil, fmt.Errorf("%w: line %d: want a key id, a space and a base64 secret", ErrKeyFile, line)
		}
		secret, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(strings.TrimSpace(encoded), "="))
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: the secret is not valid base64", ErrKeyFile, line)
		}
		k, err := NewKey(id, secret)
		clear(secret)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrKeyFile, line, err)
		}
		if first, dup := lines[id]; dup {
			return nil, fmt.Errorf("%w: line %d: %w (id %q, also on line %d)", ErrKeyFile, line, ErrDuplicateKey, id, first)
		}
		lines[id] = line
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: %w", ErrKeyFile, ErrNoKey)
	}
	return NewKeyring(keys[0], keys[1:]...)
}

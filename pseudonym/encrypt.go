package pseudonym

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// b64 is the URL-safe base64 alphabet without padding: no character of it is
// a field delimiter, a quote or a dot.
var b64 = base64.RawURLEncoding

// encPrefix starts the text form of an encrypted value.
const encPrefix = "e1."

// Errors of [FieldCipher.Decrypt]. None of them contains the value.
var (
	// ErrCiphertext means the text is not an encrypted value of this
	// package: it was cut off or is something else.
	ErrCiphertext = errors.New("pseudonym: malformed encrypted value: want e1.<key id>.<base64url>")

	// ErrDecrypt means the value does not authenticate: it was altered, it
	// belongs to another field or domain, or the key with its id is not the
	// key that encrypted it. Nothing of the plaintext is returned.
	ErrDecrypt = errors.New("pseudonym: encrypted value does not authenticate: it was altered, belongs to another field or domain, or was made with another key of the same id")
)

// A FieldCipher encrypts indirectly identifying fields (a postcode, a date of
// birth, a free-text remark) of one domain with AES-256-GCM, and decrypts
// them for those who hold the key. Its text form is
//
//	e1.<key id>.<base64url of nonce ‖ ciphertext ‖ tag>
//
// with a random 96-bit nonce, so equal plaintexts give different values. The
// associated data binds the value to its field (column) name and the key id:
// a value moved to another column does not decrypt. See the package
// documentation for the exact construction.
//
// A FieldCipher is safe for concurrent use, like the [cipher.AEAD] it wraps:
// a server shares one between all its handlers. It holds no state that
// changes after [Keyring.FieldCipher] made it: the ciphers of all keys of
// the ring are made then. After a key rotation, make a new FieldCipher from
// the new [Keyring]; the old one keeps working for the values it can read.
// It never shows its keys, and keeps them out of reach of reflection (see
// [Key]).
type FieldCipher struct {
	domain   string
	kid      string // of the current key, which encrypts
	overhead int    // of every AEAD: nonce and tag
	// aead returns the cipher of key kid, or nil. The closure holds the
	// ciphers of every key of the ring, made at construction and never
	// changed.
	aead func(kid string) cipher.AEAD
}

// FieldCipher returns a cipher for the fields of domain; "" is the key
// holder's own domain. It encrypts under the current key and decrypts under
// any key of the ring.
func (r *Keyring) FieldCipher(domain string) (*FieldCipher, error) {
	aeads := make(map[string]cipher.AEAD, len(r.keys))
	for _, k := range r.keys {
		a, err := k.fieldAEAD(domain)
		if err != nil {
			return nil, err
		}
		aeads[k.id] = a
	}
	kid := r.Current().id
	aead := func(kid string) cipher.AEAD { return aeads[kid] }
	return &FieldCipher{domain: domain, kid: kid, overhead: aeads[kid].Overhead(), aead: aead}, nil
}

// fieldAEAD returns AES-256-GCM with random nonces under k's field key for
// domain.
func (k *Key) fieldAEAD(domain string) (cipher.AEAD, error) {
	subkey, err := k.subkey(infoField, domain)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(subkey)
	clear(subkey)
	if err != nil {
		return nil, fmt.Errorf("pseudonym: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("pseudonym: %w", err)
	}
	return aead, nil
}

// aadLen is the length of the associated data for a value of field under key
// kid.
func aadLen(kid, field string) int { return len(encPrefix) + len(kid) + 1 + len(field) }

// appendAAD appends the associated data for a value of field under key kid:
// "e1.<kid>.<field>".
func appendAAD(dst []byte, kid, field string) []byte {
	dst = append(dst, encPrefix...)
	dst = append(dst, kid...)
	dst = append(dst, '.')
	return append(dst, field...)
}

// Encrypt returns the text form of plaintext encrypted for field.
func (c *FieldCipher) Encrypt(field string, plaintext []byte) string {
	return string(c.AppendEncrypt(nil, field, plaintext))
}

// AppendEncrypt appends the text form of plaintext encrypted for field to dst
// and returns the extended buffer. It does not allocate when dst has room
// for the text and, past it, for the sealed value and the associated data.
func (c *FieldCipher) AppendEncrypt(dst []byte, field string, plaintext []byte) []byte {
	dst = append(dst, encPrefix...)
	dst = append(dst, c.kid...)
	dst = append(dst, '.')
	// Everything per call lives in dst, nothing in c: the text where it
	// belongs, then the sealed value, then the associated data. Sealing
	// past the room base64 needs and encoding from there into place takes
	// one buffer.
	sealedLen := len(plaintext) + c.overhead
	encLen := b64.EncodedLen(sealedLen)
	start := len(dst)
	dst = grow(dst, encLen+sealedLen+aadLen(c.kid, field))
	sealedAt := start + encLen
	aad := appendAAD(dst[sealedAt+sealedLen:sealedAt+sealedLen], c.kid, field)
	sealed := c.aead(c.kid).Seal(dst[sealedAt:sealedAt:sealedAt+sealedLen], nil, plaintext, aad)
	b64.Encode(dst[start:], sealed)
	return dst[:start+encLen]
}

// grow extends b by n bytes of unspecified content.
func grow(b []byte, n int) []byte { return slices.Grow(b, n)[:len(b)+n] }

// Decrypt returns the plaintext of text, an encrypted value of field. It
// decrypts under the key that text names; the errors are [ErrCiphertext],
// [ErrUnknownKey] and [ErrDecrypt].
func (c *FieldCipher) Decrypt(field, text string) ([]byte, error) {
	rest, ok := strings.CutPrefix(text, encPrefix)
	if !ok {
		return nil, ErrCiphertext
	}
	kid, encoded, ok := strings.Cut(rest, ".")
	if !ok || !validKeyID(kid) {
		return nil, ErrCiphertext
	}
	// One buffer: the sealed value, then the associated data.
	n := b64.DecodedLen(len(encoded))
	buf := make([]byte, n, n+aadLen(kid, field))
	n, err := b64.Decode(buf, []byte(encoded))
	if err != nil || n < c.overhead {
		return nil, ErrCiphertext
	}
	sealed := buf[:n:n]
	aead := c.aead(kid)
	if aead == nil {
		return nil, ErrUnknownKey
	}
	aad := appendAAD(buf[n:n], kid, field)
	plaintext, err := aead.Open(sealed[:0], nil, sealed, aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return plaintext, nil
}

// String returns "pseudonym.FieldCipher(<key id>, <domain>)".
func (c FieldCipher) String() string {
	return fmt.Sprintf("pseudonym.FieldCipher(%s, %q)", c.kid, c.domain)
}

// Format implements [fmt.Formatter] like [Key.Format].
func (c FieldCipher) Format(f fmt.State, verb rune) {
	formatSafe(f, verb, c.String(), c.String())
}

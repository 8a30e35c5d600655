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
// A FieldCipher is not safe for concurrent use (it reuses a buffer); give
// every goroutine its own. It never shows its keys.
type FieldCipher struct {
	domain  string
	kid     string                 // of the current key, which encrypts
	current cipher.AEAD            // of the current key
	ring    *Keyring               // to find older keys for decryption
	aeads   map[string]cipher.AEAD // by key id, made on first use
	aad     []byte
}

// FieldCipher returns a cipher for the fields of domain; "" is the key
// holder's own domain. It encrypts under the current key and decrypts under
// any key of the ring.
func (r *Keyring) FieldCipher(domain string) (*FieldCipher, error) {
	current, err := r.Current().fieldAEAD(domain)
	if err != nil {
		return nil, err
	}
	kid := r.Current().id
	return &FieldCipher{
		domain:  domain,
		kid:     kid,
		current: current,
		ring:    r,
		aeads:   map[string]cipher.AEAD{kid: current},
	}, nil
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

// additionalData returns the associated data for a value of field under key
// kid, in c's buffer: "e1.<kid>.<field>".
func (c *FieldCipher) additionalData(kid, field string) []byte {
	c.aad = append(c.aad[:0], encPrefix...)
	c.aad = append(c.aad, kid...)
	c.aad = append(c.aad, '.')
	c.aad = append(c.aad, field...)
	return c.aad
}

// Encrypt returns the text form of plaintext encrypted for field.
func (c *FieldCipher) Encrypt(field string, plaintext []byte) string {
	return string(c.AppendEncrypt(nil, field, plaintext))
}

// AppendEncrypt appends the text form of plaintext encrypted for field to dst
// and returns the extended buffer.
func (c *FieldCipher) AppendEncrypt(dst []byte, field string, plaintext []byte) []byte {
	dst = append(dst, encPrefix...)
	dst = append(dst, c.kid...)
	dst = append(dst, '.')
	// Seal into the tail of dst, past the room base64 will need, then encode
	// from there into place: one buffer, no allocation once dst has room.
	sealedLen := len(plaintext) + c.current.Overhead()
	start := len(dst)
	dst = grow(dst, b64.EncodedLen(sealedLen)+sealedLen)
	tail := dst[start+b64.EncodedLen(sealedLen):]
	sealed := c.current.Seal(tail[:0], nil, plaintext, c.additionalData(c.kid, field))
	b64.Encode(dst[start:], sealed)
	return dst[:start+b64.EncodedLen(sealedLen)]
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
	sealed, err := b64.DecodeString(encoded)
	if err != nil || len(sealed) < c.current.Overhead() {
		return nil, ErrCiphertext
	}
	aead, err := c.aead(kid)
	if err != nil {
		return nil, err
	}
	plaintext, err := aead.Open(sealed[:0], nil, sealed, c.additionalData(kid, field))
	if err != nil {
		return nil, ErrDecrypt
	}
	return plaintext, nil
}

// aead returns the cipher of key kid, making it on first use.
func (c *FieldCipher) aead(kid string) (cipher.AEAD, error) {
	if a, ok := c.aeads[kid]; ok {
		return a, nil
	}
	k := c.ring.Key(kid)
	if k == nil {
		return nil, ErrUnknownKey
	}
	a, err := k.fieldAEAD(c.domain)
	if err != nil {
		return nil, err
	}
	c.aeads[kid] = a
	return a, nil
}

// String returns "pseudonym.FieldCipher(<key id>, <domain>)".
func (c FieldCipher) String() string {
	return fmt.Sprintf("pseudonym.FieldCipher(%s, %q)", c.kid, c.domain)
}

// Format implements [fmt.Formatter] like [Key.Format].
func (c FieldCipher) Format(f fmt.State, verb rune) {
	formatSafe(f, verb, c.String(), c.String())
}

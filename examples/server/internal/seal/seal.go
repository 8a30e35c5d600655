// Package seal turns a few short values into an opaque handle that only
// the server can open, only in the context it was made for, and only until
// it expires.
//
// A handle is a value the server hands to a browser to get back in a later
// request (a form field, an API answer) without trusting the browser with
// what it stands for. It is AES-256-GCM under a key derived with HKDF-SHA256
// (RFC 5869) from a server secret and a label, so that one secret can key
// several kinds of handle that never open each other. The binding, such as
// the session and the user, is the additional data: a handle copied into
// another session does not open. The values and the expiry are encrypted,
// so a handle tells its holder nothing.
//
// The layout, base64url without padding, is
//
//	nonce (12 bytes) || AES-256-GCM(key, nonce, plaintext, binding)
//	plaintext = expiry (Unix microseconds, 8 bytes big-endian) || for each value: uvarint(length) || value
//	key       = HKDF-SHA256(secret, salt = none, info = label, 32 bytes)
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"
)

// ErrInvalid is a handle that was not made by this Sealer for this
// binding, has expired, or was changed. It does not say which.
var ErrInvalid = errors.New("seal: the handle is not valid here (expired, or made for another session)")

// MaxHandle is the longest handle Open reads; anything longer is invalid
// before any work is done.
const MaxHandle = 4 << 10

// A Sealer makes and opens handles. It is safe for concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// New returns a Sealer keyed by secret (at least 32 bytes) and label.
func New(secret []byte, label string) (*Sealer, error) {
	if len(secret) < 32 {
		return nil, errors.New("seal: the secret must be at least 32 bytes")
	}
	key, err := hkdf.Key(sha256.New, secret, nil, label, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal returns a handle for values, bound to binding, valid until expires.
func (s *Sealer) Seal(binding []byte, expires time.Time, values ...string) string {
	plain := binary.BigEndian.AppendUint64(nil, uint64(expires.UnixMicro()))
	for _, v := range values {
		plain = binary.AppendUvarint(plain, uint64(len(v)))
		plain = append(plain, v...)
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, binding))
}

// Open returns the n values of handle, if it was sealed by s for binding
// and has not expired at now.
func (s *Sealer) Open(binding []byte, handle string, now time.Time, n int) ([]string, error) {
	if len(handle) > MaxHandle {
		return nil, ErrInvalid
	}
	b, err := base64.RawURLEncoding.DecodeString(handle)
	ns := s.aead.NonceSize()
	if err != nil || len(b) < ns+s.aead.Overhead()+8 {
		return nil, ErrInvalid
	}
	plain, err := s.aead.Open(nil, b[:ns], b[ns:], binding)
	if err != nil || len(plain) < 8 {
		return nil, ErrInvalid
	}
	if !now.Before(time.UnixMicro(int64(binary.BigEndian.Uint64(plain)))) {
		return nil, ErrInvalid
	}
	rest := plain[8:]
	values := make([]string, 0, n)
	for range n {
		size, k := binary.Uvarint(rest)
		if k <= 0 || size > uint64(len(rest)-k) {
			return nil, ErrInvalid
		}
		values = append(values, string(rest[k:k+int(size)]))
		rest = rest[k+int(size):]
	}
	if len(rest) != 0 {
		return nil, ErrInvalid
	}
	return values, nil
}

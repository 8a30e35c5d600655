package otp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"net/url"
	"strconv"
	"time"
)

// The parameters of [TOTP], those of RFC 6238 and of every authenticator app.
const (
	TOTPDigits = 6
	TOTPPeriod = 30 * time.Second
	TOTPSkew   = 1 // steps accepted before and after the current one
)

// totpSecretBytes is the size of a new secret: 160 bits, as RFC 4226
// recommends for HMAC-SHA-1.
const totpSecretBytes = 20

// TOTP verifies time-based one-time passwords (RFC 6238) from an
// authenticator app: HMAC-SHA-1, 6 digits, 30-second steps, one step of
// clock drift either way. Each is accepted once: the application stores the
// step [TOTP.Verify] returns and passes it back as lastStep next time.
//
// The zero TOTP uses the system clock.
type TOTP struct {
	Now func() time.Time // nil: time.Now
}

// NewTOTPSecret returns a new random 160-bit secret from crypto/rand. Store it
// encrypted, or at least apart from the password hashes: unlike a password it
// cannot be stored as a hash.
func NewTOTPSecret() ([]byte, error) {
	s := make([]byte, totpSecretBytes)
	if _, err := rand.Read(s); err != nil {
		return nil, fmt.Errorf("otp: reading random secret: %w", err)
	}
	return s, nil
}

// TOTPKeyURI returns the otpauth:// URI that authenticator apps read, usually
// from a QR code, to enrol secret for account at issuer.
func TOTPKeyURI(issuer, account string, secret []byte) string {
	v := url.Values{}
	v.Set("secret", base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret))
	v.Set("issuer", issuer)
	v.Set("algorithm", "SHA1")
	v.Set("digits", strconv.Itoa(TOTPDigits))
	v.Set("period", strconv.Itoa(int(TOTPPeriod/time.Second)))
	u := url.URL{
		Scheme:   "otpauth",
		Host:     "totp",
		Path:     "/" + issuer + ":" + account,
		RawQuery: v.Encode(),
	}
	return u.String()
}

// TOTPStep returns the RFC 6238 time step of t: the number of 30-second
// periods since the Unix epoch.
func TOTPStep(t time.Time) int64 {
	return floorDiv(t.Unix(), int64(TOTPPeriod/time.Second))
}

// TOTPAt returns the one-time password for secret at time t, as an
// authenticator app shows it.
func TOTPAt(secret []byte, t time.Time) string {
	return hotp(sha1.New, secret, uint64(TOTPStep(t)), TOTPDigits)
}

// Verify checks otp against secret at the current time. lastStep is the step
// of the last one accepted for this secret (0 if none): one of that step or
// an earlier one is refused with [ErrUsed], so that each works once. On
// success Verify returns its step, to be stored as the new lastStep; store it
// atomically with a condition, such as
//
//	UPDATE users SET totp_step = $2 WHERE id = $1 AND totp_step < $2
//
// and treat "no row changed" as [ErrUsed]. Otherwise it returns [ErrWrong].
func (t *TOTP) Verify(secret []byte, otp string, lastStep int64) (int64, error) {
	if len(secret) == 0 {
		return 0, errors.New("otp: TOTP secret is empty")
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	otp = clean(otp)
	current := TOTPStep(now())
	var matched int64 = -1
	// Compare with every candidate step, without stopping early.
	for step := current - TOTPSkew; step <= current+TOTPSkew; step++ {
		if step < 0 {
			continue
		}
		want := hotp(sha1.New, secret, uint64(step), TOTPDigits)
		if subtle.ConstantTimeCompare([]byte(want), []byte(otp)) == 1 && step > matched {
			matched = step
		}
	}
	switch {
	case matched < 0:
		return 0, ErrWrong
	case matched <= lastStep:
		return 0, ErrUsed
	}
	return matched, nil
}

// hotp is the HOTP value of RFC 4226 §5.3 with the hash of RFC 6238.
func hotp(h func() hash.Hash, secret []byte, counter uint64, digits int) string {
	m := hmac.New(h, secret)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	s := strconv.FormatUint(uint64(bin%mod), 10)
	for len(s) < digits {
		s = "0" + s
	}
	return s
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

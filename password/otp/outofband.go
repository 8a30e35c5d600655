package otp

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// Challenge is a one-time password as stored: never the password itself,
// only its HMAC, bound to the account and to one login attempt.
type Challenge struct {
	Account  string    // the account it was sent for
	Attempt  string    // the login attempt it belongs to, such as the pre-login session ID
	MAC      []byte    // HMAC-SHA-256 of account, attempt and one-time password under Config.Key
	Issued   time.Time // when it was issued
	Expires  time.Time // when it stops being valid
	Attempts int       // entries counted so far, wrong or right
	Used     time.Time // when it was used; zero if not yet
}

// Store keeps the current [Challenge] of each account, for [OutOfBand].
// Each method must be atomic and safe for concurrent use; package otptest
// has a conformance test. In SQL, with a table keyed by account:
//
//	-- Replace: insert, or overwrite unless within the cooldown
//	INSERT INTO login_codes (account, attempt, mac, issued_at, expires_at, attempts, used_at)
//	VALUES ($1, $2, $3, $4, $5, 0, NULL)
//	ON CONFLICT (account) DO UPDATE SET attempt = excluded.attempt, mac = excluded.mac,
//	    issued_at = excluded.issued_at, expires_at = excluded.expires_at, attempts = 0, used_at = NULL
//	WHERE login_codes.issued_at <= $6   -- notBefore; no row changed: cooldown, read the current one
//
//	-- CountAttempt: count before checking
//	UPDATE login_codes SET attempts = attempts + 1
//	WHERE account = $1 AND attempt = $2 AND used_at IS NULL AND expires_at > $3 AND attempts < $4
//	RETURNING …                          -- no row: read it to tell why
//
//	-- Consume: single use
//	UPDATE login_codes SET used_at = $3 WHERE account = $1 AND attempt = $2 AND used_at IS NULL
//	                                     -- rows affected: 1 = consumed by this call
type Store interface {
	// Replace stores c as the only challenge of c.Account, replacing any
	// earlier one, unless the account has a challenge issued after
	// notBefore. It returns the account's challenge afterwards and whether
	// it is c.
	Replace(ctx context.Context, c Challenge, notBefore time.Time) (Challenge, bool, error)

	// CountAttempt increments the Attempts of the account's challenge if it
	// belongs to attempt, is unused, expires after now and has fewer than
	// max attempts, and returns it with counted true. If it belongs to
	// attempt but fails a condition, it returns it unchanged with counted
	// false. Otherwise it returns ErrNotIssued.
	CountAttempt(ctx context.Context, account, attempt string, now time.Time, max int) (c Challenge, counted bool, err error)

	// Consume sets Used of the account's challenge to now if it belongs to
	// attempt and is unused, and reports whether this call did.
	Consume(ctx context.Context, account, attempt string, now time.Time) (bool, error)
}

// Channel delivers one-time passwords to users. The application implements
// it, for e-mail or SMS.
type Channel interface {
	// Send delivers otp to the person behind account, valid until
	// expires. It must not log otp.
	Send(ctx context.Context, account, otp string, expires time.Time) error
}

// ChannelFunc adapts a function to the [Channel] interface.
type ChannelFunc func(ctx context.Context, account, otp string, expires time.Time) error

// Send calls f.
func (f ChannelFunc) Send(ctx context.Context, account, otp string, expires time.Time) error {
	return f(ctx, account, otp, expires)
}

// Limiter counts wrong entries per account across one-time passwords. The
// account throttle of package throttle (a *throttle.Throttle) is one.
type Limiter interface {
	// Check returns an error if the account may not try now.
	Check(ctx context.Context, account string) error
	// Attempt counts an attempt as a failure before it is checked, or
	// returns an error if the account may not try now.
	Attempt(ctx context.Context, account string) error
	// Reset forgives the account's failures after a correct entry.
	Reset(ctx context.Context, account string) error
}

// Config configures an [OutOfBand].
type Config struct {
	// Key is the HMAC key, at least 32 random bytes from configuration.
	// Required.
	Key []byte

	// Store keeps the challenges. Required: choose [NewMemoryStore]
	// explicitly for a single process.
	Store Store

	// Limiter, if set, counts wrong entries as failures of the account
	// (its key is the account string, so use the same key for the password
	// step): those failures survive a new one-time password, and a correct
	// one resets them. Issue sends nothing to an account that must wait.
	Limiter Limiter

	// TTL is how long a one-time password stays valid: 5 minutes if zero,
	// at most 10 minutes.
	TTL time.Duration

	// MaxAttempts is how often one may be entered: 5 if zero.
	MaxAttempts int

	// Cooldown is the least time between two for one account: 30 seconds
	// if zero; negative means none.
	Cooldown time.Duration

	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// Rand is the source of digits; nil means crypto/rand. Set it only in
	// tests.
	Rand io.Reader
}

// digits is the length of a one-time password.
const digits = 6

// OutOfBand issues and verifies one-time passwords sent by e-mail or SMS
// (see the package documentation). Build it with [NewOutOfBand]; it is safe
// for concurrent use.
type OutOfBand struct {
	c Config
}

// NewOutOfBand returns an OutOfBand with configuration c, or an error if c
// lacks the Key or Store or has a setting out of range.
func NewOutOfBand(c Config) (*OutOfBand, error) {
	switch {
	case len(c.Key) < 32:
		return nil, errors.New("otp: Config.Key must have at least 32 bytes: use 32 random bytes from configuration")
	case c.Store == nil:
		return nil, errors.New("otp: Config.Store is required: a shared store, or NewMemoryStore for one process")
	case c.TTL < 0 || c.TTL > 10*time.Minute:
		return nil, errors.New("otp: Config.TTL must lie between 0 and 10 minutes")
	case c.MaxAttempts < 0:
		return nil, errors.New("otp: Config.MaxAttempts must not be negative")
	}
	c.Key = append([]byte(nil), c.Key...)
	if c.TTL == 0 {
		c.TTL = 5 * time.Minute
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 5
	}
	switch {
	case c.Cooldown == 0:
		c.Cooldown = 30 * time.Second
	case c.Cooldown < 0:
		c.Cooldown = 0
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &OutOfBand{c: c}, nil
}

// Issue creates a new one-time password for this login attempt of account,
// replacing any earlier one of the account, stores its HMAC and sends it
// through ch. It returns when it expires. Within the cooldown of the
// previous one it sends nothing and returns a [*CooldownError]; with a
// Limiter, the same for an account that must wait, with the Limiter's
// error.
//
// attempt identifies the login attempt: a random ID of the half-finished
// login (the pre-login session), never guessable or shared between attempts.
func (o *OutOfBand) Issue(ctx context.Context, ch Channel, account, attempt string) (time.Time, error) {
	if attempt == "" {
		return time.Time{}, errors.New("otp: Issue needs the login attempt's ID")
	}
	if o.c.Limiter != nil {
		// Nothing for an account that may not try one.
		if err := o.c.Limiter.Check(ctx, account); err != nil {
			return time.Time{}, err
		}
	}
	otp, err := randomDigits(o.c.Rand, digits)
	if err != nil {
		return time.Time{}, err
	}
	now := o.c.Now()
	c := Challenge{
		Account: account,
		Attempt: attempt,
		MAC:     o.mac(account, attempt, otp),
		Issued:  now,
		Expires: now.Add(o.c.TTL),
	}
	cur, ok, err := o.c.Store.Replace(ctx, c, now.Add(-o.c.Cooldown))
	if err != nil {
		return time.Time{}, err
	}
	if !ok {
		return time.Time{}, &CooldownError{Wait: cur.Issued.Add(o.c.Cooldown).Sub(now)}
	}
	if err := ch.Send(ctx, account, otp, c.Expires); err != nil {
		return time.Time{}, fmt.Errorf("otp: sending the one-time password: %w", err)
	}
	return c.Expires, nil
}

// Verify checks otp, as typed, for this login attempt of account. The entry
// is counted before it is checked; a correct one is consumed, so that it
// works once. It returns nil, or an error matching [ErrWrong] (a
// [*WrongError]), [ErrExpired], [ErrUsed], [ErrAttempts], [ErrNotIssued] or,
// with a Limiter, the Limiter's error. Spaces and hyphens are ignored, and
// fullwidth digits are read as digits.
func (o *OutOfBand) Verify(ctx context.Context, account, attempt, otp string) error {
	if o.c.Limiter != nil {
		if err := o.c.Limiter.Attempt(ctx, account); err != nil {
			return err
		}
	}
	now := o.c.Now()
	c, counted, err := o.c.Store.CountAttempt(ctx, account, attempt, now, o.c.MaxAttempts)
	switch {
	case err != nil:
		return err
	case !c.Used.IsZero():
		return ErrUsed
	case !now.Before(c.Expires):
		return ErrExpired
	case !counted:
		return ErrAttempts
	}
	if !hmac.Equal(o.mac(account, attempt, clean(otp)), c.MAC) {
		return &WrongError{Remaining: max(o.c.MaxAttempts-c.Attempts, 0)}
	}
	ok, err := o.c.Store.Consume(ctx, account, attempt, now)
	if err != nil {
		return err
	}
	if !ok {
		return ErrUsed // a concurrent request used it first
	}
	if o.c.Limiter != nil {
		return o.c.Limiter.Reset(ctx, account)
	}
	return nil
}

// mac binds the one-time password to the account and the login attempt.
// Lengths are included so that no two different triples give the same
// input; the label is that of version 1, kept so that stored challenges stay
// valid.
func (o *OutOfBand) mac(account, attempt, otp string) []byte {
	m := hmac.New(sha256.New, o.c.Key)
	for _, s := range [...]string{"zorgkit login code v1", account, attempt, otp} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		m.Write(n[:])
		m.Write([]byte(s))
	}
	return m.Sum(nil)
}

package password

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/unicode/norm"
)

// Defaults and limits of [LoginCodes].
const (
	DefaultCodeTTL      = 5 * time.Minute
	MaxCodeTTL          = 10 * time.Minute
	DefaultCodeAttempts = 5
	DefaultCodeCooldown = 30 * time.Second
	codeDigits          = 6
	minKeyBytes         = 32
)

// Errors of [LoginCodes.Issue] and [LoginCodes.Verify]. They never contain the
// code or the account.
var (
	// ErrNoCode means there is no code for this account and login attempt:
	// none was issued, or a newer one replaced it.
	ErrNoCode = errors.New("password: no verification code for this login attempt: request a new one")
	// ErrWrongCode means the code was wrong; a [*WrongCodeError] says how
	// many tries are left.
	ErrWrongCode = errors.New("password: wrong verification code")
	// ErrCodeExpired means the code's lifetime has passed.
	ErrCodeExpired = errors.New("password: verification code expired: request a new one")
	// ErrCodeUsed means the code was already used.
	ErrCodeUsed = errors.New("password: verification code already used: log in again")
	// ErrCodeAttempts means the code was entered wrongly too often.
	ErrCodeAttempts = errors.New("password: verification code entered wrongly too often: request a new one")
	// ErrCooldown means a new code was requested too soon after the last;
	// a [*CooldownError] says until when to wait.
	ErrCooldown = errors.New("password: a new verification code was requested too soon")
)

// WrongCodeError is returned for a wrong code, with the number of tries left
// for this code (0: request a new one).
type WrongCodeError struct{ Remaining int }

func (e *WrongCodeError) Error() string {
	return ErrWrongCode.Error() + " (" + strconv.Itoa(e.Remaining) + " tries left)"
}

// Is reports whether target is ErrWrongCode.
func (e *WrongCodeError) Is(target error) bool { return target == ErrWrongCode }

// CooldownError is returned when a code is requested before the resend
// cooldown of the previous one has passed.
type CooldownError struct{ Until time.Time }

func (e *CooldownError) Error() string {
	return ErrCooldown.Error() + ": wait until " + e.Until.UTC().Format(time.RFC3339)
}

// Is reports whether target is ErrCooldown.
func (e *CooldownError) Is(target error) bool { return target == ErrCooldown }

// Challenge is a login verification code as stored: never the code itself,
// only its HMAC, bound to the account and to one login attempt.
type Challenge struct {
	Account  string    // the account the code was sent for
	Attempt  string    // the login attempt it belongs to, such as the pre-login session ID
	MAC      []byte    // HMAC-SHA-256 of account, attempt and code under LoginCodes.Key
	Issued   time.Time // when it was issued
	Expires  time.Time // when it stops being valid
	Attempts int       // entries counted so far, wrong or right
	Used     time.Time // when it was used; zero if not yet
}

func (c Challenge) clone() Challenge {
	c.MAC = append([]byte(nil), c.MAC...)
	return c
}

// CodeStore keeps the current login code [Challenge] of each account, for
// [LoginCodes]. Each method must be atomic and safe for concurrent use;
// package passwordtest has a conformance test. In SQL, with a table keyed by
// account:
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
type CodeStore interface {
	// Replace stores c as the only challenge of c.Account, replacing any
	// earlier one, unless the account has a challenge issued after
	// notBefore. It returns the account's challenge afterwards and whether
	// it is c.
	Replace(ctx context.Context, c Challenge, notBefore time.Time) (Challenge, bool, error)

	// CountAttempt increments the Attempts of the account's challenge if
	// it belongs to attempt, is unused, expires after now and has fewer
	// than max attempts, and returns it with counted true. If it belongs to
	// attempt but fails a condition, it returns it unchanged with counted
	// false. Otherwise it returns ErrNoCode.
	CountAttempt(ctx context.Context, account, attempt string, now time.Time, max int) (c Challenge, counted bool, err error)

	// Consume sets Used of the account's challenge to now if it belongs to
	// attempt and is unused, and reports whether this call did.
	Consume(ctx context.Context, account, attempt string, now time.Time) (bool, error)
}

// Channel delivers login codes to users. The application implements it, for
// e-mail or SMS. Both are restricted authenticators in NIST SP 800-63B-4
// §3.1.3 (e-mail does not even prove possession of a device: it is not
// an acceptable out-of-band channel there); see the package documentation.
type Channel interface {
	// Send delivers code to the person behind account, valid until
	// expires. It must not log the code.
	Send(ctx context.Context, account, code string, expires time.Time) error
}

// ChannelFunc adapts a function to the [Channel] interface.
type ChannelFunc func(ctx context.Context, account, code string, expires time.Time) error

// Send calls f.
func (f ChannelFunc) Send(ctx context.Context, account, code string, expires time.Time) error {
	return f(ctx, account, code, expires)
}

// LoginCodes issues and verifies the one-time verification codes of a
// login's second step (Almere: "bij iedere inlogpoging krijgt u een nieuwe
// verificatiecode"): 6 digits from crypto/rand, a new code for every login
// attempt, replacing the previous one; valid for TTL (5 minutes, at most 10);
// single use; bound to the account and the login attempt; stored only as an
// HMAC; at most MaxAttempts entries per code; and no new code within Cooldown
// of the last.
//
// Set Throttle to count wrong codes as failed logins of the account: those
// failures survive a new code, and a correct code resets them. The key is
// the account string, so use the same key for the password step.
//
// Key is required. Store may be nil for a private in-memory store (one
// process only). A LoginCodes must not be copied after first use.
type LoginCodes struct {
	Key         []byte           // HMAC key of at least 32 bytes, from configuration
	Store       CodeStore        // nil: a private MemoryStore
	Throttle    *Throttle        // optional: wrong codes are failures of the account
	TTL         time.Duration    // 0: DefaultCodeTTL; at most MaxCodeTTL
	MaxAttempts int              // 0: DefaultCodeAttempts
	Cooldown    time.Duration    // 0: DefaultCodeCooldown; negative: none
	Now         func() time.Time // nil: time.Now
	Rand        io.Reader        // nil: crypto/rand; set only in tests

	once sync.Once
	mem  *MemoryStore
}

func (lc *LoginCodes) store() CodeStore {
	if lc.Store != nil {
		return lc.Store
	}
	lc.once.Do(func() { lc.mem = new(MemoryStore) })
	return lc.mem
}

func (lc *LoginCodes) now() time.Time {
	if lc.Now != nil {
		return lc.Now()
	}
	return time.Now()
}

func (lc *LoginCodes) config() (ttl time.Duration, attempts int, cooldown time.Duration, err error) {
	ttl = orDefault(lc.TTL, DefaultCodeTTL)
	attempts = orDefault(lc.MaxAttempts, DefaultCodeAttempts)
	cooldown = orDefault(lc.Cooldown, DefaultCodeCooldown)
	switch {
	case len(lc.Key) < minKeyBytes:
		err = errors.New("password: LoginCodes.Key must have at least 32 bytes")
	case ttl < 0 || ttl > MaxCodeTTL:
		err = errors.New("password: LoginCodes.TTL must lie between 0 and 10 minutes")
	case attempts < 0:
		err = errors.New("password: LoginCodes.MaxAttempts must not be negative")
	}
	return max(ttl, 0), attempts, max(cooldown, 0), err
}

// Issue creates a new code for this login attempt of account, replacing
// any earlier code of the account, stores its HMAC and sends it through ch.
// It returns when the code expires. Within the cooldown of the previous code
// it sends nothing and returns a [*CooldownError].
//
// attempt identifies the login attempt: a random ID of the half-finished
// login (the pre-login session), never guessable or shared between attempts.
func (lc *LoginCodes) Issue(ctx context.Context, ch Channel, account, attempt string) (time.Time, error) {
	ttl, _, cooldown, err := lc.config()
	if err != nil {
		return time.Time{}, err
	}
	if attempt == "" {
		return time.Time{}, errors.New("password: LoginCodes.Issue needs the login attempt's ID")
	}
	code, err := randomDigits(lc.Rand, codeDigits)
	if err != nil {
		return time.Time{}, err
	}
	now := lc.now()
	c := Challenge{
		Account: account,
		Attempt: attempt,
		MAC:     lc.mac(account, attempt, code),
		Issued:  now,
		Expires: now.Add(ttl),
	}
	cur, ok, err := lc.store().Replace(ctx, c, now.Add(-cooldown))
	if err != nil {
		return time.Time{}, err
	}
	if !ok {
		return time.Time{}, &CooldownError{Until: cur.Issued.Add(cooldown)}
	}
	if err := ch.Send(ctx, account, code, c.Expires); err != nil {
		return time.Time{}, fmt.Errorf("password: sending the verification code: %w", err)
	}
	return c.Expires, nil
}

// Verify checks code for this login attempt of account. The entry is
// counted before it is checked; a correct code is consumed, so it works once.
// It returns nil, or an error matching [ErrWrongCode] (a [*WrongCodeError]),
// [ErrCodeExpired], [ErrCodeUsed], [ErrCodeAttempts], [ErrNoCode] or, with a
// Throttle, [ErrThrottled]. Spaces and hyphens in code are ignored, and
// fullwidth digits are read as digits.
func (lc *LoginCodes) Verify(ctx context.Context, account, attempt, code string) error {
	_, maxAttempts, _, err := lc.config()
	if err != nil {
		return err
	}
	if lc.Throttle != nil {
		if err := lc.Throttle.Attempt(ctx, account); err != nil {
			return err
		}
	}
	now := lc.now()
	c, counted, err := lc.store().CountAttempt(ctx, account, attempt, now, maxAttempts)
	switch {
	case err != nil:
		return err
	case !c.Used.IsZero():
		return ErrCodeUsed
	case !now.Before(c.Expires):
		return ErrCodeExpired
	case !counted:
		return ErrCodeAttempts
	}
	if !hmac.Equal(lc.mac(account, attempt, cleanCode(code)), c.MAC) {
		return &WrongCodeError{Remaining: max(maxAttempts-c.Attempts, 0)}
	}
	ok, err := lc.store().Consume(ctx, account, attempt, now)
	if err != nil {
		return err
	}
	if !ok {
		return ErrCodeUsed // a concurrent request used it first
	}
	if lc.Throttle != nil {
		return lc.Throttle.Success(ctx, account)
	}
	return nil
}

// mac binds the code to the account and the login attempt. Lengths are
// included so that no two different triples give the same input.
func (lc *LoginCodes) mac(account, attempt, code string) []byte {
	m := hmac.New(sha256.New, lc.Key)
	for _, s := range [...]string{"zorgkit login code v1", account, attempt, code} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		m.Write(n[:])
		m.Write([]byte(s))
	}
	return m.Sum(nil)
}

// cleanCode returns code as typed without spaces and hyphens, with
// fullwidth digits folded, or "" if it is too long to be a code.
func cleanCode(code string) string {
	if len(code) > 64 {
		return ""
	}
	code = norm.NFKC.String(code)
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
}

// randomDigits returns n uniformly random decimal digits from r (crypto/rand
// if nil).
func randomDigits(r io.Reader, n int) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, n)
	var buf [1]byte
	for i := 0; i < n; {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return "", fmt.Errorf("password: reading random digits: %w", err)
		}
		if buf[0] >= 250 { // 250 = 25·10: reject to keep the digits uniform
			continue
		}
		b[i] = '0' + buf[0]%10
		i++
	}
	return string(b), nil
}

// Package otp issues and checks the one-time passwords of a login's second
// step: a code sent by e-mail or SMS ([OutOfBand]), or one from an
// authenticator app ([TOTP], RFC 6238).
//
// # Sent by e-mail or SMS
//
// The Gemeenteportaal sends a new verification code at every login ("bij
// iedere inlogpoging krijgt u een nieuwe verificatiecode"). [OutOfBand]
// makes them: 6 digits from crypto/rand, a new one for every login attempt,
// replacing the previous one; valid for 5 minutes (at most 10); single use;
// bound to the account and the login attempt; stored only as an HMAC; at most
// 5 entries per one-time password, each counted before it is checked; no new
// one within 30 seconds of the last. A [Store] keeps them, typically in the
// application's SQL database, so that every server instance sees the same
// ones; package otptest has a conformance test, and [MemoryStore] is for a
// single process and tests.
//
// Both channels are restricted authenticators in NIST SP 800-63B-4 §3.1.3:
// SMS runs over the public telephone network, and e-mail proves no
// possession of a device at all and is not an acceptable out-of-band channel
// there. OWASP ASVS 5.0 likewise ranks them below authenticator apps. Offer
// [TOTP] alongside.
//
// # Authenticator apps
//
// [TOTP] checks time-based one-time passwords (RFC 6238) with the parameters
// every authenticator app uses: HMAC-SHA-1, 6 digits, 30-second steps, one
// step of clock drift either way, each accepted once.
//
// # Guessing
//
// A 6-digit one-time password is guessed with probability one in a million
// per try (three in a million for TOTP, which accepts three steps). Count
// wrong entries per account across one-time passwords with a
// [Config].Limiter, such as the account key of package throttle, so that
// asking for a new one does not buy new guesses.
//
// Errors never contain a one-time password, a key or the account. Their
// Message method gives the text for the user, in Dutch or English.
package otp

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"

	"github.com/zorgkit/zorgkit/password/internal/i18n"
)

// Errors of [OutOfBand] and [TOTP]. They never contain the one-time password
// or the account.
var (
	// ErrNotIssued means there is no one-time password for this account
	// and login attempt: none was issued, or a newer one replaced it.
	ErrNotIssued error = &msgError{"otp: no one-time password for this login attempt: request a new one", keyNotIssued}
	// ErrWrong means the one-time password was wrong; from OutOfBand, a
	// [*WrongError] says how many tries are left.
	ErrWrong error = &msgError{"otp: wrong one-time password", keyWrong}
	// ErrExpired means its lifetime has passed.
	ErrExpired error = &msgError{"otp: one-time password expired: request a new one", keyExpired}
	// ErrUsed means it was already used.
	ErrUsed error = &msgError{"otp: one-time password already used: log in again", keyUsed}
	// ErrAttempts means it was entered wrongly too often.
	ErrAttempts error = &msgError{"otp: one-time password entered wrongly too often: request a new one", keyAttempts}
	// ErrCooldown means a new one was requested too soon after the last;
	// a [*CooldownError] says how long to wait.
	ErrCooldown = errors.New("otp: a new one-time password was requested too soon")
)

// msgError is an error with a message for the user.
type msgError struct{ text, key string }

func (e *msgError) Error() string { return e.text }

// Message returns the message for the user, in Dutch (the default) or
// English.
func (e *msgError) Message(tag language.Tag) string { return messages.Sprintf(tag, e.key) }

// WrongError is returned for a wrong one-time password, with the number of
// tries left for it (0: request a new one).
type WrongError struct{ Remaining int }

// Error says how many tries are left.
func (e *WrongError) Error() string {
	return ErrWrong.Error() + " (" + strconv.Itoa(e.Remaining) + " tries left)"
}

// Is reports whether target is ErrWrong.
func (e *WrongError) Is(target error) bool { return target == ErrWrong }

// Message returns the message for the user, in Dutch (the default) or
// English, with the tries left.
func (e *WrongError) Message(tag language.Tag) string {
	return messages.Sprintf(tag, keyWrongLeft, e.Remaining)
}

// CooldownError is returned when a one-time password is requested before
// the resend cooldown of the previous one has passed.
type CooldownError struct{ Wait time.Duration }

// Error says how long to wait.
func (e *CooldownError) Error() string {
	return ErrCooldown.Error() + ": wait " + e.Wait.Round(time.Second).String()
}

// Is reports whether target is ErrCooldown.
func (e *CooldownError) Is(target error) bool { return target == ErrCooldown }

// Message returns the message for the user, in Dutch (the default) or
// English, with the wait in whole seconds, rounded up.
func (e *CooldownError) Message(tag language.Tag) string {
	return messages.Sprintf(tag, keyCooldown, i18n.CeilUnits(int64(e.Wait), int64(time.Second)))
}

// clean returns a one-time password as typed without spaces and hyphens,
// with fullwidth digits folded, or "" if it is too long to be one.
func clean(otp string) string {
	if len(otp) > 64 {
		return ""
	}
	otp = norm.NFKC.String(otp)
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, otp)
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
			return "", fmt.Errorf("otp: reading random digits: %w", err)
		}
		if buf[0] >= 250 { // 250 = 25·10: reject to keep the digits uniform
			continue
		}
		b[i] = '0' + buf[0]%10
		i++
	}
	return string(b), nil
}

const (
	keyNotIssued = "not_issued"
	keyWrong     = "wrong"
	keyWrongLeft = "wrong_left"
	keyExpired   = "expired"
	keyUsed      = "used"
	keyAttempts  = "attempts"
	keyCooldown  = "cooldown"
)

var messages = i18n.New(func(c *i18n.Catalog) {
	c.Set(keyWrong,
		"De verificatiecode is onjuist.",
		"The verification code is incorrect.")
	c.SetPlural(keyWrongLeft,
		[]any{"=0", "De verificatiecode is onjuist. Vraag een nieuwe code aan.",
			"one", "De verificatiecode is onjuist. U kunt het nog %d keer proberen.",
			"other", "De verificatiecode is onjuist. U kunt het nog %d keer proberen."},
		[]any{"=0", "The verification code is incorrect. Request a new code.",
			"one", "The verification code is incorrect. You have %d more try.",
			"other", "The verification code is incorrect. You have %d more tries."})
	c.Set(keyExpired,
		"De verificatiecode is verlopen. Vraag een nieuwe code aan.",
		"The verification code has expired. Request a new code.")
	c.Set(keyUsed,
		"Deze verificatiecode is al gebruikt. Log opnieuw in.",
		"This verification code has already been used. Log in again.")
	c.Set(keyAttempts,
		"De verificatiecode is te vaak onjuist ingevuld. Vraag een nieuwe code aan.",
		"The verification code was entered incorrectly too often. Request a new code.")
	c.Set(keyNotIssued,
		"Er is geen geldige verificatiecode voor deze inlogpoging. Vraag een nieuwe code aan.",
		"There is no valid verification code for this login attempt. Request a new code.")
	c.SetPlural(keyCooldown,
		[]any{"one", "U heeft net een code aangevraagd. Wacht %d seconde voordat u een nieuwe aanvraagt.",
			"other", "U heeft net een code aangevraagd. Wacht %d seconden voordat u een nieuwe aanvraagt."},
		[]any{"one", "You have just requested a code. Wait %d second before you request a new one.",
			"other", "You have just requested a code. Wait %d seconds before you request a new one."})
})

package password

import (
	"errors"
	"time"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message/catalog"
)

// Message keys of ErrorMessage.
const (
	keyErrLogin       = "error.login"
	keyErrWrongCode   = "error.wrong_code"
	keyErrCodeExpired = "error.code_expired"
	keyErrCodeUsed    = "error.code_used"
	keyErrCodeTries   = "error.code_attempts"
	keyErrNoCode      = "error.no_code"
	keyErrCooldown    = "error.cooldown"
	keyErrWaitMinutes = "error.throttled_minutes"
	keyErrWaitSeconds = "error.throttled_seconds"
	keyErrLocked      = "error.locked"
	keyErrReset       = "error.reset"
	keyErrEmail       = "error.email"
)

func addErrorMessages(b *catalog.Builder) {
	set := func(key, nl, en string) {
		mustSet(b.SetString(language.Dutch, key, nl))
		mustSet(b.SetString(language.English, key, en))
	}
	setPlural := func(key string, nl, en []any) {
		mustSet(b.Set(language.Dutch, key, plural.Selectf(1, "%d", nl...)))
		mustSet(b.Set(language.English, key, plural.Selectf(1, "%d", en...)))
	}
	set(keyErrLogin,
		"De gebruikersnaam of het wachtwoord is onjuist.",
		"The username or password is incorrect.")
	setPlural(keyErrWrongCode,
		[]any{"=0", "De verificatiecode is onjuist. Vraag een nieuwe code aan.",
			plural.One, "De verificatiecode is onjuist. U kunt het nog %d keer proberen.",
			plural.Other, "De verificatiecode is onjuist. U kunt het nog %d keer proberen."},
		[]any{"=0", "The verification code is incorrect. Request a new code.",
			plural.One, "The verification code is incorrect. You have %d more try.",
			plural.Other, "The verification code is incorrect. You have %d more tries."})
	set(keyErrCodeExpired,
		"De verificatiecode is verlopen. Vraag een nieuwe code aan.",
		"The verification code has expired. Request a new code.")
	set(keyErrCodeUsed,
		"Deze verificatiecode is al gebruikt. Log opnieuw in.",
		"This verification code has already been used. Log in again.")
	set(keyErrCodeTries,
		"De verificatiecode is te vaak onjuist ingevuld. Vraag een nieuwe code aan.",
		"The verification code was entered incorrectly too often. Request a new code.")
	set(keyErrNoCode,
		"Er is geen geldige verificatiecode voor deze inlogpoging. Vraag een nieuwe code aan.",
		"There is no valid verification code for this login attempt. Request a new code.")
	setPlural(keyErrCooldown,
		[]any{plural.One, "U heeft net een code aangevraagd. Wacht %d seconde voordat u een nieuwe aanvraagt.",
			plural.Other, "U heeft net een code aangevraagd. Wacht %d seconden voordat u een nieuwe aanvraagt."},
		[]any{plural.One, "You have just requested a code. Wait %d second before you request a new one.",
			plural.Other, "You have just requested a code. Wait %d seconds before you request a new one."})
	setPlural(keyErrWaitMinutes,
		[]any{plural.One, "Te veel mislukte pogingen. Probeer het over %d minuut opnieuw.",
			plural.Other, "Te veel mislukte pogingen. Probeer het over %d minuten opnieuw."},
		[]any{plural.One, "Too many failed attempts. Try again in %d minute.",
			plural.Other, "Too many failed attempts. Try again in %d minutes."})
	setPlural(keyErrWaitSeconds,
		[]any{plural.One, "Te veel mislukte pogingen. Probeer het over %d seconde opnieuw.",
			plural.Other, "Te veel mislukte pogingen. Probeer het over %d seconden opnieuw."},
		[]any{plural.One, "Too many failed attempts. Try again in %d second.",
			plural.Other, "Too many failed attempts. Try again in %d seconds."})
	set(keyErrLocked,
		"Te veel mislukte pogingen: inloggen is geblokkeerd. Neem contact op met uw beheerder.",
		"Too many failed attempts: logging in is blocked. Contact your administrator.")
	set(keyErrReset,
		"Deze link is ongeldig of verlopen. Vraag een nieuwe link aan.",
		"This link is invalid or has expired. Request a new link.")
	set(keyErrEmail,
		"Vul een geldig e-mailadres in, zoals naam@organisatie.nl.",
		"Enter a valid e-mail address, such as name@organisation.nl.")
}

// ErrorMessage returns the message to show a user for an error of this
// package, in Dutch or English (see [Violation.Message]), or "" for an error
// it does not know. now is the current time, for errors that say how long to
// wait. For a [*PolicyError] it returns the message of the first violation;
// use [PolicyError.Messages] for all.
//
// [ErrMismatch] gets "the username or password is incorrect": show the same
// message for an unknown username, so that the page does not reveal which
// accounts exist.
func ErrorMessage(err error, tag language.Tag, now time.Time) string {
	p := printer(tag)
	var (
		perr     *PolicyError
		wrong    *WrongCodeError
		cooldown *CooldownError
		throttle *ThrottleError
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &perr) && len(perr.Violations) > 0:
		return message(p, perr.Violations[0])
	case errors.As(err, &wrong):
		return p.Sprintf(keyErrWrongCode, wrong.Remaining)
	case errors.As(err, &cooldown):
		return p.Sprintf(keyErrCooldown, ceilUnits(cooldown.Until.Sub(now), time.Second))
	case errors.As(err, &throttle):
		if throttle.Until.IsZero() {
			return p.Sprintf(keyErrLocked)
		}
		wait := throttle.Until.Sub(now)
		if wait > time.Minute {
			return p.Sprintf(keyErrWaitMinutes, ceilUnits(wait, time.Minute))
		}
		return p.Sprintf(keyErrWaitSeconds, ceilUnits(wait, time.Second))
	case errors.Is(err, ErrMismatch):
		return p.Sprintf(keyErrLogin)
	case errors.Is(err, ErrCodeExpired):
		return p.Sprintf(keyErrCodeExpired)
	case errors.Is(err, ErrCodeUsed):
		return p.Sprintf(keyErrCodeUsed)
	case errors.Is(err, ErrCodeAttempts):
		return p.Sprintf(keyErrCodeTries)
	case errors.Is(err, ErrNoCode):
		return p.Sprintf(keyErrNoCode)
	case errors.Is(err, ErrResetInvalid):
		return p.Sprintf(keyErrReset)
	case errors.Is(err, ErrEmailInvalid):
		return p.Sprintf(keyErrEmail)
	}
	return ""
}

// ceilUnits returns d in whole units, rounded up, and at least 1.
func ceilUnits(d, unit time.Duration) int {
	return max(int((d+unit-1)/unit), 1)
}

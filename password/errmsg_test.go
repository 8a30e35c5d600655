package password_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/password"
)

func TestErrorMessage(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		err    error
		nl, en string
	}{
		{password.ErrMismatch, "De gebruikersnaam of het wachtwoord is onjuist.", "The username or password is incorrect."},
		{&password.WrongCodeError{Remaining: 3}, "De verificatiecode is onjuist. U kunt het nog 3 keer proberen.", "The verification code is incorrect. You have 3 more tries."},
		{&password.WrongCodeError{Remaining: 1}, "De verificatiecode is onjuist. U kunt het nog 1 keer proberen.", "The verification code is incorrect. You have 1 more try."},
		{&password.WrongCodeError{Remaining: 0}, "De verificatiecode is onjuist. Vraag een nieuwe code aan.", "The verification code is incorrect. Request a new code."},
		{password.ErrCodeExpired, "De verificatiecode is verlopen. Vraag een nieuwe code aan.", "The verification code has expired. Request a new code."},
		{password.ErrCodeUsed, "Deze verificatiecode is al gebruikt. Log opnieuw in.", "This verification code has already been used. Log in again."},
		{password.ErrCodeAttempts, "De verificatiecode is te vaak onjuist ingevuld. Vraag een nieuwe code aan.", "The verification code was entered incorrectly too often. Request a new code."},
		{password.ErrNoCode, "Er is geen geldige verificatiecode voor deze inlogpoging. Vraag een nieuwe code aan.", "There is no valid verification code for this login attempt. Request a new code."},
		{&password.CooldownError{Until: now.Add(25*time.Second + time.Millisecond)}, "U heeft net een code aangevraagd. Wacht 26 seconden voordat u een nieuwe aanvraagt.", "You have just requested a code. Wait 26 seconds before you request a new one."},
		{&password.ThrottleError{Failures: 7, Until: now.Add(90 * time.Second)}, "Te veel mislukte pogingen. Probeer het over 2 minuten opnieuw.", "Too many failed attempts. Try again in 2 minutes."},
		{&password.ThrottleError{Failures: 5, Until: now.Add(30 * time.Second)}, "Te veel mislukte pogingen. Probeer het over 30 seconden opnieuw.", "Too many failed attempts. Try again in 30 seconds."},
		{&password.ThrottleError{Failures: 5, Until: now.Add(time.Second)}, "Te veel mislukte pogingen. Probeer het over 1 seconde opnieuw.", "Too many failed attempts. Try again in 1 second."},
		{&password.ThrottleError{Failures: 100}, "Te veel mislukte pogingen: inloggen is geblokkeerd. Neem contact op met uw beheerder.", "Too many failed attempts: logging in is blocked. Contact your administrator."},
		{password.ErrResetInvalid, "Deze link is ongeldig of verlopen. Vraag een nieuwe link aan.", "This link is invalid or has expired. Request a new link."},
		{password.ErrEmailInvalid, "Vul een geldig e-mailadres in, zoals naam@organisatie.nl.", "Enter a valid e-mail address, such as name@organisation.nl."},
		{&password.PolicyError{Violations: []password.Violation{{Code: password.CodeTooShort, N: 8}}}, "Kies een wachtwoord van minstens 8 tekens.", "Choose a password of at least 8 characters."},
		{fmt.Errorf("login: %w", password.ErrCodeExpired), "De verificatiecode is verlopen. Vraag een nieuwe code aan.", "The verification code has expired. Request a new code."},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			assert.Equal(t, tt.nl, password.ErrorMessage(tt.err, language.Dutch, now))
			assert.Equal(t, tt.en, password.ErrorMessage(tt.err, language.English, now))
			assert.False(t, strings.Contains(tt.nl, "%!"))
		})
	}
	assert.Empty(t, password.ErrorMessage(nil, language.Dutch, now))
	assert.Empty(t, password.ErrorMessage(errors.New("database down"), language.Dutch, now), "not an error of this package")
}

package password_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/password"
	"github.com/zorgkit/zorgkit/password/email"
	"github.com/zorgkit/zorgkit/password/otp"
	"github.com/zorgkit/zorgkit/password/reset"
	"github.com/zorgkit/zorgkit/password/throttle"
)

// TestErrorMessage: ErrorMessage finds the message of the errors of this
// package and its subpackages, through wrapping.
func TestErrorMessage(t *testing.T) {
	tests := []struct {
		err    error
		nl, en string
	}{
		{password.ErrMismatch, "De gebruikersnaam of het wachtwoord is onjuist.", "The username or password is incorrect."},
		{fmt.Errorf("login: %w", password.ErrMismatch), "De gebruikersnaam of het wachtwoord is onjuist.", "The username or password is incorrect."},
		{&password.PolicyError{Violations: []password.Violation{{Code: password.CodeTooShort, N: 8}, {Code: password.CodeMissingCategory, Categories: password.Digit}}},
			"Kies een wachtwoord van minstens 8 tekens. Gebruik minstens één cijfer (0 tot en met 9).",
			"Choose a password of at least 8 characters. Use at least one digit (0 to 9)."},
		{&otp.WrongError{Remaining: 3}, "De verificatiecode is onjuist. U kunt het nog 3 keer proberen.", "The verification code is incorrect. You have 3 more tries."},
		{fmt.Errorf("login: %w", otp.ErrExpired), "De verificatiecode is verlopen. Vraag een nieuwe code aan.", "The verification code has expired. Request a new code."},
		{&throttle.Error{Failures: 5, Wait: 30e9}, "Te veel mislukte pogingen. Probeer het over 30 seconden opnieuw.", "Too many failed attempts. Try again in 30 seconds."},
		{reset.ErrInvalid, "Deze link of dit tijdelijke wachtwoord is ongeldig of verlopen. Vraag een nieuwe aan via 'Wachtwoord vergeten?'.", "This link or temporary password is invalid or has expired. Request a new one through 'Forgot password?'."},
		{email.ErrInvalid, "Vul een geldig e-mailadres in, zoals naam@organisatie.nl.", "Enter a valid e-mail address, such as name@organisation.nl."},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			assert.Equal(t, tt.nl, password.ErrorMessage(tt.err, language.Dutch))
			assert.Equal(t, tt.en, password.ErrorMessage(tt.err, language.English))
		})
	}
	assert.Empty(t, password.ErrorMessage(nil, language.Dutch))
	assert.Empty(t, password.ErrorMessage(errors.New("database down"), language.Dutch), "not an error of these packages")
}

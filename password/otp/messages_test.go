package otp_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/password/otp"
)

// TestMessages: every error a user can meet has a Dutch and an English
// message.
func TestMessages(t *testing.T) {
	tests := []struct {
		err    error
		nl, en string
	}{
		{&otp.WrongError{Remaining: 3}, "De verificatiecode is onjuist. U kunt het nog 3 keer proberen.", "The verification code is incorrect. You have 3 more tries."},
		{&otp.WrongError{Remaining: 1}, "De verificatiecode is onjuist. U kunt het nog 1 keer proberen.", "The verification code is incorrect. You have 1 more try."},
		{&otp.WrongError{Remaining: 0}, "De verificatiecode is onjuist. Vraag een nieuwe code aan.", "The verification code is incorrect. Request a new code."},
		{otp.ErrWrong, "De verificatiecode is onjuist.", "The verification code is incorrect."},
		{otp.ErrExpired, "De verificatiecode is verlopen. Vraag een nieuwe code aan.", "The verification code has expired. Request a new code."},
		{otp.ErrUsed, "Deze verificatiecode is al gebruikt. Log opnieuw in.", "This verification code has already been used. Log in again."},
		{otp.ErrAttempts, "De verificatiecode is te vaak onjuist ingevuld. Vraag een nieuwe code aan.", "The verification code was entered incorrectly too often. Request a new code."},
		{otp.ErrNotIssued, "Er is geen geldige verificatiecode voor deze inlogpoging. Vraag een nieuwe code aan.", "There is no valid verification code for this login attempt. Request a new code."},
		{&otp.CooldownError{Wait: 25*time.Second + time.Millisecond}, "U heeft net een code aangevraagd. Wacht 26 seconden voordat u een nieuwe aanvraagt.", "You have just requested a code. Wait 26 seconds before you request a new one."},
		{&otp.CooldownError{Wait: time.Second}, "U heeft net een code aangevraagd. Wacht 1 seconde voordat u een nieuwe aanvraagt.", "You have just requested a code. Wait 1 second before you request a new one."},
		{fmt.Errorf("login: %w", otp.ErrExpired), "De verificatiecode is verlopen. Vraag een nieuwe code aan.", "The verification code has expired. Request a new code."},
	}
	type messager interface{ Message(language.Tag) string }
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			var m messager
			require.ErrorAs(t, tt.err, &m)
			assert.Equal(t, tt.nl, m.Message(language.Dutch))
			assert.Equal(t, tt.en, m.Message(language.English))
			assert.Equal(t, tt.en, m.Message(language.BritishEnglish))
			assert.False(t, strings.Contains(tt.nl+tt.en, "%!"))
		})
	}
}

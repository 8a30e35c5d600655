package otp_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/password/otp"
)

// Send a one-time password at the login's second step, as the
// Gemeenteportaal does at every login, and verify what the user types.
func ExampleOutOfBand() {
	ctx := context.Background()
	codes, err := otp.NewOutOfBand(otp.Config{
		Key:   bytes.Repeat([]byte{1}, 32), // from configuration in real use
		Store: otp.NewMemoryStore(),        // a shared SQL store with several instances
		Rand:  strings.NewReader("123456"), // crypto/rand in real use
		Now:   func() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	var sent string
	email := otp.ChannelFunc(func(_ context.Context, account, otp string, expires time.Time) error {
		sent = otp // send it by e-mail or SMS; never log it
		return nil
	})

	expires, err := codes.Issue(ctx, email, "acct-42", "login-7f3a")
	fmt.Println(err, expires.Format("15:04"))

	err = codes.Verify(ctx, "acct-42", "login-7f3a", "000000")
	fmt.Println(err)
	fmt.Println(err.(*otp.WrongError).Message(language.Dutch))
	fmt.Println(codes.Verify(ctx, "acct-42", "login-7f3a", sent))
	fmt.Println(codes.Verify(ctx, "acct-42", "login-7f3a", sent))
	// Output:
	// <nil> 09:05
	// otp: wrong one-time password (4 tries left)
	// De verificatiecode is onjuist. U kunt het nog 4 keer proberen.
	// <nil>
	// otp: one-time password already used: log in again
}

// Verify a one-time password from an authenticator app, once.
func ExampleTOTP() {
	secret := []byte("12345678901234567890") // from NewTOTPSecret at enrolment
	now := time.Unix(1234567890, 0)
	totp := &otp.TOTP{Now: func() time.Time { return now }}

	var lastStep int64 // stored with the user
	step, err := totp.Verify(secret, "005924", lastStep)
	fmt.Println(err)
	lastStep = step
	_, err = totp.Verify(secret, "005924", lastStep)
	fmt.Println(err)
	// Output:
	// <nil>
	// otp: one-time password already used: log in again
}

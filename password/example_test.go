package password_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/password"
)

// Check a new password against Portero's rules and show every problem, in
// Dutch, at once.
func ExamplePolicy_Check() {
	policy := password.Portero()
	user := password.User{Name: "Jan de Vries", Username: "jdevries"}

	err := policy.Check("vries", user)
	var perr *password.PolicyError
	if errors.As(err, &perr) {
		for _, msg := range perr.Messages(language.Dutch) {
			fmt.Println("-", msg)
		}
	}
	fmt.Println(policy.Check("Kwast7!mop", user))
	// Output:
	// - Kies een wachtwoord van minstens 8 tekens.
	// - Gebruik tekens uit minstens 3 van deze soorten: hoofdletters, kleine letters, cijfers en leestekens (zoals ! $ # %). Voeg bijvoorbeeld een hoofdletter, een cijfer of een leesteken toe.
	// - Het wachtwoord mag geen deel van uw naam bevatten. Kies een wachtwoord zonder uw naam.
	// <nil>
}

// The portals' composition rules accept passwords that attackers guess
// first; adding NotCommon refuses them.
func ExampleNotCommon() {
	policy := password.Almere()
	policy.Rules = append(policy.Rules, password.NotCommon("almere", "gemeenteportaal"))
	for _, pw := range []string{"Welkom2025!", "Zomer2024!", "Almere2026!", "kT9#mQ2vLx!p"} {
		err := policy.Check(pw, password.User{})
		var perr *password.PolicyError
		if errors.As(err, &perr) {
			fmt.Println(pw, perr.Violations[0].Code)
		} else {
			fmt.Println(pw, "ok")
		}
	}
	// Output:
	// Welkom2025! guessable
	// Zomer2024! guessable
	// Almere2026! guessable
	// kT9#mQ2vLx!p ok
}

// Hash a password at sign-up, verify it at login, and rehash when the
// parameters have been raised since.
func ExampleHasher() {
	var h password.Hasher // argon2id, m=19 MiB, t=2, p=1
	encoded, err := h.Hash("correct horse battery staple")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.HasPrefix(encoded, "$argon2id$v=19$m=19456,t=2,p=1$"))

	fmt.Println(h.Verify(encoded, "correct horse battery staple"))
	fmt.Println(h.Verify(encoded, "Correct horse battery staple"))

	stronger := password.Hasher{Params: password.Params{Memory: 64 * 1024, Time: 3, Threads: 4, SaltLength: 16, KeyLength: 32}}
	fmt.Println(stronger.NeedsRehash(encoded))
	// Output:
	// true
	// <nil>
	// password: the password does not match the hash
	// true
}

// Issue a verification code at the login's second step, as the
// Gemeenteportaal does at every login, and verify what the user types.
func ExampleLoginCodes() {
	ctx := context.Background()
	codes := &password.LoginCodes{
		Key:  bytes.Repeat([]byte{1}, 32), // from configuration in real use
		Rand: strings.NewReader("123456"), // crypto/rand in real use
		Now:  func() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) },
	}
	var sent string
	email := password.ChannelFunc(func(_ context.Context, account, code string, expires time.Time) error {
		sent = code // send it by e-mail or SMS; never log it
		return nil
	})

	expires, err := codes.Issue(ctx, email, "acct-42", "login-7f3a")
	fmt.Println(err, expires.Format("15:04"))

	fmt.Println(codes.Verify(ctx, "acct-42", "login-7f3a", "000000"))
	fmt.Println(codes.Verify(ctx, "acct-42", "login-7f3a", sent))
	fmt.Println(codes.Verify(ctx, "acct-42", "login-7f3a", sent))
	// Output:
	// <nil> 09:05
	// password: wrong verification code (4 tries left)
	// <nil>
	// password: verification code already used: log in again
}

// Tell a Portero user at login that the password expires soon.
func ExamplePolicy_Status() {
	policy := password.Portero()
	account := password.Account{
		LastLogin:   time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC),
		PasswordSet: time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC),
	}
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	s := policy.Status(account, now)
	fmt.Println(s.ExpiresAt.Format(time.DateOnly), s.CanLogin(), s.MustChange())
	fmt.Println(s.Message(language.Dutch))
	fmt.Println(s.Message(language.English))
	// Output:
	// 2026-12-01 true false
	// Uw wachtwoord verloopt over 8 dagen. Kies nu een nieuw wachtwoord.
	// Your password expires in 8 days. Choose a new password now.
}

// Check a new user's e-mail address against Portero's rules.
func ExampleEmailRules() {
	rules := password.EmailRules{
		Domains: []string{"zorgaanbieder.nl"},
		Taken:   password.TakenIn([]string{"p.bakker@zorgaanbieder.nl"}),
	}
	for _, addr := range []string{"J.deVries@zorgaanbieder.nl", "info@zorgaanbieder.nl", "P.Bakker@Zorgaanbieder.nl", "jan@gmail.com"} {
		err := rules.Check(context.Background(), addr)
		var perr *password.PolicyError
		if errors.As(err, &perr) {
			fmt.Println(addr, "→", perr.Messages(language.Dutch)[0])
		} else {
			fmt.Println(addr, "→ ok")
		}
	}
	// Output:
	// J.deVries@zorgaanbieder.nl → ok
	// info@zorgaanbieder.nl → Gebruik een persoonlijk e-mailadres, geen algemeen adres zoals info@ of secretariaat@ dat meer mensen lezen.
	// P.Bakker@Zorgaanbieder.nl → Dit e-mailadres is al in gebruik bij een andere gebruiker. Elke gebruiker heeft een eigen e-mailadres nodig.
	// jan@gmail.com → Gebruik een e-mailadres binnen het domein van uw organisatie, zoals naam@uworganisatie.nl.
}

// Slow down password guessing per account and per source address.
func ExampleThrottle() {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	th := &password.Throttle{Now: func() time.Time { return now }}

	login := func(ok bool) error {
		for _, key := range []string{"account:jdevries", "source:192.0.2.10"} {
			if err := th.Attempt(ctx, key); err != nil {
				return err
			}
		}
		if !ok {
			return errors.New("wrong password")
		}
		_ = th.Success(ctx, "account:jdevries")
		return th.Success(ctx, "source:192.0.2.10")
	}
	for range 5 {
		_ = login(false)
	}
	fmt.Println(login(true))
	now = now.Add(30 * time.Second)
	fmt.Println(login(true))
	// Output:
	// password: too many failed attempts: wait before trying again (until 2026-11-23T09:00:30Z)
	// <nil>
}

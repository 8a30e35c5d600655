package password_test

import (
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
	policy, err := password.NewPolicy(password.Portero())
	if err != nil {
		fmt.Println(err)
		return
	}
	user := password.User{Name: "Jan de Vries", Username: "jdevries"}

	err = policy.Check("vries", user)
	var perr *password.PolicyError
	if errors.As(err, &perr) {
		for _, msg := range perr.Messages(language.Dutch) {
			fmt.Println("-", msg)
		}
	}
	fmt.Println(policy.Check("Kwast7!mop", user))
	// Output:
	// - Kies een wachtwoord van minstens 8 tekens.
	// - Gebruik tekens uit minstens 3 van deze soorten: hoofdletters, kleine letters, cijfers en leestekens (zoals ! $ # %). Voeg er nog 2 soorten aan toe, bijvoorbeeld een hoofdletter en een cijfer.
	// - Het wachtwoord mag geen deel van uw naam bevatten. Kies een wachtwoord zonder uw naam.
	// - Het wachtwoord mag geen deel van uw gebruikersnaam bevatten. Kies een wachtwoord zonder uw gebruikersnaam.
	// <nil>
}

// The portals' composition rules accept passwords that attackers guess
// first; adding NotCommon refuses them.
func ExampleNotCommon() {
	config := password.Almere()
	config.Rules = append(config.Rules, password.NotCommon("almere", "gemeenteportaal"))
	policy, err := password.NewPolicy(config)
	if err != nil {
		fmt.Println(err)
		return
	}
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
	ctx := context.Background()
	h, err := password.NewHasher(password.HasherConfig{}) // argon2id, m=19 MiB, t=2, p=1
	if err != nil {
		fmt.Println(err)
		return
	}
	encoded, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.HasPrefix(encoded, "$argon2id$v=19$m=19456,t=2,p=1$"))

	fmt.Println(h.Verify(ctx, encoded, "correct horse battery staple"))
	fmt.Println(h.Verify(ctx, encoded, "Correct horse battery staple"))

	stronger, err := password.NewHasher(password.HasherConfig{Params: password.Params{Memory: 64 * 1024, Time: 3, Threads: 4, SaltLength: 16, KeyLength: 32}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(stronger.NeedsRehash(encoded))
	// Output:
	// true
	// <nil>
	// password: the password does not match the hash
	// true
}

// Tell a Portero user at login that the password expires soon.
func ExamplePolicy_Status() {
	policy, err := password.NewPolicy(password.Portero())
	if err != nil {
		fmt.Println(err)
		return
	}
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

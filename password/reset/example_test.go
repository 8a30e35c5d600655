package reset_test

import (
	"context"
	"fmt"
	"time"

	"github.com/zorgkit/zorgkit/password"
	"github.com/zorgkit/zorgkit/password/reset"
)

// A "forgot password" link (Portero): issue a token for the e-mail, redeem
// it once when the user sets a new password, and revoke any outstanding
// token when the password changes by another way.
func ExampleIssuer_Issue() {
	ctx := context.Background()
	resets, err := reset.New(reset.Config{Store: reset.NewMemoryStore()}) // a shared SQL store in real use
	if err != nil {
		fmt.Println(err)
		return
	}
	token, expires, err := resets.Issue(ctx, "acct-42")
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = expires // put the token in the link: https://portaal.example/reset?token=…; never log it
	fmt.Println(len(token))

	account, err := resets.Redeem(ctx, token)
	fmt.Println(account, err)
	_, err = resets.Redeem(ctx, token)
	fmt.Println(err)
	// Output:
	// 43
	// acct-42 <nil>
	// reset: reset link or temporary password invalid or expired: request a new one
}

// A temporary password by e-mail (Almere). The current password keeps
// working; the temporary one counts only when it is typed at a login where
// the current password does not match, once, within the policy's
// TemporaryFor. Only then does it become the account's password, marked
// temporary, so that the user must choose a new one at once.
func ExampleIssuer_IssueTemporary() {
	ctx := context.Background()
	policy, err := password.NewPolicy(password.Almere())
	if err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	resets, err := reset.New(reset.Config{Store: reset.NewMemoryStore(), Now: func() time.Time { return now }})
	if err != nil {
		fmt.Println(err)
		return
	}
	temp, expires, err := resets.IssueTemporary(ctx, "acct-42", policy)
	fmt.Println(len(temp), expires.Format("15:04"), err) // e-mail temp to the user; never log it

	// At a login ten minutes later, after the current password did not
	// match:
	now = now.Add(10 * time.Minute)
	issued, err := resets.RedeemTemporary(ctx, "acct-42", temp)
	fmt.Println(issued.Format("15:04"), err)
	account := password.Account{PasswordSet: issued, Temporary: true} // store a hash of temp with these
	fmt.Println(policy.Status(account, now).MustChange())
	fmt.Println(policy.Status(account, expires).TemporaryExpired)
	_, err = resets.RedeemTemporary(ctx, "acct-42", temp)
	fmt.Println(err)
	// Output:
	// 16 10:00 <nil>
	// 09:00 <nil>
	// true
	// true
	// reset: reset link or temporary password invalid or expired: request a new one
}

package throttle_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zorgkit/zorgkit/password/throttle"
)

// Throttle a login per account, counting every attempt until it succeeds,
// and per source address, counting only failures.
func Example() {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	store := throttle.NewMemoryStore() // a shared SQL store with several instances
	accounts := throttle.Accounts(store)
	accounts.Now = clock
	sources := throttle.Sources(store)
	sources.Now = clock
	perAccount, err := throttle.New(accounts)
	if err != nil {
		fmt.Println(err)
		return
	}
	perSource, err := throttle.New(sources)
	if err != nil {
		fmt.Println(err)
		return
	}

	login := func(username, source string, correct bool) error {
		if err := perAccount.Attempt(ctx, "account:"+username); err != nil {
			return err
		}
		if err := perSource.Check(ctx, "source:"+source); err != nil {
			return err
		}
		if !correct { // the password did not match
			_ = perSource.Fail(ctx, "source:"+source)
			return errors.New("wrong password")
		}
		return perAccount.Reset(ctx, "account:"+username) // after the second factor too
	}
	for range 5 {
		_ = login("jdevries", "192.0.2.10", false)
	}
	fmt.Println(login("jdevries", "192.0.2.10", true))
	fmt.Println(login("pbakker", "192.0.2.10", true), "(a colleague at the same address)")
	now = now.Add(30 * time.Second)
	fmt.Println(login("jdevries", "192.0.2.10", true))
	// Output:
	// throttle: too many failed attempts: wait before trying again (30s)
	// <nil> (a colleague at the same address)
	// <nil>
}

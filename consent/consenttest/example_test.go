package consenttest_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/consenttest"
	"github.com/zorgkit/zorgkit/consent/store"
)

// A manual clock and a complete record make tests of code that uses consent
// short. A Store implementation runs the conformance suite with
// consenttest.Run(t, newStore) in a test function.
func ExampleNewRecord() {
	ctx := context.Background()
	clock := consenttest.NewClock(time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC))
	r, err := consent.New(store.NewMemory(), consent.Config{Key: consenttest.Key(), Now: clock.Now})
	if err != nil {
		log.Fatal(err)
	}
	rec := consenttest.NewRecord("ps-1", "org-a", consent.PurposeMedicalInformation, consent.Permit, clock.Now())
	if _, err := r.Give(ctx, rec); err != nil {
		log.Fatal(err)
	}
	clock.Advance(time.Minute)
	out, err := r.DecideUnlogged(ctx, "ps-1", "org-a", consent.PurposeMedicalInformation, clock.Now())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out.Allowed, out.Record.Practitioner.Function)
	// Output:
	// true huisarts
}

package consent_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/consenttest"
)

func Example() {
	ctx := context.Background()
	now := time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)
	r, err := consent.New(consent.NewMemoryStore(), consent.Config{
		Key: consenttest.Key(), // in production: a secret from configuration
		Now: func() time.Time { return now },
	})
	if err != nil {
		log.Fatal(err)
	}

	// The provider states that the client signed the form this morning.
	rec, err := r.Give(ctx, consent.Record{
		Subject:       "ps-7f3a9c", // a pseudonym of the BSN, never the BSN
		Organisation:  "agb-01234567",
		Purpose:       consent.PurposeConsultIndication,
		Decision:      consent.Permit,
		GivenAt:       now.Add(-2 * time.Hour),
		PolicyVersion: "toestemming-2026-1",
		Evidence:      consent.Evidence{Kind: consent.EvidencePaper, Reference: "archief 2026/0311"},
		RecordedBy:    consent.Actor{User: "j.devries", Organisation: "agb-01234567"},
	})
	if err != nil {
		log.Fatal(err)
	}

	for _, p := range []consent.Purpose{consent.PurposeConsultIndication, consent.PurposeViewNAW} {
		out, err := r.DecideUnlogged(ctx, "ps-7f3a9c", "agb-01234567", p, now)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(p, out.Allowed, out.Reason)
	}

	// The client withdraws an hour later.
	now = now.Add(time.Hour)
	if _, err := r.Withdraw(ctx, consent.Withdrawal{
		Subject:      rec.Subject,
		Organisation: rec.Organisation,
		Purpose:      rec.Purpose,
		By:           rec.RecordedBy,
	}); err != nil {
		log.Fatal(err)
	}
	before, _ := r.DecideUnlogged(ctx, "ps-7f3a9c", "agb-01234567", consent.PurposeConsultIndication, now.Add(-time.Minute))
	after, _ := r.DecideUnlogged(ctx, "ps-7f3a9c", "agb-01234567", consent.PurposeConsultIndication, now)
	fmt.Println("before the withdrawal:", before.Allowed)
	fmt.Println("after the withdrawal:", after.Allowed, after.Reason.Message(language.Dutch))
	// Output:
	// consult-indication true permitted
	// view-naw false no-consent
	// before the withdrawal: true
	// after the withdrawal: false De cliënt heeft de toestemming voor dit doel ingetrokken.
}

// Authorize decides for an access now and writes an access-log entry, also
// when the access is refused.
func ExampleRegistry_Authorize() {
	ctx := context.Background()
	now := time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)
	r, err := consent.New(consent.NewMemoryStore(), consent.Config{
		Key: consenttest.Key(),
		Now: func() time.Time { return now },
		AccessLog: consent.AccessLogFunc(func(_ context.Context, e consent.AccessEntry) error {
			fmt.Printf("log: %s by %s for %s, %s: allowed=%v (%s)\n", e.Purpose, e.User, e.OnBehalfOf, e.Organisation, e.Allowed, e.Reason)
			return nil
		}),
	})
	if err != nil {
		log.Fatal(err)
	}
	out, err := r.Authorize(ctx, consent.Access{
		Subject: "ps-7f3a9c",
		Purpose: consent.PurposeViewNAW,
		By:      consent.Actor{User: "secretary", Organisation: "agb-01234567", OnBehalfOf: "dr-jansen"},
		Action:  "read",
	})
	if err != nil {
		log.Fatal(err) // no decision or no log entry: refuse the access
	}
	fmt.Println(out.Allowed)
	// Output:
	// log: view-naw by secretary for dr-jansen, agb-01234567: allowed=false (no-consent)
	// false
}

// A spot check draws a sample that anyone can redraw, and records the
// evidence requests.
func ExampleRegistry_Sample() {
	ctx := context.Background()
	clock := consenttest.NewClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	r, err := consent.New(consent.NewMemoryStore(), consent.Config{Key: consenttest.Key(), Now: clock.Now})
	if err != nil {
		log.Fatal(err)
	}
	for i := range 10 {
		subject := consent.Subject(fmt.Sprintf("ps-%02d", i))
		if _, err := r.Give(ctx, consenttest.NewRecord(subject, "agb-01234567", consent.PurposeViewNAW, consent.Permit, clock.Now())); err != nil {
			log.Fatal(err)
		}
		clock.Advance(24 * time.Hour)
	}
	clock.Set(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	january := consent.Filter{
		Organisation: "agb-01234567",
		From:         time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Until:        time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC).Add(-consent.FreezeMargin),
	}
	m, err := r.Sample(ctx, january, 3, []byte("seed from the public draw of 2026-02-01"))
	if err != nil {
		log.Fatal(err)
	}
	auditor := consent.Actor{User: "auditor", Organisation: "portal"}
	for _, id := range m.Selected {
		if err := r.RequestEvidence(ctx, id, m.ID(), consent.Change{By: auditor}); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println(m.PopulationSize, len(m.Selected))
	fmt.Println(r.Redraw(ctx, m))
	// Output:
	// 10 3
	// <nil>
}

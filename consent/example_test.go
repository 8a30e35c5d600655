package consent_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/consenttest"
	"github.com/zorgkit/zorgkit/consent/store"
)

func Example() {
	ctx := context.Background()
	now := time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)
	r, err := consent.New(store.NewMemory(), consent.Config{
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

// DecideUnloggedEach decides several purposes at one moment with one read
// of the client's consent chain, as a page that shows what each purpose
// allows needs.
func ExampleRegistry_DecideUnloggedEach() {
	ctx := context.Background()
	now := time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)
	r, err := consent.New(store.NewMemory(), consent.Config{
		Key: consenttest.Key(), // in production: a secret from configuration
		Now: func() time.Time { return now },
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range []consent.Purpose{consent.PurposeViewNAW, consent.PurposeTakeOverIndication} {
		d := consent.Permit
		if p == consent.PurposeTakeOverIndication {
			d = consent.Deny
		}
		if _, err := r.Give(ctx, consenttest.NewRecord("ps-7f3a9c", "agb-01234567", p, d, now.Add(-time.Hour))); err != nil {
			log.Fatal(err)
		}
	}

	purposes := consent.Purposes()
	outcomes, err := r.DecideUnloggedEach(ctx, "ps-7f3a9c", "agb-01234567", purposes, now)
	if err != nil {
		log.Fatal(err)
	}
	for i, out := range outcomes {
		fmt.Println(purposes[i], out.Allowed, out.Reason)
	}
	// Output:
	// view-naw true permitted
	// consult-indication false no-consent
	// take-over-indication false denied
	// request-medical-information false no-consent
}

// Authorize decides for an access now and writes an access-log entry, also
// when the access is refused.
func ExampleRegistry_Authorize() {
	ctx := context.Background()
	now := time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)
	r, err := consent.New(store.NewMemory(), consent.Config{
		Key:      consenttest.Key(),
		Now:      func() time.Time { return now },
		Instance: "portal-1",
		AccessLog: consent.AccessLogFunc(func(_ context.Context, e consent.AccessEntry) error {
			fmt.Printf("log: %s %s of %s by %s (%s) for %s, %s, from %s via %s: allowed=%v (%s)\n",
				e.Action, e.Object, e.Purpose, e.User, e.Role, e.OnBehalfOf, e.Organisation, e.Address, e.Instance, e.Allowed, e.Reason)
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
		Role:    "secretariaat",
		Object:  "client/naw",
		Action:  consent.ActionRead,
		Address: "192.0.2.7",
	})
	if err != nil {
		log.Fatal(err) // no decision or no log entry: refuse the access
	}
	fmt.Println(out.Allowed)
	// Output:
	// log: R client/naw of view-naw by secretary (secretariaat) for dr-jansen, agb-01234567, from 192.0.2.7 via portal-1: allowed=false (no-consent)
	// false
}

// A spot check is planned before its records are known, and drawn once its
// window has closed; anyone can redraw it, and check the seed against the
// plan.
func ExampleRegistry_PlanSample() {
	ctx := context.Background()
	clock := consenttest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	r, err := consent.New(store.NewMemory(), consent.Config{Key: consenttest.Key(), Now: clock.Now})
	if err != nil {
		log.Fatal(err)
	}
	auditor := consent.Actor{User: "auditor", Organisation: "portal"}
	january := consent.Filter{Organisation: "agb-01234567", Until: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}
	plan, err := r.PlanSample(ctx, january, 3, auditor)
	if err != nil {
		log.Fatal(err)
	}
	for i := range 10 {
		clock.Advance(24 * time.Hour)
		subject := consent.Subject(fmt.Sprintf("ps-%02d", i))
		if _, err := r.Give(ctx, consenttest.NewRecord(subject, "agb-01234567", consent.PurposeViewNAW, consent.Permit, clock.Now())); err != nil {
			log.Fatal(err)
		}
	}
	clock.Set(time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC))
	m, err := r.Sample(ctx, plan.ID)
	if err != nil {
		log.Fatal(err)
	}
	for _, id := range m.Selected {
		if err := r.RequestEvidence(ctx, id, m.Plan.ID, consent.Change{By: auditor}); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println(m.PopulationSize, len(m.Selected))
	fmt.Println(r.Redraw(ctx, m))
	// Output:
	// 10 3
	// <nil>
}

// A portal reads the checkpoints at start-up, before it serves: a chain
// rolled back behind the last checkpoint while the portal was down is then
// refused from the first request on, without a Verify of every event.
func ExampleRegistry_LoadCheckpoints() {
	ctx := context.Background()
	s := store.NewMemory() // in production: a consent/sqlstore.Store
	cfg := consent.Config{Key: consenttest.Key()}

	// Yesterday's process recorded consent and made the daily checkpoint.
	before, err := consent.New(s, cfg)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := before.Give(ctx, consenttest.NewRecord("ps-7f3a9c", "agb-01234567", consent.PurposeViewNAW, consent.Permit, time.Now().Add(-time.Hour))); err != nil {
		log.Fatal(err)
	}
	if _, err := before.Verify(ctx); err != nil {
		log.Fatal(err)
	}

	// Today's process.
	r, err := consent.New(s, cfg)
	if err != nil {
		log.Fatal(err)
	}
	cp, err := r.LoadCheckpoints(ctx)
	if err != nil {
		log.Fatal(err) // errors.Is(err, consent.ErrCheckpoint): alert the owner
	}
	fmt.Printf("checkpoint %d: %d chain(s)\n", cp.Seq, cp.Chains)
	// Output:
	// checkpoint 1: 1 chain(s)
}

package fhir_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/consenttest"
	"github.com/zorgkit/zorgkit/consent/fhir"
	"github.com/zorgkit/zorgkit/consent/store"
)

func ExampleExport() {
	ctx := context.Background()
	now := time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)
	r, err := consent.New(store.NewMemory(), consent.Config{Key: consenttest.Key(), Now: func() time.Time { return now }})
	if err != nil {
		log.Fatal(err)
	}
	rec, err := r.Give(ctx, consenttest.NewRecord("ps-7f3a9c", "01234567", consent.PurposeViewNAW, consent.Permit, now.Add(-time.Hour)))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Withdraw(ctx, consent.Withdrawal{Subject: rec.Subject, Organisation: rec.Organisation, Purpose: rec.Purpose, By: rec.RecordedBy}); err != nil {
		log.Fatal(err)
	}
	st, err := r.Status(ctx, rec.ID)
	if err != nil {
		log.Fatal(err)
	}
	c, err := fhir.Export(st, now, fhir.Options{
		OrganisationSystem: "http://fhir.nl/fhir/NamingSystem/agb-z", // the providers' AGB codes
	})
	if err != nil {
		log.Fatal(err)
	}
	b, err := json.Marshal(c.Provision.Actor[0].Reference)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Status, c.Provision.Type, c.Provision.Purpose[0].Code)
	fmt.Println(string(b))
	// Output:
	// inactive permit view-naw
	// {"type":"Organization","identifier":{"system":"http://fhir.nl/fhir/NamingSystem/agb-z","value":"01234567"}}
}

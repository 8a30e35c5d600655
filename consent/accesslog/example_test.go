package accesslog_test

import (
	"fmt"
	"log"
	"time"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/accesslog"
)

// An application seals each entry after the last one of its chain, stores
// it, and later verifies the chain and publishes its head.
func ExampleSealer() {
	s, err := accesslog.NewSealer([]byte("a secret of 32 bytes or more, from configuration"))
	if err != nil {
		log.Fatal(err)
	}
	var head accesslog.Head // the start of the chain
	var stored []accesslog.Entry
	for i, user := range []string{"j.devries", "a.bakker"} {
		e, err := s.Seal("portal-1", head, consent.AccessEntry{
			ID: fmt.Sprint("entry-", i), Time: time.Date(2026, 3, 12, 10, i, 0, 0, time.UTC),
			Instance: "portal-1", Address: "192.0.2.7", User: user, Role: "secretariaat", Organisation: "agb-01234567",
			Subject: "ps-7f3a9c", Object: "client/naw", Purpose: consent.PurposeViewNAW, Action: consent.ActionRead,
			Allowed: true, Reason: consent.ReasonPermitted,
		})
		if err != nil {
			log.Fatal(err)
		}
		stored = append(stored, e) // in the application's table
		head = accesslog.Head{Seq: e.Seq, MAC: e.MAC}
	}
	v := s.NewVerifier("portal-1")
	for _, e := range stored {
		v.Next(e.Seq, e.Payload, e.MAC)
	}
	fmt.Println(v.Err(), v.Head().Seq)
	// Output:
	// <nil> 2
}

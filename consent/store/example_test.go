package store_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/consenttest"
	"github.com/zorgkit/zorgkit/consent/store"
)

// A registry on a store in memory, as tests use it; a portal uses
// consent/sqlstore.
func ExampleNewMemory() {
	ctx := context.Background()
	now := time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)
	s := store.NewMemory()
	r, err := consent.New(s, consent.Config{Key: consenttest.Key(), Now: func() time.Time { return now }})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Give(ctx, consenttest.NewRecord("ps-1", "org-a", consent.PurposeViewNAW, consent.Permit, now)); err != nil {
		log.Fatal(err)
	}
	// What the store keeps: the chain's sealed event, and its head.
	h, err := s.Head(ctx, string(consent.ChainOf("ps-1", "org-a")))
	if err != nil {
		log.Fatal(err)
	}
	events, err := s.Events(ctx, h.Chain, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(h.Seq, len(events), events[0].Kind)
	// Output:
	// 1 1 given
}

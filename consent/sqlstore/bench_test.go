package sqlstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/consenttest"
)

// BenchmarkGive records consent for new clients, one transaction each.
func BenchmarkGive(b *testing.B) {
	for _, d := range dialects {
		b.Run(string(d.dialect), func(b *testing.B) {
			ctx := b.Context()
			s, _ := newStore(b, d.dialect, d.open)
			r, err := consent.New(s, consent.Config{Key: consenttest.Key()})
			if err != nil {
				b.Fatal(err)
			}
			given := time.Now().Add(-time.Hour)
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				i++
				if _, err := r.Give(ctx, consenttest.NewRecord(consent.Subject(fmt.Sprint("s", i)), "org-a", consent.PurposeViewNAW, consent.Permit, given)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecide decides on a chain of 10 events.
func BenchmarkDecide(b *testing.B) {
	for _, d := range dialects {
		b.Run(string(d.dialect), func(b *testing.B) {
			ctx := b.Context()
			s, _ := newStore(b, d.dialect, d.open)
			r, err := consent.New(s, consent.Config{Key: consenttest.Key()})
			if err != nil {
				b.Fatal(err)
			}
			given := time.Now().Add(-time.Hour)
			for _, p := range append(append(consent.Purposes(), consent.Purposes()...), consent.Purposes()...)[:10] {
				if _, err := r.Give(ctx, consenttest.NewRecord("s1", "org-a", p, consent.Permit, given)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Decide(ctx, "s1", "org-a", consent.PurposeViewNAW, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package sqlstore_test

import (
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/consenttest"
	"github.com/zorgkit/zorgkit/consent/sqlstore"
)

// BenchmarkGive records consent for new clients, one transaction each.
func BenchmarkGive(b *testing.B) {
	for _, d := range dialects {
		b.Run(string(d.dialect), func(b *testing.B) {
			ctx, r := b.Context(), benchRegistry(b, d.dialect, d.open)
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
			ctx, r := b.Context(), benchRegistry(b, d.dialect, d.open)
			given := time.Now().Add(-time.Hour)
			for _, p := range append(append(consent.Purposes(), consent.Purposes()...), consent.Purposes()...)[:10] {
				if _, err := r.Give(ctx, consenttest.NewRecord("s1", "org-a", p, consent.Permit, given)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.DecideUnlogged(ctx, "s1", "org-a", consent.PurposeViewNAW, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchRegistry returns a registry on a fresh, migrated database.
func benchRegistry(b *testing.B, dialect sqlstore.Dialect, open func(testing.TB) *sql.DB) *consent.Registry {
	s, _ := newStore(b, dialect, open)
	r, err := consent.New(s, consent.Config{Key: consenttest.Key()})
	if err != nil {
		b.Fatal(err)
	}
	return r
}

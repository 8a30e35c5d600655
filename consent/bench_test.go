package consent_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/consenttest"
	"github.com/zorgkit/zorgkit/consent/store"
)

// BenchmarkDecide decides on a chain of n events in memory: a decision
// reads the chain's head, verifies its seal and decodes its state, whatever
// the chain's length. (consent/sqlstore has the same on SQLite and
// PostgreSQL, with the baseline of a plain SELECT.)
func BenchmarkDecide(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			ctx := b.Context()
			clock := consenttest.NewClock(t0)
			r, err := consent.New(store.NewMemory(), consent.Config{Key: consenttest.Key(), Now: clock.Now})
			if err != nil {
				b.Fatal(err)
			}
			purposes := consent.Purposes()
			for i := range n {
				rec := consenttest.NewRecord("s1", "org-a", purposes[i%len(purposes)], consent.Permit, t0.Add(-time.Hour))
				rec.Evidence.Reference = fmt.Sprint("form ", i) // another form each time
				if _, err := r.Give(ctx, rec); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.DecideUnlogged(ctx, "s1", "org-a", consent.PurposeViewNAW, t0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkGive(b *testing.B) {
	ctx := b.Context()
	r, err := consent.New(store.NewMemory(), consent.Config{Key: consenttest.Key()})
	if err != nil {
		b.Fatal(err)
	}
	given := time.Now().Add(-time.Hour)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		// A new chain each time, as when many clients are recorded.
		if _, err := r.Give(ctx, consenttest.NewRecord(consent.Subject(fmt.Sprint("s", i)), "org-a", consent.PurposeViewNAW, consent.Permit, given)); err != nil {
			b.Fatal(err)
		}
	}
}

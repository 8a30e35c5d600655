package consent_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/consenttest"
)

// BenchmarkDecide decides on a chain of n events: every decision reads,
// verifies and decodes the whole chain of the subject and organisation.
func BenchmarkDecide(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			ctx := b.Context()
			clock := consenttest.NewClock(t0)
			r, err := consent.New(consent.NewMemoryStore(), consent.Config{Key: consenttest.Key(), Now: clock.Now})
			if err != nil {
				b.Fatal(err)
			}
			purposes := consent.Purposes()
			for i := range n {
				if _, err := r.Give(ctx, consenttest.NewRecord("s1", "org-a", purposes[i%len(purposes)], consent.Permit, t0.Add(-time.Hour))); err != nil {
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
	r, err := consent.New(consent.NewMemoryStore(), consent.Config{Key: consenttest.Key()})
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

func BenchmarkBottomK(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("population=%d", n), func(b *testing.B) {
			population, seed := benchPopulation(n)
			b.ReportAllocs()
			for b.Loop() {
				consent.BottomK(seed, 50, population)
			}
		})
	}
}

// benchPopulation returns n record ids and a seed for the sampling
// benchmarks.
func benchPopulation(n int) ([]consent.RecordID, []byte) {
	population := make([]consent.RecordID, n)
	for i := range population {
		population[i] = consent.RecordID(fmt.Sprintf("%032x", i))
	}
	return population, []byte("a seed of sixteen bytes or more")
}

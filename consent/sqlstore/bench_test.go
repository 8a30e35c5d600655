package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"syscall"
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
			ctx, r, _ := benchRegistry(b, d.dialect, d.open)
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

// fillChain appends n events to the chain of s1 at org-a: consent given for
// the four purposes in turn, each form another, every fifth event a
// withdrawal and every seventh an evidence request, as a client's years at
// a provider would.
func fillChain(b *testing.B, r *consent.Registry, n int) {
	ctx := b.Context()
	by := consent.Actor{User: "u1", Organisation: "org-a"}
	purposes := consent.Purposes()
	var last consent.RecordID
	for i := 0; i < n; i++ {
		p := purposes[i%len(purposes)]
		switch {
		case i%5 == 4:
			_, err := r.Withdraw(ctx, consent.Withdrawal{Subject: "s1", Organisation: "org-a", Purpose: purposes[(i-1)%len(purposes)], By: by})
			if errors.Is(err, consent.ErrNotActive) {
				// Withdrawn before: an evidence request instead, so
				// that the chain has n events.
				err = r.RequestEvidence(ctx, last, "spot check", consent.Change{By: by})
			}
			if err != nil {
				b.Fatal(i, err)
			}
		case i%7 == 6 && last != "":
			if err := r.RequestEvidence(ctx, last, "spot check", consent.Change{By: by}); err != nil {
				b.Fatal(i, err)
			}
		default:
			rec := consenttest.NewRecord("s1", "org-a", p, consent.Permit, time.Now())
			rec.Evidence.Reference = fmt.Sprint("form ", i)
			got, err := r.Give(ctx, rec)
			if err != nil {
				b.Fatal(i, err)
			}
			last = got.ID
		}
	}
}

// BenchmarkDecide decides on a chain of 1 and of 1,000 events, side by
// side with the baseline: a plain indexed SELECT of the chain's latest
// event, decoded from nothing. A decision reads the chain's head and
// verifies one MAC, whatever the chain's length.
func BenchmarkDecide(b *testing.B) {
	for _, d := range dialects {
		b.Run(string(d.dialect), func(b *testing.B) {
			for _, n := range []int{1, 1000} {
				b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
					ctx, r, _ := benchRegistry(b, d.dialect, d.open)
					fillChain(b, r, n)
					if _, err := r.Verify(ctx); err != nil { // as a portal has: a checkpoint
						b.Fatal(err)
					}
					now := time.Now()
					b.ReportAllocs()
					cpu := cpuTime()
					for b.Loop() {
						if _, err := r.DecideUnlogged(ctx, "s1", "org-a", consent.PurposeViewNAW, now); err != nil {
							b.Fatal(err)
						}
					}
					reportCPU(b, cpu)
				})
			}
			b.Run("select-latest", func(b *testing.B) {
				ctx, r, db := benchRegistry(b, d.dialect, d.open)
				fillChain(b, r, 1000)
				query := "SELECT seq, payload, mac FROM consent_events WHERE chain_id = ? ORDER BY seq DESC LIMIT 1"
				if d.dialect == sqlstore.PostgreSQL {
					query = "SELECT seq, payload, mac FROM consent_events WHERE chain_id = $1 ORDER BY seq DESC LIMIT 1"
				}
				chain := string(consent.ChainOf("s1", "org-a"))
				b.ReportAllocs()
				cpu := cpuTime()
				for b.Loop() {
					var seq int64
					var payload, mac []byte
					if err := db.QueryRowContext(ctx, query, chain).Scan(&seq, &payload, &mac); err != nil {
						b.Fatal(err)
					}
				}
				reportCPU(b, cpu)
			})
		})
	}
}

// BenchmarkDecidePage decides the four purposes of a client page on a
// chain of 20 events, as the portal's client lookup does: how=per-purpose
// asks DecideUnlogged once per purpose (four reads of the chain's head),
// how=each asks DecideUnloggedEach once (one read).
func BenchmarkDecidePage(b *testing.B) {
	for _, d := range dialects {
		b.Run(string(d.dialect), func(b *testing.B) {
			ctx, r, _ := benchRegistry(b, d.dialect, d.open)
			fillChain(b, r, 20)
			purposes := consent.Purposes()
			now := time.Now()
			b.Run("how=per-purpose", func(b *testing.B) {
				b.ReportAllocs()
				cpu := cpuTime()
				for b.Loop() {
					for _, p := range purposes {
						if _, err := r.DecideUnlogged(ctx, "s1", "org-a", p, now); err != nil {
							b.Fatal(err)
						}
					}
				}
				reportCPU(b, cpu)
			})
			b.Run("how=each", func(b *testing.B) {
				b.ReportAllocs()
				cpu := cpuTime()
				for b.Loop() {
					if _, err := r.DecideUnloggedEach(ctx, "s1", "org-a", purposes, now); err != nil {
						b.Fatal(err)
					}
				}
				reportCPU(b, cpu)
			})
		})
	}
}

// BenchmarkAppendShared has 8 writers record consent on one shared chain at
// once, and reports the appends per second. No writer may get an error: the
// store serialises them. With one registry the writers share its group
// commits; with a registry each, as 8 processes would, they take turns on
// the chain's lock in the database.
func BenchmarkAppendShared(b *testing.B) {
	for _, d := range dialects {
		for _, registries := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/registries=%d", d.dialect, registries), func(b *testing.B) {
				s, _ := newStore(b, d.dialect, d.open)
				const writers = 8
				rs := make([]*consent.Registry, writers)
				for w := range rs {
					if w < registries {
						r, err := consent.New(s, consent.Config{Key: consenttest.Key()})
						if err != nil {
							b.Fatal(err)
						}
						rs[w] = r
					} else {
						rs[w] = rs[0]
					}
				}
				ctx := b.Context()
				given := time.Now().Add(-time.Hour)
				var wg sync.WaitGroup
				work := make(chan int)
				errs := make(chan error, writers)
				b.ResetTimer()
				start := time.Now()
				for w := range writers {
					wg.Go(func() {
						for i := range work {
							rec := consenttest.NewRecord("shared", "org-a", consent.PurposeViewNAW, consent.Permit, given)
							rec.Evidence.Reference = fmt.Sprint("form ", i)
							if _, err := rs[w].Give(ctx, rec); err != nil {
								errs <- err
								return
							}
						}
					})
				}
				for i := range b.N {
					work <- i
				}
				close(work)
				wg.Wait()
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "appends/s")
				select {
				case err := <-errs:
					b.Fatal(err)
				default:
				}
			})
		}
	}
}

// startupChains is the number of chains of the store that BenchmarkStartup
// starts on, and startupCheckpoints the number of its checkpoints, made as
// a daily Verify would after some chains changed.
const (
	startupChains      = 20000
	startupCheckpoints = 10
)

// BenchmarkStartup compares what a registry started on a store of many
// chains pays to know the chains' heads: reading the stored checkpoints
// (LoadCheckpoints, which the first decision does) against a full Verify,
// which reads and checks every event. Each op starts a new registry.
func BenchmarkStartup(b *testing.B) {
	for _, d := range dialects {
		b.Run(string(d.dialect), func(b *testing.B) {
			s := fillStartup(b, d.dialect, d.open) // once: -count repeats the sub-benchmarks
			ctx := b.Context()
			b.Run("load-checkpoints", func(b *testing.B) {
				b.ReportAllocs()
				cpu := cpuTime()
				for b.Loop() {
					r, err := consent.New(s, consent.Config{Key: consenttest.Key()})
					if err != nil {
						b.Fatal(err)
					}
					cp, err := r.LoadCheckpoints(ctx)
					if err != nil || cp.Chains != startupChains {
						b.Fatal(cp, err)
					}
				}
				reportCPU(b, cpu)
			})
			b.Run("verify", func(b *testing.B) {
				b.ReportAllocs()
				cpu := cpuTime()
				for b.Loop() {
					r, err := consent.New(s, consent.Config{Key: consenttest.Key()})
					if err != nil {
						b.Fatal(err)
					}
					if _, err := r.Verify(ctx); err != nil {
						b.Fatal(err)
					}
				}
				reportCPU(b, cpu)
			})
		})
	}
}

// fillStartup returns a store of startupChains chains of two events each,
// and startupCheckpoints checkpoints, each after 1% of the chains got one
// more event.
func fillStartup(b *testing.B, dialect sqlstore.Dialect, open func(testing.TB) *sql.DB) *sqlstore.Store {
	s, _ := newStore(b, dialect, open)
	r, err := consent.New(s, consent.Config{Key: consenttest.Key()})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	given := time.Now().Add(-time.Hour)
	give := func(i int, p consent.Purpose) {
		if _, err := r.Give(ctx, consenttest.NewRecord(consent.Subject(fmt.Sprint("s", i)), "org-a", p, consent.Permit, given)); err != nil {
			b.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				give(i, consent.PurposeViewNAW)
				give(i, consent.PurposeConsultIndication)
			}
		})
	}
	for i := range startupChains {
		work <- i
	}
	close(work)
	wg.Wait()
	purposes := consent.Purposes()
	for c := range startupCheckpoints {
		for i := c; i < startupChains; i += 100 {
			give(i, purposes[2+c%2])
		}
		if _, err := r.Verify(ctx); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// benchRegistry returns a registry on a fresh, migrated database.
func benchRegistry(b *testing.B, dialect sqlstore.Dialect, open func(testing.TB) *sql.DB) (context.Context, *consent.Registry, *sql.DB) {
	s, db := newStore(b, dialect, open)
	r, err := consent.New(s, consent.Config{Key: consenttest.Key()})
	if err != nil {
		b.Fatal(err)
	}
	return b.Context(), r, db
}

// cpuTime returns the CPU time the process has used. On a machine that
// others share, wall-clock time per operation measures the load as much as
// the code; the CPU time of the process does not (on SQLite, which runs in
// the process, it is all the work of an operation).
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// reportCPU reports the process's CPU time per operation since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

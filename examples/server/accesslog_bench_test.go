package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/consent"
)

// BenchmarkAccessLogCommit writes group commits of 8 lookup entries (the
// size the load test sees at c16) into an access log that holds 20,000
// entries already, and reports the process's CPU time per commit. ids=random gives the entries newID's
// random ids (as before newLogID), ids=time newLogID's: the two side by side
// in one run show what the order of the primary key costs.
func BenchmarkAccessLogCommit(b *testing.B) {
	for _, ids := range []string{"random", "time"} {
		b.Run("ids="+ids, func(b *testing.B) {
			p := newTestPortal(b)
			ctx := context.Background()
			id := func() string { return newLogID(time.Now()) }
			if ids == "random" {
				id = newID
			}
			entries := func(n int) []consent.AccessEntry {
				es := make([]consent.AccessEntry, n)
				for i := range es {
					es[i] = consent.AccessEntry{ID: id(), Time: p.a.now(), Instance: p.a.instance, Address: "127.0.0.1",
						User: "u1", Role: "provider", Organisation: "org1", Subject: consent.Subject(fmt.Sprintf("s%06d", i)),
						Object: "client/lookup", Action: consent.ActionExecute, Allowed: true, Reason: "exact-bsn"}
				}
				return es
			}
			commit := func(es []consent.AccessEntry) {
				tx, err := p.a.db.BeginTx(ctx, nil)
				require.NoError(b, err)
				require.NoError(b, p.a.writeAccessLog(ctx, tx, es))
				require.NoError(b, tx.Commit())
			}
			for range 20_000 / 128 {
				commit(entries(128))
			}
			batches := make([][]consent.AccessEntry, 64)
			for i := range batches {
				batches[i] = entries(8)
			}
			cpu := processCPU()
			i := 0
			for b.Loop() {
				commit(batches[i%len(batches)])
				i++
				if i%len(batches) == 0 { // fresh ids for the next round
					b.StopTimer()
					for j := range batches {
						batches[j] = entries(8)
					}
					b.StartTimer()
				}
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

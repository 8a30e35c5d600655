package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/consent"
)

// BenchmarkAccessLogWAL commits access-log entries through the group
// commit's transaction (chain head read, seal, INSERTs, COMMIT with
// synchronous=FULL) in batches of 8 into an access log of 20,000 entries,
// and reports what the write-ahead log receives: WAL frames (pages) and
// bytes a commit, and which pages (page 1, the auto_vacuum pointer map,
// the table and each index, from the frames' page numbers and the dbstat
// table). ns/op is the commit's wall time, the fsync included.
func BenchmarkAccessLogWAL(b *testing.B) {
	const batch, round = 8, 32 // round × frames stays under the 1000-frame auto-checkpoint
	p := newTestPortal(b)
	ctx := context.Background()
	var pageSize int64
	require.NoError(b, p.a.db.QueryRow(`PRAGMA page_size`).Scan(&pageSize))
	entries := func(n int) []consent.AccessEntry {
		es := make([]consent.AccessEntry, n)
		for i := range es {
			es[i] = consent.AccessEntry{ID: newLogID(time.Now()), Time: p.a.now(), Instance: p.a.instance, Address: "127.0.0.1",
				User: "u1", Role: "provider", Organisation: "org1", Subject: consent.Subject(fmt.Sprintf("s%06d", i)),
				Object: "client/lookup", Action: consent.ActionExecute, Allowed: true, Reason: "exact-bsn"}
		}
		return es
	}
	for range 20_000 / 128 {
		require.NoError(b, p.a.accessLog.commit(entries(128)))
	}
	walPath := filepath.Join(p.a.cfg.DataDir, "zorgkit.db-wal")
	// restart checkpoints the WAL and makes the next commit write from
	// its start; it returns the frames written since the last restart.
	restart := func() int64 {
		var busy, frames, done int64
		require.NoError(b, p.a.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(RESTART)`).Scan(&busy, &frames, &done))
		require.Zero(b, busy)
		return frames
	}
	owner := map[int64]string{}
	classify := func(frames int64, counts map[string]int64) {
		f, err := os.ReadFile(walPath)
		require.NoError(b, err)
		for i := int64(0); i < frames; i++ {
			off := 32 + i*(24+pageSize)
			pg := int64(binary.BigEndian.Uint32(f[off:]))
			name, ok := owner[pg]
			if !ok {
				rows, err := p.a.db.QueryContext(ctx, `SELECT name FROM dbstat WHERE pageno = $1`, pg)
				require.NoError(b, err)
				name = "other"
				if pg == 1 {
					name = "page 1"
				}
				for rows.Next() {
					require.NoError(b, rows.Scan(&name))
				}
				require.NoError(b, rows.Err())
				rows.Close()
				if name == "other" {
					name = "pointer map or free"
				}
				owner[pg] = name
			}
			counts[name]++
		}
	}
	restart()
	var frames, commits int64
	counts := map[string]int64{}
	i := 0
	for b.Loop() {
		// Made now, as lookups make them: the ids' millisecond prefix
		// orders the batches, as in the portal.
		require.NoError(b, p.a.accessLog.commit(entries(batch)))
		i++
		if i == round {
			b.StopTimer()
			n := restart()
			if commits == 0 {
				// The pages of the first round, by owner (the WAL still
				// holds them: RESTART does not overwrite it).
				classify(n, counts)
			}
			frames, commits = frames+n, commits+round
			clear(owner) // pages change owners as the trees grow
			i = 0
			b.StartTimer()
		}
	}
	if commits == 0 {
		b.Skip("fewer commits than one round")
	}
	b.ReportMetric(float64(frames)/float64(commits), "frames/commit")
	b.ReportMetric(float64(frames*(pageSize+24))/1024/float64(commits), "WAL-KiB/commit")
	b.ReportMetric(float64(pageSize), "page-size")
	for name, n := range counts {
		b.Logf("page size %d: %-28s %5.2f pages a commit", pageSize, name, float64(n)/round)
	}
}

package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/password"
)

// BenchmarkConcurrentLogins sends 100 logins at the same moment, each a
// correct password of its own account hashed at the default argon2id cost
// (m=19 MiB, t=2, p=1), through the portal's handlers, and reports the
// process's peak resident memory (server and clients together), the share
// of logins refused with 503 and of those that failed with 500, and the time
// for all 100 (issue 10, hole 7).
//
//   - hashing=unbounded: the hasher's limits set out of the way (1000 at once,
//     4 GiB), as before the limit: every login hashes at once.
//   - hashing=bounded: the portal's configuration, the package defaults: as
//     many hashes at once as GOMAXPROCS within 256 MiB, 16 per core
//     waiting, the rest refused at once with 503 and Retry-After.
//
// go test ./examples/server -run '^$' -bench ConcurrentLogins -benchtime 3x -count 3
func BenchmarkConcurrentLogins(b *testing.B) {
	for _, bc := range []struct {
		name   string
		config password.HasherConfig
	}{
		{"hashing=unbounded", password.HasherConfig{Concurrency: 1000, MemoryLimit: 4 << 20}},
		{"hashing=bounded", password.HasherConfig{}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := newTestPortal(b)
			p.a.hashParams = password.DefaultParams()
			require.NoError(b, p.a.initAuth())
			accounts := addUsers(b, p, 100) // hashed at the default cost
			bc.config.Params, bc.config.Pepper = password.DefaultParams(), p.a.keys.Pepper
			h, err := password.NewHasher(bc.config)
			require.NoError(b, err)
			p.a.hasher = h
			var logins [][2]string
			for name, pw := range accounts {
				logins = append(logins, [2]string{name, pw})
			}

			var peak int64
			refused, failed, total := 0, 0, 0
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				p.clock.Advance(2 * time.Minute) // past the codes' cooldown
				resetPeakRSS()
				b.StartTimer()
				for _, status := range loginAll(p, logins) {
					switch status {
					case http.StatusSeeOther:
					case http.StatusServiceUnavailable:
						refused++
					case http.StatusInternalServerError:
						// Without a limit, 100 hashes starve the database's
						// writes until SQLite's busy timeout.
						failed++
					default:
						b.Fatalf("login: status %d; the portal's log:\n%s", status, p.out.String())
					}
					total++
				}
				b.StopTimer()
				if rss, ok := peakRSS(); ok {
					peak = max(peak, rss)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
			b.ReportMetric(100*float64(refused)/float64(total), "%refused")
			b.ReportMetric(100*float64(failed)/float64(total), "%failed")
		})
	}
}

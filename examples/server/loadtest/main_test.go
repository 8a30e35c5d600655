package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseWrk(t *testing.T) {
	tests := []struct {
		name, out string
		want      result
		wantErr   bool
	}{
		{
			name: "the report line among wrk's own output",
			out: "Running 10s test @ http://127.0.0.1:1/healthz\n  2 threads and 16 connections\n" +
				"ZORGKIT 1000 10000000 1 2 3 4 5 6 1500 45000 120000\n",
			want: result{requests: 1000, duration: 10 * time.Second, connect: 1, read: 2, write: 3, status: 4, timeouts: 5, bad: 6,
				p50: 1500 * time.Microsecond, p99: 45 * time.Millisecond, max: 120 * time.Millisecond},
		},
		{name: "no report", out: "wrk: unable to connect\n", wantErr: true},
		{name: "a garbled report", out: "ZORGKIT 1000 x 1 2 3 4 5 6 1500 45000 120000\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseWrk(tt.out)
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.InDelta(t, 100.0, got.rps(), 1e-9)
			assert.Equal(t, int64(1+2+3+4+6), got.errors(), "timeouts are counted apart")
		})
	}
}

func TestRunRefusesBadArguments(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"two instances of SQLite", []string{"-instances", "2"}},
		{"no connections", []string{"-c", "0"}},
		{"not a number", []string{"-c", "16,x"}},
		{"an unbounded run", []string{"-d", "1h"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Error(t, run(t.Context(), tt.args, nil))
		})
	}
}

func TestParseMetrics(t *testing.T) {
	body := `# HELP zorgkit_access_log_write_seconds Time from handing an access-log entry over to its commit.
# TYPE zorgkit_access_log_write_seconds histogram
zorgkit_access_log_write_seconds_bucket{le="0.5"} 90
zorgkit_access_log_write_seconds_bucket{le="1"} 97
zorgkit_access_log_write_seconds_bucket{le="+Inf"} 100
zorgkit_access_log_write_seconds_sum 12.5
zorgkit_access_log_write_seconds_count 100
go_goroutines 12
a line without a value
zorgkit_garbled x
`
	m := parseMetrics(body)
	assert.Equal(t, map[string]float64{
		`zorgkit_access_log_write_seconds_bucket{le="0.5"}`:  90,
		`zorgkit_access_log_write_seconds_bucket{le="1"}`:    97,
		`zorgkit_access_log_write_seconds_bucket{le="+Inf"}`: 100,
		"zorgkit_access_log_write_seconds_sum":               12.5,
		"zorgkit_access_log_write_seconds_count":             100,
		"go_goroutines":                                      12,
	}, m)
}

func TestRoundsSum(t *testing.T) {
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	var s roundsSum
	s.add(result{requests: 20000, duration: sec(2)}, result{requests: 4000, duration: sec(2)}) // 0.200
	s.add(result{requests: 10000, duration: sec(2)}, result{requests: 3000, duration: sec(2)}) // 0.300
	s.add(result{requests: 15000, duration: sec(2)}, result{requests: 3750, duration: sec(2)}) // 0.250
	assert.Equal(t, "healthz 7500/s, lookups 1792/s, lookups ÷ healthz 0.239 (rounds 0.200–0.300, median 0.250)", s.String(),
		"all requests over all time, not the mean of the rounds' ratios")
	assert.Equal(t, "no /healthz requests answered", roundsSum{}.String())
	assert.InDelta(t, 2.5, median([]float64{1, 2, 3, 4}), 1e-9)
}

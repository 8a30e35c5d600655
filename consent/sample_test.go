package consent_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/consenttest"
)

func ids(n int) []consent.RecordID {
	out := make([]consent.RecordID, n)
	for i := range out {
		out[i] = consent.RecordID(fmt.Sprintf("r%02d", i))
	}
	return out
}

// The known answers were computed independently with Python's hmac and
// hashlib.
func TestBottomKKnownAnswer(t *testing.T) {
	seed := []byte("0123456789abcdef")
	population := ids(10)
	assert.Equal(t, []consent.RecordID{"r02", "r06", "r05"}, consent.BottomK(seed, 3, population))
	assert.Equal(t, "a605ecadc2766d638d642eda38d2c3b74f9b8b60ade673262eb91699161929b4", consent.PopulationDigest(population))

	reversed := make([]consent.RecordID, len(population))
	for i, id := range population {
		reversed[len(population)-1-i] = id
	}
	assert.Equal(t, consent.BottomK(seed, 3, population), consent.BottomK(seed, 3, reversed), "the order of the population does not matter")
	assert.Equal(t, consent.PopulationDigest(population), consent.PopulationDigest(reversed))
	assert.Len(t, consent.BottomK(seed, 20, population), 10, "k larger than the population selects all")
	assert.Empty(t, consent.BottomK(seed, 0, population))
	assert.Equal(t, consent.BottomK(seed, 3, population), consent.BottomK(seed, 10, population)[:3], "a larger sample extends a smaller one")
}

// TestBottomKUniform draws with many seeds, derived from one fixed seed so
// that the test is deterministic, and checks with a chi-squared test that
// every record is equally likely to be selected, and to be ranked first.
func TestBottomKUniform(t *testing.T) {
	const (
		n     = 20
		k     = 5
		draws = 4000
		// The 0.999 quantile of the chi-squared distribution with n-1 = 19
		// degrees of freedom: a fair draw exceeds it once in a thousand
		// seeds, and this fixed seed does not.
		critical = 43.82
	)
	population := ids(n)
	selected := map[consent.RecordID]int{}
	first := map[consent.RecordID]int{}
	for i := range draws {
		seed := sha256.Sum256(fmt.Appendf(nil, "zorgkit uniformity test %d", i))
		sample := consent.BottomK(seed[:], k, population)
		require.Len(t, sample, k)
		for _, id := range sample {
			selected[id]++
		}
		first[sample[0]]++
	}
	chi2 := func(counts map[consent.RecordID]int, expected float64) float64 {
		sum := 0.0
		for _, id := range population {
			d := float64(counts[id]) - expected
			sum += d * d / expected
		}
		return sum
	}
	inclusion := chi2(selected, draws*k/n)
	ranking := chi2(first, draws/n)
	t.Logf("chi-squared: inclusion %.2f, first place %.2f (critical %.2f)", inclusion, ranking, critical)
	assert.Less(t, inclusion, critical, "every record is equally likely to be selected")
	assert.Less(t, ranking, critical, "every record is equally likely to rank first")

	// The test can fail: a biased draw, which favours low ids, does.
	biased := map[consent.RecordID]int{}
	for i := range draws {
		seed := sha256.Sum256(fmt.Appendf(nil, "zorgkit uniformity test %d", i))
		for _, id := range consent.BottomK(seed[:], k, population[:n-1]) {
			biased[id]++
		}
	}
	assert.Greater(t, chi2(biased, draws*k/n), critical, "the test detects a record that is never drawn")
}

func TestSample(t *testing.T) {
	ctx := t.Context()
	r, clock := newRegistry(t)
	start := clock.Now()
	var all []consent.RecordID
	for i := range 30 {
		purpose := consent.PurposeViewNAW
		if i%3 == 0 {
			purpose = consent.PurposeConsultIndication
		}
		rec, err := r.Give(ctx, consenttest.NewRecord(consent.Subject(fmt.Sprint("s", i)), "org-a", purpose, consent.Permit, start.Add(-time.Hour)))
		require.NoError(t, err)
		if purpose == consent.PurposeViewNAW {
			all = append(all, rec.ID)
		}
		clock.Advance(time.Second)
	}
	window := consent.Filter{Organisation: "org-a", Purpose: consent.PurposeViewNAW, From: start, Until: clock.Now()}

	_, err := r.Sample(ctx, window, 5, nil)
	assert.ErrorIs(t, err, consent.ErrInvalid, "the window has not been closed long enough")
	clock.Advance(consent.FreezeMargin)

	m, err := r.Sample(ctx, window, 5, nil)
	require.NoError(t, err)
	assert.Equal(t, consent.SampleAlgorithm, m.Algorithm)
	assert.Len(t, m.Seed, 64, "a random seed of 32 bytes")
	assert.Equal(t, 20, m.PopulationSize)
	assert.Len(t, m.Selected, 5)
	for _, id := range m.Selected {
		assert.Contains(t, all, id)
	}
	require.NoError(t, r.Redraw(ctx, m))

	b, err := json.Marshal(m)
	require.NoError(t, err)
	var back consent.Manifest
	require.NoError(t, json.Unmarshal(b, &back))
	require.NoError(t, r.Redraw(ctx, back), "a manifest redraws after a JSON round trip")
	assert.Equal(t, m.ID(), back.ID())
	assert.Len(t, m.ID(), 32)

	other, err := r.Sample(ctx, window, 5, nil)
	require.NoError(t, err)
	assert.NotEqual(t, m.Seed, other.Seed)
	assert.NotEqual(t, m.ID(), other.ID())

	tests := []struct {
		reason string
		change func(*consent.Manifest)
	}{
		{"another population size", func(m *consent.Manifest) { m.PopulationSize++ }},
		{"another population digest", func(m *consent.Manifest) { m.PopulationDigest = consent.PopulationDigest(nil) }},
		{"another seed", func(m *consent.Manifest) { m.Seed = other.Seed }},
		{"a seed that is not hexadecimal", func(m *consent.Manifest) { m.Seed = "zz" }},
		{"another selection", func(m *consent.Manifest) { m.Selected = other.Selected }},
		{"a smaller k", func(m *consent.Manifest) { m.K = 4 }},
		{"another filter", func(m *consent.Manifest) { m.Filter.Purpose = consent.PurposeConsultIndication }},
		{"another algorithm", func(m *consent.Manifest) { m.Algorithm = "first-k" }},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			altered := m
			altered.Selected = append([]consent.RecordID(nil), m.Selected...)
			tt.change(&altered)
			assert.ErrorIs(t, r.Redraw(ctx, altered), consent.ErrSampleMismatch)
		})
	}
}

func TestSampleInvalid(t *testing.T) {
	r, clock := newRegistry(t)
	closed := consent.Filter{From: t0, Until: t0.Add(time.Hour)}
	seed := []byte("sixteen bytes...")
	tests := []struct {
		reason string
		filter consent.Filter
		k      int
		seed   []byte
	}{
		{"k zero", closed, 0, seed},
		{"short seed", closed, 1, []byte("short")},
		{"no window", consent.Filter{}, 1, seed},
		{"no end", consent.Filter{From: t0}, 1, seed},
		{"window ends before it starts", consent.Filter{From: t0, Until: t0.Add(-time.Hour)}, 1, seed},
		{"window still open", consent.Filter{From: t0, Until: clock.Now()}, 1, seed},
		{"unknown purpose", consent.Filter{From: t0, Until: t0.Add(time.Hour), Purpose: "all"}, 1, seed},
		{"unknown decision", consent.Filter{From: t0, Until: t0.Add(time.Hour), Decision: "yes"}, 1, seed},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			_, err := r.Sample(t.Context(), tt.filter, tt.k, tt.seed)
			assert.ErrorIs(t, err, consent.ErrInvalid)
		})
	}
}

// bottomKSort is BottomK as its definition says it: rank everything, sort,
// take k. It is the reference for the heap in BottomK.
func bottomKSort(seed []byte, k int, population []consent.RecordID) []consent.RecordID {
	type ranked struct {
		rank []byte
		id   consent.RecordID
	}
	all := make([]ranked, len(population))
	for i, id := range population {
		m := hmac.New(sha256.New, seed)
		m.Write([]byte(id))
		all[i] = ranked{m.Sum(nil), id}
	}
	slices.SortFunc(all, func(a, b ranked) int {
		if c := bytes.Compare(a.rank, b.rank); c != 0 {
			return c
		}
		return strings.Compare(string(a.id), string(b.id))
	})
	out := []consent.RecordID{}
	for i := 0; i < k && i < len(all); i++ {
		out = append(out, all[i].id)
	}
	return out
}

func TestBottomKMatchesDefinition(t *testing.T) {
	for n := range 40 {
		for _, k := range []int{0, 1, 2, 5, 39, 50} {
			seed := sha256.Sum256(fmt.Appendf(nil, "seed %d %d", n, k))
			population := ids(n)
			assert.Equal(t, bottomKSort(seed[:], k, population), consent.BottomK(seed[:], k, population), "n=%d k=%d", n, k)
		}
	}
}

// BenchmarkBottomKSort is the baseline for BenchmarkBottomK: the definition,
// ranking and sorting the whole population.
func BenchmarkBottomKSort(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("population=%d", n), func(b *testing.B) {
			population, seed := benchPopulation(n)
			b.ReportAllocs()
			for b.Loop() {
				bottomKSort(seed, 50, population)
			}
		})
	}
}

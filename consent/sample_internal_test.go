package consent

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ids(n int) []RecordID {
	out := make([]RecordID, n)
	for i := range out {
		out[i] = RecordID(fmt.Sprintf("r%02d", i))
	}
	return out
}

// The known answers were computed independently with Python's hmac and
// hashlib.
func TestBottomKKnownAnswer(t *testing.T) {
	seed := []byte("0123456789abcdef")
	population := ids(10)
	assert.Equal(t, []RecordID{"r02", "r06", "r05"}, bottomK(seed, 3, population))
	assert.Equal(t, "a605ecadc2766d638d642eda38d2c3b74f9b8b60ade673262eb91699161929b4", populationDigest(population))

	reversed := make([]RecordID, len(population))
	for i, id := range population {
		reversed[len(population)-1-i] = id
	}
	assert.Equal(t, bottomK(seed, 3, population), bottomK(seed, 3, reversed), "the order of the population does not matter")
	assert.Equal(t, populationDigest(population), populationDigest(reversed))
	assert.Len(t, bottomK(seed, 20, population), 10, "k larger than the population selects all")
	assert.Empty(t, bottomK(seed, 0, population))
	assert.Equal(t, bottomK(seed, 3, population), bottomK(seed, 10, population)[:3], "a larger sample extends a smaller one")
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
	selected := map[RecordID]int{}
	first := map[RecordID]int{}
	for i := range draws {
		seed := sha256.Sum256(fmt.Appendf(nil, "zorgkit uniformity test %d", i))
		sample := bottomK(seed[:], k, population)
		require.Len(t, sample, k)
		for _, id := range sample {
			selected[id]++
		}
		first[sample[0]]++
	}
	chi2 := func(counts map[RecordID]int, expected float64) float64 {
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
	biased := map[RecordID]int{}
	for i := range draws {
		seed := sha256.Sum256(fmt.Appendf(nil, "zorgkit uniformity test %d", i))
		for _, id := range bottomK(seed[:], k, population[:n-1]) {
			biased[id]++
		}
	}
	assert.Greater(t, chi2(biased, draws*k/n), critical, "the test detects a record that is never drawn")
}

// bottomKSort is bottomK as its definition says it: rank everything, sort,
// take k. It is the reference for the heap in bottomK.
func bottomKSort(seed []byte, k int, population []RecordID) []RecordID {
	type ranked struct {
		rank []byte
		id   RecordID
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
	out := []RecordID{}
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
			assert.Equal(t, bottomKSort(seed[:], k, population), bottomK(seed[:], k, population), "n=%d k=%d", n, k)
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

func BenchmarkBottomK(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("population=%d", n), func(b *testing.B) {
			population, seed := benchPopulation(n)
			b.ReportAllocs()
			for b.Loop() {
				bottomK(seed, 50, population)
			}
		})
	}
}

// benchPopulation returns n record ids and a seed for the sampling
// benchmarks.
func benchPopulation(n int) ([]RecordID, []byte) {
	population := make([]RecordID, n)
	for i := range population {
		population[i] = RecordID(fmt.Sprintf("%032x", i))
	}
	return population, []byte("a seed of sixteen bytes or more")
}

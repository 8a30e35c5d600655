package disclosuretest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/disclosure"
	"github.com/zorgkit/zorgkit/disclosure/disclosuretest"
)

func TestSmall(t *testing.T) {
	tab := disclosuretest.Small(1, 20)
	require.Len(t, tab.Dimensions, 3)
	assert.Len(t, tab.Cells, 12*12*16, "inner cells")
	small, empty := 0, 0
	for _, c := range tab.Cells {
		switch {
		case c.Count == 0:
			empty++
		case c.Count < 5:
			small++
		}
	}
	assert.InDelta(t, 1.0/3, float64(small)/float64(len(tab.Cells)), 0.05, "about a third of the inner cells below 5")
	assert.InDelta(t, 0.05, float64(empty)/float64(len(tab.Cells)), 0.02, "about 5% empty")

	recs := tab.Records()
	n := 0
	for _, c := range tab.Cells {
		n += c.Count
	}
	assert.Len(t, recs, n, "one record per count")
	for _, r := range recs {
		assert.NotEmpty(t, r.Contributor, "every record has a provider")
	}
	fromRecords, err := disclosure.Tabulate(tab.Dimensions, recs, tab.Spec)
	require.NoError(t, err)
	fromCells, err := disclosure.FromAggregates(tab.Dimensions, tab.Spec, tab.Cells)
	require.NoError(t, err)
	p1, err := fromRecords.Protect(context.Background(), disclosure.Rules{})
	require.NoError(t, err)
	p2, err := fromCells.Protect(context.Background(), disclosure.Rules{})
	require.NoError(t, err)
	assert.Equal(t, 16*16*21, p1.Stats().Cells)
	assert.Equal(t, p1.Stats().Primary, p2.Stats().Primary, "records and aggregates give the same primary cells")
}

func TestDeterministic(t *testing.T) {
	assert.Equal(t, disclosuretest.Small(7, 5), disclosuretest.Small(7, 5))
	assert.NotEqual(t, disclosuretest.Small(7, 5).Cells, disclosuretest.Small(8, 5).Cells)
}

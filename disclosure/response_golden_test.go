package disclosure_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/disclosure"
)

// responseGolden protects random response tables whose records say
// nothing of Record.Applies (every indicator applies), with and without
// interval protection, and renders every table, every owner view and the
// statistics.
func responseGolden(t *testing.T) []byte {
	t.Helper()
	var out bytes.Buffer
	r := rand.New(rand.NewPCG(21, 22))
	n := 0
	for i := 0; n < 10; i++ {
		s := randomScenario(r, i)
		if !slices.ContainsFunc(s.specs, func(sp disclosure.Spec) bool { return sp.Kind == disclosure.Response }) {
			continue
		}
		n++
		tabs, err := disclosure.Tabulate(s.dims, s.records, s.specs...)
		require.NoError(t, err)
		rules := s.rules
		rules.Intervals = n == 6 || n == 9
		rules.Margin = map[bool]float64{true: 1}[rules.Intervals]
		p, err := tabs.Protect(context.Background(), rules)
		require.NoError(t, err)
		fmt.Fprintf(&out, "# scenario %d, intervals %t: %+v\n", i, rules.Intervals, p.Stats())
		for _, tab := range p.Tables() {
			require.NoError(t, tab.WriteCSV(&out, disclosure.Format{Status: true}))
		}
		for _, c := range []string{"p1", "p2"} {
			v, err := tabs.OwnerView(c)
			if err != nil {
				fmt.Fprintf(&out, "# owner %s: %v\n", c, err)
				continue
			}
			for _, tab := range v.Tables() {
				require.NoError(t, tab.WriteCSV(&out, disclosure.Format{}))
			}
		}
	}
	return out.Bytes()
}

// Records that leave Record.Applies nil (every indicator applies) give
// byte for byte the tables they gave before Record.Applies existed:
// testdata/response_before_applies.txt was written by the code before it,
// and written again (ZORGKIT_WRITE_GOLDEN=1) only when interval protection
// itself changed: after the interval work of issue 14 the one difference was
// scenario 19, where the clean-up publishes the grand total again (7
// secondary cells instead of 8); the scenarios without intervals are as
// the code before Record.Applies wrote them.
func TestResponseUnchangedWithoutApplies(t *testing.T) {
	got := responseGolden(t)
	path := filepath.Join("testdata", "response_before_applies.txt")
	if os.Getenv("ZORGKIT_WRITE_GOLDEN") != "" {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(want, got), "the rendering changed for records without Applies")
}

package pseudonymtest_test

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/bsn"
	"github.com/zorgkit/zorgkit/pseudonym/pseudonymtest"
)

func TestCBSRows(t *testing.T) {
	const rows = 20000
	a, err := io.ReadAll(pseudonymtest.CBSRows(42, rows))
	require.NoError(t, err)
	b, err := io.ReadAll(pseudonymtest.CBSRows(42, rows))
	require.NoError(t, err)
	assert.Equal(t, a, b, "the same seed gives the same file")
	c, err := io.ReadAll(pseudonymtest.CBSRows(43, rows))
	require.NoError(t, err)
	assert.NotEqual(t, a, c)

	sc := bufio.NewScanner(strings.NewReader(string(a)))
	require.True(t, sc.Scan())
	assert.Equal(t, strings.TrimSuffix(pseudonymtest.CBSHeader, "\n"), sc.Text())
	kinds := map[string]int{}
	n := 0
	for sc.Scan() {
		n++
		fields := strings.Split(sc.Text(), ";")
		require.Len(t, fields, 10, sc.Text())
		_, err := bsn.Parse(fields[0])
		switch {
		case errors.Is(err, bsn.ErrUnknown):
			kinds["unknown"]++
		case errors.Is(err, bsn.ErrUnborn):
			kinds["unborn"]++
		case err != nil:
			kinds["invalid"]++
		case len(fields[0]) == 8:
			kinds["eight digits"]++
		default:
			kinds["valid"]++
		}
	}
	assert.Equal(t, rows, n)
	assert.InDelta(t, rows/100, kinds["unknown"], rows/200)
	assert.InDelta(t, rows/1000, kinds["unborn"], rows/1000)
	assert.InDelta(t, rows/1000, kinds["invalid"], rows/1000)
	assert.InDelta(t, rows/20, kinds["eight digits"], rows/40, "half of the 10%% with a leading zero")
}

func TestVectorsAreFresh(t *testing.T) {
	v := pseudonymtest.Vectors()
	v[0].Pseudonym = "changed"
	assert.NotEqual(t, "changed", pseudonymtest.Vectors()[0].Pseudonym)
	assert.Panics(t, func() { pseudonymtest.Key("nope") })
	assert.Equal(t, "pseudonym.Keyring(2026-11,k1,k3)", pseudonymtest.Keyring().String())
}

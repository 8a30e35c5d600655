package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	var out strings.Builder
	ok, err := run([]string{"1234.56.782", "123456781"}, nil, &out)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, "1: valid BSN ******782\n2: bsn: not a valid BSN (eleven-proof fails): check the number for a typing error\n", out.String())
	assert.NotContains(t, out.String(), "123456781", "input never echoed")

	out.Reset()
	ok, err = run(nil, strings.NewReader("999993847\n40645678\n"), &out)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "1: valid BSN ******847\n2: valid BSN ******678\n", out.String())
}

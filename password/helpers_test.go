package password_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/password"
)

var ctx = context.Background()

// mustPolicy builds the policy of c, which the test expects to be valid.
func mustPolicy(tb testing.TB, c password.Config) *password.Policy {
	tb.Helper()
	p, err := password.NewPolicy(c)
	require.NoError(tb, err)
	return p
}

// mustHasher builds a Hasher of c, which the test expects to be valid.
func mustHasher(tb testing.TB, c password.HasherConfig) *password.Hasher {
	tb.Helper()
	h, err := password.NewHasher(c)
	require.NoError(tb, err)
	return h
}

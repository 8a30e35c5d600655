package password_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/password"
)

func TestResets(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, r *password.Resets, c *clock, token string)
	}{
		{"a token works once", func(t *testing.T, r *password.Resets, c *clock, token string) {
			account, err := r.Redeem(ctx, token)
			require.NoError(t, err)
			assert.Equal(t, "acct-1", account)
			_, err = r.Redeem(ctx, token)
			assert.ErrorIs(t, err, password.ErrResetInvalid, "invalidated by use")
		}},
		{"valid 60 minutes", func(t *testing.T, r *password.Resets, c *clock, token string) {
			c.Advance(60 * time.Minute)
			_, err := r.Redeem(ctx, token)
			assert.ErrorIs(t, err, password.ErrResetInvalid)
		}},
		{"valid just before expiry", func(t *testing.T, r *password.Resets, c *clock, token string) {
			c.Advance(60*time.Minute - time.Second)
			_, err := r.Redeem(ctx, token)
			assert.NoError(t, err)
		}},
		{"invalidated by a newer request", func(t *testing.T, r *password.Resets, c *clock, token string) {
			c.Advance(time.Minute)
			newer, _, err := r.Issue(ctx, "acct-1")
			require.NoError(t, err)
			_, err = r.Redeem(ctx, token)
			assert.ErrorIs(t, err, password.ErrResetInvalid)
			_, err = r.Redeem(ctx, newer)
			assert.NoError(t, err)
		}},
		{"invalidated by a password change", func(t *testing.T, r *password.Resets, c *clock, token string) {
			require.NoError(t, r.Revoke(ctx, "acct-1"))
			_, err := r.Redeem(ctx, token)
			assert.ErrorIs(t, err, password.ErrResetInvalid)
		}},
		{"another account's request changes nothing", func(t *testing.T, r *password.Resets, c *clock, token string) {
			_, _, err := r.Issue(ctx, "acct-2")
			require.NoError(t, err)
			_, err = r.Redeem(ctx, token)
			assert.NoError(t, err)
		}},
		{"malformed tokens", func(t *testing.T, r *password.Resets, c *clock, token string) {
			for _, bad := range []string{"", "x", token[:42], token + "A", strings.Replace(token, token[:1], "+", 1), strings.Repeat("A", 1<<16)} {
				_, err := r.Redeem(ctx, bad)
				assert.ErrorIs(t, err, password.ErrResetInvalid, "%.50q", bad)
			}
			_, err := r.Redeem(ctx, token)
			assert.NoError(t, err, "failed attempts do not consume the real token")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			r := &password.Resets{Now: c.Now}
			token, expires, err := r.Issue(ctx, "acct-1")
			require.NoError(t, err)
			assert.Equal(t, c.Now().Add(time.Hour), expires)
			assert.Len(t, token, 43, "256 bits in unpadded base64url")
			tt.run(t, r, c, token)
		})
	}
}

func TestResetTokenStoredAsHash(t *testing.T) {
	ctx := context.Background()
	store := new(password.MemoryStore)
	r := &password.Resets{Store: store}
	token, _, err := r.Issue(ctx, "acct-1")
	require.NoError(t, err)
	hash, err := password.HashResetToken(token)
	require.NoError(t, err)
	got, err := store.ConsumeReset(ctx, hash, time.Now())
	require.NoError(t, err, "the store knows the token by its hash")
	assert.Equal(t, "acct-1", got.Account)
	assert.NotContains(t, string(got.Hash[:]), token)

	other, _, err := r.Issue(ctx, "acct-2")
	require.NoError(t, err)
	assert.NotEqual(t, token, other, "random tokens")
}

func TestTemporaryPassword(t *testing.T) {
	for _, p := range []password.Policy{password.Almere(), password.Portero(), password.NIST(false)} {
		seen := map[string]bool{}
		for range 20 {
			pw, err := p.Temporary()
			require.NoError(t, err)
			assert.NoError(t, p.Check(pw, password.User{}), "meets its own policy")
			assert.GreaterOrEqual(t, len(pw), password.TemporaryLength)
			assert.False(t, strings.ContainsAny(pw, "0O1lI|"), "no look-alikes: %s", pw)
			assert.False(t, seen[pw])
			seen[pw] = true
		}
	}
}

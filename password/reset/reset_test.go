package reset_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/password"
	"github.com/zorgkit/zorgkit/password/reset"
	"github.com/zorgkit/zorgkit/password/reset/resettest"
)

var ctx = context.Background()

// clock is a manual clock for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newIssuer(t testing.TB, c reset.Config) *reset.Issuer {
	t.Helper()
	if c.Store == nil {
		c.Store = reset.NewMemoryStore()
	}
	r, err := reset.New(c)
	require.NoError(t, err)
	return r
}

func almere(t testing.TB) *password.Policy {
	p, err := password.NewPolicy(password.Almere())
	require.NoError(t, err)
	return p
}

// redeemTemporary is r.RedeemTemporary's error.
func redeemTemporary(r *reset.Issuer, account, temp string) error {
	_, err := r.RedeemTemporary(ctx, account, temp)
	return err
}

func TestMemoryStore(t *testing.T) {
	resettest.TestStore(t, func(testing.TB) reset.Store { return reset.NewMemoryStore() })
}

func TestConfig(t *testing.T) {
	_, err := reset.New(reset.Config{})
	assert.ErrorContains(t, err, "reset: Config.Store is required", "never silently in one process's memory")
	_, err = reset.New(reset.Config{Store: reset.NewMemoryStore(), TTL: -time.Minute})
	assert.Error(t, err)
}

func TestLinks(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, r *reset.Issuer, c *clock, token string)
	}{
		{"a token works once", func(t *testing.T, r *reset.Issuer, c *clock, token string) {
			account, err := r.Redeem(ctx, token)
			require.NoError(t, err)
			assert.Equal(t, "acct-1", account)
			_, err = r.Redeem(ctx, token)
			assert.ErrorIs(t, err, reset.ErrInvalid, "invalidated by use")
		}},
		{"valid 60 minutes", func(t *testing.T, r *reset.Issuer, c *clock, token string) {
			c.Advance(60 * time.Minute)
			_, err := r.Redeem(ctx, token)
			assert.ErrorIs(t, err, reset.ErrInvalid)
		}},
		{"valid just before expiry", func(t *testing.T, r *reset.Issuer, c *clock, token string) {
			c.Advance(60*time.Minute - time.Second)
			_, err := r.Redeem(ctx, token)
			assert.NoError(t, err)
		}},
		{"invalidated by a newer request", func(t *testing.T, r *reset.Issuer, c *clock, token string) {
			c.Advance(time.Minute)
			newer, _, err := r.Issue(ctx, "acct-1")
			require.NoError(t, err)
			_, err = r.Redeem(ctx, token)
			assert.ErrorIs(t, err, reset.ErrInvalid)
			_, err = r.Redeem(ctx, newer)
			assert.NoError(t, err)
		}},
		{"invalidated by a temporary password", func(t *testing.T, r *reset.Issuer, c *clock, token string) {
			_, _, err := r.IssueTemporary(ctx, "acct-1", almere(t))
			require.NoError(t, err)
			_, err = r.Redeem(ctx, token)
			assert.ErrorIs(t, err, reset.ErrInvalid, "one outstanding secret per account")
		}},
		{"invalidated by a password change", func(t *testing.T, r *reset.Issuer, c *clock, token string) {
			require.NoError(t, r.Revoke(ctx, "acct-1"))
			_, err := r.Redeem(ctx, token)
			assert.ErrorIs(t, err, reset.ErrInvalid)
		}},
		{"another account's request changes nothing", func(t *testing.T, r *reset.Issuer, c *clock, token string) {
			_, _, err := r.Issue(ctx, "acct-2")
			require.NoError(t, err)
			_, err = r.Redeem(ctx, token)
			assert.NoError(t, err)
		}},
		{"malformed tokens", func(t *testing.T, r *reset.Issuer, c *clock, token string) {
			for _, bad := range []string{"", "x", token[:42], token + "A", strings.Replace(token, token[:1], "+", 1), strings.Repeat("A", 1<<16)} {
				_, err := r.Redeem(ctx, bad)
				assert.ErrorIs(t, err, reset.ErrInvalid, "%.50q", bad)
			}
			_, err := r.Redeem(ctx, token)
			assert.NoError(t, err, "failed attempts do not consume the real token")
		}},
		{"a token is not a temporary password", func(t *testing.T, r *reset.Issuer, c *clock, token string) {
			assert.ErrorIs(t, redeemTemporary(r, "acct-1", token), reset.ErrInvalid)
			_, err := r.Redeem(ctx, token)
			assert.NoError(t, err)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			r := newIssuer(t, reset.Config{Now: c.Now})
			token, expires, err := r.Issue(ctx, "acct-1")
			require.NoError(t, err)
			assert.Equal(t, c.Now().Add(time.Hour), expires)
			assert.Len(t, token, 43, "256 bits in unpadded base64url")
			tt.run(t, r, c, token)
		})
	}
}

func TestTemporary(t *testing.T) {
	policy := almere(t)
	tests := []struct {
		name string
		run  func(t *testing.T, r *reset.Issuer, c *clock, temp string)
	}{
		{"works once, for its account", func(t *testing.T, r *reset.Issuer, c *clock, temp string) {
			assert.ErrorIs(t, redeemTemporary(r, "acct-2", temp), reset.ErrInvalid, "another account")
			issued := c.Now()
			c.Advance(10 * time.Minute)
			got, err := r.RedeemTemporary(ctx, "acct-1", temp)
			require.NoError(t, err)
			assert.Equal(t, issued, got, "when it was issued, not when it was used: it expires as if unused")
			assert.ErrorIs(t, redeemTemporary(r, "acct-1", temp), reset.ErrInvalid, "single use")
		}},
		{"valid for the policy's TemporaryFor", func(t *testing.T, r *reset.Issuer, c *clock, temp string) {
			c.Advance(time.Hour)
			assert.ErrorIs(t, redeemTemporary(r, "acct-1", temp), reset.ErrInvalid)
		}},
		{"valid just before expiry", func(t *testing.T, r *reset.Issuer, c *clock, temp string) {
			c.Advance(time.Hour - time.Second)
			assert.NoError(t, redeemTemporary(r, "acct-1", temp))
		}},
		{"wrong or changed", func(t *testing.T, r *reset.Issuer, c *clock, temp string) {
			for _, bad := range []string{"", temp[:len(temp)-1], temp + " ", strings.ToLower(temp), strings.Repeat("x", 1<<16)} {
				assert.ErrorIs(t, redeemTemporary(r, "acct-1", bad), reset.ErrInvalid, "%.50q", bad)
			}
			assert.NoError(t, redeemTemporary(r, "acct-1", temp), "failed attempts do not consume it")
		}},
		{"replaced by a newer request", func(t *testing.T, r *reset.Issuer, c *clock, temp string) {
			newer, _, err := r.IssueTemporary(ctx, "acct-1", policy)
			require.NoError(t, err)
			assert.ErrorIs(t, redeemTemporary(r, "acct-1", temp), reset.ErrInvalid)
			assert.NoError(t, redeemTemporary(r, "acct-1", newer))
		}},
		{"revoked by a password change", func(t *testing.T, r *reset.Issuer, c *clock, temp string) {
			require.NoError(t, r.Revoke(ctx, "acct-1"))
			assert.ErrorIs(t, redeemTemporary(r, "acct-1", temp), reset.ErrInvalid)
		}},
		{"not a link", func(t *testing.T, r *reset.Issuer, c *clock, temp string) {
			_, err := r.Redeem(ctx, temp)
			assert.ErrorIs(t, err, reset.ErrInvalid)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			r := newIssuer(t, reset.Config{Now: c.Now})
			temp, expires, err := r.IssueTemporary(ctx, "acct-1", policy)
			require.NoError(t, err)
			assert.Equal(t, c.Now().Add(time.Hour), expires)
			assert.NoError(t, policy.Check(temp, password.User{}), "meets the policy")
			tt.run(t, r, c, temp)
		})
	}

	long, err := password.NewPolicy(password.Config{MinLength: 20, TemporaryFor: 24 * time.Hour})
	require.NoError(t, err)
	c := newClock()
	r := newIssuer(t, reset.Config{Now: c.Now})
	temp, expires, err := r.IssueTemporary(ctx, "acct-1", long)
	require.NoError(t, err)
	assert.Len(t, temp, 20, "as long as the policy's minimum")
	assert.Equal(t, c.Now().Add(24*time.Hour), expires, "the policy's TemporaryFor")
}

// recordingStore remembers every Token it is given, to check what reaches
// the database.
type recordingStore struct {
	reset.Store
	mu  sync.Mutex
	put []reset.Token
}

func (s *recordingStore) Put(ctx context.Context, t reset.Token) error {
	s.mu.Lock()
	s.put = append(s.put, t)
	s.mu.Unlock()
	return s.Store.Put(ctx, t)
}

// TestStoredAsHash: the store receives only the SHA-256 of a link's token
// (domain-separated and bound to the account, for a temporary password),
// never the secret or its raw bytes, and tokens are random.
func TestStoredAsHash(t *testing.T) {
	store := &recordingStore{Store: reset.NewMemoryStore()}
	r := newIssuer(t, reset.Config{Store: store})
	token, _, err := r.Issue(ctx, "acct-1")
	require.NoError(t, err)
	temp, _, err := r.IssueTemporary(ctx, "acct-2", almere(t))
	require.NoError(t, err)
	require.Len(t, store.put, 2)

	raw, err := base64.RawURLEncoding.DecodeString(token)
	require.NoError(t, err)
	assert.Equal(t, sha256.Sum256(raw), store.put[0].Hash, "the link's token is stored as the SHA-256 of its 32 bytes")
	// A temporary password's hash: SHA-256 over a domain label, the account
	// and the password, each preceded by its length (8 bytes, big-endian).
	var framed []byte
	for _, s := range []string{"zorgkit temporary password v1", "acct-2", temp} {
		framed = binary.BigEndian.AppendUint64(framed, uint64(len(s)))
		framed = append(framed, s...)
	}
	assert.Equal(t, sha256.Sum256(framed), store.put[1].Hash, "a temporary password's hash is bound to its account")
	assert.NotEqual(t, sha256.Sum256([]byte(temp)), store.put[1].Hash, "not the bare password's hash")
	for _, tok := range store.put {
		everything := fmt.Sprintf("%+v %x %s", tok, tok.Hash, tok.Hash[:])
		for _, secret := range [][]byte{[]byte(token), raw, []byte(temp)} {
			assert.False(t, bytes.Contains([]byte(everything), secret), "the stored record contains a secret")
			assert.NotContains(t, everything, fmt.Sprintf("%x", secret))
		}
	}

	other, _, err := r.Issue(ctx, "acct-3")
	require.NoError(t, err)
	assert.NotEqual(t, token, other, "random tokens")
	otherTemp, _, err := r.IssueTemporary(ctx, "acct-4", almere(t))
	require.NoError(t, err)
	assert.NotEqual(t, temp, otherTemp, "random temporary passwords")
}

// TestSystemClock runs an Issuer on the system clock in a synctest bubble,
// where time.Sleep advances the fake clock at once.
func TestSystemClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newIssuer(t, reset.Config{})
		token, _, err := r.Issue(ctx, "acct-1")
		require.NoError(t, err)
		time.Sleep(59 * time.Minute)
		other, _, err := r.Issue(ctx, "acct-2")
		require.NoError(t, err)
		time.Sleep(time.Minute)
		_, err = r.Redeem(ctx, token)
		assert.ErrorIs(t, err, reset.ErrInvalid, "after 60 minutes")
		_, err = r.Redeem(ctx, other)
		assert.NoError(t, err)
	})
}

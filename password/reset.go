package password

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// DefaultResetTTL is how long a reset link stays valid.
const DefaultResetTTL = 60 * time.Minute

// resetTokenBytes is the size of a reset token: 256 bits.
const resetTokenBytes = 32

// ErrResetInvalid means a reset token is malformed, unknown, expired,
// already used, or replaced by a newer one. The cases are not told apart, to
// the user or to an attacker.
var ErrResetInvalid = errors.New("password: reset link invalid or expired: request a new one")

// ResetToken is a password-reset token as stored: only the SHA-256 hash of the
// token, never the token. The token has 256 random bits, so a fast hash
// suffices and lookup by hash is safe.
type ResetToken struct {
	Account string
	Hash    [32]byte  // SHA-256 of the token's 32 bytes
	Created time.Time // when it was issued
	Expires time.Time // when it stops being valid
	Used    time.Time // when it was used; zero if not yet
}

// ResetStore keeps one reset token per account, for [Resets]. Each method
// must be atomic and safe for concurrent use; package passwordtest has a
// conformance test. In SQL, with a table keyed by account and a unique index
// on the hash:
//
//	-- PutReset: a newer request replaces the older token
//	INSERT INTO password_resets (account, hash, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, NULL)
//	ON CONFLICT (account) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at,
//	    expires_at = excluded.expires_at, used_at = NULL
//
//	-- ConsumeReset: single use
//	UPDATE password_resets SET used_at = $2
//	WHERE hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING account, created_at, expires_at
//
//	-- DeleteReset: on every password change
//	DELETE FROM password_resets WHERE account = $1
type ResetStore interface {
	// PutReset stores t as the only token of t.Account.
	PutReset(ctx context.Context, t ResetToken) error

	// ConsumeReset sets Used of the token with this hash to now if it is
	// unused and expires after now, and returns it; otherwise it returns
	// ErrResetInvalid.
	ConsumeReset(ctx context.Context, hash [32]byte, now time.Time) (ResetToken, error)

	// DeleteReset removes the account's token, if any.
	DeleteReset(ctx context.Context, account string) error
}

// Resets issues and redeems password-reset tokens for "forgot password"
// links: 256 random bits, stored only as a hash, valid for TTL (60 minutes),
// single use, and invalidated by a newer request for the same account and by
// a password change ([Resets.Revoke]).
//
// To avoid revealing which addresses have accounts, answer every reset
// request the same way, and take about as long, whether or not an account
// exists; send the e-mail only if it does.
//
// The zero Resets is ready to use with a private in-memory store (one
// process only). A Resets must not be copied after first use.
type Resets struct {
	Store ResetStore       // nil: a private MemoryStore
	TTL   time.Duration    // 0: DefaultResetTTL
	Now   func() time.Time // nil: time.Now
	Rand  io.Reader        // nil: crypto/rand; set only in tests

	once sync.Once
	mem  *MemoryStore
}

func (r *Resets) store() ResetStore {
	if r.Store != nil {
		return r.Store
	}
	r.once.Do(func() { r.mem = new(MemoryStore) })
	return r.mem
}

func (r *Resets) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Issue creates a reset token for account, replacing any earlier one, and
// returns it, to be put in the link sent to the user, and its expiry. The
// token is 43 characters of unpadded URL-safe base64. Never log it.
func (r *Resets) Issue(ctx context.Context, account string) (token string, expires time.Time, err error) {
	src := r.Rand
	if src == nil {
		src = rand.Reader
	}
	var raw [resetTokenBytes]byte
	if _, err := io.ReadFull(src, raw[:]); err != nil {
		return "", time.Time{}, fmt.Errorf("password: reading random token: %w", err)
	}
	now := r.now()
	t := ResetToken{
		Account: account,
		Hash:    sha256.Sum256(raw[:]),
		Created: now,
		Expires: now.Add(orDefault(r.TTL, DefaultResetTTL)),
	}
	if err := r.store().PutReset(ctx, t); err != nil {
		return "", time.Time{}, err
	}
	return base64.RawURLEncoding.EncodeToString(raw[:]), t.Expires, nil
}

// Redeem uses token: if it is valid, it is consumed and Redeem returns the
// account it was issued for; set the new password in the same request. Any
// other token gives [ErrResetInvalid].
func (r *Resets) Redeem(ctx context.Context, token string) (account string, err error) {
	hash, err := HashResetToken(token)
	if err != nil {
		return "", err
	}
	t, err := r.store().ConsumeReset(ctx, hash, r.now())
	if err != nil {
		return "", err
	}
	return t.Account, nil
}

// Revoke invalidates the account's reset token, if any. Call it whenever the
// account's password changes, whatever the way.
func (r *Resets) Revoke(ctx context.Context, account string) error {
	return r.store().DeleteReset(ctx, account)
}

// HashResetToken returns the hash under which a token is stored, or
// [ErrResetInvalid] if token is not of the form [Resets.Issue] returns. The
// length is checked before decoding.
func HashResetToken(token string) ([32]byte, error) {
	if len(token) != base64.RawURLEncoding.EncodedLen(resetTokenBytes) {
		return [32]byte{}, ErrResetInvalid
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil {
		return [32]byte{}, ErrResetInvalid
	}
	return sha256.Sum256(raw), nil
}

// temporaryAlphabets are the characters of temporary passwords, per
// category, without look-alikes (0 O o 1 l I |) that are hard to copy from
// an e-mail.
var temporaryAlphabets = [...]string{
	"ABCDEFGHJKLMNPQRSTUVWXYZ",
	"abcdefghijkmnpqrstuvwxyz",
	"23456789",
	"!#$%&*+-=?@",
}

// TemporaryLength is the length of a password from [Policy.Temporary].
const TemporaryLength = 16

// Temporary returns a random temporary password that meets the policy, such
// as the one the Gemeenteportaal e-mails after "forgot password": 16
// characters with every category, from crypto/rand. Store its hash with
// [Account].Temporary set and PasswordSet now; [Policy.Status] then demands a
// new password at the next login and refuses the temporary one after
// [Policy.TemporaryFor]. Issuing a new one overwrites the hash, which
// invalidates the old one.
func (p Policy) Temporary() (string, error) {
	return p.temporary(rand.Reader)
}

func (p Policy) temporary(r io.Reader) (string, error) {
	all := strings.Join(temporaryAlphabets[:], "")
	n := max(TemporaryLength, p.minLength())
	for range 100 {
		var b strings.Builder
		for i := range n {
			set := all
			if i < len(temporaryAlphabets) {
				set = temporaryAlphabets[i] // one of each category first
			}
			k, err := randomIndex(r, len(set))
			if err != nil {
				return "", err
			}
			b.WriteByte(set[k])
		}
		s := []byte(b.String())
		// Shuffle, so the categories are not in fixed places.
		for i := len(s) - 1; i > 0; i-- {
			j, err := randomIndex(r, i+1)
			if err != nil {
				return "", err
			}
			s[i], s[j] = s[j], s[i]
		}
		if p.Check(string(s), User{}) == nil {
			return string(s), nil
		}
	}
	return "", errors.New("password: no temporary password meets the policy")
}

// randomIndex returns a uniform random number in [0, n), n ≤ 256.
func randomIndex(r io.Reader, n int) (int, error) {
	limit := 256 - 256%n
	var buf [1]byte
	for {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return 0, fmt.Errorf("password: reading random bytes: %w", err)
		}
		if int(buf[0]) < limit {
			return int(buf[0]) % n, nil
		}
	}
}

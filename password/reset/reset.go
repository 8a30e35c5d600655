// Package reset lets a user who forgot their password regain access by
// proving they can read their e-mail, with a single-use link (Portero) or a
// temporary password (Almere), without touching the current password.
//
// # Links and temporary passwords
//
// [Issuer.Issue] makes the secret of a "forgot password" link: 256 random
// bits, valid for an hour, single use. [Issuer.IssueTemporary] makes a
// temporary password that meets the account's [password.Policy], valid for
// the policy's TemporaryFor (an hour by default), single use. Both are stored
// only as a SHA-256 hash, one per account: a newer request replaces the
// older secret, and [Issuer.Revoke] removes it when the password changes by
// another way.
//
// Neither changes the account's password. Anyone can ask for a reset of
// anyone's account, so the current password must keep working until the
// secret is used: otherwise an anonymous "forgot password" would lock the
// user out. A link is used when its holder sets a new password
// ([Issuer.Redeem]); a temporary password is used at a login where the
// current password does not match ([Issuer.RedeemTemporary]). Only then
// does the application change the account: after a link, to the new
// password; after a temporary password, to that password, marked temporary
// ([password.Account].Temporary) and dated when it was issued
// ([password.Account].PasswordSet), so that [password.Policy.Status] demands
// a new password before anything else and refuses the temporary one once
// TemporaryFor has passed since it was issued.
//
// # Requests for unknown addresses
//
// To avoid revealing which addresses have accounts, answer every reset
// request the same way, and take about as long, whether or not an account
// exists; send the e-mail only if it does. Limit requests per address and
// per source (package throttle), so that nobody can flood a user's mailbox.
//
// # State
//
// A [Store] keeps the hashes, typically in the application's SQL database,
// so that every server instance sees them ([Store] shows the SQL);
// [MemoryStore] is for a single process and tests, and package resettest
// has a conformance test for other implementations. No error contains a
// token or a temporary password.
package reset

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/password"
	"github.com/zorgkit/zorgkit/password/internal/i18n"
)

// tokenBytes is the size of a link's token: 256 bits.
const tokenBytes = 32

// ErrInvalid means a token or temporary password is malformed, unknown,
// expired, already used, or replaced by a newer one. The cases are not told
// apart, to the user or to an attacker.
var ErrInvalid error = &invalidError{}

type invalidError struct{}

func (*invalidError) Error() string {
	return "reset: reset link or temporary password invalid or expired: request a new one"
}

// Message returns the message for the user, in Dutch (the default) or
// English.
func (*invalidError) Message(tag language.Tag) string { return messages.Sprintf(tag, keyInvalid) }

// Token is an outstanding reset secret as stored: only the SHA-256 hash of
// the link's token or of the temporary password (with the account), never
// the secret itself. The secrets have at least 90 random bits, so a fast
// hash suffices and lookup by hash is safe.
type Token struct {
	Account string
	Hash    [32]byte  // SHA-256 of the secret
	Created time.Time // when it was issued
	Expires time.Time // when it stops being valid
	Used    time.Time // when it was used; zero if not yet
}

// Store keeps at most one [Token] per account, for [Issuer]. Each method
// must be atomic and safe for concurrent use; package resettest has a
// conformance test. In SQL, with a table keyed by account and a unique index
// on the hash:
//
//	-- Put: a newer request replaces the older token
//	INSERT INTO password_resets (account, hash, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, NULL)
//	ON CONFLICT (account) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at,
//	    expires_at = excluded.expires_at, used_at = NULL
//
//	-- Consume: single use
//	UPDATE password_resets SET used_at = $2
//	WHERE hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING account, created_at, expires_at
//
//	-- Delete: on every password change
//	DELETE FROM password_resets WHERE account = $1
type Store interface {
	// Put stores t as the only token of t.Account.
	Put(ctx context.Context, t Token) error

	// Consume sets Used of the token with this hash to now if it is unused
	// and expires after now, and returns it; otherwise it returns
	// ErrInvalid.
	Consume(ctx context.Context, hash [32]byte, now time.Time) (Token, error)

	// Delete removes the account's token, if any.
	Delete(ctx context.Context, account string) error
}

// Config configures an [Issuer].
type Config struct {
	// Store keeps the hashes. Required: choose [NewMemoryStore] explicitly
	// for a single process.
	Store Store

	// TTL is how long a link stays valid: 60 minutes if zero. A temporary
	// password stays valid for its policy's TemporaryFor.
	TTL time.Duration

	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// Rand is the source of tokens and temporary passwords; nil means
	// crypto/rand. Set it only in tests.
	Rand io.Reader
}

// Issuer issues and redeems reset links and temporary passwords. Build it
// with [New]; it is safe for concurrent use.
type Issuer struct {
	c Config
}

// New returns an Issuer with configuration c, or an error if c has no Store
// or a negative TTL.
func New(c Config) (*Issuer, error) {
	switch {
	case c.Store == nil:
		return nil, errors.New("reset: Config.Store is required: a shared store, or NewMemoryStore for one process")
	case c.TTL < 0:
		return nil, errors.New("reset: Config.TTL must not be negative")
	}
	if c.TTL == 0 {
		c.TTL = time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	return &Issuer{c: c}, nil
}

// Issue creates a link's token for account, replacing any earlier token or
// temporary password of the account, and returns it, to be put in the link
// sent to the user, and its expiry. The token is 43 characters of unpadded
// URL-safe base64. Never log it.
func (r *Issuer) Issue(ctx context.Context, account string) (token string, expires time.Time, err error) {
	var raw [tokenBytes]byte
	if _, err := io.ReadFull(r.c.Rand, raw[:]); err != nil {
		return "", time.Time{}, fmt.Errorf("reset: reading random token: %w", err)
	}
	now := r.c.Now()
	t := Token{Account: account, Hash: sha256.Sum256(raw[:]), Created: now, Expires: now.Add(r.c.TTL)}
	if err := r.c.Store.Put(ctx, t); err != nil {
		return "", time.Time{}, err
	}
	return base64.RawURLEncoding.EncodeToString(raw[:]), t.Expires, nil
}

// Redeem uses a link's token: if it is valid, it is consumed and Redeem
// returns the account it was issued for; set the new password in the same
// request. Any other token gives [ErrInvalid].
func (r *Issuer) Redeem(ctx context.Context, token string) (account string, err error) {
	hash, ok := hashToken(token)
	if !ok {
		return "", ErrInvalid
	}
	t, err := r.c.Store.Consume(ctx, hash, r.c.Now())
	if err != nil {
		return "", err
	}
	return t.Account, nil
}

// IssueTemporary creates a temporary password for account that meets
// policy (see [password.Policy.TemporaryPassword]), replacing any earlier
// token or temporary password of the account, and returns it, to be sent to
// the user, and its expiry, policy's TemporaryFor from now. The account's
// password is not changed. Never log the temporary password.
func (r *Issuer) IssueTemporary(ctx context.Context, account string, policy *password.Policy) (temp string, expires time.Time, err error) {
	temp, err = policy.TemporaryPassword(r.c.Rand)
	if err != nil {
		return "", time.Time{}, err
	}
	now := r.c.Now()
	t := Token{Account: account, Hash: hashTemporary(account, temp), Created: now, Expires: now.Add(policy.Config().TemporaryFor)}
	if err := r.c.Store.Put(ctx, t); err != nil {
		return "", time.Time{}, err
	}
	return temp, t.Expires, nil
}

// RedeemTemporary uses a temporary password typed at a login of account
// whose current password did not match: if it is the account's valid
// temporary password, it is consumed and RedeemTemporary returns when it was
// issued; the application then makes it the account's current password,
// marked temporary, with [password.Account].PasswordSet set to issued, so
// that [password.Policy.Status] refuses it when it would have expired
// unused (TemporaryFor after it was issued, not after it was used).
// Anything else gives [ErrInvalid]. It costs a SHA-256 hash and one Store
// call, whether or not the account has a temporary password.
func (r *Issuer) RedeemTemporary(ctx context.Context, account, temp string) (issued time.Time, err error) {
	if len(temp) > 1024 {
		return time.Time{}, ErrInvalid
	}
	t, err := r.c.Store.Consume(ctx, hashTemporary(account, temp), r.c.Now())
	if err != nil {
		return time.Time{}, err
	}
	if t.Account != account { // cannot happen with distinct accounts' hashes
		return time.Time{}, ErrInvalid
	}
	return t.Created, nil
}

// Revoke invalidates the account's link or temporary password, if any. Call
// it whenever the account's password changes, whatever the way.
func (r *Issuer) Revoke(ctx context.Context, account string) error {
	return r.c.Store.Delete(ctx, account)
}

// hashToken returns the hash under which a link's token is stored, or false
// if token is not of the form Issue returns. The length is checked before
// decoding, and again after it: the decoder skips line breaks, so 43
// characters with some of them newlines decode to fewer than 32 bytes.
func hashToken(token string) ([32]byte, bool) {
	if len(token) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return [32]byte{}, false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) != tokenBytes {
		return [32]byte{}, false
	}
	return sha256.Sum256(raw), true
}

// hashTemporary returns the hash under which a temporary password is
// stored: bound to the account, and in a domain of its own, so that it can
// never equal a link's hash or another account's.
func hashTemporary(account, temp string) [32]byte {
	h := sha256.New()
	for _, s := range [...]string{"zorgkit temporary password v1", account, temp} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

const keyInvalid = "invalid"

var messages = i18n.New(func(c *i18n.Catalog) {
	c.Set(keyInvalid,
		"Deze link of dit tijdelijke wachtwoord is ongeldig of verlopen. Vraag een nieuwe aan via 'Wachtwoord vergeten?'.",
		"This link or temporary password is invalid or has expired. Request a new one through 'Forgot password?'.")
})

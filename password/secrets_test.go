package password_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/password"
)

// TestNoSecretsInErrors collects the errors of failure paths that handle a
// password, code or token, and checks that none contains it.
func TestNoSecretsInErrors(t *testing.T) {
	ctx := context.Background()
	const pw = "Geheim#Wachtwoord42"
	var errs []error

	h := &password.Hasher{Params: cheap}
	enc, err := h.Hash(pw)
	require.NoError(t, err)
	errs = append(errs, h.Verify(enc, pw+"x"), h.Verify("$argon2id$v=19$m=1,t=1,p=1$"+pw+"$"+pw, pw))
	_, err = h.Hash(strings.Repeat(pw, 10))
	errs = append(errs, err)
	errs = append(errs, password.NIST(false).Check(pw[:10], password.User{Name: pw}))

	c := newClock()
	lc := newCodes(c)
	var box outbox
	_, err = lc.Issue(ctx, &box, "acct-1", "attempt-a")
	require.NoError(t, err)
	code := box.last()
	errs = append(errs, lc.Verify(ctx, "acct-1", "attempt-a", wrong(code)), lc.Verify(ctx, "acct-1", "attempt-b", code))

	r := &password.Resets{Now: c.Now}
	token, _, err := r.Issue(ctx, "acct-1")
	require.NoError(t, err)
	_, err = r.Redeem(ctx, token[:42])
	errs = append(errs, err)

	for _, err := range errs {
		require.Error(t, err)
		msg := err.Error()
		assert.NotContains(t, msg, pw)
		assert.NotContains(t, msg, pw[:10])
		assert.NotContains(t, msg, code)
		assert.NotContains(t, msg, token[:20])
		assert.NotContains(t, msg, "acct-1", "errors do not name the account either")
	}
}

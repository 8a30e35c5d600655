package password_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/password"
	"github.com/zorgkit/zorgkit/password/email"
	"github.com/zorgkit/zorgkit/password/otp"
	"github.com/zorgkit/zorgkit/password/reset"
)

// TestNoSecretsInErrors collects the errors of failure paths that handle a
// password, one-time password, token or address, in this package and its
// subpackages, and checks that none contains it.
func TestNoSecretsInErrors(t *testing.T) {
	const pw = "Geheim#Wachtwoord42"
	var errs []error

	h := mustHasher(t, password.HasherConfig{Params: cheap})
	enc, err := h.Hash(ctx, pw)
	require.NoError(t, err)
	errs = append(errs, h.Verify(ctx, enc, pw+"x"), h.Verify(ctx, "$argon2id$v=19$m=1,t=1,p=1$"+pw+"$"+pw, pw))
	_, err = h.Hash(ctx, strings.Repeat(pw, 10))
	errs = append(errs, err)
	errs = append(errs, mustPolicy(t, password.NIST(false)).Check(pw[:10], password.User{Name: pw}))

	oob, err := otp.NewOutOfBand(otp.Config{Key: make([]byte, 32), Store: otp.NewMemoryStore()})
	require.NoError(t, err)
	var code string
	_, err = oob.Issue(ctx, otp.ChannelFunc(func(_ context.Context, _, p string, _ time.Time) error { code = p; return nil }), "acct-1", "attempt-a")
	require.NoError(t, err)
	wrong := "000000"
	if code == wrong {
		wrong = "000001"
	}
	errs = append(errs, oob.Verify(ctx, "acct-1", "attempt-a", wrong), oob.Verify(ctx, "acct-1", "attempt-b", code))

	r, err := reset.New(reset.Config{Store: reset.NewMemoryStore()})
	require.NoError(t, err)
	token, _, err := r.Issue(ctx, "acct-1")
	require.NoError(t, err)
	_, err = r.Redeem(ctx, token[:42])
	errs = append(errs, err)
	temp, _, err := r.IssueTemporary(ctx, "acct-1", mustPolicy(t, password.Almere()))
	require.NoError(t, err)
	for _, c := range [][2]string{{"acct-1", temp + "x"}, {"acct-2", temp}} {
		_, err := r.RedeemTemporary(ctx, c[0], c[1])
		errs = append(errs, err)
	}

	_, err = email.Normalize(pw + "@" + pw)
	errs = append(errs, err, email.Rules{Domains: []string{"zorg.nl"}}.Check(ctx, pw+"@example.org"))

	for _, err := range errs {
		require.Error(t, err)
		msg := err.Error()
		assert.NotContains(t, msg, pw)
		assert.NotContains(t, msg, pw[:10])
		assert.NotContains(t, msg, code)
		assert.NotContains(t, msg, token[:20])
		assert.NotContains(t, msg, temp)
		assert.NotContains(t, msg, "acct-1", "errors do not name the account either")
	}
}

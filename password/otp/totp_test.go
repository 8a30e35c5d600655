package otp_test

import (
	"encoding/base32"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/password/otp"
)

// rfcSecret is the SHA-1 seed of RFC 6238 Appendix B.
var rfcSecret = []byte("12345678901234567890")

// TestTOTPAppendixB: the 6-digit values are the last six digits of the RFC's
// 8-digit SHA-1 vectors (both are the same number modulo 10^6).
func TestTOTPAppendixB(t *testing.T) {
	tests := []struct {
		unix int64
		want string
	}{
		{59, "287082"},
		{1111111109, "081804"},
		{1111111111, "050471"},
		{1234567890, "005924"},
		{2000000000, "279037"},
		{20000000000, "353130"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, otp.TOTPAt(rfcSecret, time.Unix(tt.unix, 0)), "T = %d", tt.unix)
	}
}

func TestTOTPVerify(t *testing.T) {
	now := time.Unix(1234567890, 0) // step 41152263, value 005924
	totp := &otp.TOTP{Now: func() time.Time { return now }}
	step := otp.TOTPStep(now)
	require.Equal(t, int64(41152263), step)

	tests := []struct {
		otp      string
		lastStep int64
		want     int64
		err      error
		reason   string
	}{
		{"005924", 0, step, nil, "the current one"},
		{"005 924", 0, step, nil, "typed with a space"},
		{otp.TOTPAt(rfcSecret, now.Add(-30*time.Second)), 0, step - 1, nil, "one step behind: clock drift"},
		{otp.TOTPAt(rfcSecret, now.Add(30*time.Second)), 0, step + 1, nil, "one step ahead"},
		{otp.TOTPAt(rfcSecret, now.Add(-60*time.Second)), 0, 0, otp.ErrWrong, "two steps behind"},
		{otp.TOTPAt(rfcSecret, now.Add(60*time.Second)), 0, 0, otp.ErrWrong, "two steps ahead"},
		{"005924", step, 0, otp.ErrUsed, "the same one again: no reuse"},
		{otp.TOTPAt(rfcSecret, now.Add(-30*time.Second)), step, 0, otp.ErrUsed, "an older one after a newer one"},
		{otp.TOTPAt(rfcSecret, now.Add(30*time.Second)), step, step + 1, nil, "the next one after the current one"},
		{"000000", 0, 0, otp.ErrWrong, "wrong"},
		{"05924", 0, 0, otp.ErrWrong, "five digits"},
		{"", 0, 0, otp.ErrWrong, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			got, err := totp.Verify(rfcSecret, tt.otp, tt.lastStep)
			if tt.err != nil {
				assert.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	_, err := totp.Verify(nil, "005924", 0)
	assert.Error(t, err, "no secret")
}

func TestTOTPEnrolment(t *testing.T) {
	secret, err := otp.NewTOTPSecret()
	require.NoError(t, err)
	assert.Len(t, secret, 20)
	other, _ := otp.NewTOTPSecret()
	assert.NotEqual(t, secret, other)

	uri := otp.TOTPKeyURI("Zorgportaal", "j.devries@zorgaanbieder.nl", rfcSecret)
	u, err := url.Parse(uri)
	require.NoError(t, err)
	assert.Equal(t, "otpauth", u.Scheme)
	assert.Equal(t, "totp", u.Host)
	assert.Equal(t, "/Zorgportaal:j.devries@zorgaanbieder.nl", u.Path)
	q := u.Query()
	got, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(q.Get("secret"))
	require.NoError(t, err)
	assert.Equal(t, rfcSecret, got)
	assert.Equal(t, "Zorgportaal", q.Get("issuer"))
	assert.Equal(t, "6", q.Get("digits"))
	assert.Equal(t, "30", q.Get("period"))
	assert.Equal(t, "SHA1", q.Get("algorithm"))
}

package pseudonym_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/pseudonym"
	"github.com/zorgkit/zorgkit/pseudonym/pseudonymtest"
)

func TestNewKey(t *testing.T) {
	secret := make([]byte, 32)
	tests := []struct {
		id     string
		secret []byte
		want   error
		reason string
	}{
		{"k1", secret, nil, "shortest secret"},
		{"2026-11_a", make([]byte, 64), nil, "dash, underscore, longer secret"},
		{strings.Repeat("x", 32), secret, nil, "longest id"},
		{"", secret, pseudonym.ErrKeyID, "empty id"},
		{strings.Repeat("x", 33), secret, pseudonym.ErrKeyID, "id too long"},
		{"k.1", secret, pseudonym.ErrKeyID, "dot would split the text form"},
		{"k 1", secret, pseudonym.ErrKeyID, "space"},
		{"sleutel-é", secret, pseudonym.ErrKeyID, "non-ASCII"},
		{"k1", make([]byte, 31), pseudonym.ErrShortSecret, "31 bytes"},
		{"k1", nil, pseudonym.ErrShortSecret, "no secret"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			k, err := pseudonym.NewKey(tt.id, tt.secret)
			if tt.want != nil {
				assert.ErrorIs(t, err, tt.want)
				assert.Nil(t, k)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.id, k.ID())
		})
	}
}

func TestKeyring(t *testing.T) {
	k1, k2 := pseudonymtest.Key("k1"), pseudonymtest.Key("2026-11")
	ring, err := pseudonym.NewKeyring(k2, k1)
	require.NoError(t, err)
	assert.Same(t, k2, ring.Current())
	assert.Same(t, k1, ring.Key("k1"))
	assert.Nil(t, ring.Key("k9"))
	assert.Equal(t, []*pseudonym.Key{k2, k1}, ring.Keys())

	_, err = pseudonym.NewKeyring(k1, pseudonymtest.Key("k3"), pseudonymtest.Key("k1"))
	assert.ErrorIs(t, err, pseudonym.ErrDuplicateKey)
	_, err = pseudonym.NewKeyring(nil)
	assert.ErrorIs(t, err, pseudonym.ErrNoKey)
	_, err = pseudonym.NewKeyring(k1, nil)
	assert.ErrorIs(t, err, pseudonym.ErrNoKey)
}

func TestReadKeyring(t *testing.T) {
	b64 := func(id string) string { return base64.StdEncoding.EncodeToString(pseudonymtest.Secret(id)) }
	good := "# test keys\n\n2026-11 " + b64("2026-11") + "\r\n  k1\t" + strings.TrimRight(b64("k1"), "=") + "  \n"
	ring, err := pseudonym.ReadKeyring(strings.NewReader(good))
	require.NoError(t, err)
	assert.Equal(t, "pseudonym.Keyring(2026-11,k1)", ring.String())
	// The keys read are the keys: same pseudonyms as the fixtures.
	want, _ := pseudonymtest.Keyring().Pseudonymiser("d")
	got, _ := ring.Pseudonymiser("d")
	n := mustPseudonymise(t, want, "123456782")
	assert.Equal(t, n, mustPseudonymise(t, got, "123456782"))

	secret := b64("k1")
	tests := []struct {
		file   string
		want   error
		reason string
	}{
		{"", pseudonym.ErrNoKey, "empty file"},
		{"# only a comment\n", pseudonym.ErrNoKey, "no key"},
		{"k1\n", pseudonym.ErrKeyFile, "no secret"},
		{"k1 " + secret + "!\n", pseudonym.ErrKeyFile, "not base64"},
		{"k1 " + base64.StdEncoding.EncodeToString(make([]byte, 16)) + "\n", pseudonym.ErrShortSecret, "short secret"},
		{"k.1 " + secret + "\n", pseudonym.ErrKeyID, "bad id"},
		{"k1 " + secret + "\nk1 " + b64("k3") + "\n", pseudonym.ErrDuplicateKey, "duplicate id"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			_, err := pseudonym.ReadKeyring(strings.NewReader(tt.file))
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
			assert.NotContains(t, err.Error(), strings.TrimRight(secret, "="))
		})
	}
}

func mustPseudonymise(t testing.TB, p *pseudonym.Pseudonymiser, s string) pseudonym.Pseudonym {
	t.Helper()
	ps, err := p.Pseudonymise(s)
	require.NoError(t, err)
	return ps
}

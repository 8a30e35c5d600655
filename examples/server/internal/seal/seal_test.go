package seal

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	secret = func() []byte {
		b := make([]byte, 32)
		for i := range b {
			b[i] = byte(i)
		}
		return b
	}()
	binding = []byte("session-hash|user-1|zonnehuis")
	expires = time.UnixMicro(1795000000000000)
	before  = expires.Add(-time.Minute)
)

// TestKnownAnswer opens a handle made independently, with Python's
// cryptography package (HKDF-SHA256, AES-256-GCM), from the layout in the
// package documentation.
func TestKnownAnswer(t *testing.T) {
	s, err := New(secret, "zorgkit test handle")
	require.NoError(t, err)
	const vector = "oKGio6Slpqeoqaqr_bmWHtK3TcHNApkCiIeNBf_5qYlCjBNQZqi807kiqfTPc2tPmVYSAtk4aaTgrZkVCJZDiw"
	got, err := s.Open(binding, vector, before, 2)
	require.NoError(t, err)
	assert.Equal(t, []string{"v1.kid.subjectkey", "******782"}, got)
}

func TestSealOpen(t *testing.T) {
	s, err := New(secret, "zorgkit test handle")
	require.NoError(t, err)
	h := s.Seal(binding, expires, "v1.kid.subjectkey", "******782", "")
	got, err := s.Open(binding, h, before, 3)
	require.NoError(t, err)
	assert.Equal(t, []string{"v1.kid.subjectkey", "******782", ""}, got)
	assert.NotContains(t, h, "subjectkey")
	assert.NotEqual(t, h, s.Seal(binding, expires, "v1.kid.subjectkey", "******782", ""), "a fresh nonce every time")

	other, err := New(secret, "another kind of handle")
	require.NoError(t, err)
	raw, err := base64.RawURLEncoding.DecodeString(h)
	require.NoError(t, err)
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)-1] ^= 1
	tests := []struct {
		name    string
		s       *Sealer
		binding []byte
		handle  string
		now     time.Time
		n       int
	}{
		{"another binding", s, []byte("session-hash|user-2|zonnehuis"), h, before, 3},
		{"another label", other, binding, h, before, 3},
		{"expired", s, binding, h, expires, 3},
		{"changed", s, binding, base64.RawURLEncoding.EncodeToString(flipped), before, 3},
		{"truncated", s, binding, h[:len(h)-3], before, 3},
		{"fewer values than sealed", s, binding, h, before, 2},
		{"more values than sealed", s, binding, h, before, 4},
		{"not base64", s, binding, "!!!", before, 3},
		{"empty", s, binding, "", before, 3},
		{"too long", s, binding, h + string(make([]byte, MaxHandle)), before, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.s.Open(tt.binding, tt.handle, tt.now, tt.n)
			assert.ErrorIs(t, err, ErrInvalid)
		})
	}
}

func TestShortSecret(t *testing.T) {
	_, err := New(make([]byte, 16), "x")
	assert.Error(t, err)
}

// FuzzOpen: no input makes Open panic, and none opens but what was sealed.
func FuzzOpen(f *testing.F) {
	s, err := New(secret, "zorgkit test handle")
	require.NoError(f, err)
	f.Add(s.Seal(binding, expires, "a", "b"))
	f.Add("")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, handle string) {
		got, err := s.Open(binding, handle, before, 2)
		if err == nil && (got[0] != "a" || got[1] != "b") {
			t.Fatalf("opened a handle that was never sealed: %q", got)
		}
	})
}

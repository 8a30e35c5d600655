package pseudonym_test

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/bsn"
	"github.com/zorgkit/zorgkit/bsn/bsntest"
	"github.com/zorgkit/zorgkit/internal/race"
	"github.com/zorgkit/zorgkit/pseudonym"
	"github.com/zorgkit/zorgkit/pseudonym/pseudonymtest"
)

// rfc5869 computes HKDF-SHA256 from crypto/hmac alone, as RFC 5869 §2
// writes it: an implementation independent of the package's.
func rfc5869(secret, salt, info []byte, length int) []byte {
	extract := hmac.New(sha256.New, salt)
	extract.Write(secret)
	prk := extract.Sum(nil)
	var okm, t []byte
	for i := byte(1); len(okm) < length; i++ {
		expand := hmac.New(sha256.New, prk)
		expand.Write(t)
		expand.Write(info)
		expand.Write([]byte{i})
		t = expand.Sum(nil)
		okm = append(okm, t...)
	}
	return okm[:length]
}

// TestRFC5869 checks the independent HKDF against RFC 5869 test cases 1 and
// 3, and against crypto/hkdf.
func TestRFC5869(t *testing.T) {
	h := func(s string) []byte { b, _ := hex.DecodeString(s); return b }
	ikm := h("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b")
	assert.Equal(t,
		"3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
		hex.EncodeToString(rfc5869(ikm, h("000102030405060708090a0b0c"), h("f0f1f2f3f4f5f6f7f8f9"), 42)), "test case 1")
	assert.Equal(t,
		"8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
		hex.EncodeToString(rfc5869(ikm, nil, nil, 42)), "test case 3")
	std, err := hkdf.Key(sha256.New, ikm, []byte("salt"), "info", 32)
	require.NoError(t, err)
	assert.Equal(t, std, rfc5869(ikm, []byte("salt"), []byte("info"), 32))
}

// independentPseudonym computes a vector's pseudonym from its documented
// construction, without package pseudonym.
func independentPseudonym(t *testing.T, v pseudonymtest.Vector) (subkey, text string) {
	t.Helper()
	n, err := bsn.Parse(v.Input)
	if errors.Is(err, bsn.ErrPlaceholder) {
		return "", v.Input
	}
	require.NoError(t, err)
	secret, err := hex.DecodeString(v.Secret)
	require.NoError(t, err)
	k := rfc5869(secret, []byte("zorgkit/pseudonym/v1"), []byte("pseudonym\x00"+v.Domain), 32)
	mac := hmac.New(sha256.New, k)
	mac.Write([]byte(n.Digits()))
	enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(mac.Sum(nil))
	return hex.EncodeToString(k), "v1." + v.KeyID + "." + strings.ToLower(enc)
}

func TestVectors(t *testing.T) {
	for _, v := range pseudonymtest.Vectors() {
		t.Run(v.Reason, func(t *testing.T) {
			subkey, text := independentPseudonym(t, v)
			assert.Equal(t, v.Subkey, subkey, "subkey: vector against independent computation")
			assert.Equal(t, v.Pseudonym, text, "vector against independent computation")

			secret, err := hex.DecodeString(v.Secret)
			require.NoError(t, err)
			k, err := pseudonym.NewKey(v.KeyID, secret)
			require.NoError(t, err)
			p, err := k.Pseudonymiser(v.Domain)
			require.NoError(t, err)
			got, err := p.Pseudonymise(v.Input)
			require.NoError(t, err)
			assert.Equal(t, v.Pseudonym, got.String(), "package against vector")

			parsed, err := pseudonym.Parse(v.Pseudonym)
			require.NoError(t, err)
			assert.True(t, parsed.Equal(got), "Parse(String()) is the same pseudonym")
		})
	}
}

func TestPseudonymise(t *testing.T) {
	ring := pseudonymtest.Keyring()
	almere, err := ring.Pseudonymiser("gemeente-almere")
	require.NoError(t, err)
	lelystad, err := ring.Pseudonymiser("gemeente-lelystad")
	require.NoError(t, err)
	own, err := ring.Pseudonymiser("")
	require.NoError(t, err)

	t.Run("one BSN, every form", func(t *testing.T) {
		want := mustPseudonymise(t, almere, "040645678")
		for _, s := range []string{"40645678", "4064.56.78", "0406 45 678", "０４０６４５６７８"} {
			assert.True(t, want.Equal(mustPseudonymise(t, almere, s)), s)
		}
		n, err := bsn.Parse("040645678")
		require.NoError(t, err)
		assert.True(t, want.Equal(almere.Pseudonym(n)), "nine digits (Pseudonymise's quick path) as their Number")
		assert.Equal(t, pseudonym.Person, want.Kind())
		assert.Equal(t, "2026-11", want.KeyID(), "made under the current key")
	})
	t.Run("domains cannot be joined", func(t *testing.T) {
		seen := map[string]string{}
		for _, n := range bsntest.TestPersons() {
			for name, p := range map[string]*pseudonym.Pseudonymiser{"almere": almere, "lelystad": lelystad, "own": own} {
				s := p.Pseudonym(n).String()
				_, dup := seen[s]
				assert.False(t, dup, "pseudonym repeated across BSNs or domains")
				seen[s] = name
			}
		}
	})
	t.Run("placeholders pass through", func(t *testing.T) {
		for _, tt := range []struct {
			in   string
			kind pseudonym.Kind
			text string
		}{
			{"999999999", pseudonym.UnknownBSN, "999999999"},
			{"999.999.999", pseudonym.UnknownBSN, "999999999"},
			{"000000000", pseudonym.UnbornChild, "000000000"},
			{"00000000", pseudonym.UnbornChild, "000000000"},
		} {
			p := mustPseudonymise(t, almere, tt.in)
			assert.Equal(t, tt.kind, p.Kind(), tt.in)
			assert.Equal(t, tt.text, p.String(), tt.in)
			assert.Empty(t, p.KeyID())
			assert.True(t, p.Equal(mustPseudonymise(t, lelystad, tt.in)), "a placeholder is the same in every domain")
		}
	})
	t.Run("invalid BSN", func(t *testing.T) {
		for _, tt := range bsntest.InvalidInputs() {
			if errors.Is(tt.Err, bsn.ErrPlaceholder) {
				continue
			}
			p, err := almere.Pseudonymise(tt.Input)
			assert.ErrorIs(t, err, tt.Err, tt.Reason)
			assert.True(t, p.IsZero(), tt.Reason)
		}
	})
	t.Run("zero Number is a programmer error", func(t *testing.T) {
		assert.Panics(t, func() { almere.Pseudonym(bsn.Number{}) })
	})
	t.Run("bad domain", func(t *testing.T) {
		_, err := ring.Pseudonymiser("\xff")
		assert.ErrorIs(t, err, pseudonym.ErrDomain)
		_, err = ring.Pseudonymiser(strings.Repeat("a", 256))
		assert.ErrorIs(t, err, pseudonym.ErrDomain)
	})
}

func TestKeyringPseudonyms(t *testing.T) {
	ring := pseudonymtest.Keyring()
	n := bsntest.TestPersons()[0]
	ps, err := ring.Pseudonyms("gemeente-almere", n)
	require.NoError(t, err)
	require.Len(t, ps, 3)
	for i, k := range ring.Keys() {
		p, err := k.Pseudonymiser("gemeente-almere")
		require.NoError(t, err)
		assert.True(t, ps[i].Equal(p.Pseudonym(n)), k.ID())
		assert.Equal(t, k.ID(), ps[i].KeyID())
	}
	assert.False(t, ps[0].Equal(ps[1]), "each key its own pseudonym")
	// Data made under an older key is recognised by the key id it carries.
	old := ps[2]
	assert.NotNil(t, ring.Key(old.KeyID()))
}

func TestParse(t *testing.T) {
	valid := pseudonymtest.Vectors()[1].Pseudonym // v1.k1.wewg…
	tests := []struct {
		in     string
		want   error
		reason string
	}{
		{valid, nil, "canonical"},
		{"999999999", nil, "placeholder unknown"},
		{"000000000", nil, "placeholder unborn"},
		{"", pseudonym.ErrFormat, "empty"},
		{"123456782", pseudonym.ErrFormat, "a BSN is not a pseudonym"},
		{"v2.k1." + valid[6:], pseudonym.ErrVersion, "unknown version"},
		{"V1.k1." + valid[6:], pseudonym.ErrFormat, "version in upper case"},
		{"v1..", pseudonym.ErrFormat, "no key id, no value"},
		{"v1.k1", pseudonym.ErrFormat, "no value"},
		{"v1.k.1." + valid[6:], pseudonym.ErrFormat, "dot in key id"},
		{strings.ToUpper(valid[:6]) + strings.ToUpper(valid[6:]), pseudonym.ErrFormat, "upper case"},
		{"v1.k1." + strings.ToUpper(valid[6:]), pseudonym.ErrFormat, "base32 in upper case"},
		{valid[:len(valid)-1], pseudonym.ErrFormat, "one character short"},
		{valid + "a", pseudonym.ErrFormat, "one character long"},
		{valid + "====", pseudonym.ErrFormat, "padding"},
		{valid[:len(valid)-1] + "b", pseudonym.ErrFormat, "non-zero trailing bits: a second spelling"},
		{valid[:10] + "1" + valid[11:], pseudonym.ErrFormat, "digit 1 is not base32"},
		{" " + valid, pseudonym.ErrFormat, "leading space"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			p, err := pseudonym.Parse(tt.in)
			if tt.want != nil {
				assert.ErrorIs(t, err, tt.want)
				assert.True(t, p.IsZero())
				if len(tt.in) >= 9 {
					assert.NotContains(t, err.Error(), tt.in[3:], "error contains the input")
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.in, p.String())
		})
	}
}

func TestPseudonymEncodings(t *testing.T) {
	p, err := pseudonym.Parse(pseudonymtest.Vectors()[0].Pseudonym)
	require.NoError(t, err)
	unknown, err := pseudonym.Parse("999999999")
	require.NoError(t, err)

	t.Run("json", func(t *testing.T) {
		type record struct {
			Client pseudonym.Pseudonym
			Parent pseudonym.Pseudonym
		}
		j, err := json.Marshal(record{p, unknown})
		require.NoError(t, err)
		assert.JSONEq(t, `{"Client":"`+p.String()+`","Parent":"999999999"}`, string(j))
		var back record
		require.NoError(t, json.Unmarshal(j, &back))
		assert.True(t, back.Client.Equal(p))
		assert.True(t, back.Parent.Equal(unknown))
		assert.Error(t, json.Unmarshal([]byte(`{"Client":"123456782"}`), &back))
	})
	t.Run("sql", func(t *testing.T) {
		v, err := p.Value()
		require.NoError(t, err)
		assert.Equal(t, p.String(), v)
		v, err = pseudonym.Pseudonym{}.Value()
		require.NoError(t, err)
		assert.Nil(t, v, "zero Pseudonym is NULL")

		var q pseudonym.Pseudonym
		require.NoError(t, q.Scan(p.String()))
		assert.True(t, q.Equal(p))
		require.NoError(t, q.Scan([]byte("000000000")))
		assert.Equal(t, pseudonym.UnbornChild, q.Kind())
		require.NoError(t, q.Scan(nil))
		assert.True(t, q.IsZero())
		assert.Error(t, q.Scan(42))
	})
	t.Run("zero", func(t *testing.T) {
		var z pseudonym.Pseudonym
		assert.Equal(t, "", z.String())
		assert.Equal(t, "none", z.Kind().String())
		require.NoError(t, z.UnmarshalText(nil))
		assert.True(t, z.IsZero())
		assert.False(t, z.Equal(p))
		assert.True(t, z.Equal(pseudonym.Pseudonym{}))
	})
	t.Run("equal", func(t *testing.T) {
		other, err := pseudonym.Parse(pseudonymtest.Vectors()[1].Pseudonym)
		require.NoError(t, err)
		assert.False(t, p.Equal(other))
		assert.False(t, p.Equal(unknown))
		assert.True(t, p.Equal(p))
	})
}

// TestPseudonymNoAllocation checks the hot path: one pseudonym, appended to
// a buffer, without allocation.
func TestPseudonymNoAllocation(t *testing.T) {
	if race.Enabled {
		t.Skip("the race detector's instrumentation allocates")
	}
	p, err := pseudonymtest.Keyring().Pseudonymiser("gemeente-almere")
	require.NoError(t, err)
	n := bsntest.TestPersons()[0]
	buf := make([]byte, 0, 128)
	allocs := testing.AllocsPerRun(100, func() {
		buf, _ = p.Pseudonym(n).AppendText(buf[:0])
	})
	assert.Zero(t, allocs)
	allocs = testing.AllocsPerRun(100, func() {
		ps, _ := p.Pseudonymise("999993847")
		buf, _ = ps.AppendText(buf[:0])
	})
	assert.Zero(t, allocs, "Pseudonymise of a string")
}

func mustParseBSN(s string) bsn.Number {
	n, err := bsn.Parse(s)
	if err != nil {
		panic(err)
	}
	return n
}

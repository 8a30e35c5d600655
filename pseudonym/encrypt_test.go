package pseudonym_test

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/pseudonym"
	"github.com/zorgkit/zorgkit/pseudonym/pseudonymtest"
)

// TestFieldVectors computes every vector independently (HKDF from
// crypto/hmac, AES-GCM with the vector's nonce) and decrypts it with the
// package.
func TestFieldVectors(t *testing.T) {
	for _, v := range pseudonymtest.FieldVectors() {
		t.Run(v.Field, func(t *testing.T) {
			secret, err := hex.DecodeString(v.Secret)
			require.NoError(t, err)
			nonce, err := hex.DecodeString(v.Nonce)
			require.NoError(t, err)
			subkey := rfc5869(secret, []byte("zorgkit/pseudonym/v1"), []byte("field\x00"+v.Domain), 32)
			assert.Equal(t, v.Subkey, hex.EncodeToString(subkey))
			block, err := aes.NewCipher(subkey)
			require.NoError(t, err)
			gcm, err := cipher.NewGCM(block)
			require.NoError(t, err)
			sealed := gcm.Seal(append([]byte(nil), nonce...), nonce, []byte(v.Plaintext), []byte("e1."+v.KeyID+"."+v.Field))
			assert.Equal(t, v.Text, "e1."+v.KeyID+"."+base64.RawURLEncoding.EncodeToString(sealed), "vector against independent computation")

			k, err := pseudonym.NewKey(v.KeyID, secret)
			require.NoError(t, err)
			ring, err := pseudonym.NewKeyring(k)
			require.NoError(t, err)
			c, err := ring.FieldCipher(v.Domain)
			require.NoError(t, err)
			plain, err := c.Decrypt(v.Field, v.Text)
			require.NoError(t, err)
			assert.Equal(t, v.Plaintext, string(plain), "package decrypts the vector")

			// What the package encrypts, the independent code decrypts.
			text := c.Encrypt(v.Field, []byte(v.Plaintext))
			prefix := "e1." + v.KeyID + "."
			require.True(t, strings.HasPrefix(text, prefix), text)
			raw, err := base64.RawURLEncoding.DecodeString(text[len(prefix):])
			require.NoError(t, err)
			plain, err = gcm.Open(nil, raw[:12], raw[12:], []byte(prefix+v.Field))
			require.NoError(t, err)
			assert.Equal(t, v.Plaintext, string(plain), "independent code decrypts the package")
		})
	}
}

func TestFieldCipher(t *testing.T) {
	ring := pseudonymtest.Keyring()
	c, err := ring.FieldCipher("gemeente-almere")
	require.NoError(t, err)
	plain := []byte("1234 AB")

	t.Run("round trip, random nonce", func(t *testing.T) {
		a, b := c.Encrypt("postcode", plain), c.Encrypt("postcode", plain)
		assert.NotEqual(t, a, b, "equal plaintexts give different values")
		assert.True(t, strings.HasPrefix(a, "e1.2026-11."), a)
		for _, text := range []string{a, b} {
			got, err := c.Decrypt("postcode", text)
			require.NoError(t, err)
			assert.Equal(t, plain, got)
		}
		assert.NotContains(t, a, "1234")
	})
	t.Run("append to a buffer", func(t *testing.T) {
		buf := []byte("x;")
		buf = c.AppendEncrypt(buf, "postcode", plain)
		require.True(t, strings.HasPrefix(string(buf), "x;e1."))
		got, err := c.Decrypt("postcode", string(buf[2:]))
		require.NoError(t, err)
		assert.Equal(t, plain, got)
		allocs := testing.AllocsPerRun(100, func() { buf = c.AppendEncrypt(buf[:0], "postcode", plain) })
		assert.Zero(t, allocs)
	})
	t.Run("empty and long values", func(t *testing.T) {
		for _, p := range [][]byte{nil, {}, []byte(strings.Repeat("é", 5000))} {
			got, err := c.Decrypt("remark", c.Encrypt("remark", p))
			require.NoError(t, err)
			assert.Equal(t, string(p), string(got))
		}
	})
	t.Run("older key decrypts after rotation", func(t *testing.T) {
		before, err := pseudonym.NewKeyring(pseudonymtest.Key("k1"))
		require.NoError(t, err)
		old, err := before.FieldCipher("gemeente-almere")
		require.NoError(t, err)
		text := old.Encrypt("postcode", plain)
		got, err := c.Decrypt("postcode", text) // ring: 2026-11 current, k1 older
		require.NoError(t, err)
		assert.Equal(t, plain, got)
	})
	text := c.Encrypt("postcode", plain)
	prefix := "e1.2026-11."
	tests := []struct {
		field, text string
		want        error
		reason      string
	}{
		{"woonplaats", text, pseudonym.ErrDecrypt, "moved to another column"},
		{"Postcode", text, pseudonym.ErrDecrypt, "field names are exact"},
		{"postcode", "e1.k1." + text[len(prefix):], pseudonym.ErrDecrypt, "key id swapped in the header"},
		{"postcode", "e1.k9." + text[len(prefix):], pseudonym.ErrUnknownKey, "key not in the ring"},
		{"postcode", text[:len(text)-1], pseudonym.ErrDecrypt, "cut off"},
		{"postcode", prefix + "AAAA", pseudonym.ErrCiphertext, "shorter than nonce and tag"},
		{"postcode", "", pseudonym.ErrCiphertext, "empty"},
		{"postcode", "1234 AB", pseudonym.ErrCiphertext, "plaintext"},
		{"postcode", "e2" + text[2:], pseudonym.ErrCiphertext, "unknown version"},
		{"postcode", "e1.2026-11" + text[len(prefix)-1:len(prefix)-1], pseudonym.ErrCiphertext, "no value"},
		{"postcode", text + "=", pseudonym.ErrCiphertext, "padding"},
		{"postcode", strings.Replace(text, prefix, "e1.k.1.", 1), pseudonym.ErrCiphertext, "bad key id"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			got, err := c.Decrypt(tt.field, tt.text)
			assert.ErrorIs(t, err, tt.want)
			assert.Nil(t, got)
		})
	}
	t.Run("every tampered byte is caught", func(t *testing.T) {
		raw, err := base64.RawURLEncoding.DecodeString(text[len(prefix):])
		require.NoError(t, err)
		for i := range raw {
			for _, bit := range []byte{0x01, 0x80} {
				bad := append([]byte(nil), raw...)
				bad[i] ^= bit
				got, err := c.Decrypt("postcode", prefix+base64.RawURLEncoding.EncodeToString(bad))
				assert.ErrorIs(t, err, pseudonym.ErrDecrypt, "byte %d", i)
				assert.Nil(t, got)
			}
		}
	})
	t.Run("other domain or other secret with the same id", func(t *testing.T) {
		lelystad, err := ring.FieldCipher("gemeente-lelystad")
		require.NoError(t, err)
		_, err = lelystad.Decrypt("postcode", text)
		assert.ErrorIs(t, err, pseudonym.ErrDecrypt)

		impostor, err := pseudonym.NewKey("2026-11", pseudonymtest.Secret("k1"))
		require.NoError(t, err)
		other, err := pseudonym.NewKeyring(impostor)
		require.NoError(t, err)
		wrong, err := other.FieldCipher("gemeente-almere")
		require.NoError(t, err)
		_, err = wrong.Decrypt("postcode", text)
		assert.ErrorIs(t, err, pseudonym.ErrDecrypt)
	})
}

// TestFieldCipherConcurrent shares one FieldCipher between many goroutines,
// as a server shares it between its handlers, with a key rotation in
// between: values made before the rotation are decrypted under the older
// key while new ones are made under the current key. Every value must
// decrypt, under its own field and no other. Run it with -race.
func TestFieldCipherConcurrent(t *testing.T) {
	before, err := pseudonym.NewKeyring(pseudonymtest.Key("k1"))
	require.NoError(t, err)
	after, err := pseudonym.NewKeyring(pseudonymtest.Key("2026-11"), pseudonymtest.Key("k1"), pseudonymtest.Key("k3"))
	require.NoError(t, err)
	old, err := before.FieldCipher("gemeente-almere")
	require.NoError(t, err)
	const goroutines, rounds = 8, 300
	// Values made before the rotation, in fields of different lengths.
	field := func(g, i int) string { return fmt.Sprintf("col%0*d", 1+(g+i)%7, g) }
	plain := func(g, i int) string { return fmt.Sprintf("value %d/%d %s", g, i, strings.Repeat("x", (g*i)%50)) }
	made := make([][]string, goroutines)
	for g := range goroutines {
		for i := range rounds {
			made[g] = append(made[g], old.Encrypt(field(g, i), []byte(plain(g, i))))
		}
	}

	c, err := after.FieldCipher("gemeente-almere") // the rotation
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			var buf []byte
			for i := range rounds {
				f, p := field(g, i), plain(g, i)
				got, err := c.Decrypt(f, made[g][i])
				if err != nil || string(got) != p {
					errs <- fmt.Errorf("goroutine %d: value %d made before the rotation: %v", g, i, err)
					return
				}
				buf = c.AppendEncrypt(buf[:0], f, []byte(p))
				text := c.Encrypt(f, []byte(p))
				for _, v := range []string{string(buf), text} {
					got, err := c.Decrypt(f, v)
					if err != nil || string(got) != p {
						errs <- fmt.Errorf("goroutine %d: value %d made after the rotation: %v", g, i, err)
						return
					}
					if _, err := c.Decrypt(f+"x", v); !errors.Is(err, pseudonym.ErrDecrypt) {
						errs <- fmt.Errorf("goroutine %d: value %d decrypts in another field", g, i)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

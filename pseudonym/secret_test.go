package pseudonym_test

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/bsn/bsntest"
	"github.com/zorgkit/zorgkit/pseudonym"
	"github.com/zorgkit/zorgkit/pseudonym/pseudonymtest"
)

// secretHolders returns the values of the package that hold key material,
// by pointer and by value, alone and inside the containers a program puts
// them in, with the domain they were made for.
func secretHolders(t *testing.T) (map[string]any, string) {
	const domain = "gemeente-almere"
	ring := pseudonymtest.Keyring()
	p, err := ring.Pseudonymiser(domain)
	require.NoError(t, err)
	p.Pseudonym(bsntest.TestPersons()[0]) // the state after use
	c, err := ring.FieldCipher(domain)
	require.NoError(t, err)
	c.Encrypt("postcode", []byte("1234 AB"))
	key := ring.Current()

	type unexported struct {
		name string
		key  pseudonym.Key
		ring pseudonym.Keyring
		p    pseudonym.Pseudonymiser
		c    pseudonym.FieldCipher
	}
	type exported struct {
		Name string
		Key  pseudonym.Key
		Ring pseudonym.Keyring
		P    pseudonym.Pseudonymiser
		C    pseudonym.FieldCipher
	}
	type pointers struct {
		key  *pseudonym.Key
		ring *pseudonym.Keyring
		p    *pseudonym.Pseudonymiser
		c    *pseudonym.FieldCipher
	}
	return map[string]any{
		"key":                       key,
		"key value":                 *key,
		"keyring":                   ring,
		"keyring value":             *ring,
		"keys":                      ring.Keys(),
		"pseudonymiser":             p,
		"pseudonymiser value":       *p,
		"field cipher":              c,
		"field cipher value":        *c,
		"struct, unexported fields": unexported{"x", *key, *ring, *p, *c},
		"struct, exported fields":   exported{"x", *key, *ring, *p, *c},
		"pointer to struct":         &unexported{"x", *key, *ring, *p, *c},
		"struct of pointers":        pointers{key, ring, p, c},
		"pointer to struct of ptrs": &pointers{key, ring, p, c},
		"slice of key values":       []pseudonym.Key{*key},
		"array of key values":       [1]pseudonym.Key{*key},
		"map of key values":         map[string]pseudonym.Key{"k": *key},
		"map of cipher values":      map[string]pseudonym.FieldCipher{"c": *c},
		"interface slice":           []any{*key, *ring, *p, *c},
		"nested":                    struct{ inner struct{ k pseudonym.Key } }{struct{ k pseudonym.Key }{*key}},
		"pointer to pointer to key": &key,
	}, domain
}

// forbiddenMaterial returns every secret of the test keys, their HKDF
// pseudorandom keys, and the subkeys of domain with HMAC's padded forms of
// the pseudonym subkey: each a byte string that must not be reachable.
func forbiddenMaterial(t *testing.T, domain string) [][]byte {
	var out [][]byte
	for _, id := range []string{"k1", "2026-11", "k3"} {
		secret := pseudonymtest.Secret(id)
		prk, err := hkdf.Extract(sha256.New, secret, []byte("zorgkit/pseudonym/v1"))
		require.NoError(t, err)
		out = append(out, secret, prk)
		for _, purpose := range []string{"pseudonym\x00", "field\x00"} {
			sub, err := hkdf.Expand(sha256.New, prk, purpose+domain, 32)
			require.NoError(t, err)
			out = append(out, sub)
			for _, pad := range []byte{0x36, 0x5c} { // HMAC's ipad and opad
				x := bytes.Clone(sub)
				for i := range x {
					x[i] ^= pad
				}
				out = append(out, x)
			}
		}
	}
	return out
}

// encodings returns the ways eight bytes of a secret may appear in text:
// as a string, in hex and base64, and as a list of numbers in the forms fmt
// prints a byte slice or array in.
func encodings(b []byte) []string {
	b = b[:8]
	out := []string{
		string(b),
		hex.EncodeToString(b),
		strings.ToUpper(hex.EncodeToString(b)),
		base64.StdEncoding.EncodeToString(b)[:8],
		base64.RawURLEncoding.EncodeToString(b)[:8],
	}
	for _, verb := range []string{"%d", "%o", "%O", "%b", "%x", "%X", "%#x", "%#X", "%q", "%c", "%U"} {
		for _, sep := range []string{" ", ", "} {
			var s []string
			for _, c := range b {
				s = append(s, fmt.Sprintf(verb, c))
			}
			out = append(out, strings.Join(s, sep))
		}
	}
	return out
}

// TestSecretNeverShown prints every value that holds key material in every
// way a program might (every fmt verb and flag, %p included, which fmt
// handles before any Format method; slog; encoding/json), and looks for the
// secrets, the derived keys and HMAC's padded keys in every encoding.
func TestSecretNeverShown(t *testing.T) {
	values, domain := secretHolders(t)
	forbidden := forbiddenMaterial(t, domain)
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "% x", "%#x", "%d", "%o", "%O", "%b", "%c", "%U",
		"%e", "%f", "%g", "%t", "%p", "%#p", "%T", "%8.3v", "%-+#0 v", "%[1]v", "%!", "%z"}
	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			var outputs []string
			for _, verb := range verbs {
				outputs = append(outputs, fmt.Sprintf(verb, v))
			}
			outputs = append(outputs, fmt.Sprint(v), fmt.Sprintln(v), fmt.Errorf("x: %v", v).Error())
			var logged bytes.Buffer
			text := slog.New(slog.NewTextHandler(&logged, nil))
			text.Info("m", "v", v)
			text.Info("m", slog.Any("v", v), slog.Group("g", "v", v))
			slog.New(slog.NewJSONHandler(&logged, nil)).Info("m", "v", v)
			outputs = append(outputs, logged.String())
			if j, err := json.Marshal(v); err == nil {
				outputs = append(outputs, string(j))
			}
			for _, out := range outputs {
				for _, secret := range forbidden {
					for _, enc := range encodings(secret) {
						if strings.Contains(out, enc) {
							t.Fatalf("output shows key material (%q):\n%s", enc, out)
						}
					}
				}
			}
		})
	}
	k := pseudonymtest.Key("k1")
	assert.Equal(t, "pseudonym.Key(k1)", fmt.Sprint(k))
	assert.Equal(t, "pseudonym.Key(k1)", fmt.Sprint(*k))
	assert.Equal(t, `&pseudonym.Key{id:"k1", secret:<hidden>}`, fmt.Sprintf("%#v", k))
	assert.Equal(t, `"pseudonym.Key(k1)"`, fmt.Sprintf("%q", k))
	assert.Equal(t, "pseudonym.Keyring(2026-11,k1,k3)", pseudonymtest.Keyring().String())
}

// TestSecretOutOfReflection walks everything reflection reaches from the
// values that hold key material, as reflection-based printers and differs
// do (go-spew, which testify uses for its failure messages, follows
// pointers and reads unexported fields): no secret, derived key or padded
// HMAC key may be among it, in either byte order.
func TestSecretOutOfReflection(t *testing.T) {
	values, domain := secretHolders(t)
	forbidden := forbiddenMaterial(t, domain)
	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			big, little := reachable(v)
			require.NotEmpty(t, big, "the walk reaches something")
			for _, secret := range forbidden {
				for _, part := range [][]byte{secret[:8], secret[12:20], secret[24:32]} {
					if bytes.Contains(big, part) || bytes.Contains(little, part) {
						t.Fatalf("reflection reaches key material %x", part)
					}
				}
			}
		})
	}
}

// reachable returns the bytes of every string and integer that reflection
// reaches from v, following pointers, interfaces, slices, arrays, maps and
// struct fields, exported or not: integers in big-endian and in
// little-endian order. Reflection cannot enter a function value.
func reachable(v any) (big, little []byte) {
	seen := map[uintptr]bool{}
	var walk func(v reflect.Value, depth int)
	walk = func(v reflect.Value, depth int) {
		if !v.IsValid() || depth > 64 {
			return
		}
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() || seen[v.Pointer()] {
				return
			}
			seen[v.Pointer()] = true
			walk(v.Elem(), depth+1)
		case reflect.Interface:
			walk(v.Elem(), depth+1)
		case reflect.Struct:
			for i := range v.NumField() {
				walk(v.Field(i), depth+1)
			}
		case reflect.Slice, reflect.Array:
			for i := range v.Len() {
				walk(v.Index(i), depth+1)
			}
		case reflect.Map:
			for it := v.MapRange(); it.Next(); {
				walk(it.Key(), depth+1)
				walk(it.Value(), depth+1)
			}
		case reflect.String:
			big = append(big, v.String()...)
			little = append(little, v.String()...)
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			big, little = appendInt(big, little, uint64(v.Int()), int(v.Type().Size()))
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			big, little = appendInt(big, little, v.Uint(), int(v.Type().Size()))
		}
	}
	walk(reflect.ValueOf(v), 0)
	return big, little
}

func appendInt(big, little []byte, x uint64, size int) ([]byte, []byte) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], x)
	big = append(big, b[8-size:]...)
	binary.LittleEndian.PutUint64(b[:], x)
	return big, append(little, b[:size]...)
}

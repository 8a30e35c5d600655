package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/bsn/bsntest"
)

// TestMismatchedKeysRefused is issue 10, hole 8: a second instance on the
// same database with a key file of its own (here: demo mode generating
// one) started silently, and every correct login then failed as a wrong
// password. It must refuse to start and say which key differs.
func TestMismatchedKeysRefused(t *testing.T) {
	first := newTestPortal(t)
	cfg := first.a.cfg
	cfg.KeyFile = filepath.Join(t.TempDir(), "keys.json") // its own, generated
	_, err := openApp(context.Background(), cfg, io.Discard)
	require.Error(t, err, "the second instance refuses to start")
	for _, name := range []string{"session", "code", "pepper", "consent_chain", "keyring"} {
		assert.Contains(t, err.Error(), name)
	}
	assert.Contains(t, err.Error(), "same key file")
}

// TestKeyFingerprints changes one key at a time.
func TestKeyFingerprints(t *testing.T) {
	p := newTestPortal(t)
	orig := p.a.keys
	tests := []struct {
		name   string
		change func(*secrets)
		accept []string
		want   string // part of the error; "" to start
	}{
		{"the same keys", func(*secrets) {}, nil, ""},
		{"another pepper", func(s *secrets) { s.Pepper = fresh() }, nil, "pepper"},
		{"another consent chain key", func(s *secrets) { s.ConsentChain = fresh() }, nil, "consent_chain"},
		{"another session key", func(s *secrets) { s.Session = fresh() }, nil, "-accept-key-change=session"},
		{"a keyring key with the same id, another secret", func(s *secrets) { s.Keyring[0].Secret = fresh() }, nil, "keyring key " + orig.Keyring[0].ID},
		{"a keyring key left out", func(s *secrets) { s.Keyring = []keySpec{{ID: "knew", Secret: fresh()}} }, nil, "keyring key " + orig.Keyring[0].ID},
		{"a pepper change is never accepted", func(s *secrets) { s.Pepper = fresh() }, []string{"session"}, "pepper"},
		{"a rotation: a new key in front", func(s *secrets) { s.Keyring = append([]keySpec{{ID: "k2", Secret: fresh()}}, s.Keyring...) }, nil, ""},
		{"an accepted session key change", func(s *secrets) { s.Session = fresh() }, []string{"session"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := orig
			keys.Keyring = append([]keySpec(nil), orig.Keyring...)
			keys.Keyring[0] = keySpec{ID: orig.Keyring[0].ID, Secret: orig.Keyring[0].Secret}
			tt.change(&keys)
			db := copyDB(t, p)
			err := checkKeyFingerprints(context.Background(), db.a.db, keys, tt.accept, p.clock.Now(), discard)
			if tt.want != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.want)
				for _, k := range [][]byte{keys.Session, keys.Code, keys.Pepper, keys.ConsentChain, keys.Keyring[0].Secret} {
					assert.NotContains(t, err.Error(), hex.EncodeToString(k))
				}
				return
			}
			require.NoError(t, err)
			// What was accepted is what the database expects from now on.
			require.NoError(t, checkKeyFingerprints(context.Background(), db.a.db, keys, nil, p.clock.Now(), discard))
			if tt.accept != nil {
				assert.Error(t, checkKeyFingerprints(context.Background(), db.a.db, orig, nil, p.clock.Now(), discard), "the old key is refused now")
			}
		})
	}
}

// TestKeyFingerprintVector checks the fingerprint against HMAC-SHA256
// computed independently (Python's hmac module).
func TestKeyFingerprintVector(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	assert.Equal(t, "cfa18728305c857c7ebb7db8dcf90e3762b24e8b8132d8dfe70881d166d74ba6", hex.EncodeToString(keyFingerprint(key, "pepper")))
	assert.Equal(t, "b357f40b006afbfab30021d1bbb97a663fd96b83bae03ec4053ea252960d8d04", hex.EncodeToString(keyFingerprint(key, "keyring:k1")))
}

// TestNoKeysInDatabase: the database holds fingerprints, never a key.
func TestNoKeysInDatabase(t *testing.T) {
	p := newTestPortal(t)
	_, err := p.a.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(p.a.cfg.DataDir, "zorgkit.db"))
	require.NoError(t, err)
	raw, err := os.ReadFile(p.a.cfg.KeyFile)
	require.NoError(t, err)
	var keys secrets
	require.NoError(t, json.Unmarshal(raw, &keys))
	var n int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM key_fingerprints`).Scan(&n))
	assert.Equal(t, 4+len(keys.Keyring), n)
	for _, k := range [][]byte{keys.Session, keys.Code, keys.Pepper, keys.ConsentChain, keys.Keyring[0].Secret} {
		assert.NotContains(t, string(b), string(k))
	}
}

var discard = slog.New(slog.DiscardHandler)

func fresh() []byte { return generateSecrets().Session }

// copyDB returns a portal on a copy of p's database.
func copyDB(t *testing.T, p *testPortal) *testPortal {
	t.Helper()
	_, err := p.a.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	require.NoError(t, err)
	dir := t.TempDir()
	for _, name := range []string{"zorgkit.db", "keys.json"} {
		b, err := os.ReadFile(filepath.Join(p.a.cfg.DataDir, name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
	}
	cfg := p.a.cfg
	cfg.DataDir, cfg.KeyFile = dir, filepath.Join(dir, "keys.json")
	return startTestPortal(t, cfg, false)
}

// After a key rotation (a new key in front of the keyring) the clients
// registered before it are still found by their BSN, under the pseudonym
// they were stored with: their consents, data and access-log entries go on
// naming them by it. A BSN the portal does not know is still not found.
func TestLookupAfterKeyRotation(t *testing.T) {
	p := newTestPortal(t)
	n := bsntest.TestPersons()[0] // Zonnehuis has this client's consent to view NAW data
	stored, found, err := p.a.findClient(context.Background(), n)
	require.NoError(t, err)
	require.True(t, found)
	require.NoError(t, p.a.Close())

	keys, err := loadSecrets(p.a.cfg.KeyFile, false, io.Discard)
	require.NoError(t, err)
	fresh := make([]byte, 32)
	rand.Read(fresh)
	keys.Keyring = append([]keySpec{{ID: "rotated", Secret: fresh}}, keys.Keyring...)
	require.NoError(t, os.Remove(p.a.cfg.KeyFile)) // writeSecrets never overwrites a key file
	require.NoError(t, writeSecrets(p.a.cfg.KeyFile, keys))

	rotated := startTestPortal(t, p.a.cfg, false)
	rotated.passwords = p.passwords
	b := rotated.browser()
	b.login("jdevries")
	status, body := b.post("/clients/lookup", url.Values{"bsn": {n.Digits()}})
	require.Equal(t, http.StatusOK, status, "a client registered before the rotation is found")
	status, body = b.post("/clients/view", url.Values{"client": {hiddenValue(t, body, "client")}, "purpose": {"view-naw"}})
	require.Equal(t, http.StatusOK, status, "with the consents given before the rotation")
	assert.Contains(t, body, "Almere", "the address, decrypted under the older key")

	var subjects []string
	rows, err := rotated.a.db.Query(`SELECT subject FROM access_log WHERE user_id = (SELECT id FROM users WHERE username = 'jdevries')
		AND object IN ('client/lookup', 'client/naw') ORDER BY seq`)
	require.NoError(t, err)
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		subjects = append(subjects, s)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, []string{stored, stored}, subjects, "the access log names the client as before the rotation")

	resp, err := b.c.Post(rotated.srv.URL+"/api/clients/lookup", "application/json", strings.NewReader(`{"bsn":"`+n.Digits()+`"}`))
	require.NoError(t, err)
	status, _ = readBody(t, resp)
	assert.Equal(t, http.StatusOK, status, "the API finds the client too")

	status, _ = b.post("/clients/lookup", url.Values{"bsn": {bsntest.Numbers(99, 1)[0].Digits()}})
	assert.Equal(t, http.StatusNotFound, status, "an unknown BSN is not found under any key")
}

package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// secrets are the portal's keys. They come from the key file, never from the
// code; in demo mode a missing key file is generated once, with a notice.
type secrets struct {
	Session      []byte `json:"session"`       // HMAC key of the stored session ids
	Code         []byte `json:"code"`          // HMAC key of the verification codes
	Pepper       []byte `json:"pepper"`        // password pepper
	ConsentChain []byte `json:"consent_chain"` // HMAC key of the consent event chain
	// Keyring makes the pseudoBSNs and encrypts NAW data, TOTP secrets and
	// the outbox: the current key first, then older ones that still read
	// what they made before a rotation.
	Keyring []keySpec `json:"keyring"`
}

// keySpec is a key with an id, as package pseudonym wants it.
type keySpec struct {
	ID     string `json:"id"`
	Secret []byte `json:"secret"`
}

// loadSecrets reads the key file. In demo mode it creates a missing one with
// fresh random keys and says so loudly on out.
func loadSecrets(path string, demo bool, out io.Writer) (secrets, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && demo {
		s := generateSecrets()
		if err := writeSecrets(path, s); err != nil {
			return secrets{}, err
		}
		fmt.Fprintf(out, "\n!!! DEMO MODE: generated new random keys in %s.\n!!! Keep that file secret; without it the pseudonyms and encrypted fields in the database are useless.\n!!! In production, pass -key-file with keys from your key management and -demo=false.\n\n", path)
		return s, nil
	}
	if err != nil {
		return secrets{}, fmt.Errorf("read key file: %w (in production give -key-file; -demo generates one)", err)
	}
	var s secrets
	if err := json.Unmarshal(b, &s); err != nil {
		return secrets{}, fmt.Errorf("key file %s: %w", path, err)
	}
	for name, k := range map[string][]byte{"session": s.Session, "code": s.Code, "pepper": s.Pepper, "consent_chain": s.ConsentChain} {
		if len(k) < 32 {
			return secrets{}, fmt.Errorf("key file %s: %s must be at least 32 bytes (base64 in JSON)", path, name)
		}
	}
	if len(s.Keyring) == 0 {
		return secrets{}, fmt.Errorf("key file %s: keyring needs at least one key", path)
	}
	return s, nil
}

func generateSecrets() secrets {
	key := func() []byte {
		b := make([]byte, 32)
		rand.Read(b)
		return b
	}
	kid := func() string {
		b := make([]byte, 3)
		rand.Read(b)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return secrets{
		Session:      key(),
		Code:         key(),
		Pepper:       key(),
		ConsentChain: key(),
		Keyring:      []keySpec{{ID: "k" + kid(), Secret: key()}},
	}
}

func writeSecrets(path string, s secrets) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	// O_EXCL: two instances starting at once must not each write other keys.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Every instance on one database must use the same keys: with another
// pepper every login fails as a wrong password, with another keyring the
// pseudonyms and encrypted fields are unreadable, with another session key
// the sessions of the other instances are. So the database keeps a
// fingerprint of each key (never the key), written at the first start, and
// an instance whose key file does not match refuses to start.

// keyFingerprint is HMAC-SHA256(key, "zorgkit key fingerprint v1" 0x00
// name): it identifies the key without revealing anything about it.
func keyFingerprint(key []byte, name string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("zorgkit key fingerprint v1\x00" + name))
	return m.Sum(nil)
}

// changeableKeys are the keys whose change loses only what is fleeting:
// sessions (session) and codes waiting to be entered (code).
var changeableKeys = []string{"session", "code"}

// checkKeyFingerprints compares the keys with the fingerprints in the
// database and records those it does not have yet (the first start, a new
// keyring key). A key that differs refuses the start, unless it is in
// accept (session or code only); a keyring key the database knows and the
// key file lacks too: data encrypted under it would be lost.
func checkKeyFingerprints(ctx context.Context, db *sql.DB, keys secrets, accept []string, now time.Time, log *slog.Logger) error {
	type named struct {
		name string
		key  []byte
	}
	want := []named{{"session", keys.Session}, {"code", keys.Code}, {"pepper", keys.Pepper}, {"consent_chain", keys.ConsentChain}}
	for _, k := range keys.Keyring {
		want = append(want, named{"keyring:" + k.ID, k.Secret})
	}
	for attempt := 0; ; attempt++ {
		stored, err := storedFingerprints(ctx, db)
		if err != nil {
			return err
		}
		var differ, missing, accepted, unknown []string
		inFile := map[string]bool{}
		for _, k := range want {
			inFile[k.name] = true
			s, ok := stored[k.name]
			switch {
			case !ok:
				unknown = append(unknown, k.name)
			case hmac.Equal(s, keyFingerprint(k.key, k.name)):
			case slices.Contains(accept, k.name) && slices.Contains(changeableKeys, k.name):
				accepted = append(accepted, k.name)
			default:
				differ = append(differ, k.name)
			}
		}
		for name := range stored {
			if !inFile[name] && strings.HasPrefix(name, "keyring:") {
				missing = append(missing, name)
			}
		}
		slices.Sort(missing)
		if len(differ) > 0 || len(missing) > 0 {
			return keyMismatch(differ, missing)
		}
		if len(unknown) == 0 && len(accepted) == 0 {
			return nil
		}
		if attempt > 0 {
			return errors.New("keys: the key fingerprints keep changing while this instance starts; start the instances one at a time")
		}
		// Record what is new, then compare once more: another instance
		// starting at the same moment may have recorded other keys first.
		for _, k := range want {
			fp := keyFingerprint(k.key, k.name)
			switch {
			case slices.Contains(unknown, k.name):
				_, err = db.ExecContext(ctx, `INSERT INTO key_fingerprints (name, fingerprint, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`, k.name, fp, usec(now))
			case slices.Contains(accepted, k.name):
				_, err = db.ExecContext(ctx, `UPDATE key_fingerprints SET fingerprint = $2, created_at = $3 WHERE name = $1`, k.name, fp, usec(now))
				log.Warn("key change accepted: every session or pending code made with the old key ends", "key", k.name)
			}
			if err != nil {
				return fmt.Errorf("keys: record fingerprints: %w", err)
			}
		}
	}
}

// storedFingerprints returns the fingerprints in the database by key name.
func storedFingerprints(ctx context.Context, db *sql.DB) (map[string][]byte, error) {
	rows, err := db.QueryContext(ctx, `SELECT name, fingerprint FROM key_fingerprints`)
	if err != nil {
		return nil, fmt.Errorf("keys: read fingerprints: %w", err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var name string
		var fp []byte
		if err := rows.Scan(&name, &fp); err != nil {
			return nil, err
		}
		out[name] = fp
	}
	return out, rows.Err()
}

// keyNames names keys as the key file does: "pepper", "keyring key k1".
func keyNames(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		if id, ok := strings.CutPrefix(n, "keyring:"); ok {
			n = "keyring key " + id
		}
		out[i] = n
	}
	return strings.Join(out, ", ")
}

// keyMismatch says which keys differ and what to do.
func keyMismatch(differ, missing []string) error {
	var b strings.Builder
	b.WriteString("keys: the key file does not match the keys this database was set up with.")
	if len(differ) > 0 {
		b.WriteString(" Different: " + keyNames(differ) + ".")
	}
	if len(missing) > 0 {
		b.WriteString(" Missing: " + keyNames(missing) + "; the data encrypted under it would be unreadable: put it back in the keyring, behind the current key.")
	}
	b.WriteString(" Every instance on one database needs the same key file: copy the key file of the instance that set the database up" +
		" (never let -demo generate a new one for a shared database), or give this instance a database of its own.")
	if len(missing) == 0 && !slices.ContainsFunc(differ, func(n string) bool { return !slices.Contains(changeableKeys, n) }) {
		b.WriteString(" If you replaced " + keyNames(differ) + " on purpose, on every instance, start once with -accept-key-change=" +
			strings.Join(differ, ",") + " (sessions and codes waiting to be entered end).")
	}
	return errors.New(b.String())
}

package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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

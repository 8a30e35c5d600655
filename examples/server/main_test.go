package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRun starts the portal as main does, with TLS, finds it ready, logs a
// user in through the console's demo passwords and outbox, and shuts it
// down gracefully.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	env := map[string]string{"ZORGKIT_POLICY": "almere"} // a flag's environment fallback
	go func() {
		done <- run(ctx, []string{"-data", filepath.Join(dir, "data"), "-addr", "127.0.0.1:0", "-tls-cert", cert, "-tls-key", key},
			func(k string) string { return env[k] }, out)
	}()

	// The demo start protects the Zorgmonitor before it listens: about
	// 10 s, and a minute under the race detector on a busy machine.
	var base string
	require.Eventually(t, func() bool {
		m := regexp.MustCompile(`msg=listening url=(https://\S+)`).FindStringSubmatch(out.String())
		if m != nil {
			base = m[1]
		}
		return m != nil
	}, 3*time.Minute, 20*time.Millisecond, "the portal starts")
	console := out.String()
	assert.Contains(t, console, "DEMO MODE: generated new random keys")
	assert.Contains(t, console, "policy=almere")
	pw := regexp.MustCompile(`jdevries\s.*password: (\S+)`).FindStringSubmatch(console)
	require.NotNil(t, pw, "the demo passwords are printed")

	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} // the test's own certificate
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	resp, err = c.PostForm(base+"/login", url.Values{"username": {"jdevries"}, "password": {pw[1]}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	cookie := resp.Header.Get("Set-Cookie")
	assert.Contains(t, cookie, "Secure", "over TLS the session cookie is Secure")
	assert.Eventually(t, func() bool { return strings.Contains(out.String(), "DEMO OUTBOX: Verificatiecode for jdevries") },
		10*time.Second, 10*time.Millisecond, "the outbox worker prints the demo's code on the console")

	// The second start of the same data directory seeds nothing and prints
	// no passwords.
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err, "graceful shutdown")
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after the context was cancelled")
	}
	assert.Contains(t, out.String(), "shutting down")

	ctx2, cancel2 := context.WithCancel(context.Background())
	out2 := &syncBuffer{}
	go func() {
		done <- run(ctx2, []string{"-data", filepath.Join(dir, "data"), "-addr", "127.0.0.1:0"}, func(string) string { return "" }, out2)
	}()
	require.Eventually(t, func() bool { return strings.Contains(out2.String(), "msg=listening") }, 30*time.Second, 20*time.Millisecond)
	assert.NotContains(t, out2.String(), "password:")
	assert.NotContains(t, out2.String(), "generated new random keys")
	cancel2()
	require.NoError(t, <-done)
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // part of the error; "" for none
	}{
		{"defaults", nil, nil, ""},
		{"unknown policy", []string{"-policy", "strict"}, nil, "want portero, almere or nist"},
		{"unknown policy from the environment", nil, map[string]string{"ZORGKIT_POLICY": "strict"}, "want portero, almere or nist"},
		{"certificate without key", []string{"-tls-cert", "c.pem"}, nil, "give both or neither"},
		{"bad job time", []string{"-jobs-at", "25:00"}, nil, "want HH:MM"},
		{"bad idle timeout", []string{"-session-idle", "soon"}, nil, "-session-idle"},
		{"stray argument", []string{"extra"}, nil, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig(tt.args, func(k string) string { return tt.env[k] })
			if tt.want == "" {
				require.NoError(t, err)
				assert.Equal(t, "portero", cfg.Policy)
				assert.Equal(t, filepath.Join("zorgkit-data", "keys.json"), cfg.KeyFile)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestKeyFileRequiredOutsideDemo(t *testing.T) {
	_, err := loadSecrets(filepath.Join(t.TempDir(), "keys.json"), false, os.Stdout)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-key-file")
}

// selfSigned writes a certificate and key for 127.0.0.1 into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "zorgkit test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(priv)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certFile, keyFile
}

package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// mailpit is a Mailpit (https://mailpit.axllent.org) the test started: a
// real SMTP server on loopback with an HTTP API to read what it received.
type mailpit struct {
	smtp     string // host:port
	api      string // http://host:port
	caFile   string // its certificate, to trust
	password string // of the user "portal"
}

// mailpitBinary returns the installed mailpit, or "". ZORGKIT_MAILPIT names
// it outright (.ci/run sets it), and then a missing one fails the test
// instead of skipping it: CI runs the mail tests against a real server.
func mailpitBinary(t *testing.T) string {
	if p := os.Getenv("ZORGKIT_MAILPIT"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("ZORGKIT_MAILPIT=%s: %v", p, err)
		}
		return p
	}
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	p := filepath.Join(build.Default.GOPATH, "bin", "mailpit")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

// startMailpit starts Mailpit on free loopback ports, stopped when the test
// ends, or skips the test when it is not installed. In mode "starttls" it
// offers STARTTLS with a certificate of its own and requires it, in mode
// "tls" it speaks TLS from the first byte (implicit TLS, as on port 465),
// and in both it requires the login "portal"; in mode "plain" it offers
// neither TLS nor a login.
func startMailpit(t *testing.T, mode string) *mailpit {
	t.Helper()
	bin := mailpitBinary(t)
	if bin == "" {
		t.Skip("mailpit is not installed: go install github.com/axllent/mailpit@v1.33.1 (.ci/run does), or set ZORGKIT_MAILPIT")
	}
	dir := t.TempDir()
	m := &mailpit{smtp: freeAddr(t)}
	api := freeAddr(t)
	m.api = "http://" + api
	args := []string{"--smtp", m.smtp, "--listen", api, "--database", filepath.Join(dir, "mailpit.db"),
		"--disable-version-check", "--smtp-disable-rdns", "--enable-chaos", "--quiet"}
	if mode != "plain" {
		cert, key := selfSigned(t, dir)
		m.caFile = cert
		var b [12]byte
		rand.Read(b[:])
		m.password = hex.EncodeToString(b[:])
		auth := filepath.Join(dir, "smtp-auth")
		require.NoError(t, os.WriteFile(auth, []byte("portal:"+m.password+"\n"), 0o600))
		args = append(args, "--smtp-tls-cert", cert, "--smtp-tls-key", key, "--smtp-auth-file", auth)
		if mode == "tls" {
			args = append(args, "--smtp-require-tls")
		} else {
			args = append(args, "--smtp-require-starttls")
		}
	}
	cmd := exec.Command(bin, args...)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("mailpit:\n%s", out.String())
		}
	})
	require.Eventually(t, func() bool {
		resp, err := http.Get(m.api + "/api/v1/messages")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 20*time.Second, 50*time.Millisecond, "mailpit starts")
	return m
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

package main

import (
	"context"
	"crypto/tls"
	"database/sql"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunProduction starts the portal as main does with -demo=false, on the
// data a demo start left, with its mail delivered by a real SMTP server
// (Mailpit, STARTTLS and a login): the outbox's own workers send the login
// code and a reset link, a user logs in with the code from the mailbox, and
// neither the code nor the SMTP password reaches the console.
func TestRunProduction(t *testing.T) {
	mp := startMailpit(t, "starttls")
	dir := t.TempDir()
	data := filepath.Join(dir, "data")

	// The data a demo start leaves: the database, the key file and the demo
	// users (TestRun starts the demo itself; a copy is much faster).
	pw := copyTemplate(t, data)["jdevries"]

	cert, key := selfSigned(t, dir)
	args := []string{"-demo=false", "-data", data, "-key-file", filepath.Join(data, "keys.json"),
		"-addr", "127.0.0.1:0", "-tls-cert", cert, "-tls-key", key, "-base-url", "https://portaal.example.nl",
		"-smtp-addr", mp.smtp, "-smtp-tls", "starttls", "-smtp-ca-file", mp.caFile, "-smtp-user", "portal",
		"-mail-from", "Zorgkit portaal <noreply@portaal.example.nl>"}
	env := map[string]string{"ZORGKIT_SMTP_PASSWORD": mp.password}
	out := &syncBuffer{}
	runUntil(t, args, env, out, func(base string) string {
		jar, err := cookiejar.New(nil)
		require.NoError(t, err)
		c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
			Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // the test's own certificate
		post := func(path string, form url.Values) (*http.Response, string) {
			resp, err := c.PostForm(base+path, form)
			require.NoError(t, err)
			_, body := readBody(t, resp)
			return resp, body
		}
		resp, body := post("/login", url.Values{"username": {"jdevries"}, "password": {pw}})
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		assert.Equal(t, hstsHeader, resp.Header.Get("Strict-Transport-Security"))

		const jan = "jan.devries@zonnehuis.example"
		msgs := waitMessages(t, mp.api, jan, 1) // the outbox's worker delivers the code
		assert.Equal(t, subjectCode, msgs[0].Subject)
		assert.Equal(t, "portal", msgs[0].Username, "authenticated")
		code := codeRE.FindString(mailpitText(t, mp.api, msgs[0].ID))
		require.NotEmpty(t, code)
		resp, body = post("/login/code", url.Values{"code": {code}})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Contains(t, body, `id="whoami"`, "logged in with the code from the mailbox")

		r, err := c.Get(base + "/outbox")
		require.NoError(t, err)
		status, _ := readBody(t, r)
		assert.Equal(t, http.StatusNotFound, status, "the demo's outbox page is not there outside demo mode")

		post("/password/forgot", url.Values{"email": {jan}})
		msgs = waitMessages(t, mp.api, jan, 2)
		assert.Contains(t, mailpitText(t, mp.api, msgs[0].ID), "https://portaal.example.nl/password/reset?token=",
			"built from the public base URL, not the listen address")

		assert.NotContains(t, out.String(), code)
		assert.NotContains(t, out.String(), mp.password)
		assert.NotContains(t, out.String(), "DEMO")
		return ""
	})
}

// runUntil runs the portal with args and env until it listens, calls use
// with its URL, then stops it gracefully, and returns what use returned.
func runUntil(t *testing.T, args []string, env map[string]string, out *syncBuffer, use func(base string) string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, func(k string) string { return env[k] }, out) }()
	listening := regexp.MustCompile(`msg=listening url=(\S+)`)
	var base string
	for deadline := time.Now().Add(time.Minute); base == ""; time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("the portal stopped before it listened: %v\n%s", err, out.String())
		default:
		}
		if m := listening.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
		require.True(t, time.Now().Before(deadline), "the portal starts within a minute")
	}
	got := use(base)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err, "graceful shutdown")
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after the context was cancelled")
	}
	require.True(t, strings.Contains(out.String(), "shutting down"))
	return got
}

// waitMessages waits until Mailpit holds n messages to the address and
// returns them, newest first. (The portal sends others too, such as the
// administrators' daily checkpoint notice.)
func waitMessages(t *testing.T, api, to string, n int) []mailpitMessage {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var msgs []mailpitMessage
		for _, m := range mailpitMessages(t, api) {
			if len(m.To) == 1 && m.To[0].Address == to {
				msgs = append(msgs, m)
			}
		}
		if len(msgs) >= n {
			require.Len(t, msgs, n)
			return msgs
		}
		require.True(t, time.Now().Before(deadline), "%d messages to %s arrive; %d did", n, to, len(msgs))
		time.Sleep(20 * time.Millisecond)
	}
}

// TestShutdownFinishesDelivery stops the portal (as on SIGTERM) while the
// mail server has a message and has not answered yet: the shutdown waits for
// the answer and records the message as sent. Cutting the delivery off
// instead would leave the message unacknowledged, and the next start would
// send the code again.
func TestShutdownFinishesDelivery(t *testing.T) {
	f := startFakeSMTP(t, "slow")
	data := filepath.Join(t.TempDir(), "data")
	passwords := copyTemplate(t, data)
	out := &syncBuffer{}
	args := []string{"-data", data, "-addr", "127.0.0.1:0",
		"-smtp-addr", f.l.Addr().String(), "-smtp-tls", "none", "-mail-from", "noreply@portaal.example"}
	runUntil(t, args, nil, out, func(base string) string {
		resp, err := http.PostForm(base+"/login", url.Values{"username": {"jdevries"}, "password": {passwords["jdevries"]}})
		require.NoError(t, err)
		resp.Body.Close()
		select {
		case <-f.inData:
		case <-time.After(20 * time.Second):
			t.Fatal("no message reached the mail server")
		}
		// The shutdown starts now; the server answers a moment later.
		time.AfterFunc(300*time.Millisecond, func() { close(f.hold) })
		return ""
	})

	got := f.received()
	require.NotEmpty(t, got)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "zorgkit.db"))
	require.NoError(t, err)
	defer db.Close()
	seen := map[string]bool{}
	for _, mid := range got {
		id := regexp.MustCompile(`^<outbox\.([0-9a-f]+)@`).FindStringSubmatch(mid)
		require.NotNil(t, id, mid)
		assert.False(t, seen[id[1]], "message %s reached the server twice", id[1])
		seen[id[1]] = true
		var state string
		require.NoError(t, db.QueryRow(`SELECT state FROM outbox WHERE id = $1`, id[1]).Scan(&state))
		assert.Equal(t, outboxSent, state, "the server took message %s before the shutdown ended", id[1])
	}
}

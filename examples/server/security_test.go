package main

import (
	"context"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// transportRecorder is a transport that keeps what it delivers; fail, when
// set, decides the outcome of each delivery instead.
type transportRecorder struct {
	mu   sync.Mutex
	got  []envelope
	fail func(envelope) error
}

func (r *transportRecorder) deliver(ctx context.Context, m envelope) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		if err := r.fail(m); err != nil {
			return err
		}
	}
	r.got = append(r.got, m)
	return nil
}

func (r *transportRecorder) delivered() []envelope {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]envelope(nil), r.got...)
}

// code returns the newest verification code delivered to username.
func (r *transportRecorder) code(username string) string {
	got := r.delivered()
	for i := len(got) - 1; i >= 0; i-- {
		if got[i].Username == username && got[i].Subject == subjectCode {
			return codeRE.FindString(got[i].Body)
		}
	}
	return ""
}

// useOutbox makes the portal send through its real outbox instead of the
// test's recorder, delivered by a transport that records.
func useOutbox(p *testPortal) *transportRecorder {
	tr := &transportRecorder{}
	p.a.sender = &outbox{a: p.a}
	p.a.transports = map[string]transport{"email": tr, "sms": tr}
	return tr
}

// flush delivers every due message of the outbox, as the worker does.
func (p *testPortal) flush() {
	p.t.Helper()
	for {
		more, err := p.a.deliverNext(context.Background(), "test")
		require.NoError(p.t, err)
		if !more {
			return
		}
	}
}

// production configures a portal as outside demo mode: a mail server that
// nobody listens on (tests replace the transports).
func production(c *config) {
	c.Demo = false
	c.SMTP = smtpConfig{Addr: "127.0.0.1:9", TLS: "none", From: "noreply@portaal.example", Timeout: time.Second}
}

// TestSecondFactorNotReadable is the attack of issue 10, hole 1: someone who
// knows a password logs in and reads the verification code from the
// portal's own outbox, in the same session, before the code is entered.
func TestSecondFactorNotReadable(t *testing.T) {
	for _, demo := range []bool{true, false} {
		t.Run(map[bool]string{true: "demo", false: "production"}[demo], func(t *testing.T) {
			p := newTestPortal(t)
			if !demo {
				p = newTestPortal(t, production)
			}
			tr := useOutbox(p)
			b := p.browser()
			status, body := b.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
			require.Equal(t, http.StatusOK, status)
			require.Contains(t, body, `action="/login/code"`)
			p.flush()
			code := tr.code("jdevries")
			require.NotEmpty(t, code, "the code went out through the transport")
			for _, path := range []string{"/outbox", "/outbox/", "/api/outbox", "/"} {
				_, body := b.get(path)
				assert.NotContains(t, body, code, "%s at the code stage", path)
			}

			// Fully logged in, a session still never reads a code: not
			// its own (used), and not that of a login elsewhere.
			status, _ = b.post("/login/code", url.Values{"code": {code}})
			require.Equal(t, http.StatusOK, status)
			p.clock.Advance(time.Minute) // past the resend cooldown
			other := p.browser()
			other.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
			p.flush()
			pending := tr.code("jdevries")
			require.NotEqual(t, code, pending)
			status, body = b.get("/outbox")
			if demo {
				assert.Equal(t, http.StatusOK, status)
				assert.Contains(t, body, `id="demo-outbox"`, "marked as the demo's stand-in")
				assert.Contains(t, body, subjectCode, "the messages are listed")
			} else {
				assert.Equal(t, http.StatusNotFound, status, "no outbox page outside demo mode")
				assert.NotContains(t, body, `href="/outbox"`)
			}
			assert.NotContains(t, body, code)
			assert.NotContains(t, body, pending)
		})
	}
}

// TestBehindProxy is issue 10, hole 9: behind a TLS-terminating reverse
// proxy the cookies were not Secure, there was no HSTS, reset links were
// built from the listen address, and the throttle counted every client as
// the proxy.
func TestBehindProxy(t *testing.T) {
	p := newTestPortal(t, func(c *config) {
		c.BaseURL = "https://portaal.example.nl"
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	raw := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, form url.Values, header http.Header) *http.Response {
		req, err := http.NewRequest(http.MethodPost, p.srv.URL+path, strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := raw.Do(req)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}

	resp := post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}}, http.Header{"X-Forwarded-For": {"198.51.100.7"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	cookie := resp.Header.Get("Set-Cookie")
	assert.Contains(t, cookie, "Secure", "the public URL is https")
	assert.True(t, strings.HasPrefix(cookie, "__Host-"), "a __Host- cookie cannot be planted by a sibling domain: %s", cookie)
	assert.Contains(t, resp.Header.Get("Strict-Transport-Security"), "max-age=")

	// The reset link comes from the configured URL, whatever the Host.
	req, err := http.NewRequest(http.MethodPost, p.srv.URL+"/password/forgot", strings.NewReader("email=jan.devries%40zonnehuis.example"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Host = "evil.example"
	req.Header.Set("X-Forwarded-Host", "evil.example")
	resp, err = raw.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	link := p.sent.last("jdevries", "Wachtwoord herstellen")
	assert.Contains(t, link, "https://portaal.example.nl/password/reset?token=")
	assert.NotContains(t, link, "evil")

	// The throttle counts the client the proxy names, not the proxy.
	for range 3 {
		post("/login", url.Values{"username": {"nobody"}, "password": {"wrong"}}, http.Header{"X-Forwarded-For": {"forged, 203.0.113.9"}})
	}
	var keys []string
	rows, err := p.a.db.Query(`SELECT key FROM throttle`)
	require.NoError(t, err)
	for rows.Next() {
		var k string
		require.NoError(t, rows.Scan(&k))
		keys = append(keys, k)
	}
	require.NoError(t, rows.Err())
	joined := strings.Join(keys, " ")
	assert.Contains(t, joined, "203.0.113.9", "the client's address")
	assert.NotContains(t, joined, "127.0.0.1", "not the proxy's")
	assert.NotContains(t, joined, "forged", "not what the client wrote itself")
}

// TestSpoofedForwardedFor: a client that talks to the portal directly cannot
// choose its throttle key with a header.
func TestSpoofedForwardedFor(t *testing.T) {
	p := newTestPortal(t, func(c *config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	})
	for i := range 3 {
		req, err := http.NewRequest(http.MethodPost, p.srv.URL+"/login", strings.NewReader("username=nobody&password=wrong"))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", "192.0.2."+strconv.Itoa(i))
		req.Header.Set("Forwarded", "for=192.0.2.99")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	var n int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM throttle WHERE key LIKE '%192.0.2.%'`).Scan(&n))
	assert.Zero(t, n, "the peer is no trusted proxy: its headers are ignored")
}

func TestClientAddress(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	tests := []struct {
		name   string
		remote string
		header string
		values []string
		want   string
	}{
		{"direct client", "198.51.100.1:5000", "X-Forwarded-For", nil, "198.51.100.1"},
		{"direct client forging the header", "198.51.100.1:5000", "X-Forwarded-For", []string{"203.0.113.5"}, "198.51.100.1"},
		{"one proxy", "10.0.0.2:443", "X-Forwarded-For", []string{"203.0.113.5"}, "203.0.113.5"},
		{"forged hop left of the real one", "10.0.0.2:443", "X-Forwarded-For", []string{"1.2.3.4, 203.0.113.5"}, "203.0.113.5"},
		{"two proxies", "10.0.0.2:443", "X-Forwarded-For", []string{"203.0.113.5, 10.1.1.1"}, "203.0.113.5"},
		{"several header lines", "10.0.0.2:443", "X-Forwarded-For", []string{"1.2.3.4", "203.0.113.5, 10.1.1.1"}, "203.0.113.5"},
		{"only proxies", "10.0.0.2:443", "X-Forwarded-For", []string{"10.9.9.9, 10.1.1.1"}, "10.9.9.9"},
		{"no header from the proxy", "10.0.0.2:443", "X-Forwarded-For", nil, "10.0.0.2"},
		{"garbage at the right", "10.0.0.2:443", "X-Forwarded-For", []string{"203.0.113.5, garbage"}, "10.0.0.2"},
		{"garbage behind a trusted hop", "10.0.0.2:443", "X-Forwarded-For", []string{"garbage, 10.1.1.1"}, "10.1.1.1"},
		{"hop with port", "10.0.0.2:443", "X-Forwarded-For", []string{"203.0.113.5:6000"}, "203.0.113.5"},
		{"IPv6 hop", "10.0.0.2:443", "X-Forwarded-For", []string{"2001:db8::7"}, "2001:db8::7"},
		{"IPv6 proxy", "[2001:db8:ffff::1]:443", "X-Forwarded-For", []string{"203.0.113.5"}, "203.0.113.5"},
		{"IPv4-mapped peer", "[::ffff:10.0.0.2]:443", "X-Forwarded-For", []string{"203.0.113.5"}, "203.0.113.5"},
		{"zone is no address", "10.0.0.2:443", "X-Forwarded-For", []string{"fe80::1%eth0"}, "10.0.0.2"},
		{"Forwarded", "10.0.0.2:443", "Forwarded", []string{`for=1.2.3.4, for="[2001:db8::7]:4711";proto=https`}, "2001:db8::7"},
		{"Forwarded, obfuscated hop", "10.0.0.2:443", "Forwarded", []string{`for=203.0.113.5, for=_hidden`}, "10.0.0.2"},
		{"Forwarded without for", "10.0.0.2:443", "Forwarded", []string{`proto=https`}, "10.0.0.2"},
		{"Forwarded ignores X-Forwarded-For", "10.0.0.2:443", "Forwarded", nil, "10.0.0.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, clientAddress(tt.remote, tt.values, tt.header, proxies))
		})
	}
}

// FuzzClientAddress: whatever the header says, the answer is an address,
// the peer's own when the peer is no proxy, and never one a proxy did not
// vouch for when the proxy's own hop is readable.
func FuzzClientAddress(f *testing.F) {
	for _, s := range []string{"203.0.113.5", "1.2.3.4, 10.1.1.1", "garbage", `for="[2001:db8::7]:4711"`, "", ",,,", "[::1]:80"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	f.Fuzz(func(t *testing.T, header string, forwarded bool) {
		name := "X-Forwarded-For"
		if forwarded {
			name = "Forwarded"
		}
		got := clientAddress("198.51.100.1:5000", []string{header}, name, proxies)
		if got != "198.51.100.1" {
			t.Fatalf("untrusted peer: got %q", got)
		}
		got = clientAddress("10.0.0.2:443", []string{header + ", 203.0.113.5"}, "X-Forwarded-For", proxies)
		if got != "203.0.113.5" {
			t.Fatalf("the proxy's own hop is 203.0.113.5: got %q from %q", got, header)
		}
		got = clientAddress("10.0.0.2:443", []string{header}, name, proxies)
		if _, err := netip.ParseAddr(got); err != nil {
			t.Fatalf("not an address: %q", got)
		}
	})
}

func TestStaticNotListed(t *testing.T) {
	p := newTestPortal(t)
	for _, path := range []string{"/static/", "/static", "/static/./", "/static/%2e/"} {
		status, body := p.browser().get(path)
		assert.Equal(t, http.StatusNotFound, status, path)
		assert.NotContains(t, body, "style.css", path)
	}
	status, body := p.browser().get("/static/style.css")
	assert.Equal(t, http.StatusOK, status)
	assert.NotEmpty(t, body)
}

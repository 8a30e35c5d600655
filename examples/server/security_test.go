package main

import (
	"context"
	"net/http"
	"net/url"
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

// TestSecondFactorNotReadable is the attack of issue 10, hole 1: someone who
// knows a password logs in and reads the verification code from the
// portal's own outbox, in the same session, before the code is entered.
func TestSecondFactorNotReadable(t *testing.T) {
	for _, demo := range []bool{true, false} {
		t.Run(map[bool]string{true: "demo", false: "production"}[demo], func(t *testing.T) {
			p := newTestPortal(t, func(c *config) { c.Demo = demo })
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

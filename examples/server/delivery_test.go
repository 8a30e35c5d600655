package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// outboxRow is the delivery state of one message.
type outboxRow struct {
	State, Recipient, Body string
	Attempts               int
}

func (p *testPortal) outboxRows(username string) []outboxRow {
	p.t.Helper()
	rows, err := p.a.db.Query(`SELECT o.state, o.recipient, o.body, o.attempts FROM outbox o JOIN users u ON u.id = o.user_id
		WHERE u.username = $1 ORDER BY o.created_at, o.id`, username)
	require.NoError(p.t, err)
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var r outboxRow
		require.NoError(p.t, rows.Scan(&r.State, &r.Recipient, &r.Body, &r.Attempts))
		out = append(out, r)
	}
	require.NoError(p.t, rows.Err())
	return out
}

func (p *testPortal) user(username string) *user {
	p.t.Helper()
	u, err := p.a.userBy(context.Background(), "username", username)
	require.NoError(p.t, err)
	return u
}

// TestOutboxCrashes kills the delivery at each step (the process's memory is
// gone, the database stays) and checks that every message is delivered, and
// delivered twice only when the crash fell between the transport's
// acceptance and the record of it, then with the same id and content.
func TestOutboxCrashes(t *testing.T) {
	tests := []struct {
		name  string
		crash func(p *testPortal) // runs part of a delivery and abandons it
		want  int                 // deliveries in all
	}{
		{"after queueing", func(p *testPortal) {}, 1},
		{"after the claim", func(p *testPortal) {
			c, err := p.a.claimNext(context.Background())
			require.NoError(t, err)
			require.NotNil(t, c)
		}, 1},
		{"after the transport accepted it", func(p *testPortal) {
			c, err := p.a.claimNext(context.Background())
			require.NoError(t, err)
			require.NoError(t, p.a.transmit(context.Background(), c))
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestPortal(t)
			tr := useOutbox(p)
			ctx := context.Background()
			require.NoError(t, p.a.sender.SendCode(ctx, p.user("jdevries"), "Uw verificatiecode is 123456.", p.clock.Now().Add(5*time.Minute)))
			tt.crash(p)

			// A live claim is not taken over: two workers never send
			// the same message at once.
			before := len(tr.delivered())
			if before > 0 {
				p.flush()
				assert.Len(t, tr.delivered(), before, "the lease still holds")
			}
			p.clock.Advance(outboxLease + time.Second)
			p.flush()
			p.flush()
			got := tr.delivered()
			require.Len(t, got, tt.want)
			for _, m := range got {
				assert.Equal(t, got[0].ID, m.ID, "a repeat has the same id (Message-ID, Idempotency-Key)")
				assert.Equal(t, "Uw verificatiecode is 123456.", m.Body, "and the same code: none is made anew")
			}
			rows := p.outboxRows("jdevries")
			require.Len(t, rows, 1)
			assert.Equal(t, outboxSent, rows[0].State)
			assert.Empty(t, rows[0].Body, "a delivered message's body is wiped")
			assert.Empty(t, rows[0].Recipient)
		})
	}
}

// TestOutboxStaleClaim lets a worker's lease run out while it delivers:
// another worker delivers the message, and the stale one's outcome does not
// overwrite that.
func TestOutboxStaleClaim(t *testing.T) {
	p := newTestPortal(t)
	tr := useOutbox(p)
	ctx := context.Background()
	require.NoError(t, p.a.sender.Send(ctx, p.user("jdevries"), "Bericht", "tekst"))
	slow, err := p.a.claimNext(ctx)
	require.NoError(t, err)
	p.clock.Advance(outboxLease + time.Second)
	p.flush() // the other worker
	require.Len(t, tr.delivered(), 1)
	require.NoError(t, p.a.finish(ctx, slow, errors.New("connection reset")))
	rows := p.outboxRows("jdevries")
	assert.Equal(t, outboxSent, rows[0].State, "the stale failure does not queue it again")
	assert.Equal(t, 2, rows[0].Attempts)
}

// TestOutboxRetries fails deliveries and checks the back-off, the permanent
// failures, and giving up a code that expired: nothing is silently dropped
// and no code or body reaches the log.
func TestOutboxRetries(t *testing.T) {
	p := newTestPortal(t)
	tr := useOutbox(p)
	ctx := context.Background()
	failures := 2
	tr.fail = func(m envelope) error {
		switch {
		case m.Subject == "Onbestelbaar":
			return permanent(errors.New("550 no such user"))
		case m.Subject == subjectCode:
			return errors.New("451 try again later")
		case failures > 0:
			failures--
			return errors.New("421 service not available")
		}
		return nil
	}
	u := p.user("jdevries")
	require.NoError(t, p.a.sender.Send(ctx, u, "Bericht", "geheime inhoud 1"))
	p.flush()
	assert.Empty(t, tr.delivered())
	assert.Equal(t, outboxQueued, p.outboxRows("jdevries")[0].State)
	p.clock.Advance(outboxBackoff - time.Second)
	p.flush()
	assert.Equal(t, 1, p.outboxRows("jdevries")[0].Attempts, "not before the back-off")
	p.clock.Advance(time.Second)
	p.flush()
	assert.Equal(t, 2, p.outboxRows("jdevries")[0].Attempts)
	p.clock.Advance(2 * outboxBackoff) // doubled
	p.flush()
	require.Len(t, tr.delivered(), 1)
	assert.Equal(t, outboxSent, p.outboxRows("jdevries")[0].State)

	// A refusal is final.
	require.NoError(t, p.a.sender.Send(ctx, u, "Onbestelbaar", "geheime inhoud 2"))
	p.flush()
	rows := p.outboxRows("jdevries")
	assert.Equal(t, outboxFailed, rows[1].State)
	assert.Empty(t, rows[1].Body)

	// A code that cannot be delivered before it expires is given up.
	require.NoError(t, p.a.sender.SendCode(ctx, u, "Uw verificatiecode is 654321.", p.clock.Now().Add(5*time.Minute)))
	for range 10 {
		p.clock.Advance(time.Minute)
		p.flush()
	}
	rows = p.outboxRows("jdevries")
	assert.Equal(t, outboxFailed, rows[2].State)
	assert.Empty(t, rows[2].Body)
	assert.LessOrEqual(t, rows[2].Attempts, 6)
	log := p.out.String()
	assert.Contains(t, log, "gave up delivery")
	assert.Contains(t, log, "delivery refused")
	for _, secret := range []string{"654321", "geheime inhoud", "jan.devries@"} {
		assert.NotContains(t, log, secret)
	}
}

// TestOutboxEncryptedAtRest looks for a queued message in the database file.
func TestOutboxEncryptedAtRest(t *testing.T) {
	p := newTestPortal(t)
	useOutbox(p)
	require.NoError(t, p.a.sender.SendCode(context.Background(), p.user("jdevries"), "Uw verificatiecode is 918273.", p.clock.Now().Add(5*time.Minute)))
	_, err := p.a.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(p.a.cfg.DataDir, "zorgkit.db"))
	require.NoError(t, err)
	assert.NotContains(t, string(b), "918273")
	assert.NotContains(t, string(b), "verificatiecode is")
}

// TestSMSGateway delivers through the HTTP gateway adapter to a test gateway.
func TestSMSGateway(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]string
	var keys []string
	status := http.StatusAccepted
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer gateway-token" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "unauthorised", http.StatusUnauthorized)
			return
		}
		var m map[string]string
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got = append(got, m)
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		// An unhelpful gateway echoes the message in its errors.
		http.Error(w, "echo: "+m["text"], status)
	}))
	t.Cleanup(gw.Close)

	p := newTestPortal(t, func(c *config) {
		c.SMS = smsConfig{URL: gw.URL, Token: "gateway-token", From: "Portaal", Timeout: 5 * time.Second}
	})
	p.a.transports = nil
	require.NoError(t, p.a.init())
	p.a.sender = &outbox{a: p.a}
	_, err := p.a.db.Exec(`UPDATE users SET channel = 'sms', phone = '06-1234 5678' WHERE username = 'jdevries'`)
	require.NoError(t, err)

	b := p.browser()
	b.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
	p.flush()
	mu.Lock()
	require.Len(t, got, 1)
	code := codeRE.FindString(got[0]["text"])
	assert.Equal(t, "+31612345678", got[0]["to"])
	assert.Equal(t, "Portaal", got[0]["from"])
	assert.Equal(t, got[0]["reference"], keys[0])
	assert.NotEmpty(t, keys[0])
	mu.Unlock()
	status, body := b.post("/login/code", url.Values{"code": {code}})
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `id="whoami"`, "logged in with the code that came by SMS")

	// A reset link is e-mail, whatever the code channel.
	assert.Equal(t, map[string]transport{"sms": p.a.transports["sms"], "email": p.a.transports["email"]}, p.a.transports)
	_, isGateway := p.a.transports["email"].(smsTransport)
	assert.False(t, isGateway)

	// The gateway's errors: a server error is retried with the same key,
	// a refusal is final; neither puts the echoed code in the log.
	u := p.user("jdevries")
	p.clock.Advance(time.Second)
	mu.Lock()
	status = http.StatusBadGateway
	mu.Unlock()
	require.NoError(t, p.a.sender.SendCode(context.Background(), u, "Uw verificatiecode is 555444.", p.clock.Now().Add(5*time.Minute)))
	p.flush()
	mu.Lock()
	status = http.StatusUnprocessableEntity
	mu.Unlock()
	p.clock.Advance(outboxBackoff)
	p.flush()
	mu.Lock()
	require.Len(t, keys, 3)
	assert.Equal(t, keys[1], keys[2], "the retry carries the same Idempotency-Key")
	mu.Unlock()
	rows := p.outboxRows("jdevries")
	assert.Equal(t, outboxFailed, rows[len(rows)-1].State)
	assert.NotContains(t, p.out.String(), "555444")
	assert.NotContains(t, p.out.String(), "gateway-token")
}

// mailpitMessages lists the messages Mailpit received, newest first.
func mailpitMessages(t testing.TB, api string) []mailpitMessage {
	t.Helper()
	resp, err := http.Get(api + "/api/v1/messages")
	require.NoError(t, err)
	defer resp.Body.Close()
	var list struct {
		Messages []mailpitMessage `json:"messages"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
	return list.Messages
}

type mailpitMessage struct {
	ID        string `json:"ID"`
	MessageID string `json:"MessageID"`
	Subject   string `json:"Subject"`
	Username  string `json:"Username"` // the SMTP login it came in with
	To        []struct {
		Address string `json:"Address"`
	} `json:"To"`
	Bcc []struct {
		Address string `json:"Address"`
	} `json:"Bcc"`
}

// mailpitText returns the text body of a message.
func mailpitText(t testing.TB, api, id string) string {
	t.Helper()
	resp, err := http.Get(api + "/api/v1/message/" + id)
	require.NoError(t, err)
	defer resp.Body.Close()
	var m struct {
		Text string `json:"Text"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	return m.Text
}

// mailpitChaos makes Mailpit answer RCPT TO with code (0: normally).
func mailpitChaos(t testing.TB, api string, code int) {
	t.Helper()
	probability := 100
	if code == 0 {
		code, probability = 451, 0
	}
	body, _ := json.Marshal(map[string]any{"Recipient": map[string]int{"ErrorCode": code, "Probability": probability}})
	req, err := http.NewRequest(http.MethodPut, api+"/api/v1/chaos", strings.NewReader(string(body)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
}

// TestSMTPMailpit delivers the portal's mail through a real SMTP server,
// Mailpit, with STARTTLS and authentication: a login with the code from the
// mailbox, a reset link built from the public base URL, a temporary failure
// retried, a refusal, and a server without STARTTLS that gets nothing.
func TestSMTPMailpit(t *testing.T) {
	mp := startMailpit(t, "starttls")
	p := newTestPortal(t, func(c *config) {
		c.BaseURL = "https://portaal.example.nl"
		c.SMTP = smtpConfig{Addr: mp.smtp, TLS: "starttls", CAFile: mp.caFile, Username: "portal", Password: mp.password,
			From: "Zorgkit portaal <noreply@portaal.example.nl>", Timeout: 10 * time.Second}
	})
	p.a.transports = nil
	require.NoError(t, p.a.init())
	p.a.sender = &outbox{a: p.a}

	b := p.browser()
	status, _ := b.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
	require.Equal(t, http.StatusOK, status)
	p.flush()
	msgs := mailpitMessages(t, mp.api)
	require.Len(t, msgs, 1)
	m := msgs[0]
	assert.Equal(t, subjectCode, m.Subject)
	assert.Equal(t, "portal", m.Username, "authenticated")
	require.Len(t, m.To, 1)
	assert.Equal(t, "jan.devries@zonnehuis.example", m.To[0].Address)
	assert.Regexp(t, `^outbox\.[0-9a-f]+@portaal\.example\.nl$`, m.MessageID)
	code := codeRE.FindString(mailpitText(t, mp.api, m.ID))
	status, body := b.post("/login/code", url.Values{"code": {code}})
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `id="whoami"`, "logged in with the code from the mailbox")

	// A reset link, built from the public base URL.
	b.post("/password/forgot", url.Values{"email": {"jan.devries@zonnehuis.example"}})
	p.flush()
	msgs = mailpitMessages(t, mp.api)
	require.Len(t, msgs, 2)
	assert.Contains(t, mailpitText(t, mp.api, msgs[0].ID), "https://portaal.example.nl/password/reset?token=")

	// A name cannot add a header.
	_, err := p.a.db.Exec(`UPDATE users SET name = $1 WHERE username = 'jdevries'`, "Jan\r\nBcc: mallory@evil.example")
	require.NoError(t, err)
	require.NoError(t, p.a.sender.Send(context.Background(), p.user("jdevries"), "Naam", "tekst"))
	p.flush()
	msgs = mailpitMessages(t, mp.api)
	require.Len(t, msgs, 3)
	assert.Empty(t, msgs[0].Bcc)
	require.Len(t, msgs[0].To, 1)
	assert.Equal(t, "jan.devries@zonnehuis.example", msgs[0].To[0].Address)

	// The server answers 451 for a while: the message waits and goes out
	// once it is back; a 550 is final.
	u := p.user("jdevries")
	mailpitChaos(t, mp.api, 451)
	require.NoError(t, p.a.sender.Send(context.Background(), u, "Later", "even geduld"))
	p.flush()
	assert.Len(t, mailpitMessages(t, mp.api), 3)
	mailpitChaos(t, mp.api, 0)
	p.clock.Advance(outboxBackoff)
	p.flush()
	assert.Len(t, mailpitMessages(t, mp.api), 4)
	mailpitChaos(t, mp.api, 550)
	p.clock.Advance(time.Second)
	require.NoError(t, p.a.sender.Send(context.Background(), u, "Nooit", "weg"))
	p.flush()
	mailpitChaos(t, mp.api, 0)
	rows := p.outboxRows("jdevries")
	assert.Equal(t, outboxFailed, rows[len(rows)-1].State)

	// A server that does not offer STARTTLS gets no code in clear.
	plain := startMailpit(t, "plain")
	p.a.cfg.SMTP.Addr = plain.smtp
	p.a.transports = nil
	require.NoError(t, p.a.init())
	p.a.sender = &outbox{a: p.a}
	p.clock.Advance(time.Second)
	require.NoError(t, p.a.sender.SendCode(context.Background(), u, "Uw verificatiecode is 112233.", p.clock.Now().Add(5*time.Minute)))
	p.flush()
	assert.Empty(t, mailpitMessages(t, plain.api))
	rows = p.outboxRows("jdevries")
	assert.Equal(t, outboxQueued, rows[len(rows)-1].State, "waits for a server that offers TLS")
	assert.NotContains(t, p.out.String(), "112233")
	assert.NotContains(t, p.out.String(), mp.password)
}

// TestSMTPImplicitTLS delivers to a Mailpit that speaks TLS from the first
// byte, as on port 465, with a login.
func TestSMTPImplicitTLS(t *testing.T) {
	mp := startMailpit(t, "tls")
	ctx := context.Background()
	cfg := smtpConfig{Addr: mp.smtp, TLS: "tls", CAFile: mp.caFile, Username: "portal", Password: mp.password,
		From: "noreply@portaal.example.nl", Timeout: 10 * time.Second}
	tr, err := newSMTPTransport(cfg, "https://portaal.example.nl")
	require.NoError(t, err)
	require.NoError(t, tr.deliver(ctx, envelope{ID: "m1", To: "jan@zonnehuis.example", Name: "Jan", Subject: "Bericht", Body: "tekst"}))
	msgs := mailpitMessages(t, mp.api)
	require.Len(t, msgs, 1)
	assert.Equal(t, "portal", msgs[0].Username)

	// STARTTLS against a TLS port, and a wrong password: no delivery.
	cfg.TLS = "starttls"
	tr, err = newSMTPTransport(cfg, "")
	require.NoError(t, err)
	wctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	assert.Error(t, tr.deliver(wctx, envelope{ID: "m2", To: "jan@zonnehuis.example", Subject: "x", Body: "x"}))
	cfg.TLS, cfg.Password = "tls", "wrong"
	tr, err = newSMTPTransport(cfg, "")
	require.NoError(t, err)
	err = tr.deliver(ctx, envelope{ID: "m3", To: "jan@zonnehuis.example", Subject: "x", Body: "x"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "wrong", "the password stays out of the error")
	assert.Len(t, mailpitMessages(t, mp.api), 1)
}

// TestOutboxPurge forgets old delivered and failed messages, never one that
// is still to be delivered.
func TestOutboxPurge(t *testing.T) {
	p := newTestPortal(t)
	tr := useOutbox(p)
	ctx := context.Background()
	u := p.user("jdevries")
	require.NoError(t, p.a.sender.Send(ctx, u, "Afgeleverd", "x"))
	p.flush()
	require.Len(t, tr.delivered(), 1)
	tr.fail = func(envelope) error { return errors.New("421 later") }
	p.clock.Advance(time.Second)
	require.NoError(t, p.a.sender.Send(ctx, u, "Wacht", "y"))
	p.flush()
	p.clock.Advance(outboxKeep + time.Hour)
	require.NoError(t, p.a.purgeOutbox(ctx))
	rows := p.outboxRows("jdevries")
	require.Len(t, rows, 1, "the delivered one is forgotten")
	assert.Equal(t, outboxQueued, rows[0].State, "the waiting one stays (and is given up by delivery, not by the purge)")
}

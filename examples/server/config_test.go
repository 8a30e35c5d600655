package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConfigDelivery covers the settings of issue 10: real delivery, the
// public URL, the proxies, and the refusal to run -demo=false without them.
func TestConfigDelivery(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "smtp-password")
	require.NoError(t, os.WriteFile(secret, []byte("uit-een-bestand\n"), 0o600))
	real := []string{"-demo=false", "-smtp-addr", "smtp.example.nl:587", "-mail-from", "noreply@example.nl", "-base-url", "https://portaal.example.nl"}
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		want  string // part of the error; "" for none
		check func(t *testing.T, c config)
	}{
		{name: "production without delivery", args: []string{"-demo=false"}, want: "set -smtp-addr (ZORGKIT_SMTP_ADDR) and -mail-from (ZORGKIT_MAIL_FROM)"},
		{name: "production without delivery names the base URL too", args: []string{"-demo=false"}, want: "-base-url (ZORGKIT_BASE_URL)"},
		{name: "production without base URL", args: real[:5], want: "-base-url"},
		{name: "production, complete", args: real, check: func(t *testing.T, c config) {
			assert.Equal(t, "https://portaal.example.nl", c.BaseURL)
			assert.Equal(t, "starttls", c.SMTP.TLS)
		}},
		{name: "production from the environment", env: map[string]string{"ZORGKIT_DEMO": "false", "ZORGKIT_SMTP_ADDR": "smtp.example.nl:587",
			"ZORGKIT_MAIL_FROM": "noreply@example.nl", "ZORGKIT_BASE_URL": "https://portaal.example.nl/", "ZORGKIT_SMTP_USER": "portal", "ZORGKIT_SMTP_PASSWORD": "geheim"},
			check: func(t *testing.T, c config) {
				assert.False(t, c.Demo)
				assert.Equal(t, "geheim", c.SMTP.Password)
				assert.Equal(t, "https://portaal.example.nl", c.BaseURL)
			}},
		{name: "password from a file", args: []string{"-smtp-addr", "smtp.example.nl:587", "-mail-from", "a@example.nl", "-smtp-user", "portal", "-smtp-password-file", secret},
			check: func(t *testing.T, c config) { assert.Equal(t, "uit-een-bestand", c.SMTP.Password) }},
		{name: "user without password", args: []string{"-smtp-addr", "smtp.example.nl:587", "-mail-from", "a@example.nl", "-smtp-user", "portal"}, want: "go together"},
		{name: "SMTP without sender", args: []string{"-smtp-addr", "smtp.example.nl:587"}, want: "-mail-from"},
		{name: "SMTP address without port", args: []string{"-smtp-addr", "smtp.example.nl", "-mail-from", "a@example.nl"}, want: "host:port"},
		{name: "no TLS to another machine", args: []string{"-smtp-addr", "smtp.example.nl:25", "-mail-from", "a@example.nl", "-smtp-tls", "none"}, want: "in clear"},
		{name: "no TLS to this machine", args: []string{"-smtp-addr", "127.0.0.1:25", "-mail-from", "a@example.nl", "-smtp-tls", "none"}},
		{name: "unknown TLS mode", args: []string{"-smtp-addr", "smtp.example.nl:25", "-mail-from", "a@example.nl", "-smtp-tls", "maybe"}, want: "want starttls, tls or none"},
		{name: "bad SMTP timeout", args: []string{"-smtp-timeout", "0s"}, want: "-smtp-timeout"},
		{name: "SMS over http elsewhere", args: []string{"-sms-url", "http://gateway.example/send"}, env: map[string]string{"ZORGKIT_SMS_TOKEN": "t"}, want: "https"},
		{name: "SMS without token", args: []string{"-sms-url", "https://gateway.example/send"}, want: "ZORGKIT_SMS_TOKEN"},
		{name: "SMS complete", args: []string{"-sms-url", "https://gateway.example/send"}, env: map[string]string{"ZORGKIT_SMS_TOKEN": "t"}},
		{name: "base URL with a path", args: []string{"-base-url", "https://example.nl/portaal"}, want: "only scheme, host and port"},
		{name: "base URL with a query", args: []string{"-base-url", "https://example.nl/?a=b"}, want: "only scheme, host and port"},
		{name: "base URL with credentials", args: []string{"-base-url", "https://user:pw@example.nl"}, want: "only scheme, host and port"},
		{name: "base URL of another scheme", args: []string{"-base-url", "javascript:alert(1)"}, want: "absolute http or https"},
		{name: "relative base URL", args: []string{"-base-url", "//example.nl"}, want: "absolute http or https"},
		{name: "demo base URL from the listen address", args: []string{"-addr", ":8081"}, check: func(t *testing.T, c config) {
			assert.Equal(t, "http://localhost:8081", c.BaseURL)
		}},
		{name: "trusted proxies", args: []string{"-trusted-proxies", "10.0.0.0/8, 192.168.1.7,::1"}, check: func(t *testing.T, c config) {
			require.Len(t, c.TrustedProxies, 3)
			assert.Equal(t, "192.168.1.7/32", c.TrustedProxies[1].String())
		}},
		{name: "bad trusted proxy", args: []string{"-trusted-proxies", "proxy.example"}, want: "CIDR"},
		{name: "proxy header", args: []string{"-proxy-header", "forwarded"}, check: func(t *testing.T, c config) { assert.Equal(t, "Forwarded", c.ProxyHeader) }},
		{name: "unknown proxy header", args: []string{"-proxy-header", "X-Real-IP"}, want: "X-Forwarded-For or Forwarded"},
		{name: "a new pepper is not accepted", args: []string{"-accept-key-change", "pepper"}, want: "only session and code"},
		{name: "a new session key is", args: []string{"-accept-key-change", "session"}, check: func(t *testing.T, c config) {
			assert.Equal(t, []string{"session"}, c.AcceptKeyChange)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, func(k string) string { return tt.env[k] })
			if tt.want != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.want)
				return
			}
			require.NoError(t, err)
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

// TestProductionRefusesWithoutDelivery starts the server as main does, with
// -demo=false and nothing else: it refuses, and says what to set.
func TestProductionRefusesWithoutDelivery(t *testing.T) {
	err := run(t.Context(), []string{"-demo=false", "-data", t.TempDir()}, func(string) string { return "" }, os.Stdout)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-smtp-addr")
}

// TestSMSUsersNeedAGateway: outside demo mode, users who get their code by
// SMS need a gateway; the portal refuses to start without one, and
// administrators cannot choose SMS.
func TestSMSUsersNeedAGateway(t *testing.T) {
	p := newTestPortal(t, production)
	p.a.transports = nil
	p.a.cfg.SMTP = smtpConfig{}
	require.NoError(t, p.a.init())
	err := p.a.checkChannels(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-smtp-addr", "no e-mail without a mail server")
	p.a.transports = nil
	p.a.cfg.SMTP = smtpConfig{Addr: "127.0.0.1:9", TLS: "none", From: "noreply@portaal.example", Timeout: time.Second}
	require.NoError(t, p.a.init())
	_, err = p.a.db.Exec(`UPDATE users SET channel = 'sms', phone = '0612345678' WHERE username = 'linde'`)
	require.NoError(t, err)
	err = p.a.checkChannels(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-sms-url")

	admin := p.browser()
	_, err = p.a.db.Exec(`UPDATE users SET channel = 'email' WHERE username = 'linde'`)
	require.NoError(t, err)
	p.a.sender = p.sent
	admin.login("zonnehuis-beheer")
	status, body := admin.post("/admin/users", url.Values{"username": {"piet"}, "name": {"Piet Post"}, "email": {"piet.post@zonnehuis.example"},
		"phone": {"0612345678"}, "channel": {"sms"}, "role": {"user"}})
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, text(body), "geen sms")
}

// TestConsoleOnlyInDemo: outside demo mode no message ever goes to the
// console, whatever is configured.
func TestConsoleOnlyInDemo(t *testing.T) {
	for _, c := range []config{
		{Demo: false},
		{Demo: false, SMTP: smtpConfig{Addr: "127.0.0.1:25", TLS: "none", From: "a@example.nl", Timeout: time.Second}},
		{Demo: true, SMTP: smtpConfig{Addr: "127.0.0.1:25", TLS: "none", From: "a@example.nl", Timeout: time.Second},
			SMS: smsConfig{URL: "https://sms.example.nl", Token: "t", Timeout: time.Second}},
	} {
		ts, err := newTransports(c, os.Stdout)
		require.NoError(t, err)
		for ch, tr := range ts {
			_, console := tr.(consoleTransport)
			assert.False(t, console, "demo=%v, channel %s", c.Demo, ch)
		}
	}
	ts, err := newTransports(config{Demo: true}, os.Stdout)
	require.NoError(t, err)
	assert.IsType(t, consoleTransport{}, ts["email"], "the demo without a mail server prints")
}

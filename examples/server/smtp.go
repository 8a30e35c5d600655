package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// newTransports builds the outbox's transports from the configuration: SMTP
// and the SMS gateway where configured, the console in demo mode for what is
// not. Outside demo mode a channel without a transport has none: its
// messages fail (and parseConfig already refused to start without SMTP).
func newTransports(cfg config, console io.Writer) (map[string]transport, error) {
	t := map[string]transport{}
	if cfg.SMTP.Addr != "" {
		s, err := newSMTPTransport(cfg.SMTP, cfg.BaseURL)
		if err != nil {
			return nil, err
		}
		t["email"] = s
	} else if cfg.Demo {
		t["email"] = consoleTransport{console}
	}
	if cfg.SMS.URL != "" {
		t["sms"] = newSMSTransport(cfg.SMS)
	} else if cfg.Demo {
		t["sms"] = consoleTransport{console}
	}
	return t, nil
}

// smtpTransport delivers e-mail through a mail server (the organisation's
// relay or a mail service), one connection per message: the outbox sends
// few messages, and a fresh connection never inherits a broken one.
type smtpTransport struct {
	host     string
	opts     []gomail.Option
	tls      *tls.Config
	implicit bool // implicit TLS (port 465): TLS from the first byte
	from     string
	domain   string // of Message-IDs
}

func newSMTPTransport(c smtpConfig, baseURL string) (*smtpTransport, error) {
	host, portText, _ := net.SplitHostPort(c.Addr)
	port, err := strconv.Atoi(portText)
	if err != nil || port <= 0 || port > 65535 {
		return nil, fmt.Errorf("-smtp-addr %q: bad port", c.Addr)
	}
	tlsConfig := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("-smtp-ca-file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("-smtp-ca-file %s: no PEM certificates in it", c.CAFile)
		}
		tlsConfig.RootCAs = pool
	}
	opts := []gomail.Option{
		gomail.WithPort(port),
		gomail.WithTimeout(c.Timeout),
		gomail.WithTLSConfig(tlsConfig),
	}
	switch c.TLS {
	case "tls":
		// deliver dials TLS itself; go-mail sees the TLS connection and
		// has no STARTTLS to do.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default: // starttls: refuse to send if the server does not offer it
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if c.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(c.Username), gomail.WithPassword(c.Password))
	}
	if _, err := gomail.NewClient(host, opts...); err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return nil, fmt.Errorf("-mail-from %q: %w", c.From, err)
	}
	// The portal's own host name identifies its messages best.
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	if u, err := url.Parse(baseURL); err == nil && u.Hostname() != "" {
		domain = u.Hostname()
	}
	return &smtpTransport{host: host, opts: opts, tls: tlsConfig, implicit: c.TLS == "tls", from: from.String(), domain: domain}, nil
}

// headerSafe drops control characters from a header value: a name an
// administrator typed must not add a header (a Bcc) to the portal's mail.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// messageID is the Message-ID of an outbox message: the same on every
// attempt, so that a repeat after a crash is recognisable as one.
func (t *smtpTransport) messageID(id string) string { return "outbox." + id + "@" + t.domain }

func (t *smtpTransport) deliver(ctx context.Context, m envelope) error {
	msg := gomail.NewMsg()
	if err := msg.From(t.from); err != nil {
		return permanent(fmt.Errorf("smtp: sender: %w", err))
	}
	if err := msg.AddToFormat(headerSafe(m.Name), m.To); err != nil {
		return permanent(fmt.Errorf("smtp: recipient of message %s: %w", m.ID, err))
	}
	msg.Subject(headerSafe(m.Subject))
	msg.SetMessageIDWithValue(t.messageID(m.ID))
	msg.SetDate()
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)

	// A client per delivery, dialling its own connection: it is closed when
	// the greeting, STARTTLS or the login fails (go-mail leaves it open
	// then), and when ctx ends (go-mail's timeouts are per command, so a
	// server that answers slowly could otherwise outlast the outbox lease).
	var conn net.Conn
	stop := func() bool { return false }
	defer func() { stop() }()
	dial := func(dialCtx context.Context, network, addr string) (net.Conn, error) {
		var d interface {
			DialContext(context.Context, string, string) (net.Conn, error)
		} = &net.Dialer{}
		if t.implicit {
			d = &tls.Dialer{Config: t.tls}
		}
		c, err := d.DialContext(dialCtx, network, addr)
		if err == nil {
			conn = c
			stop = context.AfterFunc(ctx, func() { c.Close() }) // the delivery's ctx, not the dial's
		}
		return c, err
	}
	client, err := gomail.NewClient(t.host, append(slices.Clip(t.opts), gomail.WithDialContextFunc(dial))...)
	if err != nil {
		return permanent(fmt.Errorf("smtp: %w", err))
	}
	sc, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		return fmt.Errorf("smtp: message %s: %w", m.ID, err)
	}
	err = client.SendWithSMTPClient(sc, msg)
	_ = client.CloseWithSMTPClient(sc) // QUIT
	if conn != nil {
		conn.Close()
	}
	// Once the server has answered 250 to the message it has it: a
	// connection that breaks after that (go-mail's RSET, QUIT) must not
	// turn it into a failure, which would send it again.
	if err == nil || msg.IsDelivered() {
		return nil
	}
	// A refusal by the server (5xx for the sender, the recipient or the
	// message) does not change on a retry; a connection problem or a 4xx
	// may.
	var serr *gomail.SendError
	if errors.As(err, &serr) && !serr.IsTemp() && serr.ErrorCode() >= 500 {
		return permanent(fmt.Errorf("smtp: message %s refused: %w", m.ID, err))
	}
	return fmt.Errorf("smtp: message %s: %w", m.ID, err)
}

package main

import (
	"context"
	"fmt"
)

// Sender delivers messages to users: verification codes, reset links,
// temporary passwords and notices. A real portal sends e-mail or SMS; the
// demo writes to an outbox.
//
// E-mail and SMS are restricted channels for authentication codes (NIST SP
// 800-63B-4): offer TOTP as the stronger second factor.
type Sender interface {
	Send(ctx context.Context, to *user, subject, body string) error
}

// outboxSender is the demo Sender: it stores each message, encrypted, in the
// outbox table, where only the addressee can read it (/outbox), and prints it
// on the console, so that the demo can be tried without a mail server. Never
// use it in production: the console is no place for codes.
type outboxSender struct{ a *app }

func (s *outboxSender) Send(ctx context.Context, to *user, subject, body string) error {
	a := s.a
	id := newID()
	enc := a.field.Encrypt("outbox.body:"+to.ID, []byte(body))
	if _, err := a.db.ExecContext(ctx, `INSERT INTO outbox (id, user_id, channel, subject, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		id, to.ID, to.Channel, subject, enc, usec(a.now())); err != nil {
		return err
	}
	if a.cfg.Demo {
		fmt.Fprintf(a.out, "\n--- DEMO OUTBOX: %s for %s (%s) ---\n%s\n---\n", subject, to.Username, to.Channel, body)
	}
	return nil
}

// outboxMessage is a message as the outbox page shows it.
type outboxMessage struct {
	Subject string
	Body    string
	Created int64
}

// outbox returns the user's messages, newest first.
func (a *app) outbox(ctx context.Context, u *user) ([]outboxMessage, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT subject, body, created_at FROM outbox WHERE user_id = $1 ORDER BY created_at DESC LIMIT 20`, u.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []outboxMessage
	for rows.Next() {
		var m outboxMessage
		var enc string
		if err := rows.Scan(&m.Subject, &enc, &m.Created); err != nil {
			return nil, err
		}
		body, err := a.field.Decrypt("outbox.body:"+u.ID, enc)
		if err != nil {
			return nil, err
		}
		m.Body = string(body)
		out = append(out, m)
	}
	return out, rows.Err()
}

package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Sender delivers messages to users: verification codes, reset links,
// temporary passwords and notices.
//
// E-mail and SMS are restricted channels for authentication codes (NIST SP
// 800-63B-4): offer TOTP as the stronger second factor.
type Sender interface {
	// Send sends an e-mail to the user.
	Send(ctx context.Context, to *user, subject, body string) error
	// SendCode sends a login verification code through the user's own
	// channel, e-mail or SMS. The message is of no use after expires.
	SendCode(ctx context.Context, to *user, body string, expires time.Time) error
	// SendOnce is Send at most once per key and user: a job that runs
	// again after a crash does not queue the same message twice.
	SendOnce(ctx context.Context, key string, to *user, subject, body string) error
	// SendTx is Send as part of tx: the message is queued if and only if
	// tx commits, so that a crash cannot leave a change whose message
	// never goes out (or a message about a change that never happened).
	// The caller wakes the outbox after the commit (wakeOutbox).
	SendTx(ctx context.Context, tx *sql.Tx, to *user, subject, body string) error
}

// subjectCode is the subject of a verification code message.
const subjectCode = "Verificatiecode"

// The outbox is the portal's Sender. Send stores the message, encrypted, in
// the outbox table and returns; a worker in every instance delivers it
// through a transport (SMTP, the SMS gateway, or the console in demo mode)
// and retries until the transport accepts it.
//
// # Delivery is at least once
//
// A message is claimed with a lease, handed to the transport, and marked
// sent only after the transport accepted it. A crash before the transport
// accepted it leaves the claim to expire: another instance (or this one,
// restarted) delivers it after the lease, so nothing is lost. A crash after
// the transport accepted it but before the message was marked sent delivers
// it twice. That window cannot be closed: SMTP has no way to ask the server
// whether it took a message, and neither have SMS gateways. Losing a code
// would lock the user out, a second copy of the same code does no harm, so
// the outbox errs on the side of delivery, and makes the repeat recognisable
// as one: every attempt carries the same Message-ID (SMTP) or
// Idempotency-Key (the SMS gateway), derived from the outbox row, so that
// mail stores and gateways that deduplicate drop it. The lease keeps two
// live instances from sending the same message at once; a send that
// outlives its lease is not marked sent by the stale claim (the attempt
// counter fences it).
//
// A code is never generated again on a retry: the body is stored once,
// encrypted under the field key with the addressee bound to it, and wiped as
// soon as the message is delivered or given up.
type outbox struct{ a *app }

// How the outbox retries.
const (
	outboxLease   = 2 * time.Minute  // a claim; longer than a delivery may take
	outboxSendMax = time.Minute      // the longest one delivery may take
	outboxGiveUp  = 24 * time.Hour   // when a message without an expiry is given up
	outboxPoll    = 5 * time.Second  // how often the worker looks for due messages
	outboxBackoff = 15 * time.Second // the first retry; it doubles up to outboxMaxWait
	outboxMaxWait = 30 * time.Minute
	outboxWorkers = 4                   // messages an instance delivers at once: a slow server holds up one, not every code
	outboxKeep    = 30 * 24 * time.Hour // how long a delivered message's record (never its content) is kept
)

// Outbox states.
const (
	outboxQueued  = "queued"  // waiting for (another) attempt
	outboxSending = "sending" // claimed by a worker until lease_until
	outboxSent    = "sent"    // accepted by the transport
	outboxFailed  = "failed"  // refused for good, or given up
)

func (o *outbox) Send(ctx context.Context, to *user, subject, body string) error {
	return o.enqueue(ctx, o.a.db, newID(), to, "email", to.Email, subject, body, time.Time{})
}

func (o *outbox) SendTx(ctx context.Context, tx *sql.Tx, to *user, subject, body string) error {
	return o.enqueue(ctx, tx, newID(), to, "email", to.Email, subject, body, time.Time{})
}

// SendOnce names the outbox row after the key and the user, so that the
// second insert of the same message finds the row and leaves it.
func (o *outbox) SendOnce(ctx context.Context, key string, to *user, subject, body string) error {
	sum := sha256.Sum256([]byte("outbox-once\x00" + key + "\x00" + to.ID))
	return o.enqueue(ctx, o.a.db, hex.EncodeToString(sum[:12]), to, "email", to.Email, subject, body, time.Time{})
}

func (o *outbox) SendCode(ctx context.Context, to *user, body string, expires time.Time) error {
	if to.Channel == "sms" {
		return o.enqueue(ctx, o.a.db, newID(), to, "sms", to.Phone, subjectCode, body, expires)
	}
	return o.enqueue(ctx, o.a.db, newID(), to, "email", to.Email, subjectCode, body, expires)
}

// execer is a database or a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// enqueue stores a message for delivery under id through db, unless a
// message with that id is stored already, and wakes the worker (in vain
// if db is a transaction that has not committed yet: then the caller
// wakes it after the commit).
func (o *outbox) enqueue(ctx context.Context, db execer, id string, to *user, channel, address, subject, body string, expires time.Time) error {
	a := o.a
	now := a.now()
	if expires.IsZero() {
		expires = now.Add(outboxGiveUp)
	}
	_, err := db.ExecContext(ctx, `INSERT INTO outbox (id, user_id, channel, subject, body, recipient, created_at, state, next_attempt_at, give_up_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`,
		id, to.ID, channel, subject, a.field.Encrypt("outbox.body:"+to.ID, []byte(body)),
		a.field.Encrypt("outbox.recipient:"+to.ID, []byte(address)), usec(now), outboxQueued, usec(now), usec(expires))
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	a.wakeOutbox()
	return nil
}

// wakeOutbox has a worker look for due messages now rather than at its
// next poll.
func (a *app) wakeOutbox() {
	select {
	case a.outboxKick <- struct{}{}:
	default:
	}
}

// checkChannels refuses to start when users get their codes through a
// channel that has no transport: their logins would fail.
func (a *app) checkChannels(ctx context.Context) error {
	for _, ch := range []string{"email", "sms"} {
		if a.transports[ch] != nil {
			continue
		}
		var n int
		if err := a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE channel = $1 AND deactivated_at = 0`, ch).Scan(&n); err != nil {
			return err
		}
		if n > 0 && ch == "sms" {
			return fmt.Errorf("%d users get their login code by SMS, and no SMS gateway is configured: set -sms-url (ZORGKIT_SMS_URL) and ZORGKIT_SMS_TOKEN, or give those users e-mail", n)
		}
		if n > 0 {
			return fmt.Errorf("%d users get their login code by e-mail, and no mail server is configured: set -smtp-addr (ZORGKIT_SMTP_ADDR) and -mail-from (ZORGKIT_MAIL_FROM)", n)
		}
	}
	return nil
}

// envelope is one message as a transport delivers it.
type envelope struct {
	ID       string // the outbox row: the same on every attempt
	Channel  string // email or sms
	To       string // address or phone number
	Name     string // the addressee's name
	Username string // for the demo console
	Subject  string
	Body     string
}

// A transport hands a message to a delivery service. It returns nil only
// once the service has accepted the message, and a permanentError when
// trying again cannot help.
type transport interface {
	deliver(ctx context.Context, m envelope) error
}

// permanentError marks a delivery error that a retry cannot fix, such as an
// address the server refuses.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return &permanentError{err} }

// runOutbox delivers due messages until ctx ends: at once when a message is
// queued on this instance, otherwise every few seconds. It returns once the
// deliveries under way when ctx ended are finished and recorded. Every hour
// it forgets old messages and sessions that ended.
func (a *app) runOutbox(ctx context.Context) {
	var wg sync.WaitGroup
	for range outboxWorkers {
		wg.Go(func() { a.outboxWorker(ctx) })
	}
	wg.Go(func() {
		tick := time.NewTicker(time.Hour)
		defer tick.Stop()
		for {
			if err := a.purgeOutbox(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("outbox: purge", "err", err)
			}
			if err := a.purgeSessions(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("sessions: purge", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	wg.Wait()
}

// purgeOutbox forgets messages delivered or given up more than outboxKeep
// ago: what was sent to whom is kept no longer than it helps to answer "did
// the portal send me that?".
func (a *app) purgeOutbox(ctx context.Context) error {
	_, err := a.db.ExecContext(ctx, `DELETE FROM outbox WHERE state IN ($1, $2) AND created_at < $3`,
		outboxSent, outboxFailed, usec(a.now().Add(-outboxKeep)))
	return err
}

// outboxWorker delivers one message at a time.
func (a *app) outboxWorker(ctx context.Context) {
	tick := time.NewTicker(outboxPoll)
	defer tick.Stop()
	for {
		for {
			more, err := a.deliverNext(ctx)
			if err != nil {
				if ctx.Err() == nil {
					a.log.Error("outbox", "err", err)
				}
				break
			}
			if !more {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-a.outboxKick:
		}
	}
}

// claim is a message a worker holds the lease of.
type claim struct {
	envelope
	UserID   string
	Attempts int // after this attempt: fences the claim
}

// deliverNext claims one due message, delivers it and records the outcome.
// It reports whether there may be more to do.
func (a *app) deliverNext(ctx context.Context) (bool, error) {
	c, err := a.claimNext(ctx)
	if c == nil || err != nil {
		return c != nil, err
	}
	// Wake another worker for the next message: a burst of logins is
	// delivered side by side.
	select {
	case a.outboxKick <- struct{}{}:
	default:
	}
	// A delivery under way is not cut off when ctx ends (a shutdown): the
	// server may have the message already, and only its answer, recorded,
	// keeps the message from going out again after the next start.
	// outboxSendMax bounds it.
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), outboxSendMax)
	defer cancel()
	crashPoint("outbox.claimed")
	err = a.transmit(sendCtx, c)
	crashPoint("outbox.transmitted")
	return true, a.finish(context.WithoutCancel(ctx), c, err)
}

// claimNext takes the lease of the oldest due message: queued and due, or
// sending with an expired lease (its worker died). It returns nil when
// nothing is due. A message past its give-up time is marked failed instead.
func (a *app) claimNext(ctx context.Context) (*claim, error) {
	for {
		now := usec(a.now())
		var id string
		err := a.db.QueryRowContext(ctx, `SELECT id FROM outbox
			WHERE (state = $1 AND next_attempt_at <= $3) OR (state = $2 AND lease_until <= $3)
			ORDER BY next_attempt_at, id LIMIT 1`, outboxQueued, outboxSending, now).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		res, err := a.db.ExecContext(ctx, `UPDATE outbox SET state = $2, lease_until = $4, attempts = attempts + 1
			WHERE id = $1 AND ((state = $3 AND next_attempt_at <= $5) OR (state = $2 AND lease_until <= $5))`,
			id, outboxSending, outboxQueued, now+outboxLease.Microseconds(), now)
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			if err != nil {
				return nil, err
			}
			continue // another worker took it
		}
		c := &claim{}
		c.ID = id
		var recipient, body string
		var giveUp int64
		err = a.db.QueryRowContext(ctx, `SELECT o.user_id, o.channel, o.subject, o.recipient, o.body, o.attempts, o.give_up_at, u.username, u.name
			FROM outbox o JOIN users u ON u.id = o.user_id WHERE o.id = $1`, id).
			Scan(&c.UserID, &c.Channel, &c.Subject, &recipient, &body, &c.Attempts, &giveUp, &c.Username, &c.Name)
		if errors.Is(err, sql.ErrNoRows) {
			continue // the user was deleted, and the message with them
		}
		if err != nil {
			return nil, err
		}
		if giveUp <= now {
			a.log.Warn("outbox: gave up delivery", "message", c.ID, "user", c.UserID, "subject", c.Subject, "channel", c.Channel, "attempts", c.Attempts-1)
			a.metrics.delivery(c.Subject, c.Channel, "given_up")
			if err := a.closeMessage(ctx, c, outboxFailed, "given up: expired before delivery"); err != nil {
				return nil, err
			}
			continue
		}
		to, err := a.field.Decrypt("outbox.recipient:"+c.UserID, recipient)
		if err != nil {
			return nil, fmt.Errorf("outbox %s: recipient: %w", c.ID, err)
		}
		text, err := a.field.Decrypt("outbox.body:"+c.UserID, body)
		if err != nil {
			return nil, fmt.Errorf("outbox %s: body: %w", c.ID, err)
		}
		c.To, c.Body = string(to), string(text)
		return c, nil
	}
}

// transmit hands a claimed message to its channel's transport.
func (a *app) transmit(ctx context.Context, c *claim) error {
	t := a.transports[c.Channel]
	if t == nil {
		return permanent(fmt.Errorf("no transport for channel %q is configured", c.Channel))
	}
	return t.deliver(ctx, c.envelope)
}

// finish records the outcome of a delivery: sent, failed for good, or queued
// for a retry with exponential back-off.
func (a *app) finish(ctx context.Context, c *claim, deliveryErr error) error {
	a.metrics.delivery(c.Subject, c.Channel, deliveryOutcome(deliveryErr))
	if deliveryErr == nil {
		return a.closeMessage(ctx, c, outboxSent, "")
	}
	var perr *permanentError
	if errors.As(deliveryErr, &perr) {
		a.log.Error("outbox: delivery refused", "message", c.ID, "user", c.UserID, "channel", c.Channel, "err", deliveryErr)
		return a.closeMessage(ctx, c, outboxFailed, deliveryErr.Error())
	}
	wait := outboxBackoff << min(c.Attempts-1, 16)
	wait = min(wait, outboxMaxWait)
	a.log.Warn("outbox: delivery failed, will retry", "message", c.ID, "user", c.UserID, "channel", c.Channel, "attempt", c.Attempts, "retry_in", wait, "err", deliveryErr)
	_, err := a.db.ExecContext(ctx, `UPDATE outbox SET state = $3, next_attempt_at = $4, lease_until = 0, last_error = $5
		WHERE id = $1 AND state = $6 AND attempts = $2`,
		c.ID, c.Attempts, outboxQueued, usec(a.now().Add(wait)), truncate(deliveryErr.Error(), 500), outboxSending)
	return err
}

// closeMessage ends a message's delivery in state, wiping its recipient and
// body: a delivered code has no business staying in the database. It
// changes only the claim it was given: a worker whose lease ran out while it
// delivered does not overwrite the worker that took over.
func (a *app) closeMessage(ctx context.Context, c *claim, state, reason string) error {
	sent := int64(0)
	if state == outboxSent {
		sent = usec(a.now())
	}
	res, err := a.db.ExecContext(ctx, `UPDATE outbox SET state = $3, sent_at = $4, last_error = $5, body = '', recipient = '', lease_until = 0
		WHERE id = $1 AND state = $6 AND attempts = $2`,
		c.ID, c.Attempts, state, sent, truncate(reason, 500), outboxSending)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		a.log.Warn("outbox: the claim expired during delivery; another worker delivers it again", "message", c.ID)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// consoleTransport is the demo's delivery: it prints each message on the
// console, so that the demo can be tried without a mail server. It is never
// used outside demo mode: the console is no place for codes.
type consoleTransport struct{ out io.Writer }

func (t consoleTransport) deliver(_ context.Context, m envelope) error {
	_, err := fmt.Fprintf(t.out, "\n--- DEMO OUTBOX: %s for %s (%s) ---\n%s\n---\n", m.Subject, m.Username, m.Channel, m.Body)
	return err
}

// outboxEntry is a message as the demo's outbox page lists it: what was sent
// when, and how its delivery went, never what it said.
type outboxEntry struct {
	Subject  string
	Channel  string
	State    string
	Attempts int
	Created  time.Time
	Sent     time.Time
}

// outboxOf returns the user's latest messages, newest first.
func (a *app) outboxOf(ctx context.Context, u *user) ([]outboxEntry, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT subject, channel, state, attempts, created_at, sent_at FROM outbox
		WHERE user_id = $1 ORDER BY created_at DESC, id LIMIT 20`, u.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []outboxEntry
	for rows.Next() {
		var m outboxEntry
		var created, sent int64
		if err := rows.Scan(&m.Subject, &m.Channel, &m.State, &m.Attempts, &created, &sent); err != nil {
			return nil, err
		}
		m.Created, m.Sent = fromUsec(created), fromUsec(sent)
		out = append(out, m)
	}
	return out, rows.Err()
}

// outboxPage is the demo's stand-in for a mailbox: the logged-in user's
// messages with their delivery state, never their content. It exists only in
// demo mode and only after the second factor: the content (the code, the
// reset link) is on the console or in Mailpit.
func (a *app) outboxPage(w http.ResponseWriter, r *http.Request) {
	msgs, err := a.outboxOf(r.Context(), userFrom(r.Context()))
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	_, console := a.transports["email"].(consoleTransport)
	a.render(w, r, http.StatusOK, "outbox", outboxPageData{Messages: msgs, Console: console})
}

type outboxPageData struct {
	Messages []outboxEntry
	Console  bool // the demo prints messages on the console (no SMTP configured)
}

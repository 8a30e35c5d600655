package consent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Config configures a [Registry].
type Config struct {
	// Key is the HMAC-SHA256 secret that chains the events, at least 32
	// bytes, from configuration (never from code). Keep it as long as the
	// events it sealed: without it they cannot be verified.
	Key []byte

	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	// AccessLog receives an entry for every [Registry.Authorize]; nil means
	// Authorize returns an error, because an access without a log entry
	// cannot be justified later.
	AccessLog AccessLog

	// Logger receives the operator's actions, such as a quarantine; nil
	// means slog.Default().
	Logger *slog.Logger
}

// MinKeyLen is the minimum length of [Config.Key], in bytes.
const MinKeyLen = 32

// Registry records consent in a [Store] and decides with it. It is safe for
// concurrent use, also by several processes that share one store.
type Registry struct {
	store  Store
	key    []byte
	now    func() time.Time
	log    AccessLog
	logger *slog.Logger
}

// New returns a Registry that keeps its events in store.
func New(store Store, cfg Config) (*Registry, error) {
	if store == nil {
		return nil, errors.New("consent: New needs a Store")
	}
	if len(cfg.Key) < MinKeyLen {
		return nil, fmt.Errorf("consent: the key has %d bytes, want at least %d: generate a random secret and keep it in configuration", len(cfg.Key), MinKeyLen)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return &Registry{store: store, key: append([]byte(nil), cfg.Key...), now: now, log: cfg.AccessLog, logger: logger}, nil
}

// clock returns the current time in UTC, or an error if the clock is
// outside [MinTime, MaxTime): nothing is recorded with a broken clock.
func (r *Registry) clock() (time.Time, error) {
	now := r.now().UTC()
	if now.Before(MinTime) || !now.Before(MaxTime) {
		return time.Time{}, fmt.Errorf("consent: the clock stands at %s, outside the years 1970 to 2199: fix Config.Now or the system clock", now.Format(time.RFC3339))
	}
	return now, nil
}

// Change says who does something to a record, when and why.
type Change struct {
	// At is when the change takes effect; zero means now. It may lie in the
	// past (evidence produced by post, entered the next day), never in the
	// future. Only evidence outcomes use it; the other changes take effect
	// when they are recorded.
	At     time.Time
	By     Actor
	Reason string
}

func (c *Change) validate(now time.Time, reasonRequired bool) error {
	if err := c.By.validate("By"); err != nil {
		return err
	}
	if err := checkText("Reason", c.Reason, maxTextLen, reasonRequired); err != nil {
		return err
	}
	if err := checkTime("At", c.At, false); err != nil {
		return err
	}
	if c.At.After(now) {
		return fieldError("At", "is in the future")
	}
	return nil
}

// maxAttempts bounds the retries of an append that lost a race. Each loss
// means another writer won, so the chain makes progress; the growing,
// random backoff lets a writer that keeps losing get its turn.
const maxAttempts = 32

// appendEvents reads the chain, lets build derive the events to append from
// its current state, and appends them; when another writer got there first,
// it reads the chain again and retries. build returns no events when there
// is nothing to append.
func (r *Registry) appendEvents(ctx context.Context, chain ChainID, build func(now time.Time, l *ledger) ([]*Event, error)) error {
	var err error
	for attempt := range maxAttempts {
		if attempt > 0 {
			// Jitter, growing with each attempt, so that writers on one
			// busy chain spread out instead of colliding again.
			d := time.Duration(rand.Int64N(int64(min(attempt, 10)) * int64(time.Millisecond)))
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(d):
			}
		}
		var l *ledger
		if l, err = r.ledger(ctx, chain); err != nil {
			return err
		}
		var now time.Time
		if now, err = r.clock(); err != nil {
			return err
		}
		var events []*Event
		if events, err = build(now, l); err != nil || len(events) == 0 {
			return err
		}
		sealed := make([]SealedEvent, len(events))
		prev, seq := l.headMAC, l.seq
		for i, e := range events {
			seq++
			e.Chain, e.Seq, e.RecordedAt = chain, seq, now
			if e.At.IsZero() {
				e.At = now
			}
			if sealed[i], err = seal(r.key, e, prev); err != nil {
				return err
			}
			prev = sealed[i].MAC
		}
		if err = r.store.Append(ctx, sealed); !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return err
}

// Give records a consent statement and returns it with its ID and RecordedAt
// set. The record must be complete (see [Record]); its GivenAt must not be
// in the future.
//
// Give is idempotent: when the chain already holds a record that states
// exactly the same (the same purpose, decision, moments, policy version,
// evidence and practitioner) and that still counts or will, Give records
// nothing and returns that record, so a form entered twice, or a double
// click, is one record. Any other statement supersedes the earlier ones from
// the moment it counts (see the package documentation).
func (r *Registry) Give(ctx context.Context, rec Record) (Record, error) {
	rec = rec.clone()
	rec.ID, rec.RecordedAt = "", time.Time{}
	if err := rec.validate(); err != nil {
		return Record{}, err
	}
	rec.GivenAt, rec.ValidFrom, rec.ValidUntil = rec.GivenAt.UTC(), utc(rec.ValidFrom), utc(rec.ValidUntil)
	rec.ID = RecordID(newID())
	var existing *Record
	err := r.appendEvents(ctx, ChainOf(rec.Subject, rec.Organisation), func(now time.Time, l *ledger) ([]*Event, error) {
		if rec.GivenAt.After(now) {
			return nil, fieldError("GivenAt", "is in the future: record consent once it has been given")
		}
		if s := l.identical(&rec); s != nil {
			existing = cloneRecord(s)
			return nil, nil
		}
		rec.RecordedAt = now
		c := rec.clone()
		return []*Event{{Kind: EventGiven, Record: rec.ID, By: rec.RecordedBy, Consent: &c}}, nil
	})
	if err != nil {
		return Record{}, err
	}
	if existing != nil {
		return *existing, nil
	}
	return rec, nil
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// Withdrawal is the client's withdrawal of consent for one purpose, for
// [Registry.Withdraw].
type Withdrawal struct {
	Subject      Subject
	Organisation Organisation // the provider that held the consent
	Purpose      Purpose
	// At is when the withdrawal takes effect; zero means now. It may lie in
	// the past (a letter, entered the next day), never in the future.
	At     time.Time
	By     Actor  // who records the withdrawal
	Reason string // optional, such as "per brief"
}

// Withdraw records that the client withdrew consent for a purpose at an
// organisation, as of w.At, and returns the withdrawal's id. From that
// moment no record of that purpose given at or before it counts: every
// permit that could allow access ends, also an older one, and also one
// recorded later but given before the withdrawal. Uses before the moment
// stay justified. Only a consent given after the moment counts again.
//
// A withdrawal is one call, as easy as giving consent. Withdraw returns
// [ErrNotActive] when there is nothing to withdraw (no permit, or one
// withdrawn or expired already: a second click changes nothing), and
// [ErrDenyNotWithdrawable] when the client's statement at that moment is a
// refusal. A withdrawal recorded by mistake is entered in error with its id
// ([Registry.EnterInError]).
func (r *Registry) Withdraw(ctx context.Context, w Withdrawal) (RecordID, error) {
	if err := checkSubject(w.Subject); err != nil {
		return "", err
	}
	if err := checkText("Organisation", string(w.Organisation), maxKeyLen, true); err != nil {
		return "", err
	}
	if !w.Purpose.Valid() {
		return "", fieldError("Purpose", "is not one of the defined purposes")
	}
	c := Change{At: w.At, By: w.By, Reason: w.Reason}
	id := RecordID(newID())
	err := r.appendEvents(ctx, ChainOf(w.Subject, w.Organisation), func(now time.Time, l *ledger) ([]*Event, error) {
		if err := c.validate(now, false); err != nil {
			return nil, err
		}
		at := c.At.UTC()
		if at.IsZero() {
			at = now
		}
		if err := l.withdrawable(w.Purpose, at); err != nil {
			return nil, err
		}
		return []*Event{{Kind: EventWithdrawn, Record: id, At: at, By: c.By, Purpose: w.Purpose, Reason: c.Reason}}, nil
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// locate returns the chain of a record or withdrawal.
func (r *Registry) locate(ctx context.Context, id RecordID) (ChainID, error) {
	if err := checkText("record id", string(id), maxKeyLen, true); err != nil {
		return "", err
	}
	return r.store.Locate(ctx, id)
}

// changeRecord appends one event about an existing record, after check
// approves of the record's current state.
func (r *Registry) changeRecord(ctx context.Context, id RecordID, c Change, reasonRequired bool, check func(s *Status) error, e Event) error {
	chain, err := r.locate(ctx, id)
	if err != nil {
		return err
	}
	return r.appendEvents(ctx, chain, func(now time.Time, l *ledger) ([]*Event, error) {
		if err := c.validate(now, reasonRequired); err != nil {
			return nil, err
		}
		s := l.status(id)
		switch {
		case s == nil && l.withdrawal(id) != nil:
			return nil, errWithdrawalID
		case s == nil:
			return nil, ErrNotFound
		}
		if err := check(s); err != nil {
			return nil, err
		}
		e := e
		e.Record, e.At, e.By, e.Reason = id, c.At.UTC(), c.By, c.Reason
		return []*Event{&e}, nil
	})
}

// EnterInError marks a record or a withdrawal that should never have been
// recorded, such as one for the wrong client. It never counted, also not for
// uses before it was marked: entering a refusal or a withdrawal in error
// lets the statement before it count again. c.Reason is required, and c.At is
// ignored.
func (r *Registry) EnterInError(ctx context.Context, id RecordID, c Change) error {
	c.At = time.Time{}
	chain, err := r.locate(ctx, id)
	if err != nil {
		return err
	}
	return r.appendEvents(ctx, chain, func(now time.Time, l *ledger) ([]*Event, error) {
		if err := c.validate(now, true); err != nil {
			return nil, err
		}
		if s := l.statuses[id]; s != nil {
			if s.Void() {
				return nil, ErrNotActive
			}
		} else if w := l.withdrawal(id); w == nil {
			return nil, ErrNotFound
		} else if w.void {
			return nil, ErrNotActive
		}
		return []*Event{{Kind: EventEnteredInError, Record: id, By: c.By, Reason: c.Reason}}, nil
	})
}

// errWithdrawalID is the error of an operation on records given the id of
// a withdrawal.
var errWithdrawalID = fieldError("record id", "names a withdrawal: only EnterInError applies to it")

// Correct replaces a record with a corrected one, in one atomic append: the
// old record never counted, the replacement counts from its own GivenAt. The
// replacement must be about the same subject and organisation (record a
// consent for another client anew and enter the wrong one in error);
// c.Reason is required, and c.At is ignored. Correct returns the replacement
// as [Registry.Give] would.
func (r *Registry) Correct(ctx context.Context, id RecordID, replacement Record, c Change) (Record, error) {
	c.At = time.Time{}
	rec := replacement.clone()
	rec.ID, rec.RecordedAt = RecordID(newID()), time.Time{}
	if err := rec.validate(); err != nil {
		return Record{}, err
	}
	rec.GivenAt, rec.ValidFrom, rec.ValidUntil = rec.GivenAt.UTC(), utc(rec.ValidFrom), utc(rec.ValidUntil)
	chain, err := r.locate(ctx, id)
	if err != nil {
		return Record{}, err
	}
	if ChainOf(rec.Subject, rec.Organisation) != chain {
		return Record{}, fieldError("replacement", "is about another subject or organisation: record it anew and enter the old record in error")
	}
	err = r.appendEvents(ctx, chain, func(now time.Time, l *ledger) ([]*Event, error) {
		if err := c.validate(now, true); err != nil {
			return nil, err
		}
		s := l.statuses[id]
		switch {
		case s == nil && l.withdrawal(id) != nil:
			return nil, errWithdrawalID
		case s == nil:
			return nil, ErrNotFound
		case s.Void():
			return nil, ErrNotActive
		case rec.GivenAt.After(now):
			return nil, fieldError("GivenAt", "is in the future: record consent once it has been given")
		}
		rec.RecordedAt = now
		n := rec.clone()
		return []*Event{
			{Kind: EventCorrected, Record: id, By: c.By, Reason: c.Reason, ReplacedBy: rec.ID},
			{Kind: EventGiven, Record: rec.ID, By: rec.RecordedBy, Consent: &n},
		}, nil
	})
	if err != nil {
		return Record{}, err
	}
	return rec, nil
}

// RequestEvidence records that the signed form of a record was requested
// from the provider; reference names the request, such as the
// [Manifest.ID] of a spot check. c.At is ignored.
func (r *Registry) RequestEvidence(ctx context.Context, id RecordID, reference string, c Change) error {
	if err := checkText("reference", reference, maxTextLen, true); err != nil {
		return err
	}
	c.At = time.Time{}
	return r.changeRecord(ctx, id, c, false, func(*Status) error { return nil },
		Event{Kind: EventEvidenceRequested, Reference: reference})
}

// EvidenceProduced records that the provider produced the signed form (at
// c.At, zero: now). A record suspended by [Registry.EvidenceMissing] counts
// again from that moment.
func (r *Registry) EvidenceProduced(ctx context.Context, id RecordID, c Change) error {
	return r.changeRecord(ctx, id, c, false, func(*Status) error { return nil },
		Event{Kind: EventEvidenceProduced})
}

// EvidenceMissing records that the provider could not produce the signed
// form (at c.At, zero: now): the record no longer justifies any use from that
// moment until the form is produced after all. c.Reason is required.
func (r *Registry) EvidenceMissing(ctx context.Context, id RecordID, c Change) error {
	return r.changeRecord(ctx, id, c, true, func(*Status) error { return nil },
		Event{Kind: EventEvidenceMissing})
}

// Status returns a record and everything that happened to it.
func (r *Registry) Status(ctx context.Context, id RecordID) (*Status, error) {
	chain, err := r.locate(ctx, id)
	if err != nil {
		return nil, err
	}
	l, err := r.ledger(ctx, chain)
	if err != nil {
		return nil, err
	}
	s := l.status(id)
	if s == nil {
		if l.withdrawal(id) != nil {
			return nil, errWithdrawalID
		}
		return nil, ErrNotFound
	}
	return s, nil
}

// Records returns every record of a subject at an organisation, in the
// order they were recorded, each with what happened to it since.
func (r *Registry) Records(ctx context.Context, subject Subject, organisation Organisation) ([]*Status, error) {
	l, err := r.ledger(ctx, ChainOf(subject, organisation))
	if err != nil {
		return nil, err
	}
	statuses := make([]*Status, len(l.order))
	for i, id := range l.order {
		statuses[i] = l.status(id)
	}
	return statuses, nil
}

// History returns every event of a subject and organisation, in order.
func (r *Registry) History(ctx context.Context, subject Subject, organisation Organisation) ([]Event, error) {
	l, err := r.ledger(ctx, ChainOf(subject, organisation))
	if err != nil {
		return nil, err
	}
	events := make([]Event, len(l.events))
	for i, e := range l.events {
		events[i] = e.clone()
	}
	return events, nil
}

func (e *Event) clone() Event {
	c := *e
	if e.Consent != nil {
		r := e.Consent.clone()
		c.Consent = &r
	}
	return c
}

// ledger reads a chain and verifies it; a chain that does not verify is an
// error wrapping ErrTampered, so nothing is ever decided on a tampered
// record.
func (r *Registry) ledger(ctx context.Context, chain ChainID) (*ledger, error) {
	sealed, err := r.store.Chain(ctx, chain)
	if err != nil {
		return nil, err
	}
	events, problems := verifyChain(r.key, chain, sealed)
	if len(problems) > 0 {
		return nil, &TamperError{Problems: problems}
	}
	l := newLedger()
	if n := len(sealed); n > 0 {
		l.headMAC = sealed[n-1].MAC
	}
	for _, e := range events {
		l.apply(e)
	}
	return l, nil
}

package consent

import (
	"context"
	"errors"
	"fmt"
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
}

// MinKeyLen is the minimum length of [Config.Key], in bytes.
const MinKeyLen = 32

// Registry records consent in a [Store] and decides with it. It is safe for
// concurrent use, also by several processes that share one store.
type Registry struct {
	store Store
	key   []byte
	now   func() time.Time
	log   AccessLog
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
	return &Registry{store: store, key: append([]byte(nil), cfg.Key...), now: now, log: cfg.AccessLog}, nil
}

// Change says who does something to a record, when and why.
type Change struct {
	// At is when the change takes effect; zero means now. It may lie in the
	// past (a withdrawal by letter, entered the next day), never in the
	// future. Only withdrawals and evidence outcomes use it; the other
	// changes take effect when they are recorded.
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
// it reads the chain again and retries.
func (r *Registry) appendEvents(ctx context.Context, chain ChainID, build func(now time.Time, h *history) ([]*Event, error)) error {
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
		var h *history
		if h, err = r.history(ctx, chain); err != nil {
			return err
		}
		now := r.now().UTC()
		var events []*Event
		if events, err = build(now, h); err != nil {
			return err
		}
		sealed := make([]SealedEvent, len(events))
		prev, seq := h.headMAC, uint64(len(h.events))
		for i, e := range events {
			seq++
			e.Chain, e.Seq, e.RecordedAt = chain, seq, now
			if e.At.IsZero() {
				e.At = now
			}
			sealed[i] = seal(r.key, e, prev)
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
func (r *Registry) Give(ctx context.Context, rec Record) (Record, error) {
	rec = rec.clone()
	rec.ID, rec.RecordedAt = "", time.Time{}
	if err := rec.validate(); err != nil {
		return Record{}, err
	}
	rec.ID = RecordID(newID())
	err := r.appendEvents(ctx, ChainOf(rec.Subject, rec.Organisation), func(now time.Time, _ *history) ([]*Event, error) {
		if rec.GivenAt.After(now) {
			return nil, fieldError("GivenAt", "is in the future: record consent once it has been given")
		}
		rec.RecordedAt = now
		c := rec.clone()
		return []*Event{{Kind: EventGiven, Record: rec.ID, By: rec.RecordedBy, Consent: &c}}, nil
	})
	if err != nil {
		return Record{}, err
	}
	rec.GivenAt, rec.ValidFrom, rec.ValidUntil = rec.GivenAt.UTC(), utc(rec.ValidFrom), utc(rec.ValidUntil)
	return rec, nil
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// locate returns the chain of a record.
func (r *Registry) locate(ctx context.Context, id RecordID) (ChainID, error) {
	if err := checkText("record id", string(id), maxKeyLen, true); err != nil {
		return "", err
	}
	return r.store.Locate(ctx, id)
}

// changeRecord appends one event about an existing record, after check
// approves of the record's current state.
func (r *Registry) changeRecord(ctx context.Context, id RecordID, c Change, reasonRequired bool, check func(now time.Time, s *Status) error, e Event) error {
	chain, err := r.locate(ctx, id)
	if err != nil {
		return err
	}
	return r.appendEvents(ctx, chain, func(now time.Time, h *history) ([]*Event, error) {
		if err := c.validate(now, reasonRequired); err != nil {
			return nil, err
		}
		s := h.status(id)
		if s == nil {
			return nil, ErrNotFound
		}
		if err := check(now, s); err != nil {
			return nil, err
		}
		e := e
		e.Record, e.At, e.By, e.Reason = id, c.At.UTC(), c.By, c.Reason
		return []*Event{&e}, nil
	})
}

// Withdraw ends a record from c.At (zero: now) on: it no longer justifies
// any use from that moment, and still justifies the uses before it. A
// withdrawal is one call, as easy as giving consent; c.Reason is optional.
func (r *Registry) Withdraw(ctx context.Context, id RecordID, c Change) error {
	return r.changeRecord(ctx, id, c, false, func(now time.Time, s *Status) error {
		if !s.active() {
			return ErrNotActive
		}
		at := c.At
		if at.IsZero() {
			at = now
		}
		if at.Before(s.Record.GivenAt) {
			return fieldError("At", "is before the consent was given: enter the record in error instead")
		}
		return nil
	}, Event{Kind: EventWithdrawn})
}

// EnterInError marks a record that should never have been recorded, such as
// one for the wrong client. It never counted, also not for uses before it
// was marked; c.Reason is required, and c.At is ignored.
func (r *Registry) EnterInError(ctx context.Context, id RecordID, c Change) error {
	c.At = time.Time{}
	return r.changeRecord(ctx, id, c, true, func(_ time.Time, s *Status) error {
		if s.EnteredInError || s.ReplacedBy != "" {
			return ErrNotActive
		}
		return nil
	}, Event{Kind: EventEnteredInError})
}

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
	chain, err := r.locate(ctx, id)
	if err != nil {
		return Record{}, err
	}
	if ChainOf(rec.Subject, rec.Organisation) != chain {
		return Record{}, fieldError("replacement", "is about another subject or organisation: record it anew and enter the old record in error")
	}
	err = r.appendEvents(ctx, chain, func(now time.Time, h *history) ([]*Event, error) {
		if err := c.validate(now, true); err != nil {
			return nil, err
		}
		s := h.status(id)
		if s == nil {
			return nil, ErrNotFound
		}
		if s.EnteredInError || s.ReplacedBy != "" {
			return nil, ErrNotActive
		}
		if rec.GivenAt.After(now) {
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
	rec.GivenAt, rec.ValidFrom, rec.ValidUntil = rec.GivenAt.UTC(), utc(rec.ValidFrom), utc(rec.ValidUntil)
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
	return r.changeRecord(ctx, id, c, false, func(time.Time, *Status) error { return nil },
		Event{Kind: EventEvidenceRequested, Reference: reference})
}

// EvidenceProduced records that the provider produced the signed form (at
// c.At, zero: now). A record suspended by [Registry.EvidenceMissing] counts
// again from that moment.
func (r *Registry) EvidenceProduced(ctx context.Context, id RecordID, c Change) error {
	return r.changeRecord(ctx, id, c, false, func(time.Time, *Status) error { return nil },
		Event{Kind: EventEvidenceProduced})
}

// EvidenceMissing records that the provider could not produce the signed
// form (at c.At, zero: now): the record no longer justifies any use from that
// moment until the form is produced after all. c.Reason is required.
func (r *Registry) EvidenceMissing(ctx context.Context, id RecordID, c Change) error {
	return r.changeRecord(ctx, id, c, true, func(time.Time, *Status) error { return nil },
		Event{Kind: EventEvidenceMissing})
}

// Status returns a record and everything that happened to it.
func (r *Registry) Status(ctx context.Context, id RecordID) (*Status, error) {
	chain, err := r.locate(ctx, id)
	if err != nil {
		return nil, err
	}
	h, err := r.history(ctx, chain)
	if err != nil {
		return nil, err
	}
	s := h.status(id)
	if s == nil {
		return nil, ErrNotFound
	}
	return s, nil
}

// Records returns every record of a subject at an organisation, in the
// order they were recorded, each with what happened to it since.
func (r *Registry) Records(ctx context.Context, subject Subject, organisation Organisation) ([]*Status, error) {
	h, err := r.history(ctx, ChainOf(subject, organisation))
	if err != nil {
		return nil, err
	}
	statuses := make([]*Status, len(h.order))
	for i, id := range h.order {
		statuses[i] = h.status(id)
	}
	return statuses, nil
}

// History returns every event of a subject and organisation, in order.
func (r *Registry) History(ctx context.Context, subject Subject, organisation Organisation) ([]Event, error) {
	h, err := r.history(ctx, ChainOf(subject, organisation))
	if err != nil {
		return nil, err
	}
	events := make([]Event, len(h.events))
	for i, e := range h.events {
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

// history reads a chain and verifies it; a chain that does not verify is an
// error wrapping ErrTampered, so nothing is ever decided on a tampered
// record.
func (r *Registry) history(ctx context.Context, chain ChainID) (*history, error) {
	sealed, err := r.store.Chain(ctx, chain)
	if err != nil {
		return nil, err
	}
	events, problems := verifyChain(r.key, chain, sealed)
	if len(problems) > 0 {
		return nil, &TamperError{Problems: problems}
	}
	h := &history{events: events, statuses: make(map[RecordID]*Status)}
	if n := len(sealed); n > 0 {
		h.headMAC = sealed[n-1].MAC
	}
	for _, e := range events {
		h.apply(e)
	}
	return h, nil
}

// history is the verified state of one chain.
type history struct {
	events   []*Event
	headMAC  []byte
	statuses map[RecordID]*Status
	order    []RecordID // records in the order they were given
}

func (h *history) status(id RecordID) *Status {
	s, ok := h.statuses[id]
	if !ok {
		return nil
	}
	c := *s
	c.Record = s.Record.clone()
	c.Events = make([]Event, len(s.Events))
	for i := range s.Events {
		c.Events[i] = s.Events[i].clone()
	}
	return &c
}

// apply folds one verified event into the statuses.
func (h *history) apply(e *Event) {
	if e.Kind == EventGiven {
		s := &Status{Record: e.Consent.clone()}
		h.statuses[e.Record] = s
		h.order = append(h.order, e.Record)
	}
	s := h.statuses[e.Record]
	if s == nil {
		return // verifyChain rejects events about unknown records
	}
	s.Events = append(s.Events, e.clone())
	switch e.Kind {
	case EventWithdrawn:
		s.WithdrawnAt = e.At
	case EventEnteredInError:
		s.EnteredInError = true
	case EventCorrected:
		s.ReplacedBy = e.ReplacedBy
	case EventEvidenceRequested:
		s.Evidence = EvidenceRequested
	case EventEvidenceProduced:
		s.Evidence = EvidenceProduced
		s.suspensions = append(s.suspensions, interval{end: e.At})
	case EventEvidenceMissing:
		s.Evidence = EvidenceMissing
		s.suspensions = append(s.suspensions, interval{start: e.At})
	}
}

// EvidenceState is where a record stands in a spot check.
type EvidenceState string

// The evidence states; the zero value means the evidence was never asked for.
const (
	EvidenceRequested EvidenceState = "requested"
	EvidenceProduced  EvidenceState = "produced"
	EvidenceMissing   EvidenceState = "missing"
)

// Status is a record and everything that happened to it, as known now.
type Status struct {
	Record Record
	Events []Event // the record's events, in order, starting with EventGiven

	WithdrawnAt    time.Time     // when it was withdrawn; zero if not
	EnteredInError bool          // it never counted
	ReplacedBy     RecordID      // the corrected record that replaced it
	Evidence       EvidenceState // the latest evidence event's outcome

	// suspensions are the changes of evidence in order: a start opens a
	// suspension (missing), an end closes it (produced).
	suspensions []interval
}

type interval struct{ start, end time.Time }

// active reports whether a withdrawal may still end the record.
func (s *Status) active() bool {
	return s.WithdrawnAt.IsZero() && !s.EnteredInError && s.ReplacedBy == ""
}

// Void reports whether the record never counted: entered in error or
// corrected.
func (s *Status) Void() bool { return s.EnteredInError || s.ReplacedBy != "" }

// suspendedAt reports whether missing evidence suspends the record at t.
func (s *Status) suspendedAt(t time.Time) bool {
	suspended := false
	for _, c := range s.suspensions {
		switch {
		case !c.start.IsZero() && !c.start.After(t):
			suspended = true
		case !c.end.IsZero() && !c.end.After(t):
			suspended = false
		}
	}
	return suspended
}

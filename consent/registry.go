package consent

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/zorgkit/zorgkit/consent/internal/canon"
	"github.com/zorgkit/zorgkit/consent/store"
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

	// Instance names this application instance, the source of its access
	// log entries (NEN 7513), such as the host name and process. Required
	// with an AccessLog.
	Instance string

	// Logger receives the operator's actions, such as a quarantine; nil
	// means slog.Default().
	Logger *slog.Logger
}

// minKeyLen is the minimum length of [Config.Key], in bytes.
const minKeyLen = 32

// Registry records consent in a store and decides with it. It is safe for
// concurrent use, also by several processes that share one store.
type Registry struct {
	store    store.Store
	key      []byte
	now      func() time.Time
	log      AccessLog
	instance string
	logger   *slog.Logger

	mu     sync.Mutex
	queues map[ChainID]*chainQueue // the chains being updated
	states stateCache
}

// New returns a Registry that keeps its events in s, such as a
// consent/sqlstore.Store.
func New(s store.Store, cfg Config) (*Registry, error) {
	if s == nil {
		return nil, errors.New("consent: New needs a store")
	}
	if len(cfg.Key) < minKeyLen {
		return nil, fmt.Errorf("consent: the key has %d bytes, want at least %d: generate a random secret and keep it in configuration", len(cfg.Key), minKeyLen)
	}
	if cfg.AccessLog != nil {
		if err := checkText("Config.Instance", cfg.Instance, maxKeyLen, true); err != nil {
			return nil, fmt.Errorf("%w: name this application instance for the access log, such as its host name", err)
		}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return &Registry{store: s, key: append([]byte(nil), cfg.Key...), now: now, log: cfg.AccessLog,
		instance: cfg.Instance, logger: logger, queues: make(map[ChainID]*chainQueue)}, nil
}

// clock returns the current time in UTC, or an error if the clock is
// outside the years 1970 to 2199: nothing is recorded with a broken clock.
func (r *Registry) clock() (time.Time, error) {
	now := r.now().UTC()
	if now.Before(canon.MinTime) || !now.Before(canon.MaxTime) {
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

// maxAttempts bounds the retries of an update that a store refused with
// store.ErrConflict (a store that serialises updates never does). Each
// refusal means another writer won, so the chain makes progress; the
// growing, random backoff lets a writer that keeps losing get its turn.
const maxAttempts = 32

// errNeedHistory is returned by an update's build function that needs every
// event of the chain, not only its head's state.
var errNeedHistory = errors.New("consent: the operation needs the chain's history")

// An op is one operation's update of a chain, waiting in the chain's queue.
type op struct {
	build func(now time.Time, l *ledger) ([]*Event, error)
	err   error
	lead  bool          // set when the op is to lead the next batch
	wake  chan struct{} // one send: done (err is set), or lead
}

// chainQueue holds the ops of one chain waiting for an update.
type chainQueue struct {
	pending []*op
	busy    bool // a leader is writing
}

// maxOps bounds the ops of one store update.
const maxOps = 64

// update appends to a chain what build derives from its current state, with
// the chain's new head. build first gets the state of the chain's head; it
// returns errNeedHistory when it needs every event, and is then called
// again with them; it returns no events when there is nothing to append.
//
// The operations on one chain that arrive while an update of it is being
// written go together into the next one, each build seeing what the ones
// before it appended (a group commit): writers of one busy chain then share
// a transaction instead of taking turns, one round trip each. The first
// operation to find the chain idle writes (leads); after its own batch it
// hands the lead to the oldest waiting one.
func (r *Registry) update(ctx context.Context, chain ChainID, build func(now time.Time, l *ledger) ([]*Event, error)) error {
	if err := r.loadCheckpoints(ctx); err != nil {
		return err
	}
	o := &op{build: build, wake: make(chan struct{}, 1)}
	r.mu.Lock()
	q := r.queues[chain]
	if q == nil {
		q = &chainQueue{}
		r.queues[chain] = q
	}
	q.pending = append(q.pending, o)
	lead := !q.busy
	q.busy = true
	r.mu.Unlock()
	if !lead {
		<-o.wake // the op is written even if ctx ends now: it was queued
		if !o.lead {
			return o.err
		}
	}
	// The batch carries other callers' ops: it does not end with ctx.
	wctx := context.WithoutCancel(ctx)
	for done := false; !done; {
		r.mu.Lock()
		n := min(len(q.pending), maxOps)
		batch := q.pending[:n:n]
		q.pending = q.pending[n:]
		r.mu.Unlock()
		r.run(wctx, chain, batch)
		for _, b := range batch {
			if b == o {
				done = true
			} else {
				b.wake <- struct{}{}
			}
		}
	}
	r.mu.Lock()
	if len(q.pending) == 0 {
		delete(r.queues, chain)
		r.mu.Unlock()
		return o.err
	}
	next := q.pending[0]
	r.mu.Unlock()
	next.lead = true
	next.wake <- struct{}{}
	return o.err
}

// run writes the ops of one batch in one store update, and sets each op's
// error.
func (r *Registry) run(ctx context.Context, chain ChainID, ops []*op) {
	var err error
	var seq uint64 // of the chain's head after the update
	for attempt := range maxAttempts {
		if attempt > 0 {
			time.Sleep(time.Duration(rand.Int64N(int64(min(attempt, 10)) * int64(time.Millisecond))))
		}
		err = r.store.Update(ctx, string(chain), func(h *store.Head, read store.EventReader) (*store.Batch, error) {
			now, err := r.clock()
			if err != nil {
				return nil, err
			}
			l, err := r.openHead(chain, h)
			if err != nil {
				return nil, err
			}
			if err := r.states.rolledBack(chain, h); err != nil {
				return nil, err
			}
			b, err := r.apply(chain, now, l, ops)
			if errors.Is(err, errNeedHistory) {
				// An op needs every event: all ops again, on the full
				// ledger.
				var evs []store.Event
				if evs, err = read(1); err != nil {
					return nil, err
				}
				if l, err = r.replay(chain, h, evs, true); err != nil {
					return nil, err
				}
				b, err = r.apply(chain, now, l, ops)
			}
			seq = l.seq
			if b != nil {
				seq = b.Head.Seq
			}
			return b, err
		})
		if !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	switch {
	case err == nil:
		r.states.saw(chain, seq)
		return
	case errors.Is(err, store.ErrTaken):
		err = &TamperError{Problems: []Problem{{ProblemExtra, chain, 0, "",
			"a row that the chain's head does not cover takes the place of the next event: find it with Verify and quarantine it"}}}
	case errors.Is(err, store.ErrConflict):
		err = fmt.Errorf("consent: the chain stayed busy after %d attempts: %w", maxAttempts, err)
	}
	for _, o := range ops {
		if o.err == nil {
			o.err = err // nothing was stored
		}
	}
}

// apply runs the ops' builds in turn on l, sealing and folding in the events
// of each, and returns them with the chain's new head, or nil when there
// are none. An op whose build fails has its error and appends nothing; the
// others go on.
func (r *Registry) apply(chain ChainID, now time.Time, l *ledger, ops []*op) (*store.Batch, error) {
	b := &store.Batch{}
	for _, o := range ops {
		o.err = nil
		events, err := o.build(now, l)
		if errors.Is(err, errNeedHistory) && !l.full {
			return nil, err
		}
		if err == nil {
			err = r.seal(chain, now, l, events, b)
		}
		o.err = err
	}
	if len(b.Events) == 0 {
		return nil, nil
	}
	b.Head = r.head(chain, l)
	return b, nil
}

// seal seals events after the ledger's last one, and only if all of them
// seal, folds them into it and adds them to b.
func (r *Registry) seal(chain ChainID, now time.Time, l *ledger, events []*Event, b *store.Batch) error {
	sealed := make([]store.Event, len(events))
	seq, prev := l.seq, l.headMAC
	for i, e := range events {
		seq++
		e.Chain, e.Seq, e.RecordedAt = chain, seq, now
		if e.At.IsZero() {
			e.At = now
		}
		var err error
		if sealed[i], err = seal(r.key, e, prev); err != nil {
			return err
		}
		prev = sealed[i].MAC
	}
	for i, e := range events {
		l.apply(e)
		l.headMAC = sealed[i].MAC
	}
	b.Events = append(b.Events, sealed...)
	return nil
}

// replay verifies the events of a chain against its head and folds them
// into a full ledger. Events after the head are a concurrent append when
// the head was read outside the store's lock, and are left out; under the
// lock (strict) they are rows written behind the registry's back.
func (r *Registry) replay(chain ChainID, h *store.Head, evs []store.Event, strict bool) (*ledger, error) {
	if h == nil {
		// A chain with events but no head: written before heads existed,
		// or its head was removed. Its events are checked on their own.
		if len(evs) == 0 || !strict {
			return fullLedger(), nil
		}
		_, problems := verifyChain(r.key, chain, evs)
		problems = append(problems, coverage(chain, nil, evs)...)
		return nil, &TamperError{Problems: problems}
	}
	covered := evs
	for i := range evs {
		if evs[i].Seq > h.Seq {
			covered = evs[:i]
			break
		}
	}
	events, problems := verifyChain(r.key, chain, covered)
	if strict {
		for _, e := range evs[len(covered):] {
			problems = append(problems, Problem{ProblemExtra, chain, e.Seq, RecordID(e.Record), extraDetail})
		}
	}
	problems = append(problems, coverage(chain, h, covered)...)
	if len(problems) > 0 {
		return nil, &TamperError{Problems: problems}
	}
	l := fullLedger()
	for _, e := range events {
		l.apply(e)
	}
	l.seq, l.headMAC = h.Seq, h.MAC
	return l, nil
}

const extraDetail = "the chain's head does not cover it: written behind the registry's back; quarantine it"

// coverage checks that the events of a chain, verified and ending at or
// before its head, reach the head.
func coverage(chain ChainID, h *store.Head, evs []store.Event) []Problem {
	var last uint64
	var lastMAC []byte
	if n := len(evs); n > 0 {
		last, lastMAC = evs[n-1].Seq, evs[n-1].MAC
	}
	switch {
	case h == nil && last > 0:
		return []Problem{{ProblemHead, chain, last, "", "the chain has events but no head: repair it with RepairHeads"}}
	case h == nil:
		return nil
	case last < h.Seq:
		var ps []Problem
		for seq := last + 1; seq <= h.Seq; seq++ {
			ps = append(ps, Problem{ProblemTruncated, chain, seq, "", fmt.Sprintf("the chain ends at event %d, its head at event %d", last, h.Seq)})
		}
		return ps
	case !hmac.Equal(lastMAC, h.MAC):
		return []Problem{{ProblemHead, chain, h.Seq, "", "the head does not match the chain's last event"}}
	}
	return nil
}

// readHead returns the head of a chain, or nil when it has none.
func (r *Registry) readHead(ctx context.Context, chain ChainID) (*store.Head, error) {
	if err := r.loadCheckpoints(ctx); err != nil {
		return nil, err
	}
	h, err := r.store.Head(ctx, string(chain))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// state returns the verified state of a chain's head: what decisions at or
// after its since need. The ledger is read, never changed.
func (r *Registry) state(ctx context.Context, chain ChainID) (*ledger, *store.Head, error) {
	h, err := r.readHead(ctx, chain)
	if err != nil {
		return nil, nil, err
	}
	if h == nil {
		if err := r.states.rolledBack(chain, nil); err != nil {
			return nil, nil, err
		}
		return newLedger(), nil, nil
	}
	if err := r.checkSeal(chain, h); err != nil {
		return nil, nil, err
	}
	if err := r.states.advance(chain, h); err != nil {
		return nil, nil, err
	}
	if l := r.states.get(chain, h.Seal); l != nil {
		return l, h, nil
	}
	l, err := decodeState(h.State)
	if err != nil { // sealed by the key: only a bug writes this
		return nil, nil, &TamperError{Problems: []Problem{{ProblemHead, chain, h.Seq, "", err.Error()}}}
	}
	l.seq, l.headMAC = h.Seq, h.MAC
	r.states.put(chain, h.Seal, l)
	return l, h, nil
}

// history returns the full ledger of a chain: every event up to its head,
// verified.
func (r *Registry) history(ctx context.Context, chain ChainID) (*ledger, error) {
	h, err := r.readHead(ctx, chain)
	if err != nil {
		return nil, err
	}
	if _, err := r.openHead(chain, h); err != nil {
		return nil, err
	}
	if err := r.states.rolledBack(chain, h); err != nil {
		return nil, err
	}
	evs, err := r.store.Events(ctx, string(chain), 1)
	if err != nil {
		return nil, err
	}
	return r.replay(chain, h, evs, false)
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
	err := r.update(ctx, ChainOf(rec.Subject, rec.Organisation), func(now time.Time, l *ledger) ([]*Event, error) {
		existing = nil
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
	err := r.update(ctx, ChainOf(w.Subject, w.Organisation), func(now time.Time, l *ledger) ([]*Event, error) {
		if err := c.validate(now, false); err != nil {
			return nil, err
		}
		at := c.At.UTC()
		if at.IsZero() {
			at = now
		}
		if at.Before(l.since) && !l.full {
			return nil, errNeedHistory // what counted at that moment
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

// locate returns the chain of a record or withdrawal, and the kind of
// event that created its id. The store's index is not trusted: the event
// that created the id must verify on its own.
func (r *Registry) locate(ctx context.Context, id RecordID) (ChainID, EventKind, uint64, error) {
	if err := checkText("record id", string(id), maxKeyLen, true); err != nil {
		return "", "", 0, err
	}
	s, err := r.store.Locate(ctx, string(id))
	if errors.Is(err, store.ErrNotFound) {
		return "", "", 0, ErrNotFound
	}
	if err != nil {
		return "", "", 0, err
	}
	chain := ChainID(s.Chain)
	e, kind, detail := checkEvent(r.key, chain, &s, false, nil, nil)
	if kind != "" {
		return "", "", 0, &TamperError{Problems: []Problem{{kind, chain, s.Seq, id, detail}}}
	}
	if e.Record != id || !creates(e) {
		return "", "", 0, ErrNotFound
	}
	return chain, e.Kind, e.Seq, nil
}

// locateRecord returns the chain of a record, which must be a record.
func (r *Registry) locateRecord(ctx context.Context, id RecordID) (ChainID, uint64, error) {
	chain, kind, seq, err := r.locate(ctx, id)
	switch {
	case err != nil:
		return "", 0, err
	case kind == EventWithdrawn:
		return "", 0, errWithdrawalID
	case kind != EventGiven:
		return "", 0, ErrNotFound
	}
	return chain, seq, nil
}

// changeRecord appends one event about an existing record.
func (r *Registry) changeRecord(ctx context.Context, id RecordID, c Change, reasonRequired bool, e Event) error {
	chain, seq, err := r.locateRecord(ctx, id)
	if err != nil {
		return err
	}
	return r.update(ctx, chain, func(now time.Time, l *ledger) ([]*Event, error) {
		if err := c.validate(now, reasonRequired); err != nil {
			return nil, err
		}
		if seq > l.seq {
			return nil, ErrNotFound // not covered by the head
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
	chain, _, _, err := r.locate(ctx, id)
	if err != nil {
		return err
	}
	return r.update(ctx, chain, func(now time.Time, l *ledger) ([]*Event, error) {
		if err := c.validate(now, true); err != nil {
			return nil, err
		}
		if !l.full {
			return nil, errNeedHistory
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
	chain, _, err := r.locateRecord(ctx, id)
	if err != nil {
		return Record{}, err
	}
	if ChainOf(rec.Subject, rec.Organisation) != chain {
		return Record{}, fieldError("replacement", "is about another subject or organisation: record it anew and enter the old record in error")
	}
	err = r.update(ctx, chain, func(now time.Time, l *ledger) ([]*Event, error) {
		if err := c.validate(now, true); err != nil {
			return nil, err
		}
		if !l.full {
			return nil, errNeedHistory
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
	return r.changeRecord(ctx, id, c, false, Event{Kind: EventEvidenceRequested, Reference: reference})
}

// EvidenceProduced records that the provider produced the signed form (at
// c.At, zero: now). A record suspended by [Registry.EvidenceMissing] counts
// again from that moment.
func (r *Registry) EvidenceProduced(ctx context.Context, id RecordID, c Change) error {
	return r.changeRecord(ctx, id, c, false, Event{Kind: EventEvidenceProduced})
}

// EvidenceMissing records that the provider could not produce the signed
// form (at c.At, zero: now): the record no longer justifies any use from that
// moment until the form is produced after all. c.Reason is required.
func (r *Registry) EvidenceMissing(ctx context.Context, id RecordID, c Change) error {
	return r.changeRecord(ctx, id, c, true, Event{Kind: EventEvidenceMissing})
}

// Status returns a record and everything that happened to it.
func (r *Registry) Status(ctx context.Context, id RecordID) (*Status, error) {
	chain, _, err := r.locateRecord(ctx, id)
	if err != nil {
		return nil, err
	}
	l, err := r.history(ctx, chain)
	if err != nil {
		return nil, err
	}
	s := l.status(id)
	if s == nil {
		return nil, ErrNotFound
	}
	return s, nil
}

// Records returns every record of a subject at an organisation, in the
// order they were recorded, each with what happened to it since.
func (r *Registry) Records(ctx context.Context, subject Subject, organisation Organisation) ([]*Status, error) {
	l, err := r.history(ctx, ChainOf(subject, organisation))
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
	l, err := r.history(ctx, ChainOf(subject, organisation))
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
	if e.plan != nil {
		p := *e.plan
		c.plan = &p
	}
	return c
}

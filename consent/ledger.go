package consent

import (
	"time"
)

// ledger is what the verified events of one chain say: the records with what
// happened to them, and the withdrawals.
type ledger struct {
	events      []*Event
	seq         uint64 // the last event's
	headMAC     []byte // the last event's MAC
	statuses    map[RecordID]*Status
	order       []RecordID // records in the order they were given
	withdrawals []*withdrawal
	// since is the latest moment any statement or evidence outcome took
	// effect; see ledger.pruned.
	since time.Time
	plans []*SamplePlan // in the chain of plans
	// full is set when the ledger holds every event of the chain, not
	// only the pruned state of its head.
	full bool
}

func newLedger() *ledger {
	return &ledger{statuses: make(map[RecordID]*Status)}
}

// fullLedger returns an empty ledger that will hold every event.
func fullLedger() *ledger {
	l := newLedger()
	l.full = true
	return l
}

// withdrawal is the client's withdrawal of consent for a purpose, as of a
// moment.
type withdrawal struct {
	id      RecordID // the withdrawal's own id, or the record a version 1 withdrawal named
	purpose Purpose
	at      time.Time
	seq     uint64
	named   bool   // a version 1 withdrawal, which names the record withdrawn
	void    bool   // entered in error
	event   *Event // in a full ledger
}

// The kinds of statements, in their order at the same moment: a deny beats a
// permit given at the same moment, and a withdrawal at the moment a consent
// is given ends it.
const (
	rankPermit = iota
	rankDeny
	rankWithdrawal
)

// stmt is a statement on the time line of a purpose: a record or a
// withdrawal.
type stmt struct {
	s *Status
	w *withdrawal
}

func (x stmt) none() bool { return x.s == nil && x.w == nil }

// key returns the statement's place in statement order: its moment, its
// rank at that moment, and the order of recording.
func (x stmt) key() (time.Time, int, uint64) {
	if x.w != nil {
		return x.w.at, rankWithdrawal, x.w.seq
	}
	rank := rankPermit
	if x.s.Record.Decision == Deny {
		rank = rankDeny
	}
	return x.s.Record.GivenAt, rank, x.s.seq
}

// before reports whether x comes before y in statement order; nothing comes
// before everything.
func (x stmt) before(y stmt) bool {
	if x.none() {
		return true
	}
	tx, rx, sx := x.key()
	ty, ry, sy := y.key()
	switch {
	case !tx.Equal(ty):
		return tx.Before(ty)
	case rx != ry:
		return rx < ry
	}
	return sx < sy
}

// start returns the moment a statement starts to count: a record when it
// was given and its validity has started, a withdrawal at its moment.
func (x stmt) start() time.Time {
	if x.w != nil {
		return x.w.at
	}
	return recordStart(&x.s.Record)
}

func recordStart(r *Record) time.Time {
	if r.ValidFrom.After(r.GivenAt) {
		return r.ValidFrom
	}
	return r.GivenAt
}

// apply folds one verified event into the ledger.
func (l *ledger) apply(e *Event) {
	if l.full {
		l.events = append(l.events, e)
	}
	l.seq = e.Seq
	switch e.Kind {
	case EventGiven:
		l.advance(e.Consent.GivenAt)
		l.advance(earlier(recordStart(e.Consent), e.RecordedAt))
		s := &Status{Record: e.Consent.clone(), seq: e.Seq}
		s.Events = append(s.Events, e.clone())
		l.statuses[e.Record] = s
		l.order = append(l.order, e.Record)
		return
	case EventWithdrawn:
		l.advance(e.At)
		w := &withdrawal{id: e.Record, purpose: e.Purpose, at: e.At, seq: e.Seq, event: e}
		if e.Purpose == "" { // version 1: the purpose of the record withdrawn
			w.named = true
			if s := l.statuses[e.Record]; s != nil {
				w.purpose = s.Record.Purpose
			}
		}
		l.withdrawals = append(l.withdrawals, w)
		return
	case eventSamplePlanned:
		l.plans = append(l.plans, e.plan)
		return
	case EventEnteredInError:
		if w := l.withdrawal(e.Record); w != nil {
			w.void = true
			return
		}
	case EventEvidenceProduced, EventEvidenceMissing:
		l.advance(e.At)
	}
	s := l.statuses[e.Record]
	if s == nil {
		return // pruned, or unknown, which verifyChain rejects
	}
	s.Events = append(s.Events, e.clone())
	switch e.Kind {
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

func (l *ledger) advance(t time.Time) {
	if t.After(l.since) {
		l.since = t
	}
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// withdrawal returns the withdrawal with the given id, or nil.
func (l *ledger) withdrawal(id RecordID) *withdrawal {
	for _, w := range l.withdrawals {
		if w.id == id && !w.named {
			return w
		}
	}
	return nil
}

// status returns a copy of a record's status with what withdrawals did to
// it, or nil.
func (l *ledger) status(id RecordID) *Status {
	s, ok := l.statuses[id]
	if !ok {
		return nil
	}
	c := *s
	c.Record = s.Record.clone()
	c.suspensions = append([]interval(nil), s.suspensions...)
	c.Events = make([]Event, 0, len(s.Events)+1)
	for i := range s.Events {
		c.Events = append(c.Events, s.Events[i].clone())
	}
	// A withdrawal ends every permit of its purpose given at or before its
	// moment; a version 1 withdrawal also the record it named.
	var ended *withdrawal
	for _, w := range l.withdrawals {
		if w.void || w.purpose != s.Record.Purpose {
			continue
		}
		named := w.named && w.id == id
		if (named || s.Record.Decision == Permit && !w.at.Before(s.Record.GivenAt)) && (ended == nil || w.at.Before(ended.at)) {
			ended = w
		}
	}
	// A later statement of the purpose supersedes the record from the
	// moment it starts.
	if !s.Void() {
		x := stmt{s: s}
		for _, id := range l.order {
			o := l.statuses[id]
			if y := (stmt{s: o}); o.Record.Purpose == s.Record.Purpose && !o.Void() && x.before(y) && (c.SupersededAt.IsZero() || y.start().Before(c.SupersededAt)) {
				c.SupersededAt = y.start()
			}
		}
		for _, w := range l.withdrawals {
			if y := (stmt{w: w}); w.purpose == s.Record.Purpose && !w.void && x.before(y) && (c.SupersededAt.IsZero() || w.at.Before(c.SupersededAt)) {
				c.SupersededAt = w.at
			}
		}
	}
	if ended != nil {
		c.WithdrawnAt = ended.at
		c.Withdrawal = ended.id
		if !ended.named { // a version 1 withdrawal is among the record's events already
			at := len(c.Events)
			for at > 0 && c.Events[at-1].Seq > ended.seq {
				at--
			}
			c.Events = append(c.Events[:at], append([]Event{ended.event.clone()}, c.Events[at:]...)...)
		}
	}
	return &c
}

// decide applies the rules of the package documentation to the statements
// about purpose, at the moment at.
func (l *ledger) decide(purpose Purpose, at time.Time) Outcome {
	last, pending, late := l.lastAt(purpose, at)
	switch {
	case last.w != nil:
		return Outcome{Reason: ReasonWithdrawn, Record: l.withdrawnRecord(last.w)}
	case last.s != nil:
		s := last.s
		why := ReasonPermitted
		switch {
		case !s.Record.ValidUntil.IsZero() && !at.Before(s.Record.ValidUntil):
			why = ReasonExpired
		case s.suspendedAt(at):
			why = ReasonEvidenceMissing
		case s.Record.Decision == Deny:
			why = ReasonDenied
		}
		return Outcome{Allowed: why == ReasonPermitted, Reason: why, Record: cloneRecord(s)}
	case pending != nil:
		return Outcome{Reason: ReasonNotYetValid, Record: cloneRecord(pending)}
	case late != nil:
		return Outcome{Reason: ReasonGivenAfterUse, Record: cloneRecord(late)}
	}
	return Outcome{Reason: ReasonNoConsent}
}

// lastAt returns the last statement about purpose, in statement order, that
// counts at the moment at (given and started by then); the last record given
// by then whose validity starts later; and the first record given after at.
func (l *ledger) lastAt(purpose Purpose, at time.Time) (last stmt, pending, late *Status) {
	for _, id := range l.order {
		s := l.statuses[id]
		if s.Record.Purpose != purpose || s.Void() {
			continue
		}
		x := stmt{s: s}
		switch {
		case s.Record.GivenAt.After(at):
			if late == nil || s.Record.GivenAt.Before(late.Record.GivenAt) {
				late = s
			}
		case x.start().After(at):
			if pending == nil || (stmt{s: pending}).before(x) {
				pending = s
			}
		case last.before(x):
			last = x
		}
	}
	for _, w := range l.withdrawals {
		if w.purpose != purpose || w.void || w.at.After(at) {
			continue
		}
		if x := (stmt{w: w}); last.before(x) {
			last = x
		}
	}
	if pending != nil && !last.before(stmt{s: pending}) {
		pending = nil // a later statement has started: it will never count
	}
	return last, pending, late
}

// withdrawnRecord returns the record a withdrawal ended: the last one of its
// purpose given at or before its moment, in statement order.
func (l *ledger) withdrawnRecord(w *withdrawal) *Record {
	var last stmt
	for _, id := range l.order {
		s := l.statuses[id]
		if s.Record.Purpose != w.purpose || s.Void() || s.Record.GivenAt.After(w.at) {
			continue
		}
		if x := (stmt{s: s}); last.before(x) {
			last = x
		}
	}
	if last.s == nil {
		return nil
	}
	return cloneRecord(last.s)
}

// withdrawable reports whether a withdrawal of purpose at the moment at
// would end a permit that could still allow access from then on: the
// statement that counts at that moment, or one given by then that starts to
// count later. It returns nil, [ErrDenyNotWithdrawable] when the client's
// statement at that moment is a refusal, or [ErrNotActive].
func (l *ledger) withdrawable(purpose Purpose, at time.Time) error {
	last, pending, _ := l.lastAt(purpose, at)
	switch {
	case pending != nil && pending.Record.Decision == Permit:
		return nil
	case last.s != nil && last.s.Record.Decision == Permit:
		if u := last.s.Record.ValidUntil; u.IsZero() || at.Before(u) {
			return nil
		}
	case last.s != nil && last.s.Record.Decision == Deny:
		return ErrDenyNotWithdrawable
	}
	return ErrNotActive
}

// identical returns the record of the chain that states the same as rec, if
// it still counts or will: the same form entered twice is recorded once.
func (l *ledger) identical(rec *Record) *Status {
	for _, id := range l.order {
		s := l.statuses[id]
		if !s.Void() && sameStatement(&s.Record, rec) && !l.superseded(stmt{s: s}) {
			return s
		}
	}
	return nil
}

// superseded reports whether a later statement of the same purpose started by
// l.since: from then on, x never counts again.
func (l *ledger) superseded(x stmt) bool {
	purpose := x.w.purposeOr(x.s)
	for _, id := range l.order {
		s := l.statuses[id]
		y := stmt{s: s}
		if s.Record.Purpose == purpose && !s.Void() && x.before(y) && !y.start().After(l.since) {
			return true
		}
	}
	for _, w := range l.withdrawals {
		y := stmt{w: w}
		if w.purpose == purpose && !w.void && x.before(y) && !w.at.After(l.since) {
			return true
		}
	}
	return false
}

func (w *withdrawal) purposeOr(s *Status) Purpose {
	if w != nil {
		return w.purpose
	}
	return s.Record.Purpose
}

// sameStatement reports whether two records state the same: the same
// purpose, decision, moments, policy, evidence and practitioner. Who
// recorded them does not matter.
func sameStatement(a, b *Record) bool {
	return a.Subject == b.Subject && a.Organisation == b.Organisation && a.Purpose == b.Purpose &&
		a.Decision == b.Decision && a.GivenAt.Equal(b.GivenAt) && a.ValidFrom.Equal(b.ValidFrom) &&
		a.ValidUntil.Equal(b.ValidUntil) && a.PolicyVersion == b.PolicyVersion &&
		a.Evidence.Kind == b.Evidence.Kind && a.Evidence.Reference == b.Evidence.Reference &&
		string(a.Evidence.DocumentSHA256) == string(b.Evidence.DocumentSHA256) &&
		(a.Practitioner == nil) == (b.Practitioner == nil) && (a.Practitioner == nil || *a.Practitioner == *b.Practitioner)
}

func cloneRecord(s *Status) *Record {
	r := s.Record.clone()
	return &r
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
	// Events are the record's events, in order, starting with EventGiven,
	// and the withdrawal that ended it, if any.
	Events []Event

	WithdrawnAt time.Time // when a withdrawal ended it; zero if none did
	Withdrawal  RecordID  // the id of that withdrawal
	// SupersededAt is when a later statement of the client about the same
	// purpose (a record or a withdrawal) started: from then on the record
	// never decides again. Zero if none has been made.
	SupersededAt   time.Time
	EnteredInError bool          // it never counted
	ReplacedBy     RecordID      // the corrected record that replaced it
	Evidence       EvidenceState // the latest evidence event's outcome

	seq uint64 // of the given event
	// suspensions are the changes of evidence in order: a start opens a
	// suspension (missing), an end closes it (produced).
	suspensions []interval
}

type interval struct{ start, end time.Time }

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

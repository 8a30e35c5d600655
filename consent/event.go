package consent

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/zorgkit/zorgkit/consent/internal/canon"
	"github.com/zorgkit/zorgkit/consent/store"
)

// The payload versions; see Event.
const (
	formatV1 = canon.V1
	formatV2 = canon.V2
)

// EventKind is what happened to a record.
type EventKind string

// The kinds of events.
const (
	// EventGiven records a consent statement, permit or deny.
	EventGiven EventKind = "given"
	// EventWithdrawn records that the client withdrew consent for
	// [Event.Purpose] as of [Event.At]: no record of that purpose given at
	// or before that moment counts from then on. [Event.Record] is the
	// withdrawal's own id.
	EventWithdrawn EventKind = "withdrawn"
	// EventEnteredInError marks a record or withdrawal that should never
	// have been recorded; it never counted.
	EventEnteredInError EventKind = "entered-in-error"
	// EventCorrected marks a record replaced by a corrected one
	// ([Event.ReplacedBy]); the old record never counted. The given event of
	// the replacement follows it in the same append.
	EventCorrected EventKind = "corrected"
	// EventEvidenceRequested records that the signed form was requested,
	// for instance in a spot check ([Event.Reference] names the request).
	EventEvidenceRequested EventKind = "evidence-requested"
	// EventEvidenceProduced records that the provider produced the form.
	EventEvidenceProduced EventKind = "evidence-produced"
	// EventEvidenceMissing records that the provider could not produce the
	// form; the record does not count from [Event.At] until the form is
	// produced after all.
	EventEvidenceMissing EventKind = "evidence-missing"
)

// eventSamplePlanned records a spot check planned before its population was
// known, in the registry's chain of plans; Event.Record is the plan's id.
const eventSamplePlanned EventKind = "sample-planned"

func (k EventKind) valid() bool {
	switch k {
	case EventGiven, EventWithdrawn, EventEnteredInError, EventCorrected,
		EventEvidenceRequested, EventEvidenceProduced, EventEvidenceMissing, eventSamplePlanned:
		return true
	}
	return false
}

// ChainID identifies the chain of one subject and organisation: 64 lowercase
// hexadecimal digits of
//
//	SHA-256("zorgkit/consent/v1 chain\n" || u32(len(s)) || s || u32(len(o)) || o)
//
// where s is the subject key, o the organisation and u32 a 4-byte big-endian
// length. An exported checkpoint lists chain ids, not subject keys.
type ChainID string

// ChainOf returns the id of the chain that holds the events of subject and
// organisation.
func ChainOf(subject Subject, organisation Organisation) ChainID {
	h := sha256.New()
	h.Write([]byte("zorgkit/consent/v1 chain\n"))
	writeField(h, string(subject))
	writeField(h, string(organisation))
	return ChainID(hex.EncodeToString(h.Sum(nil)))
}

func writeField(h interface{ Write([]byte) (int, error) }, s string) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

// Event is one thing that happened to a record. Events are immutable and
// numbered 1, 2, 3… within their chain.
//
// # Encoding and MAC
//
// An event is stored as its payload, a canonical JSON encoding, and a MAC:
//
//	MAC = HMAC-SHA256(key, "zorgkit/consent/v2 event\n" || prev || payload)
//
// where prev is the MAC of the previous event of the chain (32 zero bytes for
// the first). Only the last field has a variable length, so the input is
// unambiguous. The payload holds the chain id and sequence number, so an event
// moved to another place or chain no longer verifies.
//
// The payload is one JSON object (RFC 8259) with these members in this
// order, without white space; members marked * are left out when empty:
//
//	v            2, the encoding version
//	chain        the chain id
//	seq          the sequence number
//	kind         the EventKind
//	record       the record id (for EventWithdrawn: the withdrawal's id)
//	at           when the event took effect
//	recordedAt   when it was recorded
//	by           {"user", "organisation", "onBehalfOf"*}
//	purpose*     the purpose withdrawn, for EventWithdrawn
//	consent*     the record, for EventGiven: {"subject", "organisation",
//	             "purpose", "decision", "givenAt", "validFrom"*,
//	             "validUntil"*, "policyVersion", "evidence": {"kind",
//	             "reference", "sha256"* (lowercase hexadecimal)},
//	             "practitioner"*: {"name", "function"}}
//	reason*      why, for withdrawals, corrections and evidence outcomes
//	replacedBy*  the replacing record, for EventCorrected
//	reference*   the request's reference, for EventEvidenceRequested
//	plan*        the sample plan, for eventSamplePlanned: {"organisation"*,
//	             "purpose"*, "decision"*, "from", "until", "k", "seedHash"}
//
// Strings are escaped as in RFC 8785 (the JSON Canonicalization Scheme),
// section 3.2.2.2: the quotation mark, the backslash and the control
// characters U+0000 to U+001F, these as \b, \t, \n, \f, \r or \u00xx with
// lowercase hexadecimal digits; every other character is written as itself,
// in UTF-8. Numbers are unsigned decimal integers without leading zeros.
// Times are RFC 3339 strings in UTC, YYYY-MM-DDThh:mm:ss, a fraction of one
// to nine digits without trailing zeros when there is one, and Z, within
// the years 1970 to 2199. Any other encoding of the same event is rejected, so
// every event has exactly one payload. The file testdata/events.json holds
// known-answer vectors.
//
// # Version 1
//
// Stores written before version 2 hold version 1 events, which keep
// verifying: "v" is 1, the MAC's prefix is "zorgkit/consent/v1 event\n",
// there is no purpose member, strings are escaped as encoding/json of Go 1.22
// to 1.26 escaped them (also <, > and & as \u003c, \u003e and \u0026, and
// U+2028 and U+2029 as \u2028 and \u2029), and an EventWithdrawn names the
// one record it withdrew, whose purpose it then withdraws. The package reads
// version 1 and writes version 2 only; nothing is rewritten.
type Event struct {
	Chain      ChainID
	Seq        uint64
	Kind       EventKind
	Record     RecordID
	At         time.Time // when the event took effect
	RecordedAt time.Time // when it was recorded
	By         Actor

	Purpose    Purpose  // the purpose withdrawn, for EventWithdrawn
	Consent    *Record  // the record, for EventGiven
	Reason     string   // why, where the kind has one
	ReplacedBy RecordID // the replacement, for EventCorrected
	Reference  string   // the request's reference, for EventEvidenceRequested

	plan   *SamplePlan // the plan, for eventSamplePlanned
	format int         // the encoding version it was read in; 0 is the current one
}

// maxPayload bounds a payload read from storage before it is decoded.
const maxPayload = 16 << 10

// encode returns the canonical payload of e, in its own format version.
func (e *Event) encode() []byte {
	format := e.format
	if format == 0 {
		format = formatV2
	}
	w := canon.Writer{B: make([]byte, 0, 512), Format: format}
	w.Open()
	w.Uint("v", uint64(format))
	w.String("chain", string(e.Chain))
	w.Uint("seq", e.Seq)
	w.String("kind", string(e.Kind))
	w.String("record", string(e.Record))
	w.Time("at", e.At, false)
	w.Time("recordedAt", e.RecordedAt, false)
	w.Key("by")
	writeActor(&w, e.By)
	if format >= formatV2 {
		w.Optional("purpose", string(e.Purpose))
	}
	if r := e.Consent; r != nil {
		w.Key("consent")
		writeConsent(&w, r)
	}
	w.Optional("reason", e.Reason)
	w.Optional("replacedBy", string(e.ReplacedBy))
	w.Optional("reference", e.Reference)
	if p := e.plan; p != nil && format >= formatV2 {
		w.Key("plan")
		writePlan(&w, p)
	}
	w.Close()
	return w.B
}

func writeActor(w *canon.Writer, a Actor) {
	w.Open()
	w.String("user", a.User)
	w.String("organisation", string(a.Organisation))
	w.Optional("onBehalfOf", a.OnBehalfOf)
	w.Close()
}

func readActor(r *canon.Reader) Actor {
	var a Actor
	r.Open()
	a.User = r.String("user", true)
	a.Organisation = Organisation(r.String("organisation", false))
	a.OnBehalfOf = r.Optional("onBehalfOf")
	r.Close()
	return a
}

// writeConsent writes what a given event records of a record.
func writeConsent(w *canon.Writer, r *Record) {
	w.Open()
	w.String("subject", string(r.Subject))
	w.String("organisation", string(r.Organisation))
	w.String("purpose", string(r.Purpose))
	w.String("decision", string(r.Decision))
	w.Time("givenAt", r.GivenAt, false)
	w.Time("validFrom", r.ValidFrom, true)
	w.Time("validUntil", r.ValidUntil, true)
	w.String("policyVersion", r.PolicyVersion)
	w.Key("evidence")
	w.Open()
	w.String("kind", string(r.Evidence.Kind))
	w.String("reference", r.Evidence.Reference)
	w.Optional("sha256", hex.EncodeToString(r.Evidence.DocumentSHA256))
	w.Close()
	if p := r.Practitioner; p != nil {
		w.Key("practitioner")
		w.Open()
		w.String("name", p.Name)
		w.String("function", p.Function)
		w.Close()
	}
	w.Close()
}

// readConsent reads what writeConsent wrote into c.
func readConsent(r *canon.Reader, c *Record) {
	r.Open()
	c.Subject = Subject(r.String("subject", true))
	c.Organisation = Organisation(r.String("organisation", false))
	c.Purpose = Purpose(r.String("purpose", false))
	c.Decision = Decision(r.String("decision", false))
	c.GivenAt = r.Time("givenAt", false, false)
	c.ValidFrom = r.Time("validFrom", false, true)
	c.ValidUntil = r.Time("validUntil", false, true)
	c.PolicyVersion = r.String("policyVersion", false)
	r.Key("evidence", false)
	r.Open()
	c.Evidence.Kind = EvidenceKind(r.String("kind", true))
	c.Evidence.Reference = r.String("reference", false)
	if sum := r.Optional("sha256"); sum != "" && r.Err() == nil {
		b, err := hex.DecodeString(sum)
		if err != nil {
			r.Fail("evidence hash is not hexadecimal")
		}
		c.Evidence.DocumentSHA256 = b
	}
	r.Close()
	if r.Has("practitioner", false) {
		r.Key("practitioner", false)
		r.Open()
		c.Practitioner = &Practitioner{Name: r.String("name", true), Function: r.String("function", false)}
		r.Close()
	}
	r.Close()
}

// payloadFormat returns the format version a payload claims, from its
// first bytes, or 0.
func payloadFormat(payload []byte) int {
	switch {
	case bytes.HasPrefix(payload, []byte(`{"v":2,`)):
		return formatV2
	case bytes.HasPrefix(payload, []byte(`{"v":1,`)):
		return formatV1
	}
	return 0
}

// decodeEvent parses a canonical payload. It rejects anything that encode
// would not have written.
func decodeEvent(payload []byte) (*Event, error) {
	if len(payload) > maxPayload {
		return nil, fmt.Errorf("payload of %d bytes exceeds %d", len(payload), maxPayload)
	}
	format := payloadFormat(payload)
	if format == 0 {
		return nil, fmt.Errorf("payload is not an event of a known version")
	}
	r := canon.NewReader(payload)
	r.Open()
	r.Uint("v", true)
	e := &Event{}
	if format != formatV2 {
		e.format = format
	}
	e.Chain = ChainID(r.String("chain", false))
	e.Seq = r.Uint("seq", false)
	e.Kind = EventKind(r.String("kind", false))
	e.Record = RecordID(r.String("record", false))
	e.At = r.Time("at", false, false)
	e.RecordedAt = r.Time("recordedAt", false, false)
	r.Key("by", false)
	e.By = readActor(r)
	if format >= formatV2 {
		e.Purpose = Purpose(r.Optional("purpose"))
	}
	if r.Has("consent", false) {
		r.Key("consent", false)
		c := &Record{ID: e.Record, RecordedBy: e.By, RecordedAt: e.RecordedAt}
		readConsent(r, c)
		e.Consent = c
	}
	e.Reason = r.Optional("reason")
	e.ReplacedBy = RecordID(r.Optional("replacedBy"))
	e.Reference = r.Optional("reference")
	if format >= formatV2 && r.Has("plan", false) {
		r.Key("plan", false)
		e.plan = readPlan(r)
		e.plan.ID, e.plan.PlannedAt, e.plan.By = string(e.Record), e.RecordedAt, e.By
	}
	r.Close()
	r.Done()
	if r.Err() != nil {
		return nil, fmt.Errorf("payload: %w", r.Err())
	}
	if !bytes.Equal(e.encode(), payload) {
		return nil, fmt.Errorf("payload is not in canonical form")
	}
	return e, nil
}

// The prefixes of the MACs, per format version, separate event MACs from any
// other use of the key.
const (
	macPrefixV1 = "zorgkit/consent/v1 event\n"
	macPrefix   = "zorgkit/consent/v2 event\n"
)

// eventMAC returns the MAC of a payload that follows prev, for the format
// version the payload claims.
func eventMAC(key, prev, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	if payloadFormat(payload) == formatV1 {
		m.Write([]byte(macPrefixV1))
	} else {
		m.Write([]byte(macPrefix))
	}
	if len(prev) == 0 {
		prev = zeroMAC[:]
	}
	m.Write(prev)
	m.Write(payload)
	return m.Sum(nil)
}

// seal encodes e, which follows prev, and computes its MAC. It refuses an
// event whose payload does not decode back to the same event: nothing is
// ever appended that could not be read again.
func seal(key []byte, e *Event, prev []byte) (store.Event, error) {
	if len(prev) == 0 {
		prev = zeroMAC[:]
	}
	payload := e.encode()
	back, err := decodeEvent(payload)
	if err != nil {
		return store.Event{}, fmt.Errorf("%w: the event would not read back (%v)", ErrInvalid, err)
	}
	if !sameEvent(back, e) {
		return store.Event{}, fmt.Errorf("%w: the event would not read back unchanged", ErrInvalid)
	}
	return store.Event{
		Chain:      string(e.Chain),
		Seq:        e.Seq,
		Record:     string(e.Record),
		Kind:       string(e.Kind),
		RecordedAt: e.RecordedAt.UTC(),
		Payload:    payload,
		Prev:       bytes.Clone(prev),
		MAC:        eventMAC(key, prev, payload),
	}, nil
}

var zeroMAC [32]byte

// sameEvent reports whether two events hold the same information.
func sameEvent(a, b *Event) bool {
	if a.Chain != b.Chain || a.Seq != b.Seq || a.Kind != b.Kind || a.Record != b.Record ||
		!a.At.Equal(b.At) || !a.RecordedAt.Equal(b.RecordedAt) || a.By != b.By || a.Purpose != b.Purpose ||
		a.Reason != b.Reason || a.ReplacedBy != b.ReplacedBy || a.Reference != b.Reference ||
		(a.Consent == nil) != (b.Consent == nil) || (a.plan == nil) != (b.plan == nil) ||
		a.plan != nil && !a.plan.equal(b.plan) {
		return false
	}
	if a.Consent == nil {
		return true
	}
	x, y := a.Consent, b.Consent
	return x.ID == a.Record && y.ID == b.Record && x.Subject == y.Subject && x.Organisation == y.Organisation &&
		x.Purpose == y.Purpose && x.Decision == y.Decision && x.GivenAt.Equal(y.GivenAt) &&
		x.ValidFrom.Equal(y.ValidFrom) && x.ValidUntil.Equal(y.ValidUntil) && x.PolicyVersion == y.PolicyVersion &&
		x.Evidence.Kind == y.Evidence.Kind && x.Evidence.Reference == y.Evidence.Reference &&
		bytes.Equal(x.Evidence.DocumentSHA256, y.Evidence.DocumentSHA256) &&
		(x.Practitioner == nil) == (y.Practitioner == nil) && (x.Practitioner == nil || *x.Practitioner == *y.Practitioner) &&
		x.RecordedBy == a.By && y.RecordedBy == b.By && x.RecordedAt.Equal(a.RecordedAt) && y.RecordedAt.Equal(b.RecordedAt)
}

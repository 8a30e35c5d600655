package consent

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// EventKind is what happened to a record.
type EventKind string

// The kinds of events.
const (
	// EventGiven records a consent statement, permit or deny.
	EventGiven EventKind = "given"
	// EventWithdrawn ends a record from [Event.At] on.
	EventWithdrawn EventKind = "withdrawn"
	// EventEnteredInError marks a record that should never have been
	// recorded; it never counted.
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

func (k EventKind) valid() bool {
	switch k {
	case EventGiven, EventWithdrawn, EventEnteredInError, EventCorrected,
		EventEvidenceRequested, EventEvidenceProduced, EventEvidenceMissing:
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
//	MAC = HMAC-SHA256(key, "zorgkit/consent/v1 event\n" || prev || payload)
//
// where prev is the MAC of the previous event of the chain (32 zero bytes for
// the first). Only the last field has a variable length, so the input is
// unambiguous. The payload holds the chain id and sequence number, so an event
// moved to another place or chain no longer verifies.
//
// The payload is one JSON object with these members in this order, without
// white space, as [encoding/json.Marshal] writes it (strings escaped as it
// escapes them); members marked * are left out when empty:
//
//	v            1, the encoding version
//	chain        the chain id
//	seq          the sequence number
//	kind         the EventKind
//	record       the record id
//	at           when the event took effect
//	recordedAt   when it was recorded
//	by           {"user", "organisation", "onBehalfOf"*}
//	consent*     the record, for EventGiven: {"subject", "organisation",
//	             "purpose", "decision", "givenAt", "validFrom"*,
//	             "validUntil"*, "policyVersion", "evidence": {"kind",
//	             "reference", "sha256"* (hexadecimal)}, "practitioner"*:
//	             {"name", "function"}}
//	reason*      why, for withdrawals, corrections and evidence outcomes
//	replacedBy*  the replacing record, for EventCorrected
//	reference*   the request's reference, for EventEvidenceRequested
//
// Times are RFC 3339 in UTC with up to nine fractional digits and no trailing
// zeros (time.RFC3339Nano). Any other encoding of the same event is rejected,
// so every event has exactly one payload.
type Event struct {
	Chain      ChainID
	Seq        uint64
	Kind       EventKind
	Record     RecordID
	At         time.Time // when the event took effect
	RecordedAt time.Time // when it was recorded
	By         Actor

	Consent    *Record  // the record, for EventGiven
	Reason     string   // why, where the kind has one
	ReplacedBy RecordID // the replacement, for EventCorrected
	Reference  string   // the request's reference, for EventEvidenceRequested
}

// wireEvent is the payload layout; see Event. The field order is the
// encoding's member order.
type wireEvent struct {
	V          int         `json:"v"`
	Chain      string      `json:"chain"`
	Seq        uint64      `json:"seq"`
	Kind       string      `json:"kind"`
	Record     string      `json:"record"`
	At         string      `json:"at"`
	RecordedAt string      `json:"recordedAt"`
	By         wireActor   `json:"by"`
	Consent    *wireRecord `json:"consent,omitempty"`
	Reason     string      `json:"reason,omitempty"`
	ReplacedBy string      `json:"replacedBy,omitempty"`
	Reference  string      `json:"reference,omitempty"`
}

type wireActor struct {
	User         string `json:"user"`
	Organisation string `json:"organisation"`
	OnBehalfOf   string `json:"onBehalfOf,omitempty"`
}

type wireRecord struct {
	Subject       string            `json:"subject"`
	Organisation  string            `json:"organisation"`
	Purpose       string            `json:"purpose"`
	Decision      string            `json:"decision"`
	GivenAt       string            `json:"givenAt"`
	ValidFrom     string            `json:"validFrom,omitempty"`
	ValidUntil    string            `json:"validUntil,omitempty"`
	PolicyVersion string            `json:"policyVersion"`
	Evidence      wireEvidence      `json:"evidence"`
	Practitioner  *wirePractitioner `json:"practitioner,omitempty"`
}

type wireEvidence struct {
	Kind      string `json:"kind"`
	Reference string `json:"reference"`
	SHA256    string `json:"sha256,omitempty"`
}

type wirePractitioner struct {
	Name     string `json:"name"`
	Function string `json:"function"`
}

// payloadVersion is the "v" of the encoding above.
const payloadVersion = 1

// maxPayload bounds a payload read from storage before it is decoded.
const maxPayload = 16 << 10

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// parseTime parses a time written by formatTime and rejects any other form.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	t = t.UTC()
	if t.Format(time.RFC3339Nano) != s {
		return time.Time{}, fmt.Errorf("time %q is not in canonical form", s)
	}
	return t, nil
}

// encode returns the canonical payload of e.
func (e *Event) encode() []byte {
	w := wireEvent{
		V:          payloadVersion,
		Chain:      string(e.Chain),
		Seq:        e.Seq,
		Kind:       string(e.Kind),
		Record:     string(e.Record),
		At:         formatTime(e.At),
		RecordedAt: formatTime(e.RecordedAt),
		By:         wireActor{e.By.User, string(e.By.Organisation), e.By.OnBehalfOf},
		Reason:     e.Reason,
		ReplacedBy: string(e.ReplacedBy),
		Reference:  e.Reference,
	}
	if r := e.Consent; r != nil {
		w.Consent = &wireRecord{
			Subject:       string(r.Subject),
			Organisation:  string(r.Organisation),
			Purpose:       string(r.Purpose),
			Decision:      string(r.Decision),
			GivenAt:       formatTime(r.GivenAt),
			ValidFrom:     formatTime(r.ValidFrom),
			ValidUntil:    formatTime(r.ValidUntil),
			PolicyVersion: r.PolicyVersion,
			Evidence: wireEvidence{
				Kind:      string(r.Evidence.Kind),
				Reference: r.Evidence.Reference,
				SHA256:    hex.EncodeToString(r.Evidence.DocumentSHA256),
			},
		}
		if p := r.Practitioner; p != nil {
			w.Consent.Practitioner = &wirePractitioner{p.Name, p.Function}
		}
	}
	b, err := json.Marshal(w)
	if err != nil {
		panic("consent: encoding an event: " + err.Error()) // only strings and numbers: cannot fail
	}
	return b
}

// decodeEvent parses a canonical payload. It rejects anything that encode
// would not have written.
func decodeEvent(payload []byte) (*Event, error) {
	if len(payload) > maxPayload {
		return nil, fmt.Errorf("payload of %d bytes exceeds %d", len(payload), maxPayload)
	}
	var w wireEvent
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("payload is not an event: %w", err)
	}
	if w.V != payloadVersion {
		return nil, fmt.Errorf("payload version %d, want %d", w.V, payloadVersion)
	}
	e := &Event{
		Chain:      ChainID(w.Chain),
		Seq:        w.Seq,
		Kind:       EventKind(w.Kind),
		Record:     RecordID(w.Record),
		By:         Actor{w.By.User, Organisation(w.By.Organisation), w.By.OnBehalfOf},
		Reason:     w.Reason,
		ReplacedBy: RecordID(w.ReplacedBy),
		Reference:  w.Reference,
	}
	var err error
	if e.At, err = parseTime(w.At); err != nil {
		return nil, err
	}
	if e.RecordedAt, err = parseTime(w.RecordedAt); err != nil {
		return nil, err
	}
	if c := w.Consent; c != nil {
		r := &Record{
			ID:            e.Record,
			Subject:       Subject(c.Subject),
			Organisation:  Organisation(c.Organisation),
			Purpose:       Purpose(c.Purpose),
			Decision:      Decision(c.Decision),
			PolicyVersion: c.PolicyVersion,
			Evidence:      Evidence{Kind: EvidenceKind(c.Evidence.Kind), Reference: c.Evidence.Reference},
			RecordedBy:    e.By,
			RecordedAt:    e.RecordedAt,
		}
		for _, f := range []struct {
			dst *time.Time
			src string
		}{{&r.GivenAt, c.GivenAt}, {&r.ValidFrom, c.ValidFrom}, {&r.ValidUntil, c.ValidUntil}} {
			if *f.dst, err = parseTime(f.src); err != nil {
				return nil, err
			}
		}
		if c.Evidence.SHA256 != "" {
			if r.Evidence.DocumentSHA256, err = hex.DecodeString(c.Evidence.SHA256); err != nil {
				return nil, fmt.Errorf("evidence hash: %w", err)
			}
		}
		if p := c.Practitioner; p != nil {
			r.Practitioner = &Practitioner{p.Name, p.Function}
		}
		e.Consent = r
	}
	if !bytes.Equal(e.encode(), payload) {
		return nil, fmt.Errorf("payload is not in canonical form")
	}
	return e, nil
}

// macPrefix separates event MACs from any other use of the key.
const macPrefix = "zorgkit/consent/v1 event\n"

// eventMAC returns the MAC of a payload that follows prev.
func eventMAC(key, prev, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(macPrefix))
	if len(prev) == 0 {
		prev = make([]byte, sha256.Size)
	}
	m.Write(prev)
	m.Write(payload)
	return m.Sum(nil)
}

// SealedEvent is an event as a [Store] keeps it: the payload and its MAC,
// plus the columns a store indexes. A store keeps every field exactly as
// given and never interprets the payload.
type SealedEvent struct {
	Chain  ChainID
	Seq    uint64 // 1, 2, 3… within the chain
	Record RecordID
	Kind   EventKind

	// The index of given events, for [Store.Population]; empty for other
	// kinds. Verification checks them against the payload.
	Organisation Organisation
	Purpose      Purpose
	Decision     Decision
	RecordedAt   time.Time // when the event was recorded (all kinds)

	Payload []byte // the canonical encoding, see Event
	Prev    []byte // the MAC of the previous event, or 32 zero bytes
	MAC     []byte // HMAC-SHA256, see Event
}

// clone returns a copy that shares no memory with s.
func (s SealedEvent) clone() SealedEvent {
	s.Payload = bytes.Clone(s.Payload)
	s.Prev = bytes.Clone(s.Prev)
	s.MAC = bytes.Clone(s.MAC)
	return s
}

// seal encodes e, which follows prev, and computes its MAC.
func seal(key []byte, e *Event, prev []byte) SealedEvent {
	if len(prev) == 0 {
		prev = make([]byte, sha256.Size)
	}
	payload := e.encode()
	s := SealedEvent{
		Chain:      e.Chain,
		Seq:        e.Seq,
		Record:     e.Record,
		Kind:       e.Kind,
		RecordedAt: e.RecordedAt.UTC(),
		Payload:    payload,
		Prev:       bytes.Clone(prev),
		MAC:        eventMAC(key, prev, payload),
	}
	if r := e.Consent; r != nil {
		s.Organisation, s.Purpose, s.Decision = r.Organisation, r.Purpose, r.Decision
	}
	return s
}

// index returns the index columns that seal would give e, to check a stored
// event's columns against its payload.
func index(e *Event) (Organisation, Purpose, Decision) {
	if r := e.Consent; r != nil {
		return r.Organisation, r.Purpose, r.Decision
	}
	return "", "", ""
}

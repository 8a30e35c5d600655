// Package accesslog seals the entries of the access log of package consent
// (NEN 7513) in MAC chains, and verifies them, so that an entry changed,
// removed, reordered or added behind the log's back is found.
//
// The package keeps nothing: the application stores the sealed entries (the
// example portal keeps them in its database, in group commits). A chain is
// the entries of one writer, such as one application instance, numbered 1,
// 2, 3…; one writer appends to a chain at a time, and chains of different
// writers never wait for each other.
//
// # Encoding and MAC
//
// An entry is stored as its payload and a MAC:
//
//	MAC = HMAC-SHA256(key, "zorgkit/consent/v2 access\n" || prev || payload)
//
// where prev is the MAC of the chain's entry before (32 zero bytes for the
// first). The payload is one JSON object, in the canonical form of package
// consent's events (see consent.Event: members in this order, no white
// space, strings escaped as in RFC 8785, times in RFC 3339 UTC), with these
// members, those marked * left out when empty (allowed when false):
//
//	v, chain, seq, id, time, instance, address*, user, role, onBehalfOf*,
//	organisation, subject*, object, purpose*, action, allowed*, reason*,
//	record*, error*
//
// The file testdata/access.json holds known-answer vectors.
//
// # Anchoring
//
// A MAC chain shows an entry removed from its middle, but not its last
// entries cut off, nor a chain removed whole. Publish the head of every
// chain (its sequence number and the MAC of its last entry) outside the
// database every day, with the digest of the consent registry's checkpoint,
// and check the log against it later: [Verifier.Head] gives it.
package accesslog

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/internal/canon"
	"github.com/zorgkit/zorgkit/consent/internal/elfproef"
)

// Entry is a sealed entry of the access log.
type Entry struct {
	Chain   string
	Seq     uint64
	Access  consent.AccessEntry
	Payload []byte
	MAC     []byte
}

// Head is where a chain stands: its last entry's sequence number and MAC;
// the zero Head is the start of a chain.
type Head struct {
	Seq uint64
	MAC []byte
}

// ErrInvalid means an entry cannot be sealed: a field is malformed, or the
// subject key looks like a BSN.
var ErrInvalid = errors.New("consent/accesslog: invalid entry")

// MinKeyLen is the minimum length of the key, in bytes.
const MinKeyLen = 32

// Sealer seals and verifies entries with one key. It is safe for concurrent
// use: it keeps no state besides the key.
type Sealer struct {
	key []byte
}

// NewSealer returns a Sealer with key, a secret of at least 32 random bytes
// from configuration. Keep it for as long as the log must be verified.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("consent/accesslog: the key has %d bytes, want at least %d: generate a random secret and keep it in configuration", len(key), MinKeyLen)
	}
	return &Sealer{key: bytes.Clone(key)}, nil
}

const macPrefix = "zorgkit/consent/v2 access\n"

func (s *Sealer) mac(prev, payload []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(macPrefix))
	if len(prev) == 0 {
		prev = make([]byte, sha256.Size)
	}
	m.Write(prev)
	m.Write(payload)
	return m.Sum(nil)
}

// Seal seals e as the entry after head in chain. It refuses an entry whose
// subject key looks like a BSN, a time outside the years 1970 to 2199, or an
// entry that would not read back unchanged.
func (s *Sealer) Seal(chain string, head Head, e consent.AccessEntry) (Entry, error) {
	switch {
	case chain == "":
		return Entry{}, fmt.Errorf("%w: the chain has no name", ErrInvalid)
	case elfproef.LooksLikeBSN(string(e.Subject)):
		return Entry{}, fmt.Errorf("%w: the subject key looks like a BSN: log a pseudonym", ErrInvalid)
	case e.Time.Before(canon.MinTime) || !e.Time.Before(canon.MaxTime):
		return Entry{}, fmt.Errorf("%w: the time is outside the years 1970 to 2199", ErrInvalid)
	}
	e.Time = e.Time.UTC()
	seq := head.Seq + 1
	payload := encode(chain, seq, &e)
	back, _, _, err := decode(payload)
	if err != nil || back != e {
		return Entry{}, fmt.Errorf("%w: the entry would not read back unchanged", ErrInvalid)
	}
	return Entry{Chain: chain, Seq: seq, Access: e, Payload: payload, MAC: s.mac(head.MAC, payload)}, nil
}

func encode(chain string, seq uint64, e *consent.AccessEntry) []byte {
	w := canon.Writer{B: make([]byte, 0, 512)}
	w.Open()
	w.Uint("v", canon.V2)
	w.String("chain", chain)
	w.Uint("seq", seq)
	w.String("id", e.ID)
	w.Time("time", e.Time, false)
	w.String("instance", e.Instance)
	w.Optional("address", e.Address)
	w.String("user", e.User)
	w.String("role", e.Role)
	w.Optional("onBehalfOf", e.OnBehalfOf)
	w.String("organisation", string(e.Organisation))
	w.Optional("subject", string(e.Subject))
	w.String("object", e.Object)
	w.Optional("purpose", string(e.Purpose))
	w.String("action", string(e.Action))
	w.Bool("allowed", e.Allowed)
	w.Optional("reason", string(e.Reason))
	w.Optional("record", string(e.Record))
	w.Optional("error", e.Error)
	w.Close()
	return w.B
}

// maxPayload bounds a payload before it is decoded.
const maxPayload = 16 << 10

// decode parses a canonical payload, and rejects any other form.
func decode(payload []byte) (consent.AccessEntry, string, uint64, error) {
	var e consent.AccessEntry
	if len(payload) > maxPayload {
		return e, "", 0, fmt.Errorf("payload of %d bytes exceeds %d", len(payload), maxPayload)
	}
	r := canon.NewReader(payload)
	r.Open()
	if v := r.Uint("v", true); v != canon.V2 && r.Err() == nil {
		return e, "", 0, fmt.Errorf("payload of version %d", v)
	}
	chain := r.String("chain", false)
	seq := r.Uint("seq", false)
	e.ID = r.String("id", false)
	e.Time = r.Time("time", false, false)
	e.Instance = r.String("instance", false)
	e.Address = r.Optional("address")
	e.User = r.String("user", false)
	e.Role = r.String("role", false)
	e.OnBehalfOf = r.Optional("onBehalfOf")
	e.Organisation = consent.Organisation(r.String("organisation", false))
	e.Subject = consent.Subject(r.Optional("subject"))
	e.Object = r.String("object", false)
	e.Purpose = consent.Purpose(r.Optional("purpose"))
	e.Action = consent.Action(r.String("action", false))
	e.Allowed = r.Bool("allowed")
	e.Reason = consent.Reason(r.Optional("reason"))
	e.Record = consent.RecordID(r.Optional("record"))
	e.Error = r.Optional("error")
	r.Close()
	r.Done()
	if r.Err() != nil {
		return e, "", 0, r.Err()
	}
	if !bytes.Equal(encode(chain, seq, &e), payload) {
		return e, "", 0, fmt.Errorf("payload is not in canonical form")
	}
	return e, chain, seq, nil
}

// Open checks a stored entry's MAC, given the MAC of the entry before it
// (nil for the first), and returns what it says. It does not check where
// the entry stands in its chain; a Verifier does.
func (s *Sealer) Open(prev, payload, mac []byte) (Entry, error) {
	if !hmac.Equal(s.mac(prev, payload), mac) {
		return Entry{}, errors.New("the MAC does not match")
	}
	e, chain, seq, err := decode(payload)
	if err != nil {
		return Entry{}, err
	}
	return Entry{Chain: chain, Seq: seq, Access: e, Payload: bytes.Clone(payload), MAC: bytes.Clone(mac)}, nil
}

// Verifier checks the entries of one chain in order, page by page.
type Verifier struct {
	s        *Sealer
	chain    string
	head     Head
	problems []consent.Problem
}

// NewVerifier returns a Verifier of chain from its start.
func (s *Sealer) NewVerifier(chain string) *Verifier {
	return &Verifier{s: s, chain: chain}
}

// Next checks the next stored entry of the chain: its payload and MAC, as
// stored.
func (v *Verifier) Next(seq uint64, payload, mac []byte) {
	problem := func(kind consent.ProblemKind, detail string) {
		v.problems = append(v.problems, consent.Problem{Kind: kind, Chain: consent.ChainID(v.chain), Seq: seq, Detail: detail})
	}
	want := v.head.Seq + 1
	switch {
	case seq > want:
		for s := want; s < seq; s++ {
			v.problems = append(v.problems, consent.Problem{Kind: consent.ProblemRemoved, Chain: consent.ChainID(v.chain), Seq: s,
				Detail: "missing between entries " + strconv.FormatUint(want-1, 10) + " and " + strconv.FormatUint(seq, 10)})
		}
	case seq < want:
		problem(consent.ProblemReordered, "stored twice or out of order")
		return
	}
	e, err := v.s.Open(v.head.MAC, payload, mac)
	switch {
	case err != nil && seq == want:
		problem(consent.ProblemChanged, err.Error())
	case err != nil:
		// After a gap the MAC of the entry before is unknown: check the
		// entry on its own, so that it is not blamed for the gap.
	case e.Chain != v.chain || e.Seq != seq:
		problem(consent.ProblemReordered, "sealed as entry "+strconv.FormatUint(e.Seq, 10)+" of chain "+e.Chain)
	}
	v.head = Head{Seq: seq, MAC: bytes.Clone(mac)}
}

// Head returns where the chain stands after the entries checked: publish
// it to anchor the chain.
func (v *Verifier) Head() Head { return v.head }

// Err returns a *consent.TamperError that names every entry that does not
// verify, or nil. It wraps consent.ErrTampered.
func (v *Verifier) Err() error {
	if len(v.problems) == 0 {
		return nil
	}
	return &consent.TamperError{Problems: v.problems}
}

package consent

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ProblemKind is what is wrong with a stored event.
type ProblemKind string

// The kinds of problems [Registry.Verify] and [Registry.VerifyCheckpoint]
// find.
const (
	// ProblemChanged: the event's payload, MAC or index columns were
	// changed, or it does not follow the event before it.
	ProblemChanged ProblemKind = "changed"
	// ProblemRemoved: the event is missing from the middle of its chain.
	ProblemRemoved ProblemKind = "removed"
	// ProblemReordered: the event is stored at another place than the one
	// it was sealed for.
	ProblemReordered ProblemKind = "reordered"
	// ProblemTruncated: the chain ends before an event that a checkpoint
	// holds, or is gone.
	ProblemTruncated ProblemKind = "truncated"
	// ProblemRewritten: the event differs from the one a checkpoint holds.
	ProblemRewritten ProblemKind = "rewritten"
)

// Problem names one event that does not verify.
type Problem struct {
	Kind   ProblemKind
	Chain  ChainID
	Seq    uint64   // the event's place in its chain
	Record RecordID // the record the event is about, where known
	Detail string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString("chain " + string(p.Chain) + " event " + strconv.FormatUint(p.Seq, 10))
	if p.Record != "" {
		b.WriteString(" (record " + string(p.Record) + ")")
	}
	b.WriteString(" " + string(p.Kind))
	if p.Detail != "" {
		b.WriteString(": " + p.Detail)
	}
	return b.String()
}

// TamperError lists the events that do not verify. It wraps [ErrTampered].
type TamperError struct {
	Problems []Problem
}

func (e *TamperError) Error() string {
	msg := "consent: stored events do not verify: " + e.Problems[0].String()
	if n := len(e.Problems) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more)", n)
	}
	return msg + "; restore the events from a backup and investigate"
}

// Unwrap returns ErrTampered.
func (e *TamperError) Unwrap() error { return ErrTampered }

// verifyChain checks the sealed events of one chain, as a store returned
// them (sorted by Seq), and returns the decoded events and every problem. At
// most one problem is reported per stored event, plus one per missing event;
// an event is not blamed for not following a damaged or missing one.
func verifyChain(key []byte, chain ChainID, sealed []SealedEvent) ([]*Event, []Problem) {
	var events []*Event
	var problems []Problem
	next := uint64(1)  // the Seq the next event should have
	prev := zeroMAC[:] // the MAC of the stored event before
	prevOK := true     // whether that event verified
	known := map[RecordID]EventKind{}
	for i := range sealed {
		s := &sealed[i]
		if s.Seq > next {
			for seq := next; seq < s.Seq; seq++ {
				problems = append(problems, Problem{ProblemRemoved, chain, seq, "",
					fmt.Sprintf("missing between events %d and %d", next-1, s.Seq)})
			}
		}
		if s.Seq < next {
			problems = append(problems, Problem{ProblemReordered, chain, s.Seq, s.Record, "stored twice or out of order"})
			prevOK = false
			continue
		}
		linked := s.Seq == next && prevOK
		e, kind, detail := checkEvent(key, chain, s, linked, prev, known)
		// A damaged event that creates an id still shows that the id
		// exists: do not blame the id's later events for it.
		switch {
		case e != nil && e.Chain == chain && creates(e):
			known[e.Record] = e.Kind
		case e == nil && (s.Kind == EventGiven || s.Kind == EventWithdrawn && s.Purpose != ""):
			if _, ok := known[s.Record]; !ok {
				known[s.Record] = s.Kind
			}
		}
		if kind != "" {
			record := s.Record
			if e != nil {
				record = e.Record
			}
			problems = append(problems, Problem{kind, chain, s.Seq, record, detail})
		} else {
			events = append(events, e)
		}
		next = s.Seq + 1
		prev, prevOK = s.MAC, kind == ""
	}
	return events, problems
}

// creates reports whether e introduces a new id: a record given, or a
// withdrawal of version 2 (which names its purpose).
func creates(e *Event) bool {
	return e.Kind == EventGiven || e.Kind == EventWithdrawn && e.Purpose != ""
}

// checkEvent checks one stored event. It returns the decoded event, and the
// kind and detail of the problem if there is one.
func checkEvent(key []byte, chain ChainID, s *SealedEvent, linked bool, prev []byte, known map[RecordID]EventKind) (*Event, ProblemKind, string) {
	if s.Chain != chain {
		return nil, ProblemReordered, "returned for another chain"
	}
	if !hmac.Equal(eventMAC(key, s.Prev, s.Payload), s.MAC) {
		return nil, ProblemChanged, "MAC does not match the payload"
	}
	e, err := decodeEvent(s.Payload)
	if err != nil {
		return nil, ProblemChanged, err.Error()
	}
	if e.Chain != chain || e.Seq != s.Seq {
		return e, ProblemReordered, fmt.Sprintf("sealed as event %d of chain %s", e.Seq, e.Chain)
	}
	org, purpose, decision := index(e)
	switch {
	case s.Record != e.Record || s.Kind != e.Kind || s.Organisation != org || s.Purpose != purpose ||
		s.Decision != decision || !s.RecordedAt.Equal(e.RecordedAt):
		return e, ProblemChanged, "stored columns do not match the payload"
	case linked && !bytes.Equal(s.Prev, prev):
		return e, ProblemChanged, fmt.Sprintf("does not follow event %d", s.Seq-1)
	case !validEvent(e, known):
		return e, ProblemChanged, "is not a valid event of the chain"
	case e.Consent != nil && ChainOf(e.Consent.Subject, e.Consent.Organisation) != chain:
		return e, ProblemChanged, "records consent of another subject or organisation than its chain's"
	}
	return e, "", ""
}

// validEvent reports whether e fits the events before it, whose ids are in
// known: only a bug could have sealed one that does not.
func validEvent(e *Event, known map[RecordID]EventKind) bool {
	creator, exists := known[e.Record]
	if (e.Kind == EventGiven) != (e.Consent != nil) || e.Purpose != "" && !e.Purpose.Valid() {
		return false
	}
	switch {
	case creates(e):
		return !exists
	case e.Kind == EventWithdrawn: // version 1: names the record withdrawn
		return e.format == formatV1 && creator == EventGiven
	case e.Kind == EventEnteredInError:
		return exists
	case e.Kind.valid():
		return creator == EventGiven
	}
	return false
}

// Checkpoint is the head of every chain at one moment, and a digest over
// them. Anchor the digest outside the store; keep the checkpoint, and later
// [Registry.VerifyCheckpoint] shows that no event it covers was removed or
// changed.
//
// The digest is SHA-256("zorgkit/consent/v1 checkpoint\n" || heads), where
// each head, in the order of chain ids, is u32(len(chain)) || chain ||
// u64(seq) || mac, with big-endian lengths and numbers. It is not keyed, so
// that whoever holds the anchor can check a checkpoint against it.
type Checkpoint struct {
	Time   time.Time `json:"time"`
	Events uint64    `json:"events"` // the number of events covered
	Digest string    `json:"digest"` // hexadecimal
	Heads  []Head    `json:"heads"`
}

// digest computes the checkpoint digest of heads.
func digest(heads []Head) string {
	h := sha256.New()
	h.Write([]byte("zorgkit/consent/v1 checkpoint\n"))
	for _, head := range heads {
		writeField(h, string(head.Chain))
		var seq [8]byte
		binary.BigEndian.PutUint64(seq[:], head.Seq)
		h.Write(seq[:])
		h.Write(head.MAC)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// headsPage is how many chains Verify lists at a time.
const headsPage = 500

// Verify reads every chain, checks every event, and returns a checkpoint of
// what it verified. A non-nil error is a [*TamperError] (wrapping
// [ErrTampered]) that names every event that does not verify, or a storage
// error.
//
// Within a chain, Verify detects changed, removed and reordered events. It
// cannot see events cut off the end of a chain, or a whole chain removed:
// compare with an earlier checkpoint for that ([Registry.VerifyCheckpoint]).
func (r *Registry) Verify(ctx context.Context) (Checkpoint, error) {
	cp := Checkpoint{Time: r.now().UTC()}
	var problems []Problem
	for after := ChainID(""); ; {
		heads, err := r.store.Heads(ctx, after, headsPage)
		if err != nil {
			return Checkpoint{}, err
		}
		if len(heads) == 0 {
			break
		}
		for _, head := range heads {
			sealed, err := r.store.Chain(ctx, head.Chain)
			if err != nil {
				return Checkpoint{}, err
			}
			_, p := verifyChain(r.key, head.Chain, sealed)
			problems = append(problems, p...)
			if n := len(sealed); n > 0 {
				last := sealed[n-1]
				cp.Heads = append(cp.Heads, Head{Chain: head.Chain, Seq: last.Seq, MAC: bytes.Clone(last.MAC)})
				cp.Events += uint64(n)
			}
		}
		after = heads[len(heads)-1].Chain
	}
	cp.Digest = digest(cp.Heads)
	if len(problems) > 0 {
		return cp, &TamperError{Problems: problems}
	}
	return cp, nil
}

// ErrCheckpoint means a checkpoint does not match its own digest: it was
// damaged or is not the one that was anchored.
var ErrCheckpoint = errors.New("consent: the checkpoint does not match its digest: use the checkpoint that was anchored")

// VerifyCheckpoint checks that every chain in cp still holds, unchanged,
// every event that cp covers (chains may have grown since), and that those
// chains verify. Compare cp.Digest with the anchored digest first.
func (r *Registry) VerifyCheckpoint(ctx context.Context, cp Checkpoint) error {
	if digest(cp.Heads) != cp.Digest {
		return ErrCheckpoint
	}
	var problems []Problem
	for _, head := range cp.Heads {
		sealed, err := r.store.Chain(ctx, head.Chain)
		if err != nil {
			return err
		}
		_, p := verifyChain(r.key, head.Chain, sealed)
		problems = append(problems, p...)
		var found *SealedEvent
		for i := range sealed {
			if sealed[i].Seq == head.Seq {
				found = &sealed[i]
			}
		}
		switch {
		case found == nil:
			last := uint64(0)
			if n := len(sealed); n > 0 {
				last = sealed[n-1].Seq
			}
			problems = append(problems, Problem{ProblemTruncated, head.Chain, head.Seq, "",
				fmt.Sprintf("the chain ends at event %d, the checkpoint at event %d", last, head.Seq)})
		case !hmac.Equal(found.MAC, head.MAC):
			problems = append(problems, Problem{ProblemRewritten, head.Chain, head.Seq, found.Record,
				"differs from the event in the checkpoint"})
		}
	}
	if len(problems) > 0 {
		return &TamperError{Problems: problems}
	}
	return nil
}

// Quarantine moves a stored event that does not verify out of its chain,
// into the store's quarantine, where it stays with who moved it, when and
// why. c.Reason is required and c.At is ignored; the quarantine is also
// logged to [Config.Logger].
//
// It is the operator's way out when a row was written into the store
// behind the registry's back, by someone with INSERT rights or a broken
// tool: such a row takes the place of the next event, so that the chain
// can neither be decided on nor appended to. Run [Registry.Verify], check
// the problem it names, and quarantine that event by its chain and
// sequence number. Only an event that Verify blames can be quarantined, so
// no verified event can be made to disappear this way. Quarantine does not
// hide tampering: an event quarantined from the middle of a chain leaves a
// gap that Verify keeps reporting as removed.
func (r *Registry) Quarantine(ctx context.Context, chain ChainID, seq uint64, c Change) error {
	now, err := r.clock()
	if err != nil {
		return err
	}
	c.At = time.Time{}
	if err := c.validate(now, true); err != nil {
		return err
	}
	sealed, err := r.store.Chain(ctx, chain)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(sealed, func(e SealedEvent) bool { return e.Seq == seq })
	if i < 0 {
		return ErrNotFound
	}
	_, problems := verifyChain(r.key, chain, sealed)
	p := slices.IndexFunc(problems, func(p Problem) bool { return p.Seq == seq && p.Kind != ProblemRemoved })
	if p < 0 {
		return fieldError("seq", "names an event that verifies: only an event that does not verify can be quarantined")
	}
	if err := r.store.Quarantine(ctx, Quarantined{Event: sealed[i], At: now, By: c.By, Reason: c.Reason}); err != nil {
		return err
	}
	r.logger.WarnContext(ctx, "consent: event quarantined",
		slog.String("chain", string(chain)), slog.Uint64("seq", seq), slog.String("record", string(sealed[i].Record)),
		slog.String("problem", problems[p].String()),
		slog.String("by", c.By.User), slog.String("organisation", string(c.By.Organisation)), slog.String("reason", c.Reason))
	return nil
}

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

	"github.com/zorgkit/zorgkit/consent/internal/canon"
	"github.com/zorgkit/zorgkit/consent/store"
)

// ProblemKind is what is wrong with a stored event.
type ProblemKind string

// The kinds of problems [Registry.Verify] and [Registry.VerifyAnchor] find.
const (
	// ProblemChanged: the event's payload, MAC or index columns were
	// changed, or it does not follow the event before it.
	ProblemChanged ProblemKind = "changed"
	// ProblemRemoved: the event is missing from the middle of its chain.
	ProblemRemoved ProblemKind = "removed"
	// ProblemReordered: the event is stored at another place than the one
	// it was sealed for.
	ProblemReordered ProblemKind = "reordered"
	// ProblemTruncated: the chain ends before an event that its head or a
	// checkpoint holds, or is gone.
	ProblemTruncated ProblemKind = "truncated"
	// ProblemRewritten: the event differs from the one a checkpoint holds.
	ProblemRewritten ProblemKind = "rewritten"
	// ProblemExtra: the event is not covered by its chain's head: a row
	// written behind the registry's back. It blocks the chain until it is
	// quarantined ([Registry.Quarantine]).
	ProblemExtra ProblemKind = "extra"
	// ProblemHead: the chain's head is missing, its seal does not match, or
	// it does not match the chain's events ([Registry.RepairHeads]).
	ProblemHead ProblemKind = "head"
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

// verifyChain checks the stored events of one chain, sorted by Seq, and
// returns the decoded events and every problem. At most one problem is
// reported per stored event, plus one per missing event; an event is not
// blamed for not following a damaged or missing one.
func verifyChain(key []byte, chain ChainID, sealed []store.Event) ([]*Event, []Problem) {
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
			problems = append(problems, Problem{ProblemReordered, chain, s.Seq, RecordID(s.Record), "stored twice or out of order"})
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
		case e == nil && (s.Kind == string(EventGiven) || s.Kind == string(EventWithdrawn) || s.Kind == string(eventSamplePlanned)):
			if _, ok := known[RecordID(s.Record)]; !ok {
				known[RecordID(s.Record)] = EventKind(s.Kind)
			}
		}
		if kind != "" {
			record := RecordID(s.Record)
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

// creates reports whether e introduces a new id: a record given, a
// withdrawal of version 2 (which names its purpose), or a sample plan.
func creates(e *Event) bool {
	return e.Kind == EventGiven || e.Kind == EventWithdrawn && e.Purpose != "" || e.Kind == eventSamplePlanned
}

// checkEvent checks one stored event. It returns the decoded event, and the
// kind and detail of the problem if there is one. With known nil, it checks
// the event on its own, not where it stands in its chain.
func checkEvent(key []byte, chain ChainID, s *store.Event, linked bool, prev []byte, known map[RecordID]EventKind) (*Event, ProblemKind, string) {
	if ChainID(s.Chain) != chain {
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
	switch {
	case RecordID(s.Record) != e.Record || EventKind(s.Kind) != e.Kind || !s.RecordedAt.Equal(e.RecordedAt):
		return e, ProblemChanged, "stored columns do not match the payload"
	case linked && !bytes.Equal(s.Prev, prev):
		return e, ProblemChanged, fmt.Sprintf("does not follow event %d", s.Seq-1)
	case known != nil && !validEvent(e, chain, known):
		return e, ProblemChanged, "is not a valid event of the chain"
	case e.Consent != nil && ChainOf(e.Consent.Subject, e.Consent.Organisation) != chain:
		return e, ProblemChanged, "records consent of another subject or organisation than its chain's"
	}
	return e, "", ""
}

// validEvent reports whether e fits the events before it, whose ids are in
// known: only a bug could have sealed one that does not.
func validEvent(e *Event, chain ChainID, known map[RecordID]EventKind) bool {
	creator, exists := known[e.Record]
	if (e.Kind == EventGiven) != (e.Consent != nil) || (e.Kind == eventSamplePlanned) != (e.plan != nil) ||
		(e.Kind == eventSamplePlanned) != (chain == plansChain) || e.Purpose != "" && !e.Purpose.Valid() {
		return false
	}
	switch {
	case creates(e):
		return !exists
	case e.Kind == EventWithdrawn: // version 1: names the record withdrawn
		return e.format == formatV1 && creator == EventGiven
	case e.Kind == EventEnteredInError:
		return creator == EventGiven || creator == EventWithdrawn
	case e.Kind.valid():
		return creator == EventGiven
	}
	return false
}

// chainReport is one chain as Verify, Sample and RepairHeads read it.
type chainReport struct {
	chain    ChainID
	head     *store.Head
	sealed   []store.Event // the events covered by the head
	ledger   *ledger       // of those events; nil with problems
	problems []Problem     // of the chain on its own
}

// checkChain verifies a chain's events against each other and against its
// head, including the head's seal and state. Events after the head are
// rows written behind the registry's back.
func (r *Registry) checkChain(chain ChainID, h *store.Head, evs []store.Event) chainReport {
	c := chainReport{chain: chain, head: h, sealed: evs}
	if h != nil {
		if _, err := r.openHead(chain, h); err != nil {
			var terr *TamperError
			if errors.As(err, &terr) {
				c.problems = append(c.problems, terr.Problems...)
			}
		}
	}
	for i := range evs {
		if h == nil || evs[i].Seq > h.Seq {
			c.sealed = evs[:i]
			break
		}
	}
	l, err := r.replay(chain, h, evs, true)
	if err != nil {
		var terr *TamperError
		if errors.As(err, &terr) {
			c.problems = append(c.problems, terr.Problems...)
		}
		return c
	}
	if h != nil && len(c.problems) == 0 && !bytes.Equal(l.pruned().encodeState(), h.State) {
		c.problems = append(c.problems, Problem{ProblemHead, chain, h.Seq, "", "the head's state does not match the chain's events"})
	}
	if len(c.problems) == 0 {
		c.ledger = l
	}
	return c
}

// reread reads a chain again, consistently while others append to it: its
// events, then its head, then the events appended in between. A row after
// the head among the first events is one the head does not cover; one
// among the later events may be an append after the head was read, and is
// left for the next walk.
func (r *Registry) reread(ctx context.Context, chain ChainID) (chainReport, error) {
	evs, err := r.store.Events(ctx, string(chain), 1)
	if err != nil {
		return chainReport{}, err
	}
	h, err := r.readHead(ctx, chain)
	if err != nil {
		return chainReport{}, err
	}
	var last uint64
	if n := len(evs); n > 0 {
		last = evs[n-1].Seq
	}
	if h != nil && h.Seq > last {
		more, err := r.store.Events(ctx, string(chain), last+1)
		if err != nil {
			return chainReport{}, err
		}
		for _, e := range more {
			if e.Seq <= h.Seq {
				evs = append(evs, e)
			}
		}
	}
	return r.checkChain(chain, h, evs), nil
}

// The page sizes of a walk through the store.
const (
	headsPage  = 500
	eventsPage = 2000
)

// walk reads every chain of the store, with its head, in the order of chain
// ids, checks it, and calls visit with it. The heads and the events are
// read page by page, at different moments; a chain that does not check out
// is read again on its own (see reread), in case it was appended to in
// between.
func (r *Registry) walk(ctx context.Context, visit func(c *chainReport)) error {
	heads := pager[store.Head]{next: func(after *store.Head) ([]store.Head, error) {
		from := ""
		if after != nil {
			from = after.Chain
		}
		return r.store.Heads(ctx, from, headsPage)
	}}
	events := pager[store.Event]{next: func(after *store.Event) ([]store.Event, error) {
		chain, seq := "", uint64(0)
		if after != nil {
			chain, seq = after.Chain, after.Seq
		}
		return r.store.Scan(ctx, chain, seq, eventsPage)
	}}
	for {
		h, err := heads.peek()
		if err != nil {
			return err
		}
		e, err := events.peek()
		if err != nil {
			return err
		}
		var chain string
		switch {
		case h == nil && e == nil:
			return nil
		case h == nil:
			chain = e.Chain
		case e == nil:
			chain = h.Chain
		default:
			chain = min(h.Chain, e.Chain)
		}
		var head *store.Head
		if h != nil && h.Chain == chain {
			c := *h
			head = &c
			heads.take()
		}
		var evs []store.Event
		for {
			e, err := events.peek()
			if err != nil {
				return err
			}
			if e == nil || e.Chain != chain {
				break
			}
			evs = append(evs, *e)
			events.take()
		}
		c := r.checkChain(ChainID(chain), head, evs)
		if len(c.problems) > 0 {
			if c, err = r.reread(ctx, ChainID(chain)); err != nil {
				return err
			}
		}
		visit(&c)
	}
}

// pager reads a sorted stream page by page.
type pager[T any] struct {
	next func(after *T) ([]T, error)
	page []T
	i    int
	last *T
	done bool
}

func (p *pager[T]) peek() (*T, error) {
	if p.i < len(p.page) {
		return &p.page[p.i], nil
	}
	if p.done {
		return nil, nil
	}
	page, err := p.next(p.last)
	if err != nil {
		return nil, err
	}
	p.page, p.i = page, 0
	if len(page) == 0 {
		p.done = true
		return nil, nil
	}
	return &p.page[0], nil
}

func (p *pager[T]) take() {
	x := p.page[p.i]
	p.last = &x
	p.i++
}

// Checkpoint is the registry's record of the head of every chain at one
// moment, kept in the store and chained to the checkpoint before it. Anchor
// its Digest outside the database, where the database's administrator
// cannot change it (in the access log that is mailed daily, a notary, a
// transparency log, an e-mail to the supervisor); [Registry.VerifyAnchor]
// later shows that no event the checkpoint covers was removed or changed,
// and that the store holds every checkpoint before it.
//
// The digest is SHA-256("zorgkit/consent/v2 checkpoint\n" || prev || u64(seq)
// || heads), where prev is the digest of the checkpoint before (32 zero
// bytes for the first), and each head of every chain, in the order of chain
// ids, is u32(len(chain)) || chain || u64(seq) || mac, with big-endian
// numbers and mac the MAC of the chain's last event. It is not keyed, so
// that whoever holds the anchor can check it against the heads. The store
// keeps, with each checkpoint, the heads that changed since the one before,
// sealed with the key.
type Checkpoint struct {
	Seq    uint64    `json:"seq"` // 1, 2, 3… in the store
	Time   time.Time `json:"time"`
	Chains int       `json:"chains"`         // the number of chains covered
	Events uint64    `json:"events"`         // the number of events covered
	Prev   string    `json:"prev,omitempty"` // the digest of the checkpoint before, hexadecimal
	Digest string    `json:"digest"`         // hexadecimal
}

const checkpointPrefix = "zorgkit/consent/v2 checkpoint\n"

// cpHead is the head of a chain as a checkpoint holds it.
type cpHead struct {
	seq uint64
	mac []byte
}

// digest computes the digest of a checkpoint over every chain's head.
func digest(prev string, seq uint64, heads map[ChainID]cpHead) string {
	h := sha256.New()
	h.Write([]byte(checkpointPrefix))
	p, err := hex.DecodeString(prev)
	if err != nil || len(p) != sha256.Size {
		p = zeroMAC[:]
	}
	h.Write(p)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], seq)
	h.Write(n[:])
	chains := make([]ChainID, 0, len(heads))
	for c := range heads {
		chains = append(chains, c)
	}
	slices.Sort(chains)
	for _, c := range chains {
		writeField(h, string(c))
		binary.BigEndian.PutUint64(n[:], heads[c].seq)
		h.Write(n[:])
		h.Write(heads[c].mac)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// encodeCheckpoint returns the payload of a checkpoint with the heads that
// changed since the one before.
func encodeCheckpoint(cp *Checkpoint, changed map[ChainID]cpHead) []byte {
	w := canon.Writer{}
	w.Open()
	w.Uint("v", formatV2)
	w.Uint("seq", cp.Seq)
	w.Time("time", cp.Time, false)
	w.Uint("chains", uint64(cp.Chains))
	w.Uint("events", cp.Events)
	w.Optional("prev", cp.Prev)
	w.String("digest", cp.Digest)
	chains := make([]ChainID, 0, len(changed))
	for c := range changed {
		chains = append(chains, c)
	}
	slices.Sort(chains)
	w.Array("heads")
	for _, c := range chains {
		w.Next()
		w.Open()
		w.String("chain", string(c))
		w.Uint("seq", changed[c].seq)
		w.String("mac", hex.EncodeToString(changed[c].mac))
		w.Close()
	}
	w.End()
	w.Close()
	return w.B
}

func decodeCheckpoint(b []byte) (*Checkpoint, map[ChainID]cpHead, error) {
	cp := &Checkpoint{}
	changed := map[ChainID]cpHead{}
	r := canon.NewReader(b)
	r.Open()
	if v := r.Uint("v", true); v != formatV2 && r.Err() == nil {
		return nil, nil, fmt.Errorf("checkpoint of version %d", v)
	}
	cp.Seq = r.Uint("seq", false)
	cp.Time = r.Time("time", false, false)
	cp.Chains = int(r.Uint("chains", false))
	cp.Events = r.Uint("events", false)
	cp.Prev = r.Optional("prev")
	cp.Digest = r.String("digest", false)
	r.Array("heads", false)
	for i := 0; r.Next(i == 0); i++ {
		r.Open()
		c := ChainID(r.String("chain", true))
		seq := r.Uint("seq", false)
		mac, err := hex.DecodeString(r.String("mac", false))
		if err != nil {
			r.Fail("mac is not hexadecimal")
		}
		r.Close()
		changed[c] = cpHead{seq, mac}
	}
	r.Close()
	r.Done()
	if r.Err() != nil {
		return nil, nil, r.Err()
	}
	if !bytes.Equal(encodeCheckpoint(cp, changed), b) {
		return nil, nil, fmt.Errorf("checkpoint is not in canonical form")
	}
	return cp, changed, nil
}

func checkpointMAC(key, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(checkpointPrefix))
	m.Write(payload)
	return m.Sum(nil)
}

// ErrCheckpoint means the store's checkpoints do not verify, or hold no
// checkpoint with an anchored digest: one was changed or removed, or the
// anchor is not of this store.
var ErrCheckpoint = errors.New("consent: the stored checkpoints do not verify or lack the anchored one: investigate, and restore them from a backup")

// checkpoints reads and verifies the store's checkpoints in order, and
// calls visit with each and the heads of every chain it covers; visit
// returns false to stop.
func (r *Registry) checkpoints(ctx context.Context, visit func(cp *Checkpoint, heads map[ChainID]cpHead) bool) error {
	heads := map[ChainID]cpHead{}
	prev := ""
	for after := uint64(0); ; {
		page, err := r.store.Checkpoints(ctx, after, 100)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		for _, s := range page {
			if !hmac.Equal(checkpointMAC(r.key, s.Payload), s.MAC) {
				return fmt.Errorf("%w: checkpoint %d: its MAC does not match", ErrCheckpoint, s.Seq)
			}
			cp, changed, err := decodeCheckpoint(s.Payload)
			if err != nil {
				return fmt.Errorf("%w: checkpoint %d: %v", ErrCheckpoint, s.Seq, err)
			}
			if cp.Seq != s.Seq || cp.Seq != after+1 || cp.Prev != prev {
				return fmt.Errorf("%w: checkpoint %d does not follow checkpoint %d", ErrCheckpoint, s.Seq, after)
			}
			for c, h := range changed {
				heads[c] = h
			}
			if !visit(cp, heads) {
				return nil
			}
			after, prev = cp.Seq, cp.Digest
		}
	}
}

// compare checks a chain of a walk against the heads of a checkpoint: it
// must still hold, unchanged, the event the checkpoint holds.
func compare(c *chainReport, against map[ChainID]cpHead) []Problem {
	want, ok := against[c.chain]
	if !ok {
		return nil
	}
	for _, e := range c.sealed {
		if e.Seq == want.seq {
			if !hmac.Equal(e.MAC, want.mac) {
				return []Problem{{ProblemRewritten, c.chain, want.seq, RecordID(e.Record), "differs from the event in the checkpoint"}}
			}
			return nil
		}
	}
	return []Problem{{ProblemTruncated, c.chain, want.seq, "", "the chain no longer holds the checkpoint's last event"}}
}

// Verify reads every chain and its head, checks every event, the heads and
// the store's checkpoints, compares every chain with the last checkpoint,
// and stores a new checkpoint of what it verified, which it returns. A
// non-nil error is a [*TamperError] (wrapping [ErrTampered]) that names every
// event that does not verify, an error wrapping [ErrCheckpoint], or a
// storage error; nothing is then stored.
//
// Within a chain, Verify detects changed, removed and reordered events;
// with the head, events cut off the end and rows added behind the registry's
// back; with the last checkpoint, a chain rolled back as a whole, head and
// all, or removed. Only an anchor outside the database ([Registry.VerifyAnchor])
// shows that the store as a whole, checkpoints too, was not rolled back.
func (r *Registry) Verify(ctx context.Context) (Checkpoint, error) {
	now, err := r.clock()
	if err != nil {
		return Checkpoint{}, err
	}
	var last *Checkpoint
	lastHeads := map[ChainID]cpHead{}
	err = r.checkpoints(ctx, func(cp *Checkpoint, heads map[ChainID]cpHead) bool {
		last, lastHeads = cp, heads
		return true
	})
	if err != nil {
		return Checkpoint{}, err
	}
	heads, events, problems, err := r.audit(ctx, lastHeads, nil)
	if err != nil {
		return Checkpoint{}, err
	}
	if len(problems) > 0 {
		return Checkpoint{}, &TamperError{Problems: problems}
	}
	cp := Checkpoint{Seq: 1, Time: now, Chains: len(heads), Events: events}
	if last != nil {
		cp.Seq, cp.Prev = last.Seq+1, last.Digest
	}
	cp.Digest = digest(cp.Prev, cp.Seq, heads)
	changed := map[ChainID]cpHead{}
	for c, h := range heads {
		if old, ok := lastHeads[c]; !ok || old.seq != h.seq || !bytes.Equal(old.mac, h.mac) {
			changed[c] = h
		}
	}
	payload := encodeCheckpoint(&cp, changed)
	err = r.store.AppendCheckpoint(ctx, store.Checkpoint{Seq: cp.Seq, Payload: payload, MAC: checkpointMAC(r.key, payload)})
	if errors.Is(err, store.ErrConflict) {
		return Checkpoint{}, fmt.Errorf("consent: another Verify stored checkpoint %d at the same time: run Verify again", cp.Seq)
	}
	if err != nil {
		return Checkpoint{}, err
	}
	r.states.raiseFloors(heads)
	r.states.verified(cp)
	return cp, nil
}

// LoadCheckpoints reads the checkpoints stored since it last ran (all of
// them the first time) and remembers the head of every chain they cover:
// from then on the registry refuses to decide on or append to a chain whose
// head is behind the one a checkpoint holds, or that is gone, with a
// [*TamperError] of [ProblemTruncated], as it does for the heads it saw
// itself. It returns the last checkpoint that verified (Seq 0 if none).
//
// The registry calls it itself before its first decision or change, so a
// registry started after the store was rolled back, while no registry ran,
// refuses the chains rolled back behind the last checkpoint without a
// Verify; call it at start-up to pay for it there, and to learn of stored
// checkpoints that do not verify. It reads the checkpoints (a few rows a
// day), not the events, and keeps about 40 bytes per chain.
//
// A checkpoint that does not verify, or does not follow the one before, is
// skipped and reported in an error wrapping [ErrCheckpoint] (also logged to
// [Config.Logger]): the others still count, so that a row added behind the
// registry's back does not stop every decision. Verify reports it too.
//
// What remains: a chain rolled back to a head after the last checkpoint's
// while no registry that saw the later head runs (the server is down, or
// another instance never read the chain) leaves no trace in the store, since
// no checkpoint covers the lost events, so neither this, Verify nor
// VerifyAnchor finds it. Make checkpoints often (Verify) to keep that window
// short; a registry that runs on reads the checkpoints that others store
// only when this is called again.
func (r *Registry) LoadCheckpoints(ctx context.Context) (Checkpoint, error) {
	r.states.load.Lock()
	defer r.states.load.Unlock()
	return r.readCheckpoints(ctx)
}

// loadCheckpoints reads the checkpoints once, before the registry's first
// decision or change. Checkpoints that do not verify do not stop it.
func (r *Registry) loadCheckpoints(ctx context.Context) error {
	if r.states.loaded.Load() {
		return nil
	}
	r.states.load.Lock()
	defer r.states.load.Unlock()
	if r.states.loaded.Load() { // by another caller meanwhile
		return nil
	}
	if _, err := r.readCheckpoints(ctx); err != nil && !errors.Is(err, ErrCheckpoint) {
		return err
	}
	return nil
}

// readCheckpoints is LoadCheckpoints; r.states.load is held.
func (r *Registry) readCheckpoints(ctx context.Context) (Checkpoint, error) {
	c := &r.states
	var bad []error
	for {
		page, err := r.store.Checkpoints(ctx, c.read.seq, 100)
		if err != nil {
			return c.read.last, err
		}
		if len(page) == 0 {
			break
		}
		for _, s := range page {
			after := c.read.seq
			c.read.seq = max(c.read.seq, s.Seq)
			if !hmac.Equal(checkpointMAC(r.key, s.Payload), s.MAC) {
				bad = append(bad, fmt.Errorf("checkpoint %d: its MAC does not match", s.Seq))
				continue
			}
			cp, changed, err := decodeCheckpoint(s.Payload)
			if err != nil {
				bad = append(bad, fmt.Errorf("checkpoint %d: %v", s.Seq, err))
				continue
			}
			if cp.Seq != s.Seq {
				bad = append(bad, fmt.Errorf("checkpoint %d holds checkpoint %d", s.Seq, cp.Seq))
				continue
			}
			// A checkpoint sealed by the key holds heads that the chains
			// once had, wherever it stands: they count all the same.
			c.raiseFloors(changed)
			if cp.Seq != after+1 || cp.Prev != c.read.digest {
				bad = append(bad, fmt.Errorf("checkpoint %d does not follow checkpoint %d", cp.Seq, after))
			}
			c.read.digest, c.read.last = cp.Digest, *cp
		}
	}
	c.loaded.Store(true)
	if len(bad) > 0 {
		err := fmt.Errorf("%w: %w", ErrCheckpoint, errors.Join(bad...))
		r.logger.ErrorContext(ctx, "consent: stored checkpoints do not verify", slog.String("err", err.Error()))
		return c.read.last, err
	}
	return c.read.last, nil
}

// verified notes that Verify stored cp, after reading and verifying every
// checkpoint before it and raising the floors to its heads: the
// checkpoints need not be read again.
func (c *stateCache) verified(cp Checkpoint) {
	c.load.Lock()
	defer c.load.Unlock()
	if cp.Seq > c.read.seq {
		c.read = readCheckpoints{seq: cp.Seq, digest: cp.Digest, last: cp}
	}
	c.loaded.Store(true)
}

// audit walks the store and returns the head of every chain that verifies,
// the number of events, and every problem, also against the heads of a
// checkpoint. It calls visit, if not nil, with every chain that verifies.
func (r *Registry) audit(ctx context.Context, against map[ChainID]cpHead, visit func(c *chainReport)) (map[ChainID]cpHead, uint64, []Problem, error) {
	heads := map[ChainID]cpHead{}
	var events uint64
	var problems []Problem
	seen := map[ChainID]bool{}
	// The heads this registry saw, taken before the walk: a head the walk
	// reads is at least as far, unless the chain was cut behind its back.
	high := r.states.marks()
	err := r.walk(ctx, func(c *chainReport) {
		seen[c.chain] = true
		problems = append(problems, c.problems...)
		if len(c.problems) == 0 {
			problems = append(problems, compare(c, against)...)
		}
		if c.ledger != nil {
			heads[c.chain] = cpHead{c.head.Seq, bytes.Clone(c.head.MAC)}
			events += uint64(len(c.sealed))
			if visit != nil {
				visit(c)
			}
		}
	})
	if err != nil {
		return nil, 0, nil, err
	}
	var missing []ChainID
	for c := range against {
		if !seen[c] {
			missing = append(missing, c)
		}
	}
	slices.Sort(missing)
	for _, c := range missing {
		problems = append(problems, Problem{ProblemTruncated, c, against[c].seq, "", "the chain is gone"})
	}
	// What the checkpoint does not cover yet, this registry may know: a
	// chain that it saw further, cut or removed since, head and all.
	reported := map[ChainID]bool{}
	for _, p := range problems {
		reported[p.Chain] = true
	}
	var behind []Problem
	for c, seq := range high {
		if h, ok := heads[c]; seq > 0 && !reported[c] && (!ok || h.seq < seq) {
			behind = append(behind, rollback(c, seq, h.seq).Problems...)
		}
	}
	slices.SortFunc(behind, func(a, b Problem) int { return strings.Compare(string(a.Chain), string(b.Chain)) })
	return heads, events, append(problems, behind...), nil
}

// VerifyAnchor checks the store against a checkpoint digest anchored
// outside the database: the store still holds that checkpoint and every
// one before it, and every chain still holds, unchanged and verified, every
// event the checkpoint covers (chains may have grown since). A non-nil
// error wraps [ErrCheckpoint] (no stored checkpoint has the digest: it was
// removed, or the store rolled back before it) or [ErrTampered].
func (r *Registry) VerifyAnchor(ctx context.Context, digest string) error {
	var anchored map[ChainID]cpHead
	err := r.checkpoints(ctx, func(cp *Checkpoint, heads map[ChainID]cpHead) bool {
		if cp.Digest == digest {
			anchored = heads
			return false
		}
		return true
	})
	if err != nil {
		return err
	}
	if anchored == nil {
		return fmt.Errorf("%w: no stored checkpoint has the digest %s", ErrCheckpoint, digest)
	}
	_, _, problems, err := r.audit(ctx, anchored, nil)
	if err != nil {
		return err
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
// tool: such a row may take the place of the next event, so that nothing
// can be appended to the chain. Run [Registry.Verify], check the problem it
// names, and quarantine that event by its chain and sequence number. Only
// an event that Verify blames can be quarantined, so no verified event can
// be made to disappear this way, and quarantine does not hide tampering: an
// event quarantined from the middle of a chain leaves a gap that Verify
// keeps reporting.
func (r *Registry) Quarantine(ctx context.Context, chain ChainID, seq uint64, c Change) error {
	now, err := r.clock()
	if err != nil {
		return err
	}
	c.At = time.Time{}
	if err := c.validate(now, true); err != nil {
		return err
	}
	report, err := r.reread(ctx, chain)
	if err != nil {
		return err
	}
	evs, err := r.store.Events(ctx, string(chain), seq)
	if err != nil {
		return err
	}
	if len(evs) == 0 || evs[0].Seq != seq {
		return ErrNotFound
	}
	p := slices.IndexFunc(report.problems, func(p Problem) bool {
		return p.Seq == seq && p.Kind != ProblemRemoved && p.Kind != ProblemTruncated && p.Kind != ProblemHead
	})
	if p < 0 {
		return fieldError("seq", "names an event that verifies: only an event that does not verify can be quarantined")
	}
	q := store.Quarantined{Event: evs[0], At: now, By: c.By.User + " (" + string(c.By.Organisation) + ")", Reason: c.Reason}
	if err := r.store.Quarantine(ctx, q); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotFound
		}
		return err
	}
	r.logger.WarnContext(ctx, "consent: event quarantined",
		slog.String("chain", string(chain)), slog.Uint64("seq", seq), slog.String("record", evs[0].Record),
		slog.String("problem", report.problems[p].String()),
		slog.String("by", c.By.User), slog.String("organisation", string(c.By.Organisation)), slog.String("reason", c.Reason))
	return nil
}

// RepairHeads writes a new head for every chain whose head is missing or
// does not verify ([ProblemHead]), from the chain's events, when they
// verify and hold every event the last checkpoint covers and the last head
// of the chain that this registry saw; c.Reason is required and c.At is
// ignored. It returns the chains repaired, each also
// logged to [Config.Logger], and an error for the chains it could not
// repair (their events do not verify: quarantine what Verify names first).
//
// Run it once after upgrading a store written before heads existed, and
// when Verify reports a damaged head. A head cannot be repaired from events
// that were cut off since the last checkpoint: their loss shows only against
// the checkpoint, so keep making and anchoring checkpoints.
func (r *Registry) RepairHeads(ctx context.Context, c Change) ([]ChainID, error) {
	now, err := r.clock()
	if err != nil {
		return nil, err
	}
	c.At = time.Time{}
	if err := c.validate(now, true); err != nil {
		return nil, err
	}
	lastHeads := map[ChainID]cpHead{}
	if err := r.checkpoints(ctx, func(_ *Checkpoint, heads map[ChainID]cpHead) bool {
		lastHeads = heads
		return true
	}); err != nil {
		return nil, err
	}
	var broken []ChainID
	err = r.walk(ctx, func(c *chainReport) {
		if len(c.problems) > 0 && !slices.ContainsFunc(c.problems, func(p Problem) bool { return p.Kind != ProblemHead }) {
			broken = append(broken, c.chain)
		}
	})
	if err != nil {
		return nil, err
	}
	var repaired []ChainID
	var errs []error
	for _, chain := range broken {
		err := r.store.Update(ctx, string(chain), func(h *store.Head, read store.EventReader) (*store.Batch, error) {
			evs, err := read(1)
			if err != nil {
				return nil, err
			}
			if len(r.checkChain(chain, h, evs).problems) == 0 {
				return nil, nil // repaired meanwhile
			}
			events, problems := verifyChain(r.key, chain, evs)
			report := chainReport{chain: chain, sealed: evs}
			problems = append(problems, compare(&report, lastHeads)...)
			if len(problems) > 0 || len(events) == 0 {
				return nil, &TamperError{Problems: problems}
			}
			if err := r.states.rolledBack(chain, &store.Head{Seq: evs[len(evs)-1].Seq}); err != nil {
				return nil, err // this registry saw a later head: the tail is gone
			}
			l := fullLedger()
			for _, e := range events {
				l.apply(e)
			}
			l.headMAC = evs[len(evs)-1].MAC
			return &store.Batch{Head: r.head(chain, l)}, nil
		})
		if err != nil {
			errs = append(errs, err) // the others are repaired all the same
			continue
		}
		repaired = append(repaired, chain)
		r.logger.WarnContext(ctx, "consent: head repaired", slog.String("chain", string(chain)),
			slog.String("by", c.By.User), slog.String("organisation", string(c.By.Organisation)), slog.String("reason", c.Reason))
	}
	return repaired, errors.Join(errs...)
}

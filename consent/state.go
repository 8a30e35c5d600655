package consent

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/zorgkit/zorgkit/consent/internal/canon"
	"github.com/zorgkit/zorgkit/consent/store"
)

// The head of a chain holds, besides the sequence number and MAC of its last
// event, the chain's state: what a decision at or after the moment
// ledger.since needs, and nothing more, so that a decision reads one row and
// verifies one MAC however long the chain has grown. The head is sealed:
//
//	seal = HMAC-SHA256(key, "zorgkit/consent/v2 head\n" || u32(len(chain)) ||
//	       chain || u64(seq) || mac || state)
//
// with big-endian numbers, mac the last event's MAC (32 bytes) and state
// the canonical JSON below. Verify recomputes the state from the events and
// compares.
//
//	{"v":2, "since"*, "records": [{"seq", "id", "recordedAt", "by",
//	 "consent", "suspended"*}], "withdrawals": [{"seq", "id", "purpose",
//	 "at", "named"*}], "plans": [{"id", "plannedAt", "by", "plan"}]}
//
// with the members of the events of the same names (see Event).

const headPrefix = "zorgkit/consent/v2 head\n"

// headSeal returns the seal of a head.
func headSeal(key []byte, chain ChainID, seq uint64, mac, state []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(headPrefix))
	writeField(m, string(chain))
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], seq)
	m.Write(n[:])
	m.Write(mac)
	m.Write(state)
	return m.Sum(nil)
}

// pruned returns a ledger with what decisions at or after l.since need: the
// statements that a later statement, started by then, has not superseded
// (an earlier statement never decides again once a later one has started),
// and the record that each withdrawal kept ended. The pruned ledger of a
// chain is the same whether it is computed from all events, or from the
// pruned ledger before the last events and those events; Verify checks it.
func (l *ledger) pruned() *ledger {
	p := newLedger()
	p.seq, p.headMAC, p.since, p.plans = l.seq, l.headMAC, l.since, l.plans
	keep := map[RecordID]bool{}
	for _, w := range l.withdrawals {
		if w.void || l.superseded(stmt{w: w}) {
			continue
		}
		p.withdrawals = append(p.withdrawals, w)
		if r := l.withdrawnRecord(w); r != nil {
			keep[r.ID] = true
		}
	}
	for _, id := range l.order {
		s := l.statuses[id]
		if s.Void() || !keep[id] && l.superseded(stmt{s: s}) {
			continue
		}
		c := &Status{Record: s.Record, seq: s.seq}
		if s.suspendedAt(l.since) {
			c.suspensions = []interval{{start: l.since}}
		}
		p.statuses[id] = c
		p.order = append(p.order, id)
	}
	return p
}

// encodeState returns the canonical encoding of a pruned ledger.
func (l *ledger) encodeState() []byte {
	w := canon.Writer{B: make([]byte, 0, 256+512*len(l.order))}
	w.Open()
	w.Uint("v", formatV2)
	w.Time("since", l.since, true)
	w.Array("records")
	for _, id := range l.order {
		s := l.statuses[id]
		w.Next()
		w.Open()
		w.Uint("seq", s.seq)
		w.String("id", string(id))
		w.Time("recordedAt", s.Record.RecordedAt, false)
		w.Key("by")
		writeActor(&w, s.Record.RecordedBy)
		w.Key("consent")
		writeConsent(&w, &s.Record)
		w.Bool("suspended", len(s.suspensions) > 0)
		w.Close()
	}
	w.End()
	w.Array("withdrawals")
	for _, x := range l.withdrawals {
		w.Next()
		w.Open()
		w.Uint("seq", x.seq)
		w.String("id", string(x.id))
		w.String("purpose", string(x.purpose))
		w.Time("at", x.at, false)
		w.Bool("named", x.named)
		w.Close()
	}
	w.End()
	w.Array("plans")
	for _, p := range l.plans {
		w.Next()
		w.Open()
		w.String("id", p.ID)
		w.Time("plannedAt", p.PlannedAt, false)
		w.Key("by")
		writeActor(&w, p.By)
		w.Key("plan")
		writePlan(&w, p)
		w.Close()
	}
	w.End()
	w.Close()
	return w.B
}

// decodeState reads a state written by encodeState.
func decodeState(b []byte) (*ledger, error) {
	l := newLedger()
	r := canon.NewReader(b)
	r.Open()
	if v := r.Uint("v", true); v != formatV2 && r.Err() == nil {
		return nil, fmt.Errorf("state of version %d", v)
	}
	l.since = r.Time("since", false, true)
	r.Array("records", false)
	for i := 0; r.Next(i == 0); i++ {
		s := &Status{}
		r.Open()
		s.seq = r.Uint("seq", true)
		s.Record.ID = RecordID(r.String("id", false))
		s.Record.RecordedAt = r.Time("recordedAt", false, false)
		r.Key("by", false)
		s.Record.RecordedBy = readActor(r)
		r.Key("consent", false)
		readConsent(r, &s.Record)
		if r.Bool("suspended") {
			s.suspensions = []interval{{start: l.since}}
		}
		r.Close()
		if r.Err() != nil {
			break
		}
		l.statuses[s.Record.ID] = s
		l.order = append(l.order, s.Record.ID)
	}
	r.Array("withdrawals", false)
	for i := 0; r.Next(i == 0); i++ {
		w := &withdrawal{}
		r.Open()
		w.seq = r.Uint("seq", true)
		w.id = RecordID(r.String("id", false))
		w.purpose = Purpose(r.String("purpose", false))
		w.at = r.Time("at", false, false)
		w.named = r.Bool("named")
		r.Close()
		l.withdrawals = append(l.withdrawals, w)
	}
	r.Array("plans", false)
	for i := 0; r.Next(i == 0); i++ {
		r.Open()
		id := r.String("id", true)
		at := r.Time("plannedAt", false, false)
		r.Key("by", false)
		by := readActor(r)
		r.Key("plan", false)
		p := readPlan(r)
		r.Close()
		p.ID, p.PlannedAt, p.By = id, at, by
		l.plans = append(l.plans, p)
	}
	r.Close()
	r.Done()
	if r.Err() != nil {
		return nil, fmt.Errorf("state: %w", r.Err())
	}
	// The state's seal was checked before: the key's holder wrote it. (Verify
	// compares it byte for byte with the state the events give.)
	return l, nil
}

// checkSeal verifies a head's seal.
func (r *Registry) checkSeal(chain ChainID, h *store.Head) error {
	if h.Chain != string(chain) || !hmac.Equal(headSeal(r.key, chain, h.Seq, h.MAC, h.State), h.Seal) {
		return &TamperError{Problems: []Problem{{ProblemHead, chain, h.Seq, "", "the head's seal does not match"}}}
	}
	return nil
}

// openHead verifies a head's seal and returns the pruned ledger it holds.
func (r *Registry) openHead(chain ChainID, h *store.Head) (*ledger, error) {
	if h == nil {
		return newLedger(), nil
	}
	if err := r.checkSeal(chain, h); err != nil {
		return nil, err
	}
	l, err := decodeState(h.State)
	if err != nil { // sealed by the key: only a bug writes this
		return nil, &TamperError{Problems: []Problem{{ProblemHead, chain, h.Seq, "", err.Error()}}}
	}
	l.seq, l.headMAC = h.Seq, h.MAC
	return l, nil
}

// head returns the sealed head of a ledger after its last event.
func (r *Registry) head(chain ChainID, l *ledger) store.Head {
	state := l.pruned().encodeState()
	return store.Head{
		Chain: string(chain),
		Seq:   l.seq,
		MAC:   bytes.Clone(l.headMAC),
		State: state,
		Seal:  headSeal(r.key, chain, l.seq, l.headMAC, state),
	}
}

// stateCache keeps the decoded states of the heads read last, so that a
// decision on a chain that did not change since verifies its head's seal but
// does not decode its state again. A seal that verifies and equals the one
// cached is of the same head, since the seal is a MAC of the whole head. The
// ledgers in the cache are read, never changed.
//
// It also keeps, per chain, the highest sequence number of a head that
// verified (its high-water mark): a chain's head never goes back, so a head
// with a lower one, or none, is a chain rolled back, head and all, behind
// the registry's back. A sealed old head verifies, so only this memory, or
// a checkpoint (Verify), finds it.
//
// And, for every chain the checkpoints read cover, the sequence number of
// its head in the last of them (its floor): the same memory for what the
// registry did not see itself, such as the chains' heads before it started.
// The floors are keyed by a hash of the chain id, 8 bytes instead of the id,
// so that a store's every chain fits (about 40 bytes a chain in the map);
// two chains with the same hash (about one in 10^7 with a million chains,
// and another pair at each start) share the higher floor, which can only
// refuse, never allow.
type stateCache struct {
	mu      sync.Mutex
	entries map[ChainID]cachedState
	high    map[ChainID]uint64
	floors  map[uint64]uint64
	seed    maphash.Seed

	// The checkpoints read: loading holds load while it reads; loaded is
	// set once they were read (or verified) and read says up to which.
	load   sync.Mutex
	loaded atomic.Bool
	read   readCheckpoints
}

// readCheckpoints is how far a registry has read the stored checkpoints.
type readCheckpoints struct {
	seq    uint64     // of the last one read
	digest string     // of the last one read that verified in its place
	last   Checkpoint // the last one that verified
}

type cachedState struct {
	seal   []byte
	ledger *ledger
}

// maxCachedStates bounds the cache: a few megabytes at most. maxHighWater
// bounds the high-water marks: about 150 bytes each, 10 MB at most.
const (
	maxCachedStates = 1024
	maxHighWater    = 1 << 16
)

func (c *stateCache) get(chain ChainID, seal []byte) *ledger {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[chain]; ok && bytes.Equal(e.seal, seal) {
		return e.ledger
	}
	return nil
}

func (c *stateCache) put(chain ChainID, seal []byte, l *ledger) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[ChainID]cachedState)
	}
	if _, ok := c.entries[chain]; !ok && len(c.entries) >= maxCachedStates {
		for k := range c.entries { // an arbitrary one: map order is random
			delete(c.entries, k)
			break
		}
	}
	c.entries[chain] = cachedState{bytes.Clone(seal), l}
}

// rolledBack reports a head (nil: none) that is behind the highest one seen
// of its chain.
func (c *stateCache) rolledBack(chain ChainID, h *store.Head) error {
	var seq uint64
	if h != nil {
		seq = h.Seq
	}
	c.mu.Lock()
	high := c.mark(chain)
	c.mu.Unlock()
	if seq >= high {
		return nil
	}
	return rollback(chain, high, seq)
}

// advance is rolledBack and, if the head is not behind, saw, in one.
func (c *stateCache) advance(chain ChainID, h *store.Head) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if high := c.mark(chain); h.Seq < high {
		return rollback(chain, high, h.Seq)
	}
	c.raise(chain, h.Seq)
	return nil
}

// mark returns how far a chain's head must at least stand: its high-water
// mark or its floor, whichever is higher. c.mu is held.
func (c *stateCache) mark(chain ChainID) uint64 {
	if c.floors == nil {
		return c.high[chain]
	}
	return max(c.high[chain], c.floors[maphash.String(c.seed, string(chain))])
}

// raiseFloors raises the floors of the chains to the heads of a checkpoint.
func (c *stateCache) raiseFloors(heads map[ChainID]cpHead) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.floors == nil {
		c.floors = make(map[uint64]uint64, len(heads))
		c.seed = maphash.MakeSeed()
	}
	for chain, h := range heads {
		k := maphash.String(c.seed, string(chain))
		c.floors[k] = max(c.floors[k], h.seq)
	}
}

// rollback returns the error of a chain whose head went back from high to
// seq.
func rollback(chain ChainID, high, seq uint64) *TamperError {
	return &TamperError{Problems: []Problem{{ProblemTruncated, chain, high, "",
		fmt.Sprintf("the chain's head went back from event %d to %d: the chain was rolled back behind the registry's back", high, seq)}}}
}

// marks returns a copy of the high-water marks.
func (c *stateCache) marks() map[ChainID]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.high)
}

// saw raises the high-water mark of a chain to seq.
func (c *stateCache) saw(chain ChainID, seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.raise(chain, seq)
}

// raise raises the high-water mark of a chain to seq; a chain without one
// gets one, if need be in place of an arbitrary other. c.mu is held.
func (c *stateCache) raise(chain ChainID, seq uint64) {
	if seq == 0 { // no head: nothing to remember
		return
	}
	if c.high == nil {
		c.high = make(map[ChainID]uint64)
	}
	if high, ok := c.high[chain]; ok {
		c.high[chain] = max(high, seq)
		return
	}
	if len(c.high) >= maxHighWater {
		for k := range c.high { // an arbitrary one: map order is random
			delete(c.high, k)
			break
		}
	}
	c.high[chain] = seq
}

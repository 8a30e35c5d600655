package consent

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// Store keeps sealed events, append-only, in chains. It never interprets a
// payload: sealing, verifying and deciding happen in the [Registry], so every
// Store gets them alike. Package consent/consenttest checks that a Store
// keeps this contract.
//
// A Store must be safe for concurrent use.
type Store interface {
	// Append adds events to the end of one chain, atomically: all or none.
	// The events have consecutive Seq numbers; the first one's Seq is one
	// more than the chain's last event (1 for a new chain) and its Prev is
	// that event's MAC (32 zero bytes for a new chain). If the chain has
	// moved on, or does not end where the events say, Append adds nothing
	// and returns an error that wraps [ErrConflict].
	Append(ctx context.Context, events []SealedEvent) error

	// Chain returns the events of a chain in the order of their Seq, or an
	// empty slice for an unknown chain.
	Chain(ctx context.Context, chain ChainID) ([]SealedEvent, error)

	// Locate returns the chain that holds the events of a record (or
	// withdrawal): the chain of any event whose Record is the given id, or
	// an error that wraps [ErrNotFound].
	Locate(ctx context.Context, record RecordID) (ChainID, error)

	// Heads returns the last event of at most limit chains whose id sorts
	// after the given one, in the order of their ids; after "" starts at the
	// beginning. An empty result means there are no more chains.
	Heads(ctx context.Context, after ChainID, limit int) ([]Head, error)

	// Population returns the ids of the records whose given event matches f,
	// sorted.
	Population(ctx context.Context, f Filter) ([]RecordID, error)

	// Quarantine moves the stored event at q.Event.Chain and q.Event.Seq
	// out of its chain, into a quarantine that keeps it with q's note,
	// atomically. The stored event must equal q.Event in every field;
	// otherwise Quarantine changes nothing and returns an error that wraps
	// [ErrConflict], or [ErrNotFound] when there is no event at that place.
	Quarantine(ctx context.Context, q Quarantined) error
}

// Quarantined is a stored event that [Registry.Quarantine] moved out of its
// chain, with who did it, when and why.
type Quarantined struct {
	Event  SealedEvent
	At     time.Time
	By     Actor
	Reason string
}

// Head is the last event of a chain.
type Head struct {
	Chain ChainID `json:"chain"`
	Seq   uint64  `json:"seq"`
	MAC   []byte  `json:"mac"`
}

// Filter selects given events for a spot-check population. Empty fields
// select everything; the window [From, Until) applies to the moment the
// record was recorded and is required.
type Filter struct {
	Organisation Organisation `json:"organisation,omitempty"`
	Purpose      Purpose      `json:"purpose,omitempty"`
	Decision     Decision     `json:"decision,omitempty"`
	From         time.Time    `json:"from"`
	Until        time.Time    `json:"until"`
}

// Matches reports whether a sealed given event is in f.
func (f Filter) Matches(e *SealedEvent) bool {
	return e.Kind == EventGiven &&
		(f.Organisation == "" || e.Organisation == f.Organisation) &&
		(f.Purpose == "" || e.Purpose == f.Purpose) &&
		(f.Decision == "" || e.Decision == f.Decision) &&
		!e.RecordedAt.Before(f.From) && e.RecordedAt.Before(f.Until)
}

// MemoryStore is a [Store] in memory, for tests and small tools. Its zero
// value is not usable; call [NewMemoryStore].
type MemoryStore struct {
	mu          sync.RWMutex
	chains      map[ChainID][]SealedEvent
	records     map[RecordID]ChainID
	quarantined []Quarantined
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{chains: make(map[ChainID][]SealedEvent), records: make(map[RecordID]ChainID)}
}

// Append implements [Store].
func (m *MemoryStore) Append(ctx context.Context, events []SealedEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := CheckBatch(events); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	id := events[0].Chain
	chain := m.chains[id]
	if !follows(chain, &events[0]) {
		return conflictError(id)
	}
	for _, e := range events {
		chain = append(chain, e.clone())
		if _, ok := m.records[e.Record]; !ok {
			m.records[e.Record] = id
		}
	}
	m.chains[id] = chain
	return nil
}

// follows reports whether e is the next event after chain.
func follows(chain []SealedEvent, e *SealedEvent) bool {
	if len(chain) == 0 {
		return e.Seq == 1 && bytes.Equal(e.Prev, zeroMAC[:])
	}
	last := &chain[len(chain)-1]
	return e.Seq == last.Seq+1 && bytes.Equal(e.Prev, last.MAC)
}

var zeroMAC [32]byte

// CheckBatch checks that events are a non-empty run of consecutive events of
// one chain, each one's Prev the MAC of the one before. Store implementations
// call it at the start of Append.
func CheckBatch(events []SealedEvent) error {
	if len(events) == 0 {
		return fieldError("events", "is empty")
	}
	if events[0].Seq == 0 {
		return fieldError("events", "start at Seq 0: the first event of a chain is 1")
	}
	for i := 1; i < len(events); i++ {
		if events[i].Chain != events[0].Chain || !follows(events[i-1:i], &events[i]) {
			return fieldError("events", "are not consecutive events of one chain")
		}
	}
	return nil
}

func conflictError(chain ChainID) error {
	return &ConflictError{Chain: chain}
}

// ConflictError is returned by [Store.Append] when the chain does not end
// where the appended events say. It wraps [ErrConflict].
type ConflictError struct {
	Chain ChainID
}

func (e *ConflictError) Error() string {
	return "consent: chain " + string(e.Chain) + " moved on during the append: retry the operation"
}

// Unwrap returns ErrConflict.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// Chain implements [Store].
func (m *MemoryStore) Chain(ctx context.Context, chain ChainID) ([]SealedEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	events := make([]SealedEvent, len(m.chains[chain]))
	for i, e := range m.chains[chain] {
		events[i] = e.clone()
	}
	return events, nil
}

// Locate implements [Store].
func (m *MemoryStore) Locate(ctx context.Context, record RecordID) (ChainID, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	id, ok := m.records[record]
	if !ok {
		return "", ErrNotFound
	}
	return id, nil
}

// Heads implements [Store].
func (m *MemoryStore) Heads(ctx context.Context, after ChainID, limit int) ([]Head, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var ids []ChainID
	for id := range m.chains {
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ids = ids[:min(limit, len(ids))]
	heads := make([]Head, len(ids))
	for i, id := range ids {
		last := m.chains[id][len(m.chains[id])-1]
		heads[i] = Head{Chain: id, Seq: last.Seq, MAC: bytes.Clone(last.MAC)}
	}
	return heads, nil
}

// Population implements [Store].
func (m *MemoryStore) Population(ctx context.Context, f Filter) ([]RecordID, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var ids []RecordID
	for _, chain := range m.chains {
		for i := range chain {
			if f.Matches(&chain[i]) {
				ids = append(ids, chain[i].Record)
			}
		}
	}
	slices.SortFunc(ids, func(a, b RecordID) int { return strings.Compare(string(a), string(b)) })
	return ids, nil
}

// Quarantine implements [Store].
func (m *MemoryStore) Quarantine(ctx context.Context, q Quarantined) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	chain := m.chains[q.Event.Chain]
	i := slices.IndexFunc(chain, func(e SealedEvent) bool { return e.Seq == q.Event.Seq })
	if i < 0 {
		return ErrNotFound
	}
	if !sameSealed(&chain[i], &q.Event) {
		return conflictError(q.Event.Chain)
	}
	q.Event = chain[i].clone()
	m.quarantined = append(m.quarantined, q)
	chain = slices.Delete(chain, i, i+1)
	if len(chain) == 0 {
		delete(m.chains, q.Event.Chain)
	} else {
		m.chains[q.Event.Chain] = chain
	}
	if !slices.ContainsFunc(chain, func(e SealedEvent) bool { return e.Record == q.Event.Record }) {
		delete(m.records, q.Event.Record)
	}
	return nil
}

// sameSealed reports whether two sealed events are equal in every field.
func sameSealed(a, b *SealedEvent) bool {
	return a.Chain == b.Chain && a.Seq == b.Seq && a.Record == b.Record && a.Kind == b.Kind &&
		a.Organisation == b.Organisation && a.Purpose == b.Purpose && a.Decision == b.Decision &&
		a.RecordedAt.Equal(b.RecordedAt) && bytes.Equal(a.Payload, b.Payload) &&
		bytes.Equal(a.Prev, b.Prev) && bytes.Equal(a.MAC, b.MAC)
}

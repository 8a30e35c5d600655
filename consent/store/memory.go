package store

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
)

// Memory is a [Store] in memory, for tests and small tools: everything is
// lost when the process ends. Its zero value is not usable; call
// [NewMemory]. It is safe for concurrent use; updates are serialised.
type Memory struct {
	mu          sync.RWMutex
	chains      map[string][]Event
	heads       map[string]Head
	ids         map[string]Event // the first event of each id
	checkpoints []Checkpoint
	quarantined []Quarantined
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	return &Memory{chains: make(map[string][]Event), heads: make(map[string]Head), ids: make(map[string]Event)}
}

// Head implements [Store].
func (m *Memory) Head(ctx context.Context, chain string) (Head, error) {
	if err := ctx.Err(); err != nil {
		return Head{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	h, ok := m.heads[chain]
	if !ok {
		return Head{}, ErrNotFound
	}
	return h.clone(), nil
}

// Update implements [Store].
func (m *Memory) Update(ctx context.Context, chain string, fn func(head *Head, read EventReader) (*Batch, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var head *Head
	if h, ok := m.heads[chain]; ok {
		c := h.clone()
		head = &c
	}
	read := func(from uint64) ([]Event, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return m.events(chain, from), nil
	}
	b, err := fn(head, read)
	if err != nil || b == nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := CheckBatch(chain, head, b); err != nil {
		return err
	}
	stored := m.chains[chain]
	for _, e := range b.Events {
		if slices.ContainsFunc(stored, func(s Event) bool { return s.Seq == e.Seq }) {
			return ErrTaken
		}
	}
	for _, e := range b.Events {
		e = e.clone()
		stored = append(stored, e)
		if _, ok := m.ids[e.Record]; !ok {
			m.ids[e.Record] = e
		}
	}
	slices.SortFunc(stored, func(a, b Event) int { return compareSeq(a.Seq, b.Seq) })
	m.chains[chain] = stored
	m.heads[chain] = b.Head.clone()
	return nil
}

func compareSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// events returns copies of the events of chain from seq on; the caller
// holds the lock.
func (m *Memory) events(chain string, from uint64) []Event {
	events := []Event{}
	for _, e := range m.chains[chain] {
		if e.Seq >= from {
			events = append(events, e.clone())
		}
	}
	return events
}

// Events implements [Store].
func (m *Memory) Events(ctx context.Context, chain string, from uint64) ([]Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.events(chain, from), nil
}

// Locate implements [Store].
func (m *Memory) Locate(ctx context.Context, id string) (Event, error) {
	if err := ctx.Err(); err != nil {
		return Event{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	e, ok := m.ids[id]
	if !ok {
		return Event{}, ErrNotFound
	}
	return e.clone(), nil
}

// Heads implements [Store].
func (m *Memory) Heads(ctx context.Context, after string, limit int) ([]Head, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var ids []string
	for id := range m.heads {
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	heads := []Head{}
	for _, id := range ids[:min(max(limit, 0), len(ids))] {
		heads = append(heads, m.heads[id].clone())
	}
	return heads, nil
}

// Scan implements [Store].
func (m *Memory) Scan(ctx context.Context, chain string, seq uint64, limit int) ([]Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var ids []string
	for id := range m.chains {
		if id >= chain {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	events := []Event{}
	for _, id := range ids {
		for _, e := range m.chains[id] {
			if len(events) == limit {
				return events, nil
			}
			if id > chain || e.Seq > seq {
				events = append(events, e.clone())
			}
		}
	}
	return events, nil
}

// AppendCheckpoint implements [Store].
func (m *Memory) AppendCheckpoint(ctx context.Context, c Checkpoint) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if c.Seq != uint64(len(m.checkpoints))+1 {
		return ErrConflict
	}
	m.checkpoints = append(m.checkpoints, c.clone())
	return nil
}

// Checkpoints implements [Store].
func (m *Memory) Checkpoints(ctx context.Context, after uint64, limit int) ([]Checkpoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	cps := []Checkpoint{}
	for _, c := range m.checkpoints {
		if c.Seq > after && len(cps) < limit {
			cps = append(cps, c.clone())
		}
	}
	return cps, nil
}

// LastCheckpoint implements [Store].
func (m *Memory) LastCheckpoint(ctx context.Context) (Checkpoint, error) {
	if err := ctx.Err(); err != nil {
		return Checkpoint{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if len(m.checkpoints) == 0 {
		return Checkpoint{}, ErrNotFound
	}
	return m.checkpoints[len(m.checkpoints)-1].clone(), nil
}

// Quarantine implements [Store].
func (m *Memory) Quarantine(ctx context.Context, q Quarantined) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	chain := m.chains[q.Event.Chain]
	i := slices.IndexFunc(chain, func(e Event) bool { return e.Seq == q.Event.Seq })
	if i < 0 {
		return ErrNotFound
	}
	if !chain[i].equal(&q.Event) {
		return ErrConflict
	}
	q.Event = chain[i].clone()
	m.quarantined = append(m.quarantined, q)
	chain = slices.Delete(chain, i, i+1)
	if len(chain) == 0 {
		delete(m.chains, q.Event.Chain)
	} else {
		m.chains[q.Event.Chain] = chain
	}
	if first, ok := m.ids[q.Event.Record]; ok && first.Chain == q.Event.Chain && first.Seq == q.Event.Seq {
		delete(m.ids, q.Event.Record)
		for _, c := range m.chains {
			for _, e := range c {
				if f, ok := m.ids[e.Record]; e.Record == q.Event.Record && (!ok || before(&e, &f)) {
					m.ids[e.Record] = e
				}
			}
		}
	}
	return nil
}

// Quarantined returns the events in quarantine, in the order they were
// quarantined.
func (m *Memory) Quarantined() []Quarantined {
	m.mu.RLock()
	defer m.mu.RUnlock()
	q := make([]Quarantined, len(m.quarantined))
	for i, x := range m.quarantined {
		x.Event = x.Event.clone()
		q[i] = x
	}
	return q
}

func before(a, b *Event) bool {
	if c := strings.Compare(a.Chain, b.Chain); c != 0 {
		return c < 0
	}
	return a.Seq < b.Seq
}

func (e Event) clone() Event {
	e.Payload = bytes.Clone(e.Payload)
	e.Prev = bytes.Clone(e.Prev)
	e.MAC = bytes.Clone(e.MAC)
	return e
}

func (e *Event) equal(o *Event) bool {
	return e.Chain == o.Chain && e.Seq == o.Seq && e.Record == o.Record && e.Kind == o.Kind &&
		e.RecordedAt.Equal(o.RecordedAt) && bytes.Equal(e.Payload, o.Payload) &&
		bytes.Equal(e.Prev, o.Prev) && bytes.Equal(e.MAC, o.MAC)
}

func (h Head) clone() Head {
	h.MAC = bytes.Clone(h.MAC)
	h.State = bytes.Clone(h.State)
	h.Seal = bytes.Clone(h.Seal)
	return h
}

func (c Checkpoint) clone() Checkpoint {
	c.Payload = bytes.Clone(c.Payload)
	c.MAC = bytes.Clone(c.MAC)
	return c
}

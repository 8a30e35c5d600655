package throttle

import (
	"context"
	"sync"
)

// MemoryStore is a [Store] in the memory of one process, for a server with a
// single instance and for tests. It is safe for concurrent use. Its counts
// are lost when the process ends and are not shared between instances: a
// server with several instances needs a shared store, such as one in its
// SQL database (see [Store]).
type MemoryStore struct {
	mu    sync.Mutex
	state map[string]State
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{state: map[string]State{}} }

// Get implements [Store].
func (m *MemoryStore) Get(ctx context.Context, key string) (State, error) {
	if err := ctx.Err(); err != nil {
		return State{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state[key], nil
}

// Update implements [Store].
func (m *MemoryStore) Update(ctx context.Context, key string, f func(State) (State, error)) (State, error) {
	if err := ctx.Err(); err != nil {
		return State{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.state[key]
	s, err := f(old)
	if err != nil {
		return old, err
	}
	if s == (State{}) {
		delete(m.state, key)
	} else {
		m.state[key] = s
	}
	return s, nil
}

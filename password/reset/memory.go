package reset

import (
	"context"
	"sync"
	"time"
)

// MemoryStore is a [Store] in the memory of one process, for a server with a
// single instance and for tests. It is safe for concurrent use. Its tokens
// are lost when the process ends and are not shared between instances: a
// server with several instances needs a shared store, such as one in its
// SQL database (see [Store]).
type MemoryStore struct {
	mu     sync.Mutex
	byHash map[[32]byte]Token
	hashOf map[string][32]byte // account → hash of its token
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{byHash: map[[32]byte]Token{}, hashOf: map[string][32]byte{}}
}

// Put implements [Store].
func (m *MemoryStore) Put(ctx context.Context, t Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.hashOf[t.Account]; ok {
		delete(m.byHash, old)
	}
	m.byHash[t.Hash] = t
	m.hashOf[t.Account] = t.Hash
	return nil
}

// Consume implements [Store].
func (m *MemoryStore) Consume(ctx context.Context, hash [32]byte, now time.Time) (Token, error) {
	if err := ctx.Err(); err != nil {
		return Token{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.byHash[hash]
	if !ok || !t.Used.IsZero() || !now.Before(t.Expires) {
		return Token{}, ErrInvalid
	}
	t.Used = now
	m.byHash[hash] = t
	return t, nil
}

// Delete implements [Store].
func (m *MemoryStore) Delete(ctx context.Context, account string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if h, ok := m.hashOf[account]; ok {
		delete(m.byHash, h)
		delete(m.hashOf, account)
	}
	return nil
}

package otp

import (
	"context"
	"sync"
	"time"
)

// MemoryStore is a [Store] in the memory of one process, for a server with a
// single instance and for tests. It is safe for concurrent use. Its
// challenges are lost when the process ends and are not shared between
// instances: a server with several instances needs a shared store, such as
// one in its SQL database (see [Store]).
type MemoryStore struct {
	mu    sync.Mutex
	codes map[string]Challenge // by account
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{codes: map[string]Challenge{}} }

func clone(c Challenge) Challenge {
	c.MAC = append([]byte(nil), c.MAC...)
	return c
}

// Replace implements [Store].
func (m *MemoryStore) Replace(ctx context.Context, c Challenge, notBefore time.Time) (Challenge, bool, error) {
	if err := ctx.Err(); err != nil {
		return Challenge{}, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.codes[c.Account]; ok && cur.Issued.After(notBefore) {
		return clone(cur), false, nil
	}
	m.codes[c.Account] = clone(c)
	return clone(c), true, nil
}

// CountAttempt implements [Store].
func (m *MemoryStore) CountAttempt(ctx context.Context, account, attempt string, now time.Time, max int) (Challenge, bool, error) {
	if err := ctx.Err(); err != nil {
		return Challenge{}, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.codes[account]
	if !ok || c.Attempt != attempt {
		return Challenge{}, false, ErrNotIssued
	}
	if !c.Used.IsZero() || !now.Before(c.Expires) || c.Attempts >= max {
		return clone(c), false, nil
	}
	c.Attempts++
	m.codes[account] = c
	return clone(c), true, nil
}

// Consume implements [Store].
func (m *MemoryStore) Consume(ctx context.Context, account, attempt string, now time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.codes[account]
	if !ok || c.Attempt != attempt || !c.Used.IsZero() {
		return false, nil
	}
	c.Used = now
	m.codes[account] = c
	return true, nil
}

package password

import (
	"context"
	"sync"
	"time"
)

// MemoryStore is an in-memory [ThrottleStore], [CodeStore] and [ResetStore]
// for a single process, and for tests. Its zero value is ready to use; it is
// safe for concurrent use and must not be copied after first use.
//
// Its state is lost when the process ends and is not shared between
// instances: a server with several instances needs a shared store, such as
// one in its SQL database (see the interfaces for the SQL each needs).
type MemoryStore struct {
	mu       sync.Mutex
	throttle map[string]ThrottleState
	codes    map[string]Challenge    // by account
	resets   map[[32]byte]ResetToken // by hash
	resetOf  map[string][32]byte     // account → hash of its token
}

var (
	_ ThrottleStore = (*MemoryStore)(nil)
	_ CodeStore     = (*MemoryStore)(nil)
	_ ResetStore    = (*MemoryStore)(nil)
)

// Get implements [ThrottleStore].
func (m *MemoryStore) Get(ctx context.Context, key string) (ThrottleState, error) {
	if err := ctx.Err(); err != nil {
		return ThrottleState{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.throttle[key], nil
}

// Update implements [ThrottleStore].
func (m *MemoryStore) Update(ctx context.Context, key string, f func(ThrottleState) (ThrottleState, error)) (ThrottleState, error) {
	if err := ctx.Err(); err != nil {
		return ThrottleState{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.throttle[key]
	s, err := f(old)
	if err != nil {
		return old, err
	}
	if s == (ThrottleState{}) {
		delete(m.throttle, key)
		return s, nil
	}
	if m.throttle == nil {
		m.throttle = map[string]ThrottleState{}
	}
	m.throttle[key] = s
	return s, nil
}

// Replace implements [CodeStore].
func (m *MemoryStore) Replace(ctx context.Context, c Challenge, notBefore time.Time) (Challenge, bool, error) {
	if err := ctx.Err(); err != nil {
		return Challenge{}, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.codes[c.Account]; ok && cur.Issued.After(notBefore) {
		return cur.clone(), false, nil
	}
	if m.codes == nil {
		m.codes = map[string]Challenge{}
	}
	m.codes[c.Account] = c.clone()
	return c.clone(), true, nil
}

// CountAttempt implements [CodeStore].
func (m *MemoryStore) CountAttempt(ctx context.Context, account, attempt string, now time.Time, max int) (Challenge, bool, error) {
	if err := ctx.Err(); err != nil {
		return Challenge{}, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.codes[account]
	if !ok || c.Attempt != attempt {
		return Challenge{}, false, ErrNoCode
	}
	if !c.Used.IsZero() || !now.Before(c.Expires) || c.Attempts >= max {
		return c.clone(), false, nil
	}
	c.Attempts++
	m.codes[account] = c
	return c.clone(), true, nil
}

// Consume implements [CodeStore].
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

// PutReset implements [ResetStore].
func (m *MemoryStore) PutReset(ctx context.Context, t ResetToken) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.resets == nil {
		m.resets = map[[32]byte]ResetToken{}
		m.resetOf = map[string][32]byte{}
	}
	if old, ok := m.resetOf[t.Account]; ok {
		delete(m.resets, old)
	}
	m.resets[t.Hash] = t
	m.resetOf[t.Account] = t.Hash
	return nil
}

// ConsumeReset implements [ResetStore].
func (m *MemoryStore) ConsumeReset(ctx context.Context, hash [32]byte, now time.Time) (ResetToken, error) {
	if err := ctx.Err(); err != nil {
		return ResetToken{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.resets[hash]
	if !ok || !t.Used.IsZero() || !now.Before(t.Expires) {
		return ResetToken{}, ErrResetInvalid
	}
	t.Used = now
	m.resets[hash] = t
	return t, nil
}

// DeleteReset implements [ResetStore].
func (m *MemoryStore) DeleteReset(ctx context.Context, account string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if h, ok := m.resetOf[account]; ok {
		delete(m.resets, h)
		delete(m.resetOf, account)
	}
	return nil
}

package password

import (
	"context"
	"runtime"
	"sync"
)

// limiter bounds the argon2id hashes in progress: at most slots at once,
// holding at most memory KiB together, with at most maxQueue waiting, served
// in order of arrival.
type limiter struct {
	mu       sync.Mutex
	slots    int    // free slots
	memory   uint64 // free KiB
	total    uint64 // the memory limit
	queue    []*waiter
	maxQueue int
}

type waiter struct {
	memory uint64
	ready  chan struct{} // closed when the waiter has its turn
}

// newLimiter returns a limiter with the defaults of HasherConfig for zero
// arguments.
func newLimiter(concurrency int, memoryKiB uint32, queue int) *limiter {
	if concurrency == 0 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	if memoryKiB == 0 {
		memoryKiB = 256 * 1024
	}
	switch {
	case queue == 0:
		queue = 16 * concurrency
	case queue < 0:
		queue = 0
	}
	return &limiter{slots: concurrency, memory: uint64(memoryKiB), total: uint64(memoryKiB), maxQueue: queue}
}

// acquire waits for a slot and memory KiB (at most the whole limit, so that
// a larger hash runs alone), and returns the memory to release. It returns
// ErrBusy at once if the queue is full, and ctx's error if ctx ends first.
func (l *limiter) acquire(ctx context.Context, memory uint32) (uint64, error) {
	m := min(uint64(memory), l.total)
	l.mu.Lock()
	if len(l.queue) == 0 && l.fits(m) {
		l.take(m)
		l.mu.Unlock()
		return m, nil
	}
	if len(l.queue) >= l.maxQueue {
		l.mu.Unlock()
		return 0, ErrBusy
	}
	w := &waiter{memory: m, ready: make(chan struct{})}
	l.queue = append(l.queue, w)
	l.mu.Unlock()

	select {
	case <-w.ready:
		return m, nil
	case <-ctx.Done():
	}
	l.mu.Lock()
	select {
	case <-w.ready: // its turn came meanwhile: give it back
		l.mu.Unlock()
		l.release(m)
		return 0, ctx.Err()
	default:
	}
	for i, q := range l.queue {
		if q == w {
			l.queue = append(l.queue[:i], l.queue[i+1:]...)
			break
		}
	}
	l.grant() // the next in line may fit now
	l.mu.Unlock()
	return 0, ctx.Err()
}

// release returns a slot and memory KiB and hands them on.
func (l *limiter) release(memory uint64) {
	l.mu.Lock()
	l.slots++
	l.memory += memory
	l.grant()
	l.mu.Unlock()
}

func (l *limiter) fits(m uint64) bool { return l.slots > 0 && l.memory >= m }

func (l *limiter) take(m uint64) {
	l.slots--
	l.memory -= m
}

// grant gives the waiters their turn, in order, as long as the first fits.
func (l *limiter) grant() {
	for len(l.queue) > 0 && l.fits(l.queue[0].memory) {
		w := l.queue[0]
		l.queue = l.queue[1:]
		l.take(w.memory)
		close(w.ready)
	}
}

package password

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// countWork records the argon2id work (memory × passes) of every hash
// computed while f runs.
func countWork(t *testing.T, f func()) uint64 {
	t.Helper()
	var mu sync.Mutex
	var total uint64
	argon2Hook = func(p Params) {
		mu.Lock()
		total += p.work()
		mu.Unlock()
	}
	defer func() { argon2Hook = nil }()
	f()
	mu.Lock()
	defer mu.Unlock()
	return total
}

// TestFailuresCostTheSame counts the argon2id work of every kind of failed
// verification: each must be that of an unknown user's, whatever the stored
// hash and the password, so that timing does not tell them apart (issue 15,
// defect 1). Counting work is exact where timing is noisy; the benchmark
// BenchmarkFailedVerify shows the times.
func TestFailuresCostTheSame(t *testing.T) {
	ctx := context.Background()
	current := Params{Memory: 1024, Time: 2, Threads: 1, SaltLength: 16, KeyLength: 32}
	h, err := NewHasher(HasherConfig{Params: current})
	if err != nil {
		t.Fatal(err)
	}
	mustHash := func(p Params, pw string) string {
		t.Helper()
		hh, err := NewHasher(HasherConfig{Params: p})
		if err != nil {
			t.Fatal(err)
		}
		enc, err := hh.Hash(ctx, pw)
		if err != nil {
			t.Fatal(err)
		}
		return enc
	}
	const pw = "Kwast7!mop"
	same := mustHash(current, pw)
	weak := mustHash(Params{Memory: 64, Time: 1, Threads: 1, SaltLength: 16, KeyLength: 32}, pw)
	weakParallel := mustHash(Params{Memory: 96, Time: 3, Threads: 4, SaltLength: 8, KeyLength: 16}, pw)
	target := current.work()

	unknown := countWork(t, func() {
		if err := h.VerifyUnknown(ctx, pw); !errors.Is(err, ErrMismatch) {
			t.Fatalf("VerifyUnknown = %v", err)
		}
	})
	if unknown != target {
		t.Fatalf("an unknown user costs %d, want %d (one hash with the Hasher's parameters)", unknown, target)
	}
	tests := []struct {
		encoded, password string
		want              error
		reason            string
	}{
		{same, "wrong password", ErrMismatch, "a wrong password"},
		{same, strings.Repeat("x", 129), ErrMismatch, "a password longer than any policy accepts"},
		{same, strings.Repeat("lange zin ", 400), ErrMismatch, "4000 bytes"},
		{weak, "wrong password", ErrMismatch, "a stored hash with weaker parameters, until rehashed"},
		{weak, strings.Repeat("x", 200), ErrMismatch, "weaker parameters and a long password"},
		{weakParallel, "wrong password", ErrMismatch, "weaker parameters with 4 lanes"},
		{"$argon2id$v=19$m=64,t=1,p=1$broken", "wrong password", ErrMalformedHash, "a malformed stored hash"},
		{"$argon2id$v=19$m=262145,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", "x", ErrHashLimits, "a stored hash beyond the limits"},
		{"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "x", ErrUnsupportedHash, "a bcrypt hash"},
		{"", "x", ErrMalformedHash, "no hash at all"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			var err error
			got := countWork(t, func() { err = h.Verify(ctx, tt.encoded, tt.password) })
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			// Topping up rounds up to whole passes of whole KiB: less
			// than one pass of current.Memory too many, never too few.
			if got < target || got > target+uint64(current.Time) {
				t.Errorf("costs %d units of work, an unknown user %d", got, target)
			}
		})
	}

	for _, long := range []string{strings.Repeat("x", MaxInputBytes+1), strings.Repeat("é", MaxInputBytes)} {
		var errKnown, errUnknown error
		work := countWork(t, func() {
			errKnown = h.Verify(ctx, same, long)
			errUnknown = h.VerifyUnknown(ctx, long)
		})
		if !errors.Is(errKnown, ErrTooLong) || !errors.Is(errUnknown, ErrTooLong) || work != 0 {
			t.Errorf("over MaxInputBytes: Verify %v, VerifyUnknown %v, %d work; want ErrTooLong, alike, without hashing", errKnown, errUnknown, work)
		}
	}

	right := countWork(t, func() {
		if err := h.Verify(ctx, weak, pw); err != nil {
			t.Fatal(err)
		}
	})
	if right != 64 {
		t.Errorf("a correct password costs %d, want the stored hash's own 64: success is not padded", right)
	}
}

// queued waits until l has n waiters.
func queued(t *testing.T, l *limiter, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		l.mu.Lock()
		k := len(l.queue)
		l.mu.Unlock()
		if k == n {
			return
		}
	}
	t.Fatalf("the queue never held %d", n)
}

// acquireAsync acquires in a goroutine and reports on the channel.
func acquireAsync(ctx context.Context, l *limiter, memory uint32) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := l.acquire(ctx, memory)
		done <- err
	}()
	return done
}

func notYet(t *testing.T, c <-chan error, what string) {
	t.Helper()
	select {
	case err := <-c:
		t.Fatalf("%s: got its turn (%v) too early", what, err)
	case <-time.After(20 * time.Millisecond):
	}
}

func TestLimiter(t *testing.T) {
	ctx := context.Background()
	t.Run("concurrency", func(t *testing.T) {
		l := newLimiter(2, 1<<20, 10)
		a, _ := l.acquire(ctx, 10)
		_, _ = l.acquire(ctx, 10)
		third := acquireAsync(ctx, l, 10)
		queued(t, l, 1)
		notYet(t, third, "a third hash with two slots")
		l.release(a)
		if err := <-third; err != nil {
			t.Fatal(err)
		}
	})
	t.Run("memory", func(t *testing.T) {
		l := newLimiter(4, 100, 10)
		a, _ := l.acquire(ctx, 60)
		second := acquireAsync(ctx, l, 60)
		queued(t, l, 1)
		notYet(t, second, "two hashes of 60 KiB within 100")
		l.release(a)
		if err := <-second; err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a hash larger than the limit runs alone", func(t *testing.T) {
		l := newLimiter(4, 100, 10)
		small, _ := l.acquire(ctx, 10)
		big := acquireAsync(ctx, l, 1000)
		queued(t, l, 1)
		notYet(t, big, "a hash of 1000 KiB next to another")
		l.release(small)
		if err := <-big; err != nil {
			t.Fatal(err)
		}
		if l.memory != 0 {
			t.Errorf("%d KiB free while the large hash runs", l.memory)
		}
		l.release(100)
		if l.memory != 100 || l.slots != 4 {
			t.Errorf("after release: %d KiB, %d slots", l.memory, l.slots)
		}
	})
	t.Run("a full queue refuses at once", func(t *testing.T) {
		l := newLimiter(1, 100, 2)
		a, _ := l.acquire(ctx, 10)
		w1 := acquireAsync(ctx, l, 10)
		queued(t, l, 1)
		w2 := acquireAsync(ctx, l, 10)
		queued(t, l, 2)
		if _, err := l.acquire(ctx, 10); !errors.Is(err, ErrBusy) {
			t.Fatalf("a third waiter: %v, want ErrBusy", err)
		}
		l.release(a)
		if err := <-w1; err != nil {
			t.Fatal(err)
		}
		l.release(10)
		if err := <-w2; err != nil {
			t.Fatal(err)
		}
		if _, err := newLimiter(1, 100, -1).acquire(ctx, 10); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("in order of arrival", func(t *testing.T) {
		l := newLimiter(1, 100, 10)
		a, _ := l.acquire(ctx, 10)
		var order []int
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range 5 {
			wg.Go(func() {
				m, err := l.acquire(ctx, 10)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				l.release(m)
			})
			queued(t, l, i+1)
		}
		l.release(a)
		wg.Wait()
		for i, got := range order {
			if got != i {
				t.Fatalf("order %v, want 0 1 2 3 4", order)
			}
		}
	})
	t.Run("a waiter whose context ends leaves the queue", func(t *testing.T) {
		l := newLimiter(1, 100, 10)
		a, _ := l.acquire(ctx, 10)
		cctx, cancel := context.WithCancel(ctx)
		gone := acquireAsync(cctx, l, 10)
		queued(t, l, 1)
		next := acquireAsync(ctx, l, 10)
		queued(t, l, 2)
		cancel()
		if err := <-gone; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled waiter: %v", err)
		}
		queued(t, l, 1)
		l.release(a)
		if err := <-next; err != nil {
			t.Fatal(err)
		}
		l.release(10)
		if l.slots != 1 || l.memory != 100 {
			t.Errorf("after everything: %d slots, %d KiB; something leaked", l.slots, l.memory)
		}
	})
}

// TestHasherBoundsHashing: a Hasher never runs more hashes at once than its
// Concurrency, whoever calls, and refuses beyond its queue with ErrBusy.
func TestHasherBoundsHashing(t *testing.T) {
	ctx := context.Background()
	h, err := NewHasher(HasherConfig{Params: Params{Memory: 2048, Time: 1, Threads: 1, SaltLength: 16, KeyLength: 32}, Concurrency: 2, Queue: 3})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	running, peak := 0, 0
	release := make(chan struct{})
	argon2Hook = func(Params) {
		mu.Lock()
		running++
		peak = max(peak, running)
		mu.Unlock()
		<-release // hold the slot until the test lets go
		mu.Lock()
		running--
		mu.Unlock()
	}
	defer func() { argon2Hook = nil }()
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 5 {
		wg.Go(func() {
			_, err := h.Hash(ctx, "Kwast7!mop")
			errs <- err
		})
	}
	queued(t, h.lim, 3)
	for range 5 {
		if _, err := h.Hash(ctx, "Kwast7!mop"); !errors.Is(err, ErrBusy) {
			t.Errorf("beyond the queue: %v, want ErrBusy", err)
		}
		if err := h.VerifyUnknown(ctx, "Kwast7!mop"); !errors.Is(err, ErrBusy) {
			t.Errorf("beyond the queue: %v, want ErrBusy", err)
		}
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if peak != 2 {
		t.Errorf("%d hashes ran at once, want 2", peak)
	}
}

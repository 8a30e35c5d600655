package password_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/password"
)

// clock is a manual clock for the Now fields.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestThrottleDelay(t *testing.T) {
	var th password.Throttle
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{0, 0}, {1, 0}, {4, 0},
		{5, 30 * time.Second}, // back-off from the 5th consecutive failure
		{6, time.Minute},      // doubling
		{7, 2 * time.Minute},
		{8, 4 * time.Minute},
		{9, 8 * time.Minute},
		{10, 15 * time.Minute}, // capped at 15 minutes
		{50, 15 * time.Minute},
		{99, 15 * time.Minute},
		{1 << 20, 15 * time.Minute},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, th.Delay(tt.failures), "after %d failures", tt.failures)
	}
	custom := password.Throttle{FreeFailures: 2, BaseDelay: time.Second, MaxDelay: 10 * time.Second}
	assert.Equal(t, time.Duration(0), custom.Delay(2))
	assert.Equal(t, time.Second, custom.Delay(3))
	assert.Equal(t, 8*time.Second, custom.Delay(6))
	assert.Equal(t, 10*time.Second, custom.Delay(7))
}

func TestThrottle(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	th := &password.Throttle{Now: c.Now}
	const key = "account:42"

	fail := func() error { return th.Attempt(ctx, key) } // an attempt that is never forgiven
	for i := 1; i <= 4; i++ {
		require.NoError(t, fail(), "failure %d is free", i)
	}
	require.NoError(t, fail(), "the 5th attempt may begin")
	err := fail()
	var terr *password.ThrottleError
	require.ErrorAs(t, err, &terr, "after the 5th failure: wait")
	assert.ErrorIs(t, err, password.ErrThrottled)
	assert.NotErrorIs(t, err, password.ErrLocked)
	assert.Equal(t, 5, terr.Failures)
	assert.Equal(t, c.Now().Add(30*time.Second), terr.Until)
	assert.NotContains(t, err.Error(), key, "the error does not name the key")
	assert.ErrorIs(t, th.Check(ctx, key), password.ErrThrottled)

	c.Advance(29 * time.Second)
	assert.ErrorIs(t, fail(), password.ErrThrottled, "refused attempts do not count")
	c.Advance(time.Second)
	require.NoError(t, fail(), "after 30 s the 6th attempt may begin")
	c.Advance(59 * time.Second)
	assert.ErrorIs(t, fail(), password.ErrThrottled)
	c.Advance(time.Second)
	require.NoError(t, fail(), "then 1 minute")

	assert.NoError(t, th.Check(ctx, "account:43"), "other keys are not affected")

	require.NoError(t, th.Success(ctx, key))
	for i := 1; i <= 5; i++ {
		require.NoError(t, fail(), "after a success the count starts again: %d", i)
	}
}

func TestThrottleLockout(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	th := &password.Throttle{Now: c.Now}
	const key = "source:192.0.2.7"
	for i := 1; i <= 100; i++ {
		require.NoError(t, th.Attempt(ctx, key), "attempt %d", i)
		c.Advance(15 * time.Minute)
	}
	err := th.Attempt(ctx, key)
	assert.ErrorIs(t, err, password.ErrLocked, "after 100 consecutive failures")
	assert.ErrorIs(t, err, password.ErrThrottled)
	c.Advance(365 * 24 * time.Hour)
	assert.ErrorIs(t, th.Attempt(ctx, key), password.ErrLocked, "waiting does not help")
	require.NoError(t, th.Reset(ctx, key))
	assert.NoError(t, th.Attempt(ctx, key), "only a reset helps")
}

// TestThrottleConcurrent: attempts count when they begin, so a burst of
// concurrent guesses cannot slip past the count.
func TestThrottleConcurrent(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	th := &password.Throttle{Now: c.Now}
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if th.Attempt(ctx, "account:1") == nil {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(5), allowed.Load(), "4 free attempts and the 5th, then back-off")
}

// TestThrottleSystemClock runs the zero Throttle, on the system clock, in a
// synctest bubble, where time advances only when every goroutine waits.
func TestThrottleSystemClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var th password.Throttle
		for range 5 {
			require.NoError(t, th.Attempt(ctx, "k"))
		}
		require.ErrorIs(t, th.Attempt(ctx, "k"), password.ErrThrottled)
		time.Sleep(30 * time.Second)
		require.NoError(t, th.Attempt(ctx, "k"), "after the 30 s back-off")
		require.ErrorIs(t, th.Attempt(ctx, "k"), password.ErrThrottled)
		time.Sleep(time.Minute)
		require.NoError(t, th.Attempt(ctx, "k"))
	})
}

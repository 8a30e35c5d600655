package throttle_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/password/throttle"
	"github.com/zorgkit/zorgkit/password/throttle/throttletest"
)

// clock is a manual clock for Config.Now.
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

func newThrottle(t testing.TB, c throttle.Config) *throttle.Throttle {
	t.Helper()
	th, err := throttle.New(c)
	require.NoError(t, err)
	return th
}

func TestMemoryStore(t *testing.T) {
	throttletest.TestStore(t, func(testing.TB) throttle.Store { return throttle.NewMemoryStore() })
}

func TestConfig(t *testing.T) {
	s := throttle.NewMemoryStore()
	tests := []struct {
		c      throttle.Config
		reason string
	}{
		{throttle.Config{}, "no store: never silently in one process's memory"},
		{throttle.Config{Store: s, FreeFailures: -1}, "negative free failures"},
		{throttle.Config{Store: s, BaseDelay: -time.Second}, "negative delay"},
		{throttle.Config{Store: s, Leak: -time.Second}, "negative leak"},
		{throttle.Config{Store: s, BaseDelay: time.Hour, MaxDelay: time.Minute}, "maximum below the base"},
		{throttle.Config{Store: s, FreeFailures: 10, Lockout: 5}, "lock before the first wait"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			th, err := throttle.New(tt.c)
			assert.Error(t, err)
			assert.Nil(t, th)
			assert.True(t, strings.HasPrefix(err.Error(), "throttle: "), err.Error())
		})
	}
	for _, c := range []throttle.Config{{Store: s}, throttle.Accounts(s), throttle.Sources(s)} {
		_, err := throttle.New(c)
		assert.NoError(t, err)
	}
}

func TestDelay(t *testing.T) {
	th := newThrottle(t, throttle.Accounts(throttle.NewMemoryStore()))
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
	custom := newThrottle(t, throttle.Config{Store: throttle.NewMemoryStore(), FreeFailures: 2, BaseDelay: time.Second, MaxDelay: 10 * time.Second})
	assert.Equal(t, time.Duration(0), custom.Delay(2))
	assert.Equal(t, time.Second, custom.Delay(3))
	assert.Equal(t, 8*time.Second, custom.Delay(6))
	assert.Equal(t, 10*time.Second, custom.Delay(7))
}

func TestAccountKey(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	cfg := throttle.Accounts(throttle.NewMemoryStore())
	cfg.Now = c.Now
	th := newThrottle(t, cfg)
	const key = "account:42"

	fail := func() error { return th.Attempt(ctx, key) } // an attempt that is never forgiven
	for i := 1; i <= 4; i++ {
		require.NoError(t, fail(), "failure %d is free", i)
	}
	require.NoError(t, fail(), "the 5th attempt may begin")
	err := fail()
	var terr *throttle.Error
	require.ErrorAs(t, err, &terr, "after the 5th failure: wait")
	assert.ErrorIs(t, err, throttle.ErrThrottled)
	assert.NotErrorIs(t, err, throttle.ErrLocked)
	assert.Equal(t, 5, terr.Failures)
	assert.Equal(t, 30*time.Second, terr.Wait)
	assert.NotContains(t, err.Error(), key, "the error does not name the key")
	assert.ErrorIs(t, th.Check(ctx, key), throttle.ErrThrottled)

	c.Advance(29 * time.Second)
	assert.ErrorIs(t, fail(), throttle.ErrThrottled, "refused attempts do not count")
	c.Advance(time.Second)
	require.NoError(t, fail(), "after 30 s the 6th attempt may begin")
	c.Advance(59 * time.Second)
	assert.ErrorIs(t, fail(), throttle.ErrThrottled)
	c.Advance(time.Second)
	require.NoError(t, fail(), "then 1 minute")

	assert.NoError(t, th.Check(ctx, "account:43"), "other keys are not affected")

	require.NoError(t, th.Reset(ctx, key))
	for i := 1; i <= 5; i++ {
		require.NoError(t, fail(), "after a success the count starts again: %d", i)
	}
}

func TestLockout(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	cfg := throttle.Accounts(throttle.NewMemoryStore())
	cfg.Now = c.Now
	th := newThrottle(t, cfg)
	const key = "account:7"
	for i := 1; i <= 100; i++ {
		require.NoError(t, th.Attempt(ctx, key), "attempt %d", i)
		c.Advance(15 * time.Minute)
	}
	err := th.Attempt(ctx, key)
	assert.ErrorIs(t, err, throttle.ErrLocked, "after 100 consecutive failures")
	assert.ErrorIs(t, err, throttle.ErrThrottled)
	c.Advance(365 * 24 * time.Hour)
	assert.ErrorIs(t, th.Attempt(ctx, key), throttle.ErrLocked, "waiting does not help")
	require.NoError(t, th.Reset(ctx, key))
	assert.NoError(t, th.Attempt(ctx, key), "only a reset helps")
}

// TestConcurrentAttempts: attempts count when they begin, so a burst of
// concurrent guesses at one account cannot slip past the count.
func TestConcurrentAttempts(t *testing.T) {
	ctx := context.Background()
	th := newThrottle(t, throttle.Accounts(throttle.NewMemoryStore()))
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

// TestCancel: an attempt that was never decided (the server too busy to
// check the password) is withdrawn, and only that one.
func TestCancel(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	cfg := throttle.Accounts(throttle.NewMemoryStore())
	cfg.Now = c.Now
	th := newThrottle(t, cfg)
	const key = "account:9"

	for range 20 {
		require.NoError(t, th.Attempt(ctx, key))
		require.NoError(t, th.Cancel(ctx, key), "withdrawn: never checked")
	}
	assert.NoError(t, th.Check(ctx, key), "undecided attempts leave no trace")

	for range 5 {
		require.NoError(t, th.Attempt(ctx, key))
	}
	require.NoError(t, th.Cancel(ctx, key))
	assert.NoError(t, th.Attempt(ctx, key), "4 failures and this one: may begin")
	err := th.Attempt(ctx, key)
	var terr *throttle.Error
	require.ErrorAs(t, err, &terr, "the real failures still count")
	assert.Equal(t, 5, terr.Failures)

	require.NoError(t, th.Reset(ctx, key))
	require.NoError(t, th.Cancel(ctx, key), "nothing to withdraw")
	for i := 1; i <= 5; i++ {
		require.NoError(t, th.Attempt(ctx, key), "never below zero: attempt %d", i)
	}
	assert.ErrorIs(t, th.Attempt(ctx, key), throttle.ErrThrottled)
}

// TestSourceKey: a source counts only failures, which leak away; successes
// neither count nor clear the count; a source never locks.
func TestSourceKey(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	cfg := throttle.Sources(throttle.NewMemoryStore())
	cfg.Now = c.Now
	th := newThrottle(t, cfg)
	const office = "source:192.0.2.10"

	// A busy morning: 200 correct logins and a typing error every two
	// minutes never make the office wait.
	for i := range 200 {
		require.NoError(t, th.Check(ctx, office), "login %d", i)
		if i%4 == 0 {
			require.NoError(t, th.Fail(ctx, office))
		}
		c.Advance(30 * time.Second)
	}

	// A guessing attack from the same address: 20 free failures, then waits.
	guesses := 0
	for th.Check(ctx, office) == nil && guesses < 1000 {
		require.NoError(t, th.Fail(ctx, office))
		guesses++
	}
	assert.LessOrEqual(t, guesses, 21, "a burst of guesses soon waits")
	err := th.Check(ctx, office)
	assert.ErrorIs(t, err, throttle.ErrThrottled)
	assert.NotErrorIs(t, err, throttle.ErrLocked, "a source never locks")

	// Kept up for a day, the attack gets about one guess a minute at most.
	day := c.Now().Add(24 * time.Hour)
	for c.Now().Before(day) {
		var terr *throttle.Error
		if err := th.Check(ctx, office); err != nil {
			require.ErrorAs(t, err, &terr)
			c.Advance(terr.Wait)
			continue
		}
		require.NoError(t, th.Fail(ctx, office))
		guesses++
	}
	assert.Less(t, guesses, 1500, "guesses in a day")
	assert.Greater(t, guesses, 20)

	// Quiet for a while, the count leaks away entirely.
	c.Advance(time.Hour)
	for range 20 {
		require.NoError(t, th.Check(ctx, office))
		require.NoError(t, th.Fail(ctx, office))
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		err    *throttle.Error
		nl, en string
	}{
		{&throttle.Error{Failures: 7, Wait: 90 * time.Second}, "Te veel mislukte pogingen. Probeer het over 2 minuten opnieuw.", "Too many failed attempts. Try again in 2 minutes."},
		{&throttle.Error{Failures: 5, Wait: 30 * time.Second}, "Te veel mislukte pogingen. Probeer het over 30 seconden opnieuw.", "Too many failed attempts. Try again in 30 seconds."},
		{&throttle.Error{Failures: 5, Wait: time.Millisecond}, "Te veel mislukte pogingen. Probeer het over 1 seconde opnieuw.", "Too many failed attempts. Try again in 1 second."},
		{&throttle.Error{Failures: 5, Wait: time.Minute + time.Second}, "Te veel mislukte pogingen. Probeer het over 2 minuten opnieuw.", "Too many failed attempts. Try again in 2 minutes."},
		{&throttle.Error{Failures: 100}, "Te veel mislukte pogingen: inloggen is geblokkeerd. Neem contact op met uw beheerder.", "Too many failed attempts: logging in is blocked. Contact your administrator."},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			assert.Equal(t, tt.nl, tt.err.Message(language.Dutch))
			assert.Equal(t, tt.en, tt.err.Message(language.English))
			assert.Equal(t, tt.nl, tt.err.Message(language.German), "Dutch by default")
		})
	}
}

// TestSystemClock runs a throttle on the system clock, in a synctest
// bubble, where time advances only when every goroutine waits.
func TestSystemClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		th := newThrottle(t, throttle.Config{Store: throttle.NewMemoryStore()})
		for range 5 {
			require.NoError(t, th.Attempt(ctx, "k"))
		}
		require.ErrorIs(t, th.Attempt(ctx, "k"), throttle.ErrThrottled)
		time.Sleep(30 * time.Second)
		require.NoError(t, th.Attempt(ctx, "k"), "after the 30 s back-off")
		require.ErrorIs(t, th.Attempt(ctx, "k"), throttle.ErrThrottled)
		time.Sleep(time.Minute)
		require.NoError(t, th.Attempt(ctx, "k"))
	})
}

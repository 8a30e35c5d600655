package otp_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/password/otp"
	"github.com/zorgkit/zorgkit/password/otp/otptest"
	"github.com/zorgkit/zorgkit/password/throttle"
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

// outbox is a Channel that keeps what it sends.
type outbox struct {
	mu   sync.Mutex
	sent []string
	fail error
}

func (o *outbox) Send(_ context.Context, _, otp string, _ time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail != nil {
		return o.fail
	}
	o.sent = append(o.sent, otp)
	return nil
}

func (o *outbox) last() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.sent[len(o.sent)-1]
}

var testKey = bytes.Repeat([]byte{0x42}, 32)

var (
	_ otp.Limiter = (*throttle.Throttle)(nil)
	_ otp.Store   = (*otp.MemoryStore)(nil)
)

func newOOB(t testing.TB, c otp.Config) *otp.OutOfBand {
	t.Helper()
	if c.Key == nil {
		c.Key = testKey
	}
	if c.Store == nil {
		c.Store = otp.NewMemoryStore()
	}
	o, err := otp.NewOutOfBand(c)
	require.NoError(t, err)
	return o
}

// wrong returns a one-time password that differs from p.
func wrong(p string) string {
	if p == "000000" {
		return "000001"
	}
	return "000000"
}

func TestMemoryStore(t *testing.T) {
	otptest.TestStore(t, func(testing.TB) otp.Store { return otp.NewMemoryStore() })
}

func TestIssue(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	o := newOOB(t, otp.Config{Now: c.Now})
	var box outbox
	expires, err := o.Issue(ctx, &box, "acct-1", "attempt-a")
	require.NoError(t, err)
	assert.Equal(t, c.Now().Add(5*time.Minute), expires, "valid 5 minutes")
	assert.Regexp(t, regexp.MustCompile(`^[0-9]{6}$`), box.last(), "6 digits")

	c.Advance(5 * time.Second)
	_, err = o.Issue(ctx, &box, "acct-1", "attempt-b")
	var cerr *otp.CooldownError
	require.ErrorAs(t, err, &cerr, "a new one within the cooldown")
	assert.ErrorIs(t, err, otp.ErrCooldown)
	assert.Equal(t, 25*time.Second, cerr.Wait)
	assert.Len(t, box.sent, 1, "nothing sent within the cooldown")

	_, err = o.Issue(ctx, &box, "acct-2", "attempt-c")
	assert.NoError(t, err, "the cooldown is per account")
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, o *otp.OutOfBand, c *clock, box *outbox)
	}{
		{"the right one works once", func(t *testing.T, o *otp.OutOfBand, c *clock, box *outbox) {
			p := box.last()
			require.NoError(t, o.Verify(ctx, "acct-1", "attempt-a", p))
			assert.ErrorIs(t, o.Verify(ctx, "acct-1", "attempt-a", p), otp.ErrUsed)
		}},
		{"typed with a space or fullwidth digits", func(t *testing.T, o *otp.OutOfBand, c *clock, box *outbox) {
			p := box.last()
			fullwidth := ""
			for _, r := range p[:3] {
				fullwidth += string(r - '0' + '０')
			}
			require.NoError(t, o.Verify(ctx, "acct-1", "attempt-a", fullwidth+" "+p[3:]))
		}},
		{"bound to the login attempt", func(t *testing.T, o *otp.OutOfBand, c *clock, box *outbox) {
			assert.ErrorIs(t, o.Verify(ctx, "acct-1", "attempt-other", box.last()), otp.ErrNotIssued)
			assert.ErrorIs(t, o.Verify(ctx, "acct-2", "attempt-a", box.last()), otp.ErrNotIssued)
			assert.NoError(t, o.Verify(ctx, "acct-1", "attempt-a", box.last()))
		}},
		{"valid for 5 minutes", func(t *testing.T, o *otp.OutOfBand, c *clock, box *outbox) {
			c.Advance(5*time.Minute - time.Second)
			p := box.last()
			c.Advance(time.Second)
			assert.ErrorIs(t, o.Verify(ctx, "acct-1", "attempt-a", p), otp.ErrExpired)
		}},
		{"valid just before expiry", func(t *testing.T, o *otp.OutOfBand, c *clock, box *outbox) {
			c.Advance(5*time.Minute - time.Second)
			assert.NoError(t, o.Verify(ctx, "acct-1", "attempt-a", box.last()))
		}},
		{"at most 5 wrong entries", func(t *testing.T, o *otp.OutOfBand, c *clock, box *outbox) {
			p := box.last()
			for i := 1; i <= 5; i++ {
				err := o.Verify(ctx, "acct-1", "attempt-a", wrong(p))
				var werr *otp.WrongError
				require.ErrorAs(t, err, &werr)
				assert.Equal(t, 5-i, werr.Remaining)
				assert.NotContains(t, err.Error(), p)
			}
			assert.ErrorIs(t, o.Verify(ctx, "acct-1", "attempt-a", p), otp.ErrAttempts, "even the right one is refused now")
		}},
		{"a new one invalidates the previous one", func(t *testing.T, o *otp.OutOfBand, c *clock, box *outbox) {
			first := box.last()
			c.Advance(time.Minute)
			_, err := o.Issue(ctx, box, "acct-1", "attempt-b")
			require.NoError(t, err)
			assert.ErrorIs(t, o.Verify(ctx, "acct-1", "attempt-a", first), otp.ErrNotIssued)
			if second := box.last(); second != first {
				assert.ErrorIs(t, o.Verify(ctx, "acct-1", "attempt-b", first), otp.ErrWrong)
			}
			assert.NoError(t, o.Verify(ctx, "acct-1", "attempt-b", box.last()))
		}},
		{"garbage is wrong", func(t *testing.T, o *otp.OutOfBand, c *clock, box *outbox) {
			for _, in := range []string{"", "abcdef", "1234567", string(make([]byte, 1<<16))} {
				assert.ErrorIs(t, o.Verify(ctx, "acct-1", "attempt-a", in), otp.ErrWrong)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			o := newOOB(t, otp.Config{Now: c.Now})
			var box outbox
			_, err := o.Issue(ctx, &box, "acct-1", "attempt-a")
			require.NoError(t, err)
			tt.run(t, o, c, &box)
		})
	}
}

func newAccountThrottle(t testing.TB, c *clock) *throttle.Throttle {
	cfg := throttle.Accounts(throttle.NewMemoryStore())
	cfg.Now = c.Now
	th, err := throttle.New(cfg)
	require.NoError(t, err)
	return th
}

// TestAccountFailures: with a Limiter, failures count per account, and
// asking for a new one-time password does not reset them.
func TestAccountFailures(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	th := newAccountThrottle(t, c)
	o := newOOB(t, otp.Config{Now: c.Now, Limiter: th})
	var box outbox
	for round := range 2 {
		_, err := o.Issue(ctx, &box, "acct-1", "attempt-"+string(rune('a'+round)))
		require.NoError(t, err)
		for range 2 {
			assert.ErrorIs(t, o.Verify(ctx, "acct-1", "attempt-"+string(rune('a'+round)), wrong(box.last())), otp.ErrWrong)
		}
		c.Advance(time.Minute) // past the resend cooldown
	}
	_, err := o.Issue(ctx, &box, "acct-1", "attempt-c")
	require.NoError(t, err)
	assert.ErrorIs(t, o.Verify(ctx, "acct-1", "attempt-c", wrong(box.last())), otp.ErrWrong, "5th failure of the account")
	assert.ErrorIs(t, o.Verify(ctx, "acct-1", "attempt-c", box.last()), throttle.ErrThrottled,
		"after 5 failures over three one-time passwords the account must wait")
	c.Advance(30 * time.Second)
	require.NoError(t, o.Verify(ctx, "acct-1", "attempt-c", box.last()))
	assert.NoError(t, th.Check(ctx, "acct-1"), "success resets the account")
}

func TestIssueThrottled(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	th := newAccountThrottle(t, c)
	o := newOOB(t, otp.Config{Now: c.Now, Limiter: th})
	for range 5 {
		require.NoError(t, th.Attempt(ctx, "acct-1")) // five failed passwords
	}
	var box outbox
	_, err := o.Issue(ctx, &box, "acct-1", "attempt-a")
	assert.ErrorIs(t, err, throttle.ErrThrottled, "nothing for an account that must wait")
	assert.Empty(t, box.sent)
	c.Advance(30 * time.Second)
	_, err = o.Issue(ctx, &box, "acct-1", "attempt-a")
	assert.NoError(t, err)
}

func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	o := newOOB(t, otp.Config{})
	var box outbox
	_, err := o.Issue(ctx, &box, "acct-1", "attempt-a")
	require.NoError(t, err)
	var ok, used int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			err := o.Verify(ctx, "acct-1", "attempt-a", box.last())
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, otp.ErrUsed):
				used++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, ok, "exactly one login")
	assert.Equal(t, 9, used)
}

func TestConfig(t *testing.T) {
	store := otp.NewMemoryStore()
	tests := []struct {
		c      otp.Config
		reason string
	}{
		{otp.Config{Store: store}, "no key"},
		{otp.Config{Key: []byte("short"), Store: store}, "short key"},
		{otp.Config{Key: testKey}, "no store: never silently in one process's memory"},
		{otp.Config{Key: testKey, Store: store, TTL: 11 * time.Minute}, "more than 10 minutes"},
		{otp.Config{Key: testKey, Store: store, TTL: -time.Second}, "negative lifetime"},
		{otp.Config{Key: testKey, Store: store, MaxAttempts: -1}, "negative attempts"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			o, err := otp.NewOutOfBand(tt.c)
			require.Error(t, err)
			assert.Nil(t, o)
			assert.True(t, strings.HasPrefix(err.Error(), "otp: "), err.Error())
			assert.NotContains(t, err.Error(), string(testKey))
		})
	}

	ctx := context.Background()
	key := bytes.Clone(testKey)
	o := newOOB(t, otp.Config{Key: key, TTL: 10 * time.Minute})
	clear(key) // the configuration is copied
	var box outbox
	_, err := o.Issue(ctx, &box, "acct-1", "")
	assert.Error(t, err, "a login attempt ID is required")
	_, err = o.Issue(ctx, &box, "acct-1", "attempt-a")
	require.NoError(t, err)
	assert.NoError(t, o.Verify(ctx, "acct-1", "attempt-a", box.last()))

	sendErr := errors.New("smtp down")
	_, err = newOOB(t, otp.Config{}).Issue(ctx, &outbox{fail: sendErr}, "acct-1", "attempt-a")
	assert.ErrorIs(t, err, sendErr)
}

// TestDistribution checks that one-time passwords are uniform over the six
// digits: each digit about a tenth of the time at every position.
func TestDistribution(t *testing.T) {
	ctx := context.Background()
	o := newOOB(t, otp.Config{Cooldown: -1})
	var box outbox
	const n = 2000
	var counts [6][10]int
	for i := range n {
		_, err := o.Issue(ctx, &box, "acct-1", "attempt-"+string(rune(i)))
		require.NoError(t, err)
		for pos, d := range box.last() {
			counts[pos][d-'0']++
		}
	}
	for pos := range counts {
		for d, k := range counts[pos] {
			// Expected 200; 5 standard deviations is about ±67.
			assert.InDelta(t, n/10, k, 70, "digit %d at position %d", d, pos)
		}
	}
}

// TestSystemClockLifetimes runs OutOfBand on the system clock in a synctest
// bubble, where time.Sleep advances the fake clock at once.
func TestSystemClockLifetimes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		o := newOOB(t, otp.Config{})
		var box outbox
		_, err := o.Issue(ctx, &box, "acct-1", "attempt-a")
		require.NoError(t, err)
		time.Sleep(20 * time.Second)
		_, err = o.Issue(ctx, &box, "acct-1", "attempt-b")
		require.ErrorIs(t, err, otp.ErrCooldown, "within 30 s")
		time.Sleep(10 * time.Second)
		_, err = o.Issue(ctx, &box, "acct-1", "attempt-b")
		require.NoError(t, err, "after 30 s")
		time.Sleep(5 * time.Minute)
		assert.ErrorIs(t, o.Verify(ctx, "acct-1", "attempt-b", box.last()), otp.ErrExpired)
	})
}

// TestNoSecretsInErrors: no error contains the one-time password or the
// account.
func TestNoSecretsInErrors(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	o := newOOB(t, otp.Config{Now: c.Now})
	var box outbox
	_, err := o.Issue(ctx, &box, "acct-secret-1", "attempt-a")
	require.NoError(t, err)
	p := box.last()
	_, cooldown := o.Issue(ctx, &box, "acct-secret-1", "attempt-b")
	errs := []error{
		o.Verify(ctx, "acct-secret-1", "attempt-a", wrong(p)),
		o.Verify(ctx, "acct-secret-1", "attempt-b", p),
		cooldown,
	}
	c.Advance(time.Hour)
	errs = append(errs, o.Verify(ctx, "acct-secret-1", "attempt-a", p))
	for _, err := range errs {
		require.Error(t, err)
		assert.NotContains(t, err.Error(), p)
		assert.NotContains(t, err.Error(), "acct-secret-1")
	}
}

package password_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/password"
)

// outbox is a Channel that keeps the codes it sends.
type outbox struct {
	mu    sync.Mutex
	codes []string
	fail  error
}

func (o *outbox) Send(_ context.Context, _, code string, _ time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail != nil {
		return o.fail
	}
	o.codes = append(o.codes, code)
	return nil
}

func (o *outbox) last() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.codes[len(o.codes)-1]
}

var testKey = bytes.Repeat([]byte{0x42}, 32)

func newCodes(c *clock) *password.LoginCodes {
	return &password.LoginCodes{Key: testKey, Now: c.Now}
}

// wrong returns a code that differs from code.
func wrong(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

func TestLoginCodeIssue(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	lc := newCodes(c)
	var box outbox
	expires, err := lc.Issue(ctx, &box, "acct-1", "attempt-a")
	require.NoError(t, err)
	assert.Equal(t, c.Now().Add(5*time.Minute), expires, "valid 5 minutes")
	assert.Regexp(t, regexp.MustCompile(`^[0-9]{6}$`), box.last(), "6 digits")

	_, err = lc.Issue(ctx, &box, "acct-1", "attempt-b")
	var cerr *password.CooldownError
	require.ErrorAs(t, err, &cerr, "a new code within the cooldown")
	assert.ErrorIs(t, err, password.ErrCooldown)
	assert.Equal(t, c.Now().Add(30*time.Second), cerr.Until)
	assert.Len(t, box.codes, 1, "nothing sent within the cooldown")

	_, err = lc.Issue(ctx, &box, "acct-2", "attempt-c")
	assert.NoError(t, err, "the cooldown is per account")
}

func TestLoginCodeVerify(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, lc *password.LoginCodes, c *clock, box *outbox)
	}{
		{"the right code works once", func(t *testing.T, lc *password.LoginCodes, c *clock, box *outbox) {
			code := box.last()
			require.NoError(t, lc.Verify(ctx, "acct-1", "attempt-a", code))
			assert.ErrorIs(t, lc.Verify(ctx, "acct-1", "attempt-a", code), password.ErrCodeUsed)
		}},
		{"typed with a space or fullwidth digits", func(t *testing.T, lc *password.LoginCodes, c *clock, box *outbox) {
			code := box.last()
			fullwidth := ""
			for _, r := range code[:3] {
				fullwidth += string(r - '0' + '０')
			}
			require.NoError(t, lc.Verify(ctx, "acct-1", "attempt-a", fullwidth+" "+code[3:]))
		}},
		{"bound to the login attempt", func(t *testing.T, lc *password.LoginCodes, c *clock, box *outbox) {
			assert.ErrorIs(t, lc.Verify(ctx, "acct-1", "attempt-other", box.last()), password.ErrNoCode)
			assert.ErrorIs(t, lc.Verify(ctx, "acct-2", "attempt-a", box.last()), password.ErrNoCode)
			assert.NoError(t, lc.Verify(ctx, "acct-1", "attempt-a", box.last()))
		}},
		{"valid for 5 minutes", func(t *testing.T, lc *password.LoginCodes, c *clock, box *outbox) {
			c.Advance(5*time.Minute - time.Second)
			code := box.last()
			c.Advance(time.Second)
			assert.ErrorIs(t, lc.Verify(ctx, "acct-1", "attempt-a", code), password.ErrCodeExpired)
		}},
		{"valid just before expiry", func(t *testing.T, lc *password.LoginCodes, c *clock, box *outbox) {
			c.Advance(5*time.Minute - time.Second)
			assert.NoError(t, lc.Verify(ctx, "acct-1", "attempt-a", box.last()))
		}},
		{"at most 5 wrong entries", func(t *testing.T, lc *password.LoginCodes, c *clock, box *outbox) {
			code := box.last()
			for i := 1; i <= 5; i++ {
				err := lc.Verify(ctx, "acct-1", "attempt-a", wrong(code))
				var werr *password.WrongCodeError
				require.ErrorAs(t, err, &werr)
				assert.Equal(t, 5-i, werr.Remaining)
				assert.NotContains(t, err.Error(), code)
			}
			assert.ErrorIs(t, lc.Verify(ctx, "acct-1", "attempt-a", code), password.ErrCodeAttempts, "even the right code is refused now")
		}},
		{"a new code invalidates the previous one", func(t *testing.T, lc *password.LoginCodes, c *clock, box *outbox) {
			first := box.last()
			c.Advance(time.Minute)
			_, err := lc.Issue(ctx, box, "acct-1", "attempt-b")
			require.NoError(t, err)
			assert.ErrorIs(t, lc.Verify(ctx, "acct-1", "attempt-a", first), password.ErrNoCode)
			if second := box.last(); second != first {
				assert.ErrorIs(t, lc.Verify(ctx, "acct-1", "attempt-b", first), password.ErrWrongCode)
			}
			assert.NoError(t, lc.Verify(ctx, "acct-1", "attempt-b", box.last()))
		}},
		{"garbage is a wrong code", func(t *testing.T, lc *password.LoginCodes, c *clock, box *outbox) {
			for _, in := range []string{"", "abcdef", "1234567", string(make([]byte, 1<<16))} {
				assert.ErrorIs(t, lc.Verify(ctx, "acct-1", "attempt-a", in), password.ErrWrongCode)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			lc := newCodes(c)
			var box outbox
			_, err := lc.Issue(ctx, &box, "acct-1", "attempt-a")
			require.NoError(t, err)
			tt.run(t, lc, c, &box)
		})
	}
}

// TestLoginCodeAccountFailures: failures count per account, and asking for a
// new code does not reset them.
func TestLoginCodeAccountFailures(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	th := &password.Throttle{Now: c.Now}
	lc := &password.LoginCodes{Key: testKey, Now: c.Now, Throttle: th}
	var box outbox
	for round := range 2 {
		_, err := lc.Issue(ctx, &box, "acct-1", "attempt-"+string(rune('a'+round)))
		require.NoError(t, err)
		for range 2 {
			assert.ErrorIs(t, lc.Verify(ctx, "acct-1", "attempt-"+string(rune('a'+round)), wrong(box.last())), password.ErrWrongCode)
		}
		c.Advance(time.Minute) // past the resend cooldown
	}
	_, err := lc.Issue(ctx, &box, "acct-1", "attempt-c")
	require.NoError(t, err)
	assert.ErrorIs(t, lc.Verify(ctx, "acct-1", "attempt-c", wrong(box.last())), password.ErrWrongCode, "5th failure of the account")
	assert.ErrorIs(t, lc.Verify(ctx, "acct-1", "attempt-c", box.last()), password.ErrThrottled,
		"after 5 failures over three codes the account must wait")
	c.Advance(30 * time.Second)
	require.NoError(t, lc.Verify(ctx, "acct-1", "attempt-c", box.last()))
	assert.NoError(t, th.Check(ctx, "acct-1"), "success resets the account")
}

func TestLoginCodeConcurrentUse(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	lc := newCodes(c)
	var box outbox
	_, err := lc.Issue(ctx, &box, "acct-1", "attempt-a")
	require.NoError(t, err)
	var ok, used int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			err := lc.Verify(ctx, "acct-1", "attempt-a", box.last())
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, password.ErrCodeUsed):
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

func TestLoginCodeConfig(t *testing.T) {
	ctx := context.Background()
	var box outbox
	tests := []struct {
		lc     *password.LoginCodes
		reason string
	}{
		{&password.LoginCodes{}, "no key"},
		{&password.LoginCodes{Key: []byte("short")}, "short key"},
		{&password.LoginCodes{Key: testKey, TTL: 11 * time.Minute}, "more than 10 minutes"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			_, err := tt.lc.Issue(ctx, &box, "acct-1", "attempt-a")
			assert.Error(t, err)
			assert.Error(t, tt.lc.Verify(ctx, "acct-1", "attempt-a", "123456"))
		})
	}
	lc := &password.LoginCodes{Key: testKey, TTL: 10 * time.Minute}
	_, err := lc.Issue(ctx, &box, "acct-1", "")
	assert.Error(t, err, "a login attempt ID is required")

	sendErr := errors.New("smtp down")
	_, err = lc.Issue(ctx, &outbox{fail: sendErr}, "acct-1", "attempt-a")
	assert.ErrorIs(t, err, sendErr)
}

// TestLoginCodeDistribution checks that codes are uniform over the six
// digits: each digit about a tenth of the time at every position.
func TestLoginCodeDistribution(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	lc := &password.LoginCodes{Key: testKey, Now: c.Now, Cooldown: -1}
	var box outbox
	const n = 2000
	var counts [6][10]int
	for i := range n {
		_, err := lc.Issue(ctx, &box, "acct-1", "attempt-"+string(rune(i)))
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

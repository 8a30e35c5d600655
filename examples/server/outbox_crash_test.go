package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fileTransport notes the id of each message it is handed in the file it
// names, one a line: what a mail server would have received, surviving
// the kill of the process that handed it over.
type fileTransport string

func (t fileTransport) deliver(_ context.Context, m envelope) error {
	f, err := os.OpenFile(string(t), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(m.ID + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// TestCrashDuringDelivery kills the outbox worker after it claimed a
// message and after the transport took it, and lets the next instance
// deliver after the lease: the message is never lost, and it is handed
// over twice only in the window the outbox documents (after the transport
// accepted it, before it was marked sent), under the same id, so that the
// receiver can drop the copy. Its content is wiped once it is marked sent.
func TestCrashDuringDelivery(t *testing.T) {
	tests := []struct {
		step  string
		times int // the transport was handed the message
	}{
		{"outbox.claimed", 1},
		{"outbox.transmitted", 2}, // at least once
	}
	for _, tt := range tests {
		t.Run(tt.step, func(t *testing.T) {
			t.Parallel()
			p := newTestPortal(t)
			ctx := context.Background()
			// On the helper's clock, so that the message is due there and
			// not yet given up.
			p.clock.mu.Lock()
			p.clock.t = time.Now()
			p.clock.mu.Unlock()
			u, err := p.a.userBy(ctx, "username", "jdevries")
			require.NoError(t, err)
			require.NoError(t, (&outbox{a: p.a}).Send(ctx, u, "Melding", "Er staat een nieuw bericht voor u klaar."))
			var id string
			require.NoError(t, p.a.db.QueryRow(`SELECT id FROM outbox WHERE user_id = $1 AND subject = 'Melding'`, u.ID).Scan(&id))

			waitHelper(t, startHelperIn(t, p.a.cfg.DataDir, "outbox", tt.step, "0", ""), tt.step)
			var state string
			require.NoError(t, p.a.db.QueryRow(`SELECT state FROM outbox WHERE id = $1`, id).Scan(&state))
			assert.Equal(t, outboxSending, state, "claimed by the dead worker")

			// The next instance, once the dead worker's lease has passed.
			delivered := filepath.Join(p.a.cfg.DataDir, "delivered")
			p.a.transports = map[string]transport{"email": fileTransport(delivered)}
			more, err := p.a.deliverNext(ctx)
			require.NoError(t, err)
			assert.False(t, more, "not while the lease runs")
			p.clock.mu.Lock()
			p.clock.t = time.Now().Add(outboxLease + time.Second) // the helper is dead: its lease began before now
			p.clock.mu.Unlock()
			for more = true; more; {
				more, err = p.a.deliverNext(ctx)
				require.NoError(t, err)
			}

			b, err := os.ReadFile(delivered)
			require.NoError(t, err)
			assert.Equal(t, strings.Repeat(id+"\n", tt.times), string(b), "handed over, under one id")
			var body, recipient string
			require.NoError(t, p.a.db.QueryRow(`SELECT state, body, recipient FROM outbox WHERE id = $1`, id).Scan(&state, &body, &recipient))
			assert.Equal(t, outboxSent, state)
			assert.Empty(t, body+recipient, "its content is wiped")
		})
	}
}

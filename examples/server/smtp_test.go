package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeSMTP is a minimal SMTP server that misbehaves on its first connection
// in one of the ways a mail server or the network between really does, and
// behaves on every later one. It keeps the Message-ID of every message it
// received in full, whether or not it said so.
type fakeSMTP struct {
	l    net.Listener
	fail string // how the first connection ends; see serve

	// In mode "slow", every message waits for hold to close before its 250;
	// inData closes when the first one has arrived.
	hold, inData chan struct{}
	once         sync.Once

	mu    sync.Mutex
	conns int
	got   []string // Message-IDs
}

func startFakeSMTP(t *testing.T, fail string) *fakeSMTP {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f := &fakeSMTP{l: l, fail: fail, hold: make(chan struct{}), inData: make(chan struct{})}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns++
			first := f.conns == 1
			f.mu.Unlock()
			fail := ""
			if first || f.fail == "slow" {
				fail = f.fail
			}
			go f.serve(c, fail)
		}
	}()
	return f
}

// serve speaks SMTP on c. fail is how the connection ends:
//
//	""           as it should: 250 to the message, 221 to QUIT
//	"quit"       the message is taken (250), QUIT gets no answer: the line drops
//	"after-250"  the line drops right after the 250 to the message
//	"before-250" the server has the whole message, the line drops before it answers
//	"421"        the server answers the message with 421 (try again later)
//	"slow"       (every connection) the 250 to a message waits for f.hold
func (f *fakeSMTP) serve(c net.Conn, fail string) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(s string) { c.Write([]byte(s + "\r\n")) }
	say("220 fake ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-fake")
			say("250 8BITMIME")
		case strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"), strings.HasPrefix(cmd, "RSET"), strings.HasPrefix(cmd, "NOOP"):
			say("250 ok")
		case cmd == "DATA":
			say("354 go on")
			id := ""
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				if v, ok := strings.CutPrefix(l, "Message-ID: "); ok {
					id = strings.TrimSpace(v)
				}
			}
			if fail == "421" {
				say("421 4.3.0 try again later")
				continue
			}
			f.mu.Lock()
			f.got = append(f.got, id)
			f.mu.Unlock()
			switch fail {
			case "slow":
				f.once.Do(func() { close(f.inData) })
				<-f.hold
			case "before-250":
				return
			case "after-250":
				say("250 queued")
				return
			}
			say("250 queued")
		case cmd == "QUIT":
			if fail != "quit" {
				say("221 bye")
			}
			return
		default:
			say("502 no")
		}
	}
}

// received returns the Message-IDs of the messages the server has.
func (f *fakeSMTP) received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

// TestSMTPConnectionDrops delivers through the outbox to a mail server whose
// connection fails at each step of the first delivery. A message the server
// answered 250 is delivered: a line that drops after that must not make it
// a failure, which would send it again. A message the server never
// acknowledged is sent again, with the same Message-ID, so that a server
// that did take it can tell the copy; none is lost.
func TestSMTPConnectionDrops(t *testing.T) {
	tests := []struct {
		fail     string
		copies   int // messages the server gets in all
		attempts int
	}{
		{"", 1, 1},
		{"quit", 1, 1},
		{"after-250", 1, 1},
		{"before-250", 2, 2},
		{"421", 1, 2},
	}
	for _, tt := range tests {
		t.Run("fail="+tt.fail, func(t *testing.T) {
			f := startFakeSMTP(t, tt.fail)
			tr, err := newSMTPTransport(smtpConfig{Addr: f.l.Addr().String(), TLS: "none", From: "noreply@portaal.example", Timeout: 5 * time.Second}, "https://portaal.example")
			require.NoError(t, err)
			p := newTestPortal(t)
			p.a.sender = &outbox{a: p.a}
			p.a.transports = map[string]transport{"email": tr}
			require.NoError(t, p.a.sender.SendCode(context.Background(), p.user("jdevries"), "Uw verificatiecode is 123456.", p.clock.Now().Add(5*time.Minute)))
			p.flush()
			for range 3 { // well past every retry
				p.clock.Advance(outboxBackoff << 2)
				p.flush()
			}
			got := f.received()
			require.Len(t, got, tt.copies)
			for _, id := range got {
				assert.Regexp(t, `^<outbox\.[0-9a-f]+@portaal\.example>$`, id)
				assert.Equal(t, got[0], id, "a copy has the Message-ID of the first")
			}
			rows := p.outboxRows("jdevries")
			require.Len(t, rows, 1)
			assert.Equal(t, outboxSent, rows[0].State)
			assert.Equal(t, tt.attempts, rows[0].Attempts)
		})
	}
}

// TestSMTPSlowServer: a server that never answers the message does not hold
// a delivery past its context (go-mail's own timeout is per command).
func TestSMTPSlowServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.Write([]byte("220 slow\r\n"))
				io.Copy(io.Discard, c) // and never another word
			}()
		}
	}()
	tr, err := newSMTPTransport(smtpConfig{Addr: l.Addr().String(), TLS: "none", From: "noreply@portaal.example", Timeout: time.Minute}, "")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = tr.deliver(ctx, envelope{ID: "m1", To: "jan@zonnehuis.example", Subject: "x", Body: "x"})
	assert.Error(t, err)
	assert.Less(t, time.Since(start), 10*time.Second, "ended with the context, not the minute-long timeout")
}

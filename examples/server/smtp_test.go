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

// fakeSMTP is a minimal SMTP server that takes every message and then hangs
// up without answering QUIT: the server has the message, the client never
// hears the goodbye.
type fakeSMTP struct {
	l        net.Listener
	mu       sync.Mutex
	accepted int
}

func startFakeSMTP(t *testing.T) *fakeSMTP {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f := &fakeSMTP{l: l}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	return f
}

func (f *fakeSMTP) serve(c net.Conn) {
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
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			f.mu.Lock()
			f.accepted++
			f.mu.Unlock()
			say("250 queued")
		case cmd == "QUIT":
			return // hang up without "221"
		default:
			say("502 no")
		}
	}
}

func (f *fakeSMTP) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.accepted
}

// TestSMTPAcceptedThenDropped: once the server answered 250 to the message,
// a connection that breaks on QUIT does not make the message a failure
// (which would send it again).
func TestSMTPAcceptedThenDropped(t *testing.T) {
	f := startFakeSMTP(t)
	tr, err := newSMTPTransport(smtpConfig{Addr: f.l.Addr().String(), TLS: "none", From: "noreply@portaal.example", Timeout: 5 * time.Second}, "https://portaal.example")
	require.NoError(t, err)
	err = tr.deliver(context.Background(), envelope{ID: "m1", Channel: "email", To: "jan@zonnehuis.example", Name: "Jan", Subject: "Bericht", Body: "tekst"})
	assert.NoError(t, err, "the server took the message")
	assert.Equal(t, 1, f.count())
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

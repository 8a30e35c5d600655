package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/zorgkit/zorgkit/examples/server/internal/sms"
)

// smsTransport delivers the outbox's SMS through an HTTP gateway (package
// internal/sms): the outbox id travels as the gateway's Idempotency-Key, so
// that a repeat after a crash can be dropped there.
type smsTransport struct{ gw *sms.Gateway }

func newSMSTransport(c smsConfig) smsTransport {
	return smsTransport{&sms.Gateway{URL: c.URL, Token: c.Token, From: c.From, Client: &http.Client{
		Timeout:       c.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}}
}

func (t smsTransport) deliver(ctx context.Context, m envelope) error {
	err := t.gw.Send(ctx, m.ID, m.To, m.Body)
	if errors.Is(err, sms.ErrNumber) || errors.Is(err, sms.ErrRejected) {
		return permanent(err)
	}
	return err
}

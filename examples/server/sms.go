package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
)

// smsGateway delivers SMS through an HTTP gateway: a JSON POST
//
//	POST <-sms-url>
//	Authorization: Bearer <token>
//	Idempotency-Key: <outbox id>
//
//	{"to": "+31612345678", "from": "Portaal", "text": "…", "reference": "<outbox id>"}
//
// answered with any 2xx once the gateway has taken the message. Most
// gateways (MessageBird, Twilio, CM.com, Spryng) take this shape with small
// differences in the field names; an adapter for another is a copy of this
// type. The Idempotency-Key is the same on every attempt, so that a gateway
// that supports it drops the repeat after a crash.
//
// The gateway's answer is never logged or put in an error: some gateways
// echo the message, and the message holds a code.
type smsGateway struct {
	url, token, from string
	client           *http.Client
}

func newSMSGateway(c smsConfig) *smsGateway {
	return &smsGateway{url: c.URL, token: c.Token, from: c.From, client: &http.Client{
		Timeout: c.Timeout,
		// A redirect is a misconfiguration; following it could take the
		// token and the code elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// errPhoneNumber is a phone number that no gateway can deliver to.
var errPhoneNumber = errors.New("sms: the phone number is not a mobile number in international form")

func (g *smsGateway) deliver(ctx context.Context, m envelope) error {
	to, err := e164(m.To)
	if err != nil {
		return permanent(fmt.Errorf("message %s: %w", m.ID, err))
	}
	body, err := json.Marshal(struct {
		To        string `json:"to"`
		From      string `json:"from"`
		Text      string `json:"text"`
		Reference string `json:"reference"`
	}{to, g.from, m.Body, m.ID})
	if err != nil {
		return permanent(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url, bytes.NewReader(body))
	if err != nil {
		return permanent(fmt.Errorf("sms: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+g.token)
	req.Header.Set("Idempotency-Key", m.ID)
	resp, err := g.client.Do(req)
	if err != nil {
		// Do's error names the URL only: no token, no body.
		return fmt.Errorf("sms: message %s: %w", m.ID, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnprocessableEntity:
		// The gateway refuses this message (number, text): a retry
		// gets the same answer.
		return permanent(fmt.Errorf("sms: message %s refused by the gateway: %s", m.ID, resp.Status))
	default:
		// 401/403 (a token to fix), 429, 5xx, a redirect: the message
		// waits for a retry.
		return fmt.Errorf("sms: message %s: gateway answered %s", m.ID, resp.Status)
	}
}

var e164RE = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// e164 returns a phone number as people type it ("06-12345678",
// "+31 6 1234 5678", "0031612345678") in international form; a number
// without a country code is taken as Dutch.
func e164(s string) (string, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '(', ')', '\u00a0':
			return -1
		}
		return r
	}, s)
	switch {
	case strings.HasPrefix(s, "+"):
	case strings.HasPrefix(s, "00"):
		s = "+" + s[2:]
	case strings.HasPrefix(s, "0"):
		s = "+31" + s[1:]
	}
	if !e164RE.MatchString(s) {
		return "", errPhoneNumber
	}
	return s, nil
}

// Package sms sends text messages through an HTTP SMS gateway.
//
// [Gateway] speaks the JSON shape most gateways take (MessageBird, CM.com,
// Spryng and Twilio differ in little more than field names; an adapter for
// another is a copy of Send):
//
//	POST <URL>
//	Authorization: Bearer <token>
//	Idempotency-Key: <id>
//	Content-Type: application/json
//
//	{"to": "+31612345678", "from": "Portaal", "text": "…", "reference": "<id>"}
//
// and takes any 2xx answer as acceptance. The caller's id goes along as
// Idempotency-Key and reference, the same on every attempt, so that a
// gateway that supports it drops a repeat after a crash.
//
// The gateway's answer is never put in an error: some gateways echo the
// message, and the message may hold a login code.
package sms

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
	"time"
)

// Errors that a retry cannot fix.
var (
	// ErrNumber is a phone number no gateway can deliver to.
	ErrNumber = errors.New("sms: the phone number is not a mobile number in international form")
	// ErrRejected is a message the gateway refused (400 or 422).
	ErrRejected = errors.New("sms: the gateway refused the message")
)

// Gateway is an HTTP SMS gateway. Its zero Client is a client with a
// 15-second timeout that follows no redirects: a redirect would take the
// token and the message elsewhere.
type Gateway struct {
	URL    string       // the send endpoint
	Token  string       // bearer token
	From   string       // sender name or number
	Client *http.Client // nil: see above
}

var defaultClient = &http.Client{
	Timeout:       15 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Send hands the text for the phone number to the gateway, and returns nil
// once the gateway accepted it. An error that wraps ErrNumber or ErrRejected
// is final; any other (a network error, 401, 429, 5xx, a redirect) may pass.
func (g *Gateway) Send(ctx context.Context, id, to, text string) error {
	number, err := E164(to)
	if err != nil {
		return err
	}
	body, err := json.Marshal(struct {
		To        string `json:"to"`
		From      string `json:"from"`
		Text      string `json:"text"`
		Reference string `json:"reference"`
	}{number, g.From, text, id})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sms: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+g.Token)
	req.Header.Set("Idempotency-Key", id)
	client := g.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("sms: message %s: %w", id, err) // names the URL, not the token or the text
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnprocessableEntity:
		return fmt.Errorf("%w: message %s: %s", ErrRejected, id, resp.Status)
	default:
		return fmt.Errorf("sms: message %s: the gateway answered %s", id, resp.Status)
	}
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// E164 returns a phone number as people type it ("06-12345678",
// "+31 6 1234 5678", "0031612345678") in international form (ITU-T E.164,
// "+31612345678"). A number without a country code is taken as Dutch.
func E164(s string) (string, error) {
	s = strings.ReplaceAll(s, "(0)", "") // "+31 (0)6 …": the 0 is dialled only at home
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '(', ')', '/', '\u00a0':
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
	if !e164.MatchString(s) {
		return "", ErrNumber
	}
	return s, nil
}

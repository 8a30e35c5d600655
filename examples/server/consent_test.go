package main

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/bsn/bsntest"
)

// A client who signed a renewed form, or whose form was entered twice, and
// then withdraws: no older permit decides again after the portal said the
// consent was withdrawn.
func TestWithdrawEndsEveryPermit(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	_, body := b.post("/clients/lookup", url.Values{"bsn": {bsntest.TestPersons()[0].String()}})
	subject := hiddenValue(t, body, "client")
	form := url.Values{"client": {subject}, "purpose": {"view-naw"}, "decision": {"permit"},
		"given": {p.clock.Now().Format("2006-01-02")}, "reference": {"ZH-TOE-RENEWED"}, "evidence": {"paper"}}
	for range 2 { // a double click
		_, body = b.post("/clients/consent", form)
		require.Contains(t, body, "De toestemming is vastgelegd")
	}
	p.clock.Advance(time.Minute)

	_, body = b.post("/clients/withdraw", url.Values{"client": {subject}, "purpose": {"view-naw"}})
	assert.Contains(t, body, "De toestemming is ingetrokken")
	p.clock.Advance(time.Second)
	status, _ := b.post("/clients/view", url.Values{"client": {subject}, "purpose": {"view-naw"}})
	assert.Equal(t, http.StatusForbidden, status, "neither the renewed nor the older permit allows access")
	_, body = b.post("/clients/withdraw", url.Values{"client": {subject}, "purpose": {"view-naw"}})
	assert.Contains(t, body, "geen toestemming om in te trekken", "a second click changes nothing")
}

// A refusal is not withdrawn: the page says what to do instead.
func TestWithdrawRefusal(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	_, body := b.post("/clients/lookup", url.Values{"bsn": {bsntest.TestPersons()[2].String()}})
	subject := hiddenValue(t, body, "client")
	form := url.Values{"client": {subject}, "purpose": {"take-over-indication"}, "decision": {"deny"},
		"given": {p.clock.Now().Format("2006-01-02")}, "reference": {"ZH-TOE-WEIGERING"}, "evidence": {"paper"}}
	_, body = b.post("/clients/consent", form)
	require.Contains(t, body, "De weigering van de cliënt is vastgelegd")
	p.clock.Advance(time.Minute)
	_, body = b.post("/clients/withdraw", url.Values{"client": {subject}, "purpose": {"take-over-indication"}})
	assert.Contains(t, body, "een weigering kunt u niet intrekken")
}

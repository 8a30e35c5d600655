package main

import (
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/bsn/bsntest"
)

// Lookups at the same time go into the access log in group commits; every
// answered one is there, once.
func TestAccessLogConcurrentLookups(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	var before int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM access_log`).Scan(&before))
	persons := bsntest.TestPersons()
	const clients, each = 8, 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	answered := 0
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				resp, err := b.c.PostForm(p.srv.URL+"/clients/lookup", url.Values{"bsn": {persons[(c+i)%len(persons)].Digits()}})
				if !assert.NoError(t, err) {
					return
				}
				resp.Body.Close()
				if assert.Equal(t, http.StatusOK, resp.StatusCode) {
					mu.Lock()
					answered++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	var lookups int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM access_log WHERE purpose = 'lookup'`).Scan(&lookups))
	assert.Equal(t, clients*each, answered)
	assert.Equal(t, answered, lookups)
}

// When the access log cannot be written, nothing is shown: not the client
// page of a lookup, not the client's data.
func TestAccessLogFailingRefuses(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	n := bsntest.TestPersons()[0]
	status, body := b.post("/clients/lookup", url.Values{"bsn": {n.Digits()}})
	require.Equal(t, http.StatusOK, status)
	subject := hiddenValue(t, body, "subject")

	_, err := p.a.db.Exec(`ALTER TABLE access_log RENAME TO access_log_gone`)
	require.NoError(t, err)
	status, body = b.post("/clients/lookup", url.Values{"bsn": {n.Digits()}})
	assert.Equal(t, http.StatusInternalServerError, status)
	assert.NotContains(t, body, subject)
	assert.NotContains(t, body, n.Masked())
	status, body = b.post("/clients/view", url.Values{"subject": {subject}, "purpose": {"view-naw"}})
	assert.Equal(t, http.StatusInternalServerError, status)
	assert.NotContains(t, body, "Almere", "no address")

	_, err = p.a.db.Exec(`ALTER TABLE access_log_gone RENAME TO access_log`)
	require.NoError(t, err)
	status, _ = b.post("/clients/lookup", url.Values{"bsn": {n.Digits()}})
	assert.Equal(t, http.StatusOK, status, "the log works again")
}

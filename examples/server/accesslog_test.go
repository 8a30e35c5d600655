package main

import (
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/bsn"
	"github.com/zorgkit/zorgkit/bsn/bsntest"
	"github.com/zorgkit/zorgkit/consent"
)

// Lookups at the same time go into the access log in group commits; every
// answered one is there, once.
func TestAccessLogConcurrentLookups(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	concurrentLookups(t, p.a.db, b, p.srv.URL)
	_, err := p.a.verifyAccessLog(t.Context())
	require.NoError(t, err, "the entries of the group commits form one unbroken chain")
}

// The same with two instances on one PostgreSQL database, each with its own
// group commits.
func TestAccessLogConcurrentLookupsPostgres(t *testing.T) {
	cfg := postgresConfig(t)
	first := startTestPortal(t, cfg, true)
	second := startTestPortal(t, cfg, false)
	second.a.now = first.clock.Now
	b := first.browser()
	b.login("jdevries")
	u1, _ := url.Parse(first.srv.URL)
	u2, _ := url.Parse(second.srv.URL)
	b.c.Jar.SetCookies(u2, b.c.Jar.Cookies(u1))
	concurrentLookups(t, first.a.db, b, first.srv.URL, second.srv.URL)
	heads, err := first.a.verifyAccessLog(t.Context())
	require.NoError(t, err, "each instance has its own unbroken chain")
	assert.Contains(t, heads, first.a.instance)
	assert.Contains(t, heads, second.a.instance)
}

// concurrentLookups runs lookups from 6 clients at once, spread over the
// servers, and checks that the access log has each answered one.
func concurrentLookups(t *testing.T, db *sql.DB, b *browser, servers ...string) {
	var before int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM access_log WHERE object = 'client/lookup'`).Scan(&before))
	persons := bsntest.TestPersons()
	const clients, each = 6, 2
	var wg sync.WaitGroup
	var mu sync.Mutex
	answered := 0
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				resp, err := b.c.PostForm(servers[(c+i)%len(servers)]+"/clients/lookup", url.Values{"bsn": {persons[(c+i)%len(persons)].Digits()}})
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
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM access_log WHERE object = 'client/lookup'`).Scan(&lookups))
	assert.Equal(t, clients*each, answered)
	assert.Equal(t, answered, lookups-before)
}

// The access log is sealed in a MAC chain: an entry changed or removed
// behind the portal's back is found, and every entry carries the elements
// of NEN 7513.
func TestAccessLogSealed(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	status, body := b.post("/clients/lookup", url.Values{"bsn": {bsntest.TestPersons()[0].Digits()}})
	require.Equal(t, http.StatusOK, status)
	client := hiddenValue(t, body, "client")
	status, _ = b.post("/clients/view", url.Values{"client": {client}, "purpose": {"view-naw"}})
	require.Equal(t, http.StatusOK, status)
	status, _ = b.post("/clients/lookup", url.Values{"bsn": {bsntest.TestPersons()[1].Digits()}})
	require.Equal(t, http.StatusOK, status)

	var instance, address, role, object, action, payload string
	require.NoError(t, p.a.db.QueryRow(`SELECT instance, address, role, object, action, payload FROM access_log WHERE object = 'client/naw'`).
		Scan(&instance, &address, &role, &object, &action, &payload))
	assert.Equal(t, p.a.instance, instance)
	assert.NotEmpty(t, address, "the client's address")
	assert.NotEmpty(t, role, "the user's role")
	assert.Equal(t, "R", action)
	assert.Contains(t, payload, `"object":"client/naw"`)
	for _, n := range bsntest.TestPersons() {
		assert.NotContains(t, payload, n.Digits(), "never a BSN")
	}
	_, err := p.a.verifyAccessLog(t.Context())
	require.NoError(t, err)

	_, err = p.a.db.Exec(`UPDATE access_log SET payload = REPLACE(payload, '"allowed":true,', '') WHERE object = 'client/naw'`)
	require.NoError(t, err)
	_, err = p.a.verifyAccessLog(t.Context())
	assert.ErrorIs(t, err, consent.ErrTampered, "a changed entry is found")
	_, err = p.a.db.Exec(`DELETE FROM access_log WHERE object = 'client/naw'`)
	require.NoError(t, err)
	_, err = p.a.verifyAccessLog(t.Context())
	var terr *consent.TamperError
	require.ErrorAs(t, err, &terr, "a removed entry is found")
	assert.Equal(t, consent.ProblemRemoved, terr.Problems[0].Kind)

	// The auditor reads it on the audit page, in Dutch.
	owner := p.browser()
	owner.login("beheerder")
	_, body = owner.get("/audit")
	assert.Contains(t, text(body), "Het toegangslog is gewijzigd buiten het portaal om: 1 regel klopt niet")
	assert.NotContains(t, body, "restore the events from a backup", "not the library's English")
}

// When the access log cannot be written, nothing is shown: not the client
// page of a lookup (nor the API's answer), not the client's data.
func TestAccessLogFailingRefuses(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	n := bsntest.TestPersons()[0]
	status, body := b.post("/clients/lookup", url.Values{"bsn": {n.Digits()}})
	require.Equal(t, http.StatusOK, status)
	subject := hiddenValue(t, body, "client")

	_, err := p.a.db.Exec(`ALTER TABLE access_log RENAME TO access_log_gone`)
	require.NoError(t, err)
	status, body = b.post("/clients/lookup", url.Values{"bsn": {n.Digits()}})
	assert.Equal(t, http.StatusInternalServerError, status)
	assert.NotContains(t, body, subject)
	assert.NotContains(t, body, n.Masked())
	status, body = b.post("/clients/view", url.Values{"client": {subject}, "purpose": {"view-naw"}})
	assert.Equal(t, http.StatusInternalServerError, status)
	assert.NotContains(t, body, "Almere", "no address")
	resp, err := b.c.Post(p.srv.URL+"/api/clients/lookup", "application/json", strings.NewReader(`{"bsn":"`+n.Digits()+`"}`))
	require.NoError(t, err)
	status, body = readBody(t, resp)
	assert.Equal(t, http.StatusInternalServerError, status, "the API as the page")
	assert.NotContains(t, body, n.Masked())

	_, err = p.a.db.Exec(`ALTER TABLE access_log_gone RENAME TO access_log`)
	require.NoError(t, err)
	status, _ = b.post("/clients/lookup", url.Values{"bsn": {n.Digits()}})
	assert.Equal(t, http.StatusOK, status, "the log works again")
}

// Access-log ids have newID's form, grow with time (so that the entries of
// a group commit land at the end of the primary-key index) and do not
// collide within one millisecond.
func TestNewLogID(t *testing.T) {
	at := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	prev := ""
	for i := range 2000 {
		id := newLogID(at.Add(time.Duration(i/100) * time.Millisecond))
		require.Regexp(t, `^[0-9a-f]{24}$`, id)
		require.False(t, seen[id], "id %s twice", id)
		seen[id] = true
		if i%100 == 0 {
			assert.Greater(t, id, prev, "a later millisecond sorts after")
		}
		prev = id
	}
	assert.Equal(t, "01a23c6b6180", newLogID(at)[:12], "the time in milliseconds, big-endian")
}

// A lookup's page is built while its access-log entry commits, but it
// leaves only after the commit returned: while the write lock is held
// elsewhere, no answer arrives; once it is free, the answer is the client
// page, and the entry is in the log by then.
func TestLookupAnsweredAfterCommit(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	n := bsntest.TestPersons()[0]
	count := func() (c int) {
		require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM access_log WHERE object = 'client/lookup'`).Scan(&c))
		return c
	}
	before := count()

	tx, err := p.a.db.BeginTx(t.Context(), nil) // immediate: holds the write lock
	require.NoError(t, err)
	type answer struct {
		status int
		body   string
	}
	answered := make(chan answer, 1)
	go func() {
		status, body := b.post("/clients/lookup", url.Values{"bsn": {n.Digits()}})
		answered <- answer{status, body}
	}()
	select {
	case a := <-answered:
		t.Fatalf("answered (%d) while the access log could not commit", a.status)
	case <-time.After(300 * time.Millisecond):
	}
	require.NoError(t, tx.Rollback())
	a := <-answered
	assert.Equal(t, http.StatusOK, a.status)
	assert.Contains(t, a.body, n.Masked())
	assert.Equal(t, before+1, count(), "the lookup is in the log once it is answered")
}

// A group commit of any size goes into the log whole, in order, on one
// unbroken chain, and a bad entry in it refuses only its own caller.
func TestAccessLogBatchSizes(t *testing.T) {
	p := newTestPortal(t)
	var before int64
	require.NoError(t, p.a.db.QueryRow(`SELECT COALESCE(MAX(seq), 0) FROM access_log WHERE chain = $1`, p.a.instance).Scan(&before))
	for _, size := range []int{1, 31, 47} {
		es := make([]consent.AccessEntry, size)
		for i := range es {
			es[i] = consent.AccessEntry{ID: newLogID(p.a.now()), Time: p.a.now(), Instance: p.a.instance, User: "u",
				Role: "provider", Organisation: "org", Subject: "s", Object: fmt.Sprintf("test/%d/%d", size, i),
				Action: consent.ActionExecute, Allowed: true, Reason: "exact-bsn"}
		}
		require.NoError(t, p.a.accessLog.commit(es), "size %d", size)
	}
	rows, err := p.a.db.Query(`SELECT seq, object FROM access_log WHERE chain = $1 AND seq > $2 ORDER BY seq`, p.a.instance, before)
	require.NoError(t, err)
	defer rows.Close()
	var got []string
	for want := before + 1; rows.Next(); want++ {
		var seq int64
		var object string
		require.NoError(t, rows.Scan(&seq, &object))
		assert.Equal(t, want, seq, "no gap in the chain")
		got = append(got, object)
	}
	require.NoError(t, rows.Err())
	var want []string
	for _, size := range []int{1, 31, 47} {
		for i := range size {
			want = append(want, fmt.Sprintf("test/%d/%d", size, i))
		}
	}
	assert.Equal(t, want, got, "every entry, in the order given")
	_, err = p.a.verifyAccessLog(t.Context())
	require.NoError(t, err)

	// A bad entry in a chunk (an id the log has already) refuses only its
	// own caller: the others of the batch are committed, the chain stays
	// whole.
	var dup string
	require.NoError(t, p.a.db.QueryRow(`SELECT id FROM access_log WHERE object = 'test/31/3'`).Scan(&dup))
	batch := make([]*commitReq[consent.AccessEntry], 5)
	for i := range batch {
		id := newLogID(p.a.now())
		if i == 2 {
			id = dup
		}
		batch[i] = &commitReq[consent.AccessEntry]{item: consent.AccessEntry{ID: id, Time: p.a.now(), Instance: p.a.instance,
			User: "u", Role: "provider", Organisation: "org", Subject: "s", Object: fmt.Sprintf("bad/%d", i),
			Action: consent.ActionExecute, Allowed: true, Reason: "exact-bsn"}}
	}
	p.a.accessLog.flush(batch)
	for i, r := range batch {
		if i == 2 {
			assert.Error(t, r.err, "the entry with a duplicate id")
			continue
		}
		assert.NoError(t, r.err, "entry %d", i)
	}
	var n int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM access_log WHERE object LIKE 'bad/%'`).Scan(&n))
	assert.Equal(t, 4, n)
	_, err = p.a.verifyAccessLog(t.Context())
	require.NoError(t, err)
}

// Every lookup (of the pages and of the API, found or not) and every
// decision, allowed or refused, is in the access log under the user's own
// organisation and the client's pseudonym.
func TestAccessLogNamesOrganisationAndSubject(t *testing.T) {
	p := newTestPortal(t)
	ctx := t.Context()
	persons := bsntest.TestPersons()
	nobody := bsntest.Numbers(99, 1)[0]
	subjectOf := func(n bsn.Number) string {
		s, _, err := p.a.findClient(ctx, n)
		require.NoError(t, err)
		return s
	}
	userOf := func(username string) (id string) {
		require.NoError(t, p.a.db.QueryRow(`SELECT id FROM users WHERE username = $1`, username).Scan(&id))
		return id
	}
	var before int64
	require.NoError(t, p.a.db.QueryRow(`SELECT COALESCE(MAX(seq), 0) FROM access_log WHERE chain = $1`, p.a.instance).Scan(&before))
	apiLookup := func(b *browser, n bsn.Number) int {
		resp, err := b.c.Post(p.srv.URL+"/api/clients/lookup", "application/json", strings.NewReader(`{"bsn":"`+n.Digits()+`"}`))
		require.NoError(t, err)
		status, _ := readBody(t, resp)
		return status
	}

	jan := p.browser()
	jan.login("jdevries")
	_, body := jan.post("/clients/lookup", url.Values{"bsn": {persons[0].Digits()}})
	status, _ := jan.post("/clients/view", url.Values{"client": {hiddenValue(t, body, "client")}, "purpose": {"view-naw"}})
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, http.StatusOK, apiLookup(jan, persons[1]))
	lotte := p.browser()
	lotte.login("linde")
	_, body = lotte.post("/clients/lookup", url.Values{"bsn": {persons[0].Digits()}})
	status, _ = lotte.post("/clients/view", url.Values{"client": {hiddenValue(t, body, "client")}, "purpose": {"view-naw"}})
	require.Equal(t, http.StatusForbidden, status)
	require.Equal(t, http.StatusNotFound, apiLookup(lotte, nobody))

	type entry struct{ User, Org, Subject, Object, Allowed, Reason string }
	want := []entry{
		{userOf("jdevries"), "zonnehuis", subjectOf(persons[0]), "client/lookup", "true", "exact-bsn"},
		{userOf("jdevries"), "zonnehuis", subjectOf(persons[0]), "client/naw", "true", "permitted"},
		{userOf("jdevries"), "zonnehuis", subjectOf(persons[1]), "client/lookup", "true", "exact-bsn"},
		{userOf("linde"), "delinde", subjectOf(persons[0]), "client/lookup", "true", "exact-bsn"},
		{userOf("linde"), "delinde", subjectOf(persons[0]), "client/naw", "false", "no-consent"},
		{userOf("linde"), "delinde", subjectOf(nobody), "client/lookup", "false", "exact-bsn"},
	}
	rows, err := p.a.db.Query(`SELECT user_id, org_id, subject, object, allowed, reason FROM access_log WHERE chain = $1 AND seq > $2 ORDER BY seq`, p.a.instance, before)
	require.NoError(t, err)
	defer rows.Close()
	var got []entry
	for rows.Next() {
		var e entry
		var allowed bool
		require.NoError(t, rows.Scan(&e.User, &e.Org, &e.Subject, &e.Object, &allowed, &e.Reason))
		e.Allowed = fmt.Sprint(allowed)
		got = append(got, e)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, want, got)
}

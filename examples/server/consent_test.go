package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/bsn/bsntest"
	"github.com/zorgkit/zorgkit/consent"
)

// A client who signed a renewed form, or whose form was entered twice, and
// then withdraws: no older permit decides again after the portal said the
// consent was withdrawn.
func TestWithdrawEndsEveryPermit(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	_, body := b.post("/clients/lookup", url.Values{"bsn": {bsntest.TestPersons()[0].Digits()}})
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
	_, body := b.post("/clients/lookup", url.Values{"bsn": {bsntest.TestPersons()[2].Digits()}})
	subject := hiddenValue(t, body, "client")
	form := url.Values{"client": {subject}, "purpose": {"take-over-indication"}, "decision": {"deny"},
		"given": {p.clock.Now().Format("2006-01-02")}, "reference": {"ZH-TOE-WEIGERING"}, "evidence": {"paper"}}
	_, body = b.post("/clients/consent", form)
	require.Contains(t, body, "De weigering van de cliënt is vastgelegd")
	p.clock.Advance(time.Minute)
	_, body = b.post("/clients/withdraw", url.Values{"client": {subject}, "purpose": {"take-over-indication"}})
	assert.Contains(t, body, "een weigering kunt u niet intrekken")
}

// A consent chain that does not verify, here because its head was removed
// behind the portal's back, opens nothing and records nothing: the user
// reads why, the access log has the failed decision, and the operator the
// error.
func TestDamagedChainRefuses(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	n := bsntest.TestPersons()[0]
	_, body := b.post("/clients/lookup", url.Values{"bsn": {n.Digits()}})
	subject := hiddenValue(t, body, "client")
	form := url.Values{"client": {subject}, "purpose": {"view-naw"}, "decision": {"permit"},
		"given": {p.clock.Now().Format("2006-01-02")}, "reference": {"ZH-TOE-1"}, "evidence": {"paper"}}
	_, body = b.post("/clients/consent", form)
	require.Contains(t, body, "De toestemming is vastgelegd")
	p.clock.Advance(time.Minute)
	status, _ := b.post("/clients/view", url.Values{"client": {subject}, "purpose": {"view-naw"}})
	require.Equal(t, http.StatusOK, status)

	var before int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM consent_events`).Scan(&before))
	_, err := p.a.db.Exec(`DELETE FROM consent_heads`)
	require.NoError(t, err)
	incomplete := url.Values{}
	for k, v := range form {
		if k != "reference" {
			incomplete[k] = v
		}
	}
	for _, tt := range []struct {
		name string
		path string
		form url.Values
	}{
		{"look the client up", "/clients/lookup", url.Values{"bsn": {n.Digits()}}},
		{"open the data", "/clients/view", url.Values{"client": {subject}, "purpose": {"view-naw"}}},
		{"record consent", "/clients/consent", form},
		{"record consent, a field left out", "/clients/consent", incomplete},
		{"withdraw", "/clients/withdraw", url.Values{"client": {subject}, "purpose": {"view-naw"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := b.post(tt.path, tt.form)
			assert.Equal(t, http.StatusServiceUnavailable, status)
			assert.Contains(t, body, "De toestemmingsregistratie van deze cliënt is niet in orde")
			assert.NotContains(t, body, "Almere", "no address")
		})
	}
	t.Run("look the client up through the API", func(t *testing.T) {
		resp, err := b.c.Post(p.srv.URL+"/api/clients/lookup", "application/json", strings.NewReader(`{"bsn":"`+n.Digits()+`"}`))
		require.NoError(t, err)
		status, body := readBody(t, resp)
		assert.Equal(t, http.StatusServiceUnavailable, status, "as the page")
		assert.Contains(t, body, `"consent-damaged"`)
		assert.NotContains(t, body, "client", "no handle")
	})
	var logged int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM access_log WHERE object = 'client/naw' AND error = 'tampered' AND allowed = 0`).Scan(&logged))
	assert.Equal(t, 1, logged, "the failed decision is in the access log")
	var after int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM consent_events`).Scan(&after))
	assert.Equal(t, before, after, "nothing was recorded")
}

// The daily anchor: the consent registry's checkpoint is sealed into the
// access log and mailed to the owner's staff with the heads of the access
// log, and a later check against the mailed digest finds a removed event.
func TestAnchorConsent(t *testing.T) {
	p := newTestPortal(t)
	ctx := t.Context()
	detail, err := p.a.anchorConsent(ctx, anchorJob+"2026-12-01")
	require.NoError(t, err)
	assert.Equal(t, "anchored", detail)
	mail := p.sent.last("beheerder", "Dagelijks controlepunt toestemmingsregistratie en toegangslog")
	digest := regexp.MustCompile(`Digest: ([0-9a-f]{64})`).FindStringSubmatch(mail)
	require.NotNil(t, digest, mail)
	assert.Contains(t, mail, p.a.instance, "the head of this instance's access log")
	require.NoError(t, p.a.consent.VerifyAnchor(ctx, digest[1]))
	var n int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM access_log WHERE object = $1`, "consent/checkpoint/"+digest[1]).Scan(&n))
	assert.Equal(t, 1, n, "the digest is sealed into the access log")

	// Someone removes a withdrawal or a consent, triggers and all.
	removeLastConsentEvent(t, p)
	assert.ErrorIs(t, p.a.consent.VerifyAnchor(ctx, digest[1]), consent.ErrTampered)
	detail, err = p.a.anchorConsent(ctx, anchorJob+"2026-12-02")
	require.NoError(t, err)
	assert.Contains(t, detail, "tampered")
	assert.NotEmpty(t, p.sent.last("beheerder", "ALARM: toestemmingsregistratie of toegangslog gewijzigd buiten het portaal om"))
}

// removeLastConsentEvent deletes the newest consent event, triggers and
// all, as someone with write access to the database could.
func removeLastConsentEvent(t *testing.T, p *testPortal) {
	t.Helper()
	var err error
	switch p.a.dialect {
	case sqlite:
		_, err = p.a.db.Exec(`DROP TRIGGER consent_events_no_delete`)
	default:
		_, err = p.a.db.Exec(`ALTER TABLE consent_events DISABLE TRIGGER USER`)
	}
	require.NoError(t, err)
	_, err = p.a.db.Exec(`DELETE FROM consent_events WHERE seq = (SELECT MAX(seq) FROM consent_events)`)
	require.NoError(t, err)
}

// The anchor job run again after a crash (its mails queued, the job not
// yet marked done) queues no second copy of a mail; an alarm the second run
// raises is still sent.
func TestAnchorRunAgain(t *testing.T) {
	p := newTestPortal(t)
	p.a.sender = &outbox{a: p.a}
	ctx := t.Context()
	queued := func(subject string) int {
		t.Helper()
		var n int
		require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE subject = $1`, subject).Scan(&n))
		return n
	}
	const daily = "Dagelijks controlepunt toestemmingsregistratie en toegangslog"
	const alarm = "ALARM: toestemmingsregistratie of toegangslog gewijzigd buiten het portaal om"
	job := anchorJob + "2026-12-01"
	_, err := p.a.anchorConsent(ctx, job)
	require.NoError(t, err)
	staff := queued(daily)
	require.Positive(t, staff, "the owner's staff get the anchor")
	_, err = p.a.anchorConsent(ctx, job)
	require.NoError(t, err)
	assert.Equal(t, staff, queued(daily), "the same job queues each mail once")

	_, err = p.a.anchorConsent(ctx, anchorJob+"2026-12-02")
	require.NoError(t, err)
	assert.Equal(t, 2*staff, queued(daily), "the next day's job mails again")

	removeLastConsentEvent(t, p)
	detail, err := p.a.anchorConsent(ctx, job)
	require.NoError(t, err)
	require.Contains(t, detail, "tampered")
	assert.Equal(t, staff, queued(alarm), "the alarm of a run again is sent")
}

// A withdrawal rolled back, with the chain's head, while the portal is
// down: the restarted portal knows the head from the last checkpoint (the
// daily anchor's) and opens nothing, without a Verify at start-up.
func TestRollbackWhileDown(t *testing.T) {
	p := newTestPortal(t)
	chain := withdrawnAndAnchored(t, p, bsntest.TestPersons()[0].Digits(), "ZH-TOE-ROLLBACK")

	// Down: the withdrawal goes, and the head before it comes back.
	require.NoError(t, p.a.Close())
	db, err := sql.Open("sqlite", filepath.Join(p.a.cfg.DataDir, "zorgkit.db"))
	require.NoError(t, err)
	rollBack(t, db, chain)
	require.NoError(t, db.Close())

	restarted := startTestPortal(t, p.a.cfg, false)
	restarted.passwords = p.passwords
	restarted.clock.Advance(2 * time.Minute)
	assert.Contains(t, restarted.out.String(), "consent: checkpoints read", "at start-up")
	b := restarted.browser()
	b.login("jdevries")
	status, body := b.post("/clients/lookup", url.Values{"bsn": {bsntest.TestPersons()[0].Digits()}})
	assert.Equal(t, http.StatusServiceUnavailable, status, "the withdrawn consent does not open the data")
	assert.Contains(t, body, "De toestemmingsregistratie van deze cliënt is niet in orde")
	assert.NotContains(t, body, "Almere", "no address")
}

// A row inserted behind the portal's back blocks a client's chain until the
// auditor quarantines it from the audit page.
func TestQuarantineFromAuditPage(t *testing.T) {
	p := newTestPortal(t)
	owner := p.browser()
	owner.login("beheerder")
	var chain string
	require.NoError(t, p.a.db.QueryRow(`SELECT chain_id FROM consent_heads ORDER BY chain_id LIMIT 1`).Scan(&chain))
	seq := forgeConsentEvent(t, p, chain) - 1
	_, body := owner.get("/audit")
	assert.Contains(t, body, `id="problems"`)
	assert.Contains(t, text(body), "buiten het portaal om toegevoegd", "the problem, in Dutch")
	status, body := owner.post("/audit/quarantine", url.Values{"chain": {chain}, "seq": {fmt.Sprint(seq)}, "reason": {"test"}})
	assert.Equal(t, http.StatusUnprocessableEntity, status, "an event that verifies stays: %s", text(body))
	status, body = owner.post("/audit/quarantine", url.Values{"chain": {chain}, "seq": {fmt.Sprint(seq + 1)}, "reason": {"ticket 12: inserted by hand"}})
	require.Equal(t, http.StatusOK, status, text(body))
	assert.Contains(t, body, `id="verified"`, "the registry verifies again")
	var by, reason string
	require.NoError(t, p.a.db.QueryRow(`SELECT quarantined_by, reason FROM consent_quarantine`).Scan(&by, &reason))
	assert.Contains(t, by, "beheer")
	assert.Equal(t, "ticket 12: inserted by hand", reason)
}

// forgeConsentEvent writes a row after the head of chain behind the
// registry's back, as someone with INSERT rights could, and returns its
// sequence number: an extra event that blocks the chain.
func forgeConsentEvent(t *testing.T, p *testPortal, chain string) int64 {
	t.Helper()
	var seq int64
	require.NoError(t, p.a.db.QueryRow(`SELECT seq FROM consent_heads WHERE chain_id = $1`, chain).Scan(&seq))
	_, err := p.a.db.Exec(`INSERT INTO consent_events (chain_id, seq, record_id, kind, organisation, purpose, decision, recorded_at, payload, prev_mac, mac)
		SELECT chain_id, seq + 1, 'forged', 'given', '', '', '', recorded_at, payload, mac, mac FROM consent_events WHERE chain_id = $1 AND seq = $2`, chain, seq)
	require.NoError(t, err)
	return seq + 1
}

// withdrawnAndAnchored has jdevries record a consent for the client with the
// BSN digits bsn on p, keeps the consent heads of that moment in the table
// saved_heads, withdraws the consent, anchors the registry (a checkpoint
// that covers the withdrawal) and returns the chain's id: the set-up of a
// rollback that the checkpoint must reveal.
func withdrawnAndAnchored(t *testing.T, p *testPortal, bsn, reference string) string {
	t.Helper()
	b := p.browser()
	b.login("jdevries")
	_, body := b.post("/clients/lookup", url.Values{"bsn": {bsn}})
	subject := hiddenValue(t, body, "client")
	_, body = b.post("/clients/consent", url.Values{"client": {subject}, "purpose": {"view-naw"}, "decision": {"permit"},
		"given": {p.clock.Now().Format("2006-01-02")}, "reference": {reference}, "evidence": {"paper"}})
	require.Contains(t, body, "De toestemming is vastgelegd")
	_, err := p.a.db.Exec(`CREATE TABLE saved_heads AS SELECT chain_id, seq, mac, state, seal FROM consent_heads`)
	require.NoError(t, err)
	p.clock.Advance(time.Minute)
	_, body = b.post("/clients/withdraw", url.Values{"client": {subject}, "purpose": {"view-naw"}})
	require.Contains(t, body, "De toestemming is ingetrokken")
	var chain string
	require.NoError(t, p.a.db.QueryRow(`SELECT h.chain_id FROM consent_heads h JOIN saved_heads s ON s.chain_id = h.chain_id WHERE h.seq <> s.seq`).Scan(&chain))
	detail, err := p.a.anchorConsent(t.Context(), anchorJob+"2026-12-01")
	require.NoError(t, err)
	require.Equal(t, "anchored", detail)
	return chain
}

// rollBack removes the chain's events after its head in saved_heads and
// puts that head back, as someone with write access to the database could.
func rollBack(t *testing.T, db *sql.DB, chain string) {
	t.Helper()
	for _, stmt := range []string{
		`DROP TRIGGER consent_events_no_delete`,
		`DELETE FROM consent_events WHERE chain_id = $1 AND seq > (SELECT seq FROM saved_heads WHERE chain_id = $1)`,
		`UPDATE consent_heads SET seq = s.seq, mac = s.mac, state = s.state, seal = s.seal FROM saved_heads s WHERE s.chain_id = $1 AND consent_heads.chain_id = $1`,
	} {
		res, err := db.Exec(stmt, chain)
		require.NoError(t, err, stmt)
		n, err := res.RowsAffected()
		require.NoError(t, err)
		switch {
		case strings.HasPrefix(stmt, "DELETE"):
			require.Positive(t, n, stmt)
		case strings.HasPrefix(stmt, "UPDATE"):
			require.Equal(t, int64(1), n, stmt)
		}
	}
}

// The client's authorisation to request medical information from a
// practitioner opens nothing in the portal: a form that asks to open the
// client's data for that purpose, which the page never offers, gets no
// indications and no access.
func TestMedicalAuthorisationOpensNothing(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	_, body := b.post("/clients/lookup", url.Values{"bsn": {bsntest.TestPersons()[2].Digits()}})
	client := hiddenValue(t, body, "client")
	_, body = b.post("/clients/consent", url.Values{"client": {client}, "purpose": {"request-medical-information"}, "decision": {"permit"},
		"given": {p.clock.Now().Format("2006-01-02")}, "reference": {"ZH-MED-0002"}, "evidence": {"paper"},
		"practitioner": {"dr. A. Arts"}, "function": {"huisarts"}})
	require.Contains(t, body, "De toestemming is vastgelegd")
	require.NotContains(t, body, `id="view-request-medical-information"`, "the page offers nothing to open")
	p.clock.Advance(time.Minute)

	status, body := b.post("/clients/view", url.Values{"client": {client}, "purpose": {"request-medical-information"}})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.NotContains(t, body, "VV-", "no indications")
	var opened int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM access_log WHERE object <> 'client/lookup' AND allowed`).Scan(&opened))
	assert.Zero(t, opened, "no access allowed")
}

// A withdrawal that commits while a request to open the client's data waits
// for its access-log entry (the other tab of the same provider, say) ends
// that access too: no data leave after the withdrawal, and the refusal is
// in the access log after the decision that preceded it.
func TestWithdrawalWhileOpening(t *testing.T) {
	p := newTestPortal(t)
	subject, _, err := p.a.findClient(t.Context(), bsntest.TestPersons()[0])
	require.NoError(t, err)
	var userID string
	require.NoError(t, p.a.db.QueryRow(`SELECT id FROM users WHERE username = 'jdevries'`).Scan(&userID))
	// Armed, the next commit of the access log is followed by the
	// withdrawal, before the entry's caller hears that it is committed.
	var armed atomic.Bool
	withdrawn := make(chan error, 1)
	observe := p.a.accessLog.observe
	p.a.accessLog.observe = func(items int, d time.Duration, err error) {
		observe(items, d, err)
		if armed.CompareAndSwap(true, false) {
			p.clock.Advance(time.Second)
			_, werr := p.a.consent.Withdraw(context.Background(), consent.Withdrawal{Subject: consent.Subject(subject), Organisation: "zonnehuis",
				Purpose: consent.PurposeViewNAW, By: consent.Actor{User: userID, Organisation: "zonnehuis"}, Reason: "ingetrokken door de cliënt"})
			withdrawn <- werr
		}
	}
	b := p.browser()
	b.login("jdevries")
	_, body := b.post("/clients/lookup", url.Values{"bsn": {bsntest.TestPersons()[0].Digits()}})
	client := hiddenValue(t, body, "client")

	armed.Store(true)
	status, body := b.post("/clients/view", url.Values{"client": {client}, "purpose": {"view-naw"}})
	require.NoError(t, <-withdrawn)
	assert.Equal(t, http.StatusForbidden, status)
	assert.NotContains(t, body, "Anna de Boer", "no data after the withdrawal")
	assert.Contains(t, body, "ingetrokken")
	var decisions []string
	rows, err := p.a.db.Query(`SELECT allowed, reason FROM access_log WHERE object = 'client/naw' ORDER BY chain, seq`)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var allowed bool
		var reason string
		require.NoError(t, rows.Scan(&allowed, &reason))
		decisions = append(decisions, fmt.Sprint(allowed, " ", reason))
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, []string{"true permitted", "false withdrawn"}, decisions)
}

// TestSampleOfDamagedStore: Registry.Sample refuses a store that does not
// verify with a *TamperError, and the evidence outcomes and plans a chain
// that does not: refusals that no retry lifts. The audit page says why, as it does
// for Verify, rather than "something went wrong on our side, try again
// later".
func TestSampleOfDamagedStore(t *testing.T) {
	p := newTestPortal(t)
	owner := p.browser()
	owner.login("beheerder")
	status, body := owner.post("/audit/plan", url.Values{"k": {"1"}, "days": {"1"}, "org": {"zonnehuis"}})
	require.Equal(t, http.StatusOK, status, text(body))
	p.clock.Advance(2 * 24 * time.Hour)
	owner = p.browser() // the session has expired
	owner.login("beheerder")
	_, body = owner.get("/audit")
	plan := regexp.MustCompile(`name="plan" value="([^"]+)"`).FindStringSubmatch(body)
	require.NotNil(t, plan, "the window has closed")

	// A row forged onto the chain of a consent.
	var record, chain string
	require.NoError(t, p.a.db.QueryRow(`SELECT record_id, chain_id FROM consent_events WHERE kind = 'given' ORDER BY chain_id LIMIT 1`).Scan(&record, &chain))
	forgeConsentEvent(t, p, chain)
	status, body = owner.post("/audit/sample", url.Values{"plan": {plan[1]}})
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Contains(t, text(body), "gewijzigd buiten het portaal om")
	assert.Contains(t, body, `id="problems"`, "the problems are named")
	_, body = owner.get("/audit")
	assert.Contains(t, text(body), "De toestemmingsregistratie is gewijzigd buiten het portaal om: 1 gebeurtenis klopt niet")
	assert.NotContains(t, body, "restore the events from a backup", "not the library's English")

	status, body = owner.post("/audit/evidence", url.Values{"record": {record}, "action": {"missing"}})
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Contains(t, text(body), "Niet vastgelegd")

	// And the chain of plans, with a row forged onto it.
	require.NoError(t, p.a.db.QueryRow(`SELECT chain_id FROM consent_events WHERE kind = 'sample-planned'`).Scan(&chain))
	forgeConsentEvent(t, p, chain)
	status, body = owner.post("/audit/plan", url.Values{"k": {"1"}, "days": {"1"}, "org": {"zonnehuis"}})
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Contains(t, text(body), "kan niet worden gepland")
}

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/bsn/bsntest"
	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/consenttest"
	"github.com/zorgkit/zorgkit/consent/sqlstore"
	"github.com/zorgkit/zorgkit/consent/store"
	"github.com/zorgkit/zorgkit/password/otp"
)

func TestTOTP(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	_, body := b.get("/account/totp")
	secretB32 := regexp.MustCompile(`id="secret">([A-Z2-7]+)<`).FindStringSubmatch(body)
	require.NotNil(t, secretB32)
	pending := hiddenValue(t, body, "pending")
	secret, err := p.a.field.Decrypt("totp.pending:"+userID(t, p, "jdevries"), pending)
	require.NoError(t, err)

	pw := p.passwords["jdevries"]
	status, _ := b.post("/account/totp", url.Values{"current": {pw}, "pending": {pending}, "code": {"000000"}})
	if otp.TOTPAt(secret, p.clock.Now()) != "000000" {
		assert.Equal(t, http.StatusUnprocessableEntity, status, "a wrong code does not enrol")
	}
	// The session alone (a device left logged in, a stolen cookie) does
	// not replace the second factor: the password is asked again.
	for _, current := range []string{"", "Niet!HetWachtwoord1"} {
		status, body = b.post("/account/totp", url.Values{"current": {current}, "pending": {pending}, "code": {otp.TOTPAt(secret, p.clock.Now())}})
		assert.Equal(t, http.StatusUnprocessableEntity, status, "password %q", current)
		assert.Contains(t, body, `id="totp-current-error"`)
		assert.Contains(t, body, `id="secret">`+secretB32[1]+`<`, "the same key, to try again")
	}
	var channel string
	require.NoError(t, p.a.db.QueryRow(`SELECT channel FROM users WHERE username = 'jdevries'`).Scan(&channel))
	assert.NotEqual(t, "totp", channel, "not enrolled without the password")

	status, body = b.post("/account/totp", url.Values{"current": {pw}, "pending": {pending}, "code": {otp.TOTPAt(secret, p.clock.Now())}})
	require.Equal(t, http.StatusOK, status, text(body))
	assert.Contains(t, body, `id="done"`)

	// From now on the second factor is the app, and a code works once.
	b.post("/logout", nil)
	p.clock.Advance(time.Minute)
	b.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
	sent := len(p.sent.msgs)
	status, body = b.post("/login/code/resend", nil)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "authenticator-app", "the page points to the app")
	assert.Len(t, p.sent.msgs, sent, "no code by mail that the login would not take")
	code := otp.TOTPAt(secret, p.clock.Now())
	status, body = b.post("/login/code", url.Values{"code": {code}})
	require.Equal(t, http.StatusOK, status, text(body))
	assert.Contains(t, body, `id="whoami"`)
	c := p.browser()
	c.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
	status, _ = c.post("/login/code", url.Values{"code": {code}})
	assert.Equal(t, http.StatusUnauthorized, status, "the same code again")
}

func userID(t *testing.T, p *testPortal, username string) string {
	t.Helper()
	var id string
	require.NoError(t, p.a.db.QueryRow(`SELECT id FROM users WHERE username = $1`, username).Scan(&id))
	return id
}

func TestSpotCheck(t *testing.T) {
	p := newTestPortal(t)
	owner := p.browser()
	owner.login("beheerder")
	status, body := owner.post("/audit/plan", url.Values{"k": {"3"}, "days": {"7"}, "org": {"zonnehuis"}})
	require.Equal(t, http.StatusOK, status, text(body))
	assert.Contains(t, body, `id="verified"`, "the consent chain verifies")
	assert.Contains(t, text(body), "periode loopt nog")
	plan := regexp.MustCompile(`name="plan" value="([^"]+)"`).FindStringSubmatch(body)
	assert.Nil(t, plan, "nothing to draw while the window is open")

	// Consents recorded in the window, after the plan.
	for i := range 5 {
		p.clock.Advance(time.Hour)
		_, err := p.a.consent.Give(t.Context(), consent.Record{Subject: consent.Subject(fmt.Sprint("ps-sample-", i)), Organisation: "zonnehuis",
			Purpose: consent.PurposeViewNAW, Decision: consent.Permit, GivenAt: p.clock.Now(), PolicyVersion: "v1",
			Evidence: consent.Evidence{Kind: consent.EvidencePaper, Reference: fmt.Sprint("ZH-TOE-9", i)}, RecordedBy: consent.Actor{User: "jdevries", Organisation: "zonnehuis"}})
		require.NoError(t, err)
	}
	p.clock.Advance(7 * 24 * time.Hour)
	owner = p.browser() // the session has expired
	owner.login("beheerder")
	_, body = owner.get("/audit")
	plan = regexp.MustCompile(`name="plan" value="([^"]+)"`).FindStringSubmatch(body)
	require.NotNil(t, plan, "the window has closed: the sample can be drawn: %s", text(body))
	status, body = owner.post("/audit/sample", url.Values{"plan": {plan[1]}})
	require.Equal(t, http.StatusOK, status, text(body))
	ids := regexp.MustCompile(`name="record" value="([^"]+)"`).FindAllStringSubmatch(body, -1)
	require.Len(t, ids, 3)

	// The manifest redraws the same sample.
	var js string
	require.NoError(t, p.a.db.QueryRow(`SELECT manifest FROM audit_samples`).Scan(&js))
	var m consent.Manifest
	require.NoError(t, json.Unmarshal([]byte(js), &m))
	require.NoError(t, p.a.consent.Redraw(t.Context(), m))
	assert.GreaterOrEqual(t, m.PopulationSize, 5, "the consents recorded in the window")

	// Ask the provider for the form; it is told; record that it was missing.
	sample := hiddenValue(t, body, "sample")
	status, _ = owner.post("/audit/evidence", url.Values{"record": {ids[0][1]}, "sample": {sample}, "action": {"request"}})
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, p.sent.last("zonnehuis-beheer", "Verzoek om toestemmingsformulier"), "ZH-TOE-")

	// A request recorded by an instance that died before it queued the
	// mail (the registry's transaction cannot hold the portal's outbox):
	// the next start tells the provider, once; the request already told
	// is not told again.
	requests := func() (n int) {
		p.sent.mu.Lock()
		defer p.sent.mu.Unlock()
		for _, m := range p.sent.msgs {
			if m.To == "zonnehuis-beheer" && m.Subject == "Verzoek om toestemmingsformulier" {
				n++
			}
		}
		return n
	}
	require.NoError(t, p.a.consent.RequestEvidence(t.Context(), consent.RecordID(ids[1][1]), sample,
		consent.Change{By: consent.Actor{User: "beheerder", Organisation: "portal"}, Reason: "steekproef"}))
	before := requests()
	require.NoError(t, p.a.notifyPendingEvidence(t.Context()))
	assert.Equal(t, before+1, requests(), "the request left untold is told")
	require.NoError(t, p.a.notifyPendingEvidence(t.Context()))
	assert.Equal(t, before+1, requests(), "and only once")
	status, body = owner.post("/audit/evidence", url.Values{"record": {ids[0][1]}, "sample": {sample}, "action": {"missing"}})
	require.Equal(t, http.StatusOK, status, text(body))
	assert.Contains(t, body, "<dd>ontbreekt</dd>", "the evidence state, in Dutch")

	// Samples older than the outbox remembers are not looked at again at
	// a start (a fresh sender remembers nothing it sent).
	fresh := &recorder{}
	p.a.sender = fresh
	require.NoError(t, p.a.notifyPendingEvidence(t.Context()))
	require.Len(t, fresh.msgs, 1, "within the window: the open request of ids[1], once more to a sender that forgot it")
	p.clock.Advance(outboxKeep + time.Hour)
	later := &recorder{}
	p.a.sender = later
	require.NoError(t, p.a.notifyPendingEvidence(t.Context()))
	assert.Empty(t, later.msgs, "after it: the old sample is left alone")
}

func TestReportsByAudience(t *testing.T) {
	p := newTestPortal(t)
	provider := p.browser()
	provider.login("jdevries")
	_, own := provider.get("/reports")
	assert.Contains(t, own, "eigen gegevens")
	assert.NotContains(t, own, `withheld primary"`, "a provider sees all of its own data")
	assert.NotContains(t, own, "Jeugdhulp De Linde", "and nothing of another provider")

	gemeente := p.browser()
	gemeente.login("gemeente")
	_, protected := gemeente.get("/reports")
	assert.Contains(t, protected, "beschermd")
	assert.Contains(t, protected, `withheld primary"`, "small cells are withheld from the municipality")
	assert.Contains(t, protected, "respons")

	// The JSON API gives the same protected figures.
	status, js := gemeente.get("/api/reports")
	require.Equal(t, http.StatusOK, status)
	var out reportsPage
	require.NoError(t, json.Unmarshal([]byte(js), &out))
	require.NotEmpty(t, out.Tables)
	withheld := 0
	for _, tab := range out.Tables {
		for _, r := range tab.Rows {
			for _, c := range r.Cells {
				if c.Status != "published" {
					withheld++
					assert.Equal(t, "x", c.Text, "a withheld value never leaves the server")
				}
			}
		}
	}
	assert.Positive(t, withheld)
}

func TestAPILookup(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	person := bsntest.TestPersons()[0]
	resp, err := b.c.Post(p.srv.URL+"/api/clients/lookup", "application/json", strings.NewReader(`{"bsn":"`+dotted(person)+`"}`))
	require.NoError(t, err)
	status, body := readBody(t, resp)
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, person.Masked())
	assert.NotContains(t, body, person.Digits())
	var out struct {
		Purposes []struct {
			Purpose string `json:"purpose"`
			Allowed bool   `json:"allowed"`
		} `json:"purposes"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &out))
	require.Len(t, out.Purposes, 4, "the three questions and the medical authorisation")
	assert.True(t, out.Purposes[0].Allowed, "NAW")

	resp, err = b.c.Post(p.srv.URL+"/api/clients/lookup", "application/json", strings.NewReader(`{"bsn":"999999999"}`))
	require.NoError(t, err)
	status, body = readBody(t, resp)
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, body, "bsn-placeholder")
}

// TestConsentStore runs the consent conformance suite on the portal's own
// database, with its migrations: on SQLite, and on PostgreSQL when
// configured.
func TestConsentStore(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		consenttest.Run(t, func(t *testing.T) store.Store {
			cfg, err := parseConfig([]string{"-data", t.TempDir()}, func(string) string { return "" })
			require.NoError(t, err)
			return portalConsentStore(t, cfg)
		})
	})
	t.Run("postgres", func(t *testing.T) {
		consenttest.Run(t, func(t *testing.T) store.Store {
			return portalConsentStore(t, postgresConfig(t))
		})
	})
}

func portalConsentStore(t *testing.T, cfg config) store.Store {
	t.Helper()
	db, d, err := openDB(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	s, err := sqlstore.New(db, sqlstore.Dialect(d))
	require.NoError(t, err)
	return s
}

// The client's authorisation to request medical information needs the
// practitioner's name and function.
func TestMedicalAuthorisation(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	_, body := b.post("/clients/lookup", url.Values{"bsn": {bsntest.TestPersons()[2].Digits()}})
	subject := hiddenValue(t, body, "client")
	form := url.Values{"client": {subject}, "purpose": {"request-medical-information"}, "decision": {"permit"},
		"given": {p.clock.Now().Format("2006-01-02")}, "reference": {"ZH-MED-0001"}, "evidence": {"paper"}}
	_, body = b.post("/clients/consent", form)
	assert.Contains(t, body, "niet vastgelegd", "no practitioner")
	form.Set("practitioner", "dr. A. Arts")
	form.Set("function", "huisarts")
	_, body = b.post("/clients/consent", form)
	assert.Contains(t, body, "De toestemming is vastgelegd")
	p.clock.Advance(time.Minute)
	_, body = b.post("/clients/lookup", url.Values{"bsn": {bsntest.TestPersons()[2].Digits()}})
	assert.Contains(t, body, "De machtiging is vastgelegd")
}

// A withdrawal is one click; it ends the permission from that moment on.
func TestWithdrawConsent(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	_, body := b.post("/clients/lookup", url.Values{"bsn": {bsntest.TestPersons()[0].Digits()}})
	subject := hiddenValue(t, body, "client")
	status, _ := b.post("/clients/view", url.Values{"client": {subject}, "purpose": {"view-naw"}})
	require.Equal(t, http.StatusOK, status)

	_, body = b.post("/clients/withdraw", url.Values{"client": {subject}, "purpose": {"view-naw"}})
	assert.Contains(t, body, "De toestemming is ingetrokken")
	p.clock.Advance(time.Second)
	status, _ = b.post("/clients/view", url.Values{"client": {subject}, "purpose": {"view-naw"}})
	assert.Equal(t, http.StatusForbidden, status)

	// Another organisation cannot withdraw Zonnehuis' consent: it has none.
	// With Zonnehuis' form it cannot even name the client.
	linde := p.browser()
	linde.login("linde")
	status, _ = linde.post("/clients/withdraw", url.Values{"client": {subject}, "purpose": {"consult-indication"}})
	assert.Equal(t, http.StatusNotFound, status, "Zonnehuis' client handle is not De Linde's")
	_, body = linde.post("/clients/lookup", url.Values{"bsn": {bsntest.TestPersons()[0].Digits()}})
	_, body = linde.post("/clients/withdraw", url.Values{"client": {hiddenValue(t, body, "client")}, "purpose": {"consult-indication"}})
	assert.Contains(t, body, "geen toestemming om in te trekken")
	status, _ = b.post("/clients/view", url.Values{"client": {subject}, "purpose": {"consult-indication"}})
	assert.Equal(t, http.StatusOK, status, "Zonnehuis' other consent stands")
}

package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/bsn"
	"github.com/zorgkit/zorgkit/bsn/bsntest"
	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/password/otp"
	"github.com/zorgkit/zorgkit/password/otp/otptest"
	"github.com/zorgkit/zorgkit/password/reset"
	"github.com/zorgkit/zorgkit/password/reset/resettest"
	"github.com/zorgkit/zorgkit/password/throttle"
	"github.com/zorgkit/zorgkit/password/throttle/throttletest"
)

func TestAdminManagesOwnUsers(t *testing.T) {
	p := newTestPortal(t)
	admin := p.browser()
	admin.login("zonnehuis-beheer")

	tests := []struct {
		name, email string
		want        string
	}{
		{"role mailbox", "info@zonnehuis.example", "algeme"},
		{"another organisation's domain", "piet@delinde.example", "domein"},
		{"address taken (case-insensitive)", "Jan.DeVries@Zonnehuis.example", "al in gebruik"},
		{"the same mailbox with a +tag", "jan.devries+portaal@zonnehuis.example", "al in gebruik"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := admin.post("/admin/users", url.Values{"username": {"piet"}, "name": {"Piet Post"}, "email": {tt.email}, "channel": {"email"}, "role": {"user"}})
			assert.Equal(t, http.StatusUnprocessableEntity, status)
			assert.Contains(t, strings.ToLower(text(body)), tt.want)
		})
	}

	status, body := admin.post("/admin/users", url.Values{"username": {"piet"}, "name": {"Piet Post"}, "email": {"piet.post@zonnehuis.example"}, "channel": {"email"}, "role": {"user"}})
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `id="created"`)
	mail := p.sent.last("piet", "Uw account")
	require.NotEmpty(t, mail)
	temp := regexp.MustCompile(`Tijdelijk wachtwoord: (\S+)`).FindStringSubmatch(mail)[1]

	// The new user logs in with the temporary password and must change it.
	piet := p.browser()
	piet.post("/login", url.Values{"username": {"piet"}, "password": {temp}})
	_, body = piet.post("/login/code", url.Values{"code": {p.sent.code("piet")}})
	assert.Contains(t, body, `action="/password"`)

	// The administrator removes the user: their session ends.
	var id string
	require.NoError(t, p.a.db.QueryRow(`SELECT id FROM users WHERE username = 'piet'`).Scan(&id))
	piet.post("/password/forgot", url.Values{"email": {"piet.post@zonnehuis.example"}})
	link := p.sent.last("piet", "Wachtwoord herstellen")
	require.NotEmpty(t, link)
	admin.post("/admin/users/"+id+"/delete", nil)
	_, body = piet.get("/password")
	assert.Contains(t, body, `action="/login"`)

	// A reset link mailed before is void with the user, not an error.
	next := "Zomer#Regenboog83"
	status, _ = p.browser().post("/password/reset", url.Values{"token": {resetToken(link)}, "new": {next}, "repeat": {next}})
	assert.Equal(t, http.StatusGone, status)
	var tokens int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM reset_tokens WHERE account = $1`, id).Scan(&tokens))
	assert.Zero(t, tokens, "nothing of the user kept")
}

// TestIsolation tries every organisation-bound endpoint of one organisation
// from another: all refused.
func TestIsolation(t *testing.T) {
	p := newTestPortal(t)
	ctx := context.Background()
	linde := p.browser()
	linde.login("linde")
	zonnehuis := p.browser()
	zonnehuis.login("zonnehuis-beheer")

	var userID, uploadID string
	require.NoError(t, p.a.db.QueryRow(`SELECT id FROM users WHERE username = 'jdevries'`).Scan(&userID))
	require.NoError(t, p.a.db.QueryRow(`SELECT id FROM uploads WHERE org_id = 'zonnehuis' LIMIT 1`).Scan(&uploadID))

	// De Linde is a provider user, not an administrator, and not of Zonnehuis.
	status, _ := linde.post("/admin/users/"+userID+"/delete", nil)
	assert.Equal(t, http.StatusForbidden, status)
	status, _ = linde.get("/uploads/" + uploadID)
	assert.Equal(t, http.StatusNotFound, status, "another organisation's upload")
	status, _ = linde.get("/api/uploads/" + uploadID)
	assert.Equal(t, http.StatusNotFound, status)
	_, body := linde.get("/uploads")
	assert.NotContains(t, body, uploadID)

	// An administrator of De Linde cannot remove Zonnehuis' users either.
	lindeAdmin := &user{ID: newID(), OrgID: "delinde", Username: "linde-beheer", Name: "Lars Linde", Email: "lars@delinde.example", Channel: "email",
		Role: roleAdmin, PasswordSet: p.clock.Now(), Created: p.clock.Now()}
	pw := "Linde!Beheer2026"
	var err error
	lindeAdmin.Hash, err = p.a.hasher.Hash(context.Background(), pw)
	require.NoError(t, err)
	require.NoError(t, p.a.insertUser(ctx, lindeAdmin, "lars@delinde.example"))
	la := p.browser()
	la.loginWith("linde-beheer", pw)
	status, _ = la.post("/admin/users/"+userID+"/delete", nil)
	assert.Equal(t, http.StatusNotFound, status)
	var n int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM users WHERE id = $1`, userID).Scan(&n))
	assert.Equal(t, 1, n, "the user is still there")
	_, body = la.get("/admin/users")
	assert.NotContains(t, body, "jdevries")

	// Consent recorded by Zonnehuis does not open a client to De Linde.
	first := bsntest.TestPersons()[0]
	_, body = linde.post("/clients/lookup", url.Values{"bsn": {first.Digits()}})
	subject := hiddenValue(t, body, "client")
	status, body = linde.post("/clients/view", url.Values{"client": {subject}, "purpose": {"view-naw"}})
	assert.Equal(t, http.StatusForbidden, status)
	assert.NotContains(t, body, "Anna de Boer")
	// Nor can De Linde withdraw it.
	_, body = linde.post("/clients/withdraw", url.Values{"client": {subject}, "purpose": {"view-naw"}})
	assert.Contains(t, body, "Er is geen toestemming om in te trekken")
	zsubject, _, err := p.a.findClient(ctx, first)
	require.NoError(t, err)
	out, err := p.a.consent.DecideUnlogged(ctx, consent.Subject(zsubject), "zonnehuis", consent.PurposeViewNAW, p.clock.Now())
	require.NoError(t, err)
	assert.True(t, out.Allowed, "Zonnehuis' consent stands")

	// Providers cannot reach the owner's or the municipality's pages.
	ownerOnly := []struct{ method, path string }{
		{"GET", "/owner/orgs"}, {"GET", "/audit"}, {"GET", "/deliveries"},
		{"POST", "/owner/orgs/delinde/suspend"}, {"POST", "/owner/orgs/zonnehuis/reinstate"},
		{"POST", "/owner/orgs/zonnehuis/contract"}, {"POST", "/owner/uploads/" + uploadID + "/approve"},
		{"POST", "/audit/sample"}, {"POST", "/audit/evidence"}, {"POST", "/jobs/run"},
	}
	for _, b := range []*browser{linde, zonnehuis} {
		for _, r := range ownerOnly {
			var status int
			if r.method == "GET" {
				status, _ = b.get(r.path)
			} else {
				status, _ = b.post(r.path, url.Values{"reason": {"x"}, "k": {"1"}, "days": {"1"}, "record": {"x"}, "action": {"missing"}})
			}
			assert.Equal(t, http.StatusForbidden, status, "%s %s", r.method, r.path)
		}
	}

	// What every provider may open shows only its own: reports, outbox.
	_, body = linde.get("/reports")
	assert.NotContains(t, body, "Zorggroep Zonnehuis")
	_, body = linde.get("/api/reports")
	assert.NotContains(t, body, "Zorggroep Zonnehuis")
	require.NoError(t, (&outbox{a: p.a}).Send(ctx, lindeAdmin, "Voor De Linde", "alleen voor Lars"))
	_, body = la.get("/outbox")
	assert.Contains(t, body, "Voor De Linde", "the addressee sees it")
	assert.NotContains(t, body, "alleen voor Lars", "the demo outbox never shows a message's content")
	_, body = linde.get("/outbox")
	assert.NotContains(t, body, "Voor De Linde", "another user of the same organisation does not")
	gemeente := p.browser()
	gemeente.login("gemeente")
	for _, path := range []string{"/clients", "/admin/users"} {
		status, _ := gemeente.get(path)
		assert.Equal(t, http.StatusForbidden, status, path)
	}
	status, _ = gemeente.post("/clients/lookup", url.Values{"bsn": {first.Digits()}})
	assert.Equal(t, http.StatusForbidden, status)
	status, _ = gemeente.get("/uploads/" + uploadID)
	assert.Equal(t, http.StatusForbidden, status)
}

func hiddenValue(t testing.TB, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(body)
	require.NotNil(t, m, "hidden field %s", name)
	return m[1]
}

func TestSuspensionEndsSessions(t *testing.T) {
	p := newTestPortal(t)
	jan := p.browser()
	jan.login("jdevries")
	owner := p.browser()
	owner.login("beheerder")

	status, _ := owner.post("/owner/orgs/zonnehuis/suspend", url.Values{"reason": {"misbruik van Portero"}})
	require.Equal(t, http.StatusOK, status)
	_, body := jan.get("/clients")
	assert.Contains(t, body, `action="/login"`, "the session ended at once")
	status, body = jan.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, body, "opgeschort")

	owner.post("/owner/orgs/zonnehuis/reinstate", nil)
	p.clock.Advance(time.Minute)
	jan.login("jdevries")
}

func TestClientLookupAndConsent(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	persons := bsntest.TestPersons()

	// Only the exact BSN finds a client; a typing error is refused.
	status, body := b.post("/clients/lookup", url.Values{"bsn": {"123456781"}})
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, body, "elfproef")
	status, _ = b.post("/clients/lookup", url.Values{"bsn": {bsntest.Numbers(99, 1)[0].Digits()}})
	assert.Equal(t, http.StatusNotFound, status, "a valid BSN of nobody in the portal")

	// The first test person gave Zonnehuis consent to see NAW data.
	status, body = b.post("/clients/lookup", url.Values{"bsn": {dotted(persons[0])}})
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, persons[0].Masked())
	assert.NotContains(t, body, persons[0].Digits(), "the page shows the BSN masked")
	subject := hiddenValue(t, body, "client")
	status, body = b.post("/clients/view", url.Values{"client": {subject}, "purpose": {"view-naw"}})
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "Anna de Boer")

	// Taking over indication data needs its own consent.
	status, body = b.post("/clients/view", url.Values{"client": {subject}, "purpose": {"take-over-indication"}})
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, body, `id="consent-take-over-indication"`, "the page asks the question")

	given := p.clock.Now().Format("2006-01-02")
	status, body = b.post("/clients/consent", url.Values{"client": {subject}, "purpose": {"take-over-indication"}, "decision": {"permit"},
		"given": {given}, "reference": {"ZH-TOE-0999"}, "evidence": {"paper"}})
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, "vastgelegd")
	p.clock.Advance(time.Minute)
	status, body = b.post("/clients/view", url.Values{"client": {subject}, "purpose": {"take-over-indication"}})
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "VV-")

	// Without an archive reference, nothing is recorded.
	status, body = b.post("/clients/consent", url.Values{"client": {subject}, "purpose": {"consult-indication"}, "decision": {"permit"},
		"given": {given}, "reference": {""}, "evidence": {"paper"}})
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, body, "niet vastgelegd")

	// Every lookup and decision is in the access log, by subject key.
	var lookups, decisions int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM access_log WHERE object = 'client/lookup'`).Scan(&lookups))
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM access_log WHERE object <> 'client/lookup'`).Scan(&decisions))
	assert.Equal(t, 2, lookups, "the unknown client and the first test person; an invalid BSN is no lookup")
	assert.Equal(t, 3, decisions)
}

func TestUploadFlow(t *testing.T) {
	p := newTestPortal(t)
	ctx := context.Background()
	// A provider without uploads: Thuiszorg Noord, given a contract.
	now := p.clock.Now()
	_, err := p.a.db.Exec(`UPDATE organisations SET contract_start = $1, contract_end = $2, dpa_registered_at = $1, survey_received_at = $1 WHERE id = 'noord'`, usec(now.AddDate(0, -1, 0)), usec(now.AddDate(1, 0, 0)))
	require.NoError(t, err)
	b := p.browser()
	b.login("noord")

	file := demoDataset("noord", 50)
	status, body := b.upload("/uploads", "cbs.csv", file)
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `data-status="test"`, "the first file is a test file")

	// Wrong columns: rejected with a clear message.
	status, body = b.upload("/uploads", "other.csv", strings.NewReader("naam;adres\nPiet;Kerkstraat 1\n"))
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `data-status="rejected"`)

	// The owner approves the test; the provider is told; the next file counts.
	var testID string
	require.NoError(t, p.a.db.QueryRow(`SELECT id FROM uploads WHERE org_id = 'noord' AND status = 'test'`).Scan(&testID))
	owner := p.browser()
	owner.login("beheerder")
	status, _ = owner.post("/owner/uploads/"+testID+"/approve", nil)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, p.sent.last("noord", "Testbestand goedgekeurd"), "nogmaals")

	status, body = b.upload("/uploads", "cbs.csv", demoDataset("noord", 50))
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `data-status="accepted"`)

	// The owner runs the job now instead of tonight.
	owner.post("/jobs/run", nil)
	ran, err := p.a.runNextJob(ctx, "test")
	require.NoError(t, err)
	assert.True(t, ran)
	var cells int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM report_records WHERE provider_id = 'noord'`).Scan(&cells))
	assert.Positive(t, cells)
}

func TestUploadTooLarge(t *testing.T) {
	p := newTestPortal(t, func(c *config) { c.MaxUpload = 2 << 10 })
	b := p.browser()
	b.login("jdevries")
	status, _ := b.upload("/uploads", "big.csv", demoDataset("big", 200))
	assert.Equal(t, http.StatusRequestEntityTooLarge, status)
	// Nothing of the cut-off file is kept: the upload is marked abandoned,
	// its chunks are gone, and it is no delivery.
	var abandoned, chunks int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*), COALESCE(SUM((SELECT COUNT(*) FROM upload_chunks c WHERE c.upload_id = u.id)), 0)
		FROM uploads u WHERE org_id = 'zonnehuis' AND status = 'abandoned'`).Scan(&abandoned, &chunks))
	assert.Equal(t, 1, abandoned)
	assert.Zero(t, chunks)
}

// acceptedReport returns the quality report of org's accepted upload, the
// one file the test has delivered for it.
func (p *testPortal) acceptedReport(org string) qualityReportJSON {
	p.t.Helper()
	var js string
	require.NoError(p.t, p.a.db.QueryRow(`SELECT report FROM uploads WHERE org_id = $1 AND status = 'accepted'`, org).Scan(&js))
	var q qualityReportJSON
	require.NoError(p.t, json.Unmarshal([]byte(js), &q))
	return q
}

// upload posts a file as a multipart form.
func (b *browser) upload(path, name string, file io.Reader) (int, string) {
	b.p.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", name)
	require.NoError(b.p.t, err)
	_, err = io.Copy(fw, file)
	require.NoError(b.p.t, err)
	require.NoError(b.p.t, mw.Close())
	resp, err := b.c.Post(b.p.srv.URL+path, mw.FormDataContentType(), &buf)
	require.NoError(b.p.t, err)
	return readBody(b.p.t, resp)
}

// TestNoRawBSNAnywhere uploads a file with known BSNs and looks for them, in
// every printed form, in the database file, the logs and every page the
// municipality can open.
func TestNoRawBSNAnywhere(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	persons := bsntest.TestPersons()
	var file strings.Builder
	file.WriteString(uploadHeader + "\n")
	for i, n := range persons {
		fmt.Fprintln(&file, cbsRow(dotted(n), i))
	}
	status, _ := b.upload("/uploads", "cbs.csv", strings.NewReader(file.String()))
	require.Equal(t, http.StatusOK, status)
	for _, n := range persons {
		b.post("/clients/lookup", url.Values{"bsn": {n.Digits()}})
	}
	p.a.processUploads(context.Background())

	gemeente := p.browser()
	gemeente.login("gemeente")
	var pages strings.Builder
	for _, path := range []string{"/", "/reports", "/deliveries", "/outbox", "/api/reports", "/api/me"} {
		_, body := gemeente.get(path)
		pages.WriteString(body)
	}

	// Checkpoint the WAL so that everything is in the database file.
	_, err := p.a.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	require.NoError(t, err)
	var disk bytes.Buffer
	require.NoError(t, filepath.Walk(p.a.cfg.DataDir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		disk.Write(b)
		return err
	}))
	for _, n := range persons {
		for _, form := range bsnForms(n) {
			assert.NotContains(t, disk.String(), form, "database files")
			assert.NotContains(t, p.out.String(), form, "logs")
			assert.NotContains(t, pages.String(), form, "municipality pages")
		}
	}
}

// dotted returns n's digits as Dutch documents print them: 1234.56.782.
func dotted(n bsn.Number) string {
	d := n.Digits()
	return d[:4] + "." + d[4:6] + "." + d[6:]
}

// bsnForms are the ways a BSN can appear in text.
func bsnForms(n bsn.Number) []string {
	s := n.Digits()
	forms := []string{s, dotted(n), s[:4] + " " + s[4:6] + " " + s[6:]}
	if s[0] == '0' {
		forms = append(forms, s[1:])
	}
	return forms
}

// TestTwoInstancesShareSessions runs two portals on one database: a login on
// one is valid on the other, because sessions, codes and counters live in the
// database.
func TestTwoInstancesShareSessions(t *testing.T) {
	first := newTestPortal(t)
	second := startTestPortal(t, first.a.cfg, false)
	second.clock = first.clock
	second.a.now = first.clock.Now
	second.sent = first.sent
	second.a.sender = first.sent
	second.passwords = first.passwords

	b := first.browser()
	b.login("jdevries")
	// The same cookies against the other instance.
	u1, _ := url.Parse(first.srv.URL)
	u2, _ := url.Parse(second.srv.URL)
	b.c.Jar.SetCookies(u2, b.c.Jar.Cookies(u1))
	resp, err := b.c.Get(second.srv.URL + "/clients")
	require.NoError(t, err)
	_, body := readBody(t, resp)
	assert.Contains(t, body, "Cliënt opzoeken")

	// A code issued by one instance is checked by the other.
	c := second.browser()
	c.post("/login", url.Values{"username": {"linde"}, "password": {first.passwords["linde"]}})
	resp, err = c.c.PostForm(second.srv.URL+"/login/code", url.Values{"code": {first.sent.code("linde")}})
	require.NoError(t, err)
	status, _ := readBody(t, resp)
	assert.Equal(t, http.StatusOK, status)
}

// TestAuthStore runs the conformance tests of the password subpackages
// against the portal's SQL stores.
func TestAuthStore(t *testing.T) {
	newDB := func(t testing.TB) *sql.DB {
		cfg, err := parseConfig([]string{"-data", t.TempDir()}, func(string) string { return "" })
		require.NoError(t, err)
		db, _, err := openDB(context.Background(), cfg)
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		return db
	}
	t.Run("codes", func(t *testing.T) {
		otptest.TestStore(t, func(t testing.TB) otp.Store { return codeStore{newDB(t)} })
	})
	t.Run("resets", func(t *testing.T) {
		resettest.TestStore(t, func(t testing.TB) reset.Store { return resetStore{newDB(t)} })
	})
	t.Run("throttle", func(t *testing.T) {
		throttletest.TestStore(t, func(t testing.TB) throttle.Store { return throttleStore{newDB(t)} })
	})
}

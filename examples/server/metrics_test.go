package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/bsn/bsntest"
	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/pseudonym"
)

const testMetricsToken = "0123456789abcdef0123456789abcdef-test"

// scrape fetches /metrics with the token.
func (p *testPortal) scrape(token string) (int, string) {
	p.t.Helper()
	req, err := http.NewRequest(http.MethodGet, p.srv.URL+"/metrics", nil)
	require.NoError(p.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(p.t, err)
	return readBody(p.t, resp)
}

func TestMetricsEndpointNeedsToken(t *testing.T) {
	tests := []struct {
		name, token string
		want        int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"wrong token", strings.Repeat("x", len(testMetricsToken)), http.StatusUnauthorized},
		{"a prefix of the token", testMetricsToken[:20], http.StatusUnauthorized},
		{"the token and more", testMetricsToken + "x", http.StatusUnauthorized},
		{"the token", testMetricsToken, http.StatusOK},
	}
	p := newTestPortal(t, func(c *config) { c.MetricsToken = testMetricsToken })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := p.scrape(tt.token)
			assert.Equal(t, tt.want, status)
			if tt.want != http.StatusOK {
				assert.NotContains(t, body, "zorgkit_")
			}
		})
	}

	// Without a token configured, the portal's address has no /metrics;
	// the debug address has it.
	q := newTestPortal(t)
	status, _ := q.scrape(testMetricsToken)
	assert.NotEqual(t, http.StatusOK, status)
	debug := httptest.NewServer(q.a.debugRoutes())
	defer debug.Close()
	resp, err := http.Get(debug.URL + "/metrics")
	require.NoError(t, err)
	status, body := readBody(t, resp)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "zorgkit_http_request_duration_seconds")
	resp, err = http.Get(debug.URL + "/debug/pprof/cmdline")
	require.NoError(t, err)
	status, _ = readBody(t, resp)
	assert.Equal(t, http.StatusNotFound, status, "the command line may hold a database password")
}

func TestMetricsTokenFromFile(t *testing.T) {
	dir := t.TempDir()
	short, long := dir+"/short", dir+"/long"
	require.NoError(t, writeFile(short, "too-short\n"))
	require.NoError(t, writeFile(long, testMetricsToken+"\n"))
	_, err := parseConfig([]string{"-metrics-token-file", short}, func(string) string { return "" })
	assert.ErrorContains(t, err, "fewer than 32")
	cfg, err := parseConfig(nil, func(k string) string {
		if k == "ZORGKIT_METRICS_TOKEN_FILE" {
			return long
		}
		return ""
	})
	require.NoError(t, err)
	assert.Equal(t, testMetricsToken, cfg.MetricsToken, "trimmed")
}

// After a walk through the whole portal, every label value on /metrics is
// from the allowed sets, and nothing in the scrape names a person: no BSN,
// pseudonym, user name, name, address or e-mail address.
func TestMetricsLabelsAllowList(t *testing.T) {
	p := newTestPortal(t, func(c *config) { c.MetricsToken = testMetricsToken })
	persons := bsntest.TestPersons()

	// Logging in: a wrong password, a wrong code, success.
	b := p.browser()
	status, _ := b.post("/login", url.Values{"username": {"jdevries"}, "password": {"wrong-" + p.passwords["jdevries"]}})
	assert.Equal(t, http.StatusUnauthorized, status)
	status, _ = b.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
	require.Equal(t, http.StatusOK, status)
	status, _ = b.post("/login/code", url.Values{"code": {"000000"}})
	assert.Equal(t, http.StatusUnauthorized, status)
	p.clock.Advance(5 * time.Minute) // past the cooldown of a new code
	b = p.browser()
	b.login("jdevries")

	// Clients: lookups (found, unknown, invalid), consent, view, withdraw.
	status, body := b.post("/clients/lookup", url.Values{"bsn": {persons[0].Digits()}})
	require.Equal(t, http.StatusOK, status)
	subject := hiddenValue(t, body, "client")
	b.post("/clients/lookup", url.Values{"bsn": {dotted(persons[5])}})
	b.post("/clients/lookup", url.Values{"bsn": {"123456789"}})
	b.post("/clients/lookup", url.Values{"bsn": {"999999990"}})
	b.post("/clients/view", url.Values{"client": {subject}, "purpose": {"view-naw"}})
	b.post("/clients/view", url.Values{"client": {subject}, "purpose": {"take-over-indication"}})
	b.post("/clients/consent", url.Values{"client": {subject}, "purpose": {"take-over-indication"}, "decision": {"permit"},
		"given": {p.clock.Now().Format("2006-01-02")}, "reference": {"ZH-TOE-0999"}, "evidence": {"paper"}})
	b.post("/clients/withdraw", url.Values{"client": {subject}, "purpose": {"view-naw"}})
	b.get("/api/me")
	b.get("/reports")
	b.get("/uploads")
	status, _ = b.upload("/uploads", "cbs.csv", demoDataset("zonnehuis-metrics", 50))
	require.Equal(t, http.StatusOK, status)
	// A path with a BSN in it matches no route: the label must not be it.
	b.get("/clients/" + persons[1].Digits())
	b.get("/uploads/" + persons[2].Digits())

	// The owner: audit, organisations, the job.
	owner := p.browser()
	owner.login("beheerder")
	owner.get("/audit")
	owner.get("/owner/orgs")
	owner.get("/deliveries")
	owner.post("/jobs/run", nil)
	_, err := p.a.runNextJob(context.Background(), "test")
	require.NoError(t, err)

	// The test portal records messages instead of queueing them: send two
	// through the outbox and deliver them, as its worker does.
	u, err := p.a.userBy(context.Background(), "username", "jdevries")
	require.NoError(t, err)
	o := &outbox{a: p.a}
	require.NoError(t, o.SendCode(context.Background(), u, "Uw verificatiecode is 123456.", p.clock.Now().Add(10*time.Minute)))
	require.NoError(t, o.Send(context.Background(), u, "Bericht", "Een bericht."))
	for range 2 {
		more, err := p.a.deliverNext(context.Background())
		require.NoError(t, err)
		require.True(t, more)
	}

	status, scrape := p.scrape(testMetricsToken)
	require.Equal(t, http.StatusOK, status)

	// Each figure the issue asks for is there, with the walk's events.
	for _, want := range []string{
		`zorgkit_http_request_duration_seconds_count{code="200",route="POST /clients/lookup"}`,
		`zorgkit_http_request_duration_seconds_count{code="404",route="GET /uploads/{id}"}`,
		`zorgkit_logins_total{outcome="success"} 2`,
		`zorgkit_logins_total{outcome="wrong_password"} 1`,
		`zorgkit_logins_total{outcome="code_wrong"} 1`,
		`zorgkit_messages_total{channel="email",kind="code",outcome="sent"} 1`,
		`zorgkit_messages_total{channel="email",kind="mail",outcome="sent"} 1`,
		`zorgkit_access_log_write_seconds_count`,
		`zorgkit_access_log_batch_entries_count`,
		`zorgkit_upload_rows_total{kind="read"} 50`,
		`zorgkit_job_duration_seconds_count{job="process",outcome="done"} 1`,
		`zorgkit_sqlite_write_lock_wait_seconds_count`,
		`zorgkit_consent_decisions_total{outcome="permitted",purpose="view-naw"} 1`,
		`zorgkit_consent_decisions_total{outcome="no-consent",purpose="take-over-indication"} 1`,
	} {
		assert.True(t, strings.Contains(scrape, want), "the scrape has %s", want)
	}
	assert.False(t, strings.Contains(scrape, `zorgkit_job_last_success_timestamp_seconds{job="process"} 0`+"\n"), "set after the job")

	// Every label value is from its allowed set.
	routeRE := regexp.MustCompile(`^(GET|POST) /[a-z/]*(\{id\}|\{\$\})?[a-z/]*$`)
	allowed := map[string]func(string) bool{
		"route": func(v string) bool { return v == "unmatched" || routeRE.MatchString(v) },
		"code":  regexp.MustCompile(`^[1-5][0-9][0-9]$`).MatchString,
		"outcome": oneOf("success", "wrong_password", "throttled", "code_wrong", "refused", "sent", "failed", "done", "error", "other",
			"retry", "given_up", "stopped", "lease_lost", "permitted", "denied", "withdrawn", "expired", "not-yet-valid", "evidence-missing", "given-after-use", "no-consent"),
		"kind":    oneOf("code", "mail", "read", "written", "rejected", "flagged"),
		"channel": oneOf("email", "sms", "totp", "other"),
		"purpose": func(v string) bool { return v == "other" || consent.Purpose(v).Valid() },
		"job":     oneOf(jobProcess, jobAnchor),
		"version": regexp.MustCompile(`^go[0-9.]+`).MatchString, // go_info
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(scrape))
	require.NoError(t, err)
	for name, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				check, ok := allowed[l.GetName()]
				if assert.True(t, ok, "%s: label %q is not on the allow-list", name, l.GetName()) {
					assert.True(t, check(l.GetValue()), "%s: %s=%q is not an allowed value", name, l.GetName(), l.GetValue())
				}
			}
		}
	}

	// Nothing that names a person, anywhere in the scrape.
	pz := p.a.pseudonyms.Get().(*pseudonym.Pseudonymiser)
	defer p.a.pseudonyms.Put(pz)
	var forbidden []string
	for _, n := range persons {
		forbidden = append(forbidden, n.Digits(), dotted(n), pz.Pseudonym(n).String())
	}
	for _, du := range demoUsers {
		forbidden = append(forbidden, du.username, du.name, du.email)
	}
	forbidden = append(forbidden, "Anna de Boer", "Stationsstraat", "Almere", "Zonnehuis", subject)
	for _, s := range forbidden {
		assert.False(t, strings.Contains(scrape, s), "the scrape names %q", s)
	}
}

func oneOf(values ...string) func(string) bool {
	return func(v string) bool {
		for _, w := range values {
			if v == w {
				return true
			}
		}
		return false
	}
}

func writeFile(path, content string) error {
	return os.WriteFile(path, []byte(content), 0o600)
}

// The job's last success comes from the jobs table: an instance reports the
// run of another instance, and one restarted since, the run before its
// start. A failed run later does not count; a database that does not
// answer leaves the figure out, not the scrape.
func TestMetricsJobLastSuccessFromDatabase(t *testing.T) {
	jobLastSuccess(t, newTestPortal(t, func(c *config) { c.MetricsToken = testMetricsToken }))
}

// The same on PostgreSQL, where two instances report the same time.
func TestMetricsJobLastSuccessFromDatabasePostgres(t *testing.T) {
	cfg := postgresConfig(t)
	cfg.MetricsToken = testMetricsToken
	jobLastSuccess(t, startTestPortal(t, cfg, true), startTestPortal(t, cfg, false))
}

// jobLastSuccess checks the figure on each of the portals, which share a
// database.
func jobLastSuccess(t *testing.T, portals ...*testPortal) {
	lastSuccess := func(p *testPortal) (float64, bool) {
		t.Helper()
		status, scrape := p.scrape(testMetricsToken)
		require.Equal(t, http.StatusOK, status)
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err := parser.TextToMetricFamilies(strings.NewReader(scrape))
		require.NoError(t, err)
		require.Contains(t, families, "zorgkit_logins_total", "the rest of the scrape is there")
		f, ok := families["zorgkit_job_last_success_timestamp_seconds"]
		if !ok {
			return 0, false
		}
		var jobs []string
		var value float64
		for _, m := range f.GetMetric() {
			require.Equal(t, "job", m.GetLabel()[0].GetName())
			jobs = append(jobs, m.GetLabel()[0].GetValue())
			if m.GetLabel()[0].GetValue() == jobProcess {
				value = m.GetGauge().GetValue()
			}
		}
		require.ElementsMatch(t, []string{jobProcess, jobAnchor}, jobs, "one series per kind of job")
		return value, true
	}
	db := portals[0].a.db

	for _, p := range portals {
		v, ok := lastSuccess(p)
		require.True(t, ok)
		assert.Zero(t, v, "never run")
	}

	done := time.Date(2026, 11, 30, 2, 0, 17, 250000000, time.UTC)
	for _, row := range []struct {
		id, state, instance string
		finished            time.Time
	}{
		{"process:2026-11-29", "done", "gone", done.Add(-24 * time.Hour)},
		{"process:2026-11-30", "done", "other-instance", done},
		{"process:now:later", "failed", "other-instance", done.Add(time.Hour)},
		{"process:2026-12-01", "queued", "", time.Time{}},
	} {
		_, err := db.Exec(`INSERT INTO jobs (id, state, run_after, finished_at, instance) VALUES ($1, $2, 0, $3, $4)`,
			row.id, row.state, usec(row.finished), row.instance)
		require.NoError(t, err)
	}
	for _, p := range portals {
		v, ok := lastSuccess(p)
		require.True(t, ok)
		assert.Equal(t, float64(done.UnixMicro())/1e6, v, "the last done run, by another instance")
	}

	_, err := db.Exec(`ALTER TABLE jobs RENAME TO jobs_gone`)
	require.NoError(t, err)
	for _, p := range portals {
		_, ok := lastSuccess(p)
		assert.False(t, ok, "left out without the table")
	}
	_, err = db.Exec(`ALTER TABLE jobs_gone RENAME TO jobs`)
	require.NoError(t, err)
}

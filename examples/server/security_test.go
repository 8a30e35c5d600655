package main

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/bsn/bsntest"
	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/examples/server/internal/seal"
)

// transportRecorder is a transport that keeps what it delivers; fail, when
// set, decides the outcome of each delivery instead.
type transportRecorder struct {
	mu   sync.Mutex
	got  []envelope
	fail func(envelope) error
}

func (r *transportRecorder) deliver(ctx context.Context, m envelope) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		if err := r.fail(m); err != nil {
			return err
		}
	}
	r.got = append(r.got, m)
	return nil
}

func (r *transportRecorder) delivered() []envelope {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]envelope(nil), r.got...)
}

// code returns the newest verification code delivered to username.
func (r *transportRecorder) code(username string) string {
	got := r.delivered()
	for i := len(got) - 1; i >= 0; i-- {
		if got[i].Username == username && got[i].Subject == subjectCode {
			return codeRE.FindString(got[i].Body)
		}
	}
	return ""
}

// useOutbox makes the portal send through its real outbox instead of the
// test's recorder, delivered by a transport that records.
func useOutbox(p *testPortal) *transportRecorder {
	tr := &transportRecorder{}
	p.a.sender = &outbox{a: p.a}
	p.a.transports = map[string]transport{"email": tr, "sms": tr}
	return tr
}

// flush delivers every due message of the outbox, as the worker does.
func (p *testPortal) flush() {
	p.t.Helper()
	for {
		more, err := p.a.deliverNext(context.Background())
		require.NoError(p.t, err)
		if !more {
			return
		}
	}
}

// production configures a portal as outside demo mode: a mail server that
// nobody listens on (tests replace the transports).
func production(c *config) {
	c.Demo = false
	c.SMTP = smtpConfig{Addr: "127.0.0.1:9", TLS: "none", From: "noreply@portaal.example", Timeout: time.Second}
}

// TestSecondFactorNotReadable is the attack of issue 10, hole 1: someone who
// knows a password logs in and reads the verification code from the
// portal's own outbox, in the same session, before the code is entered.
func TestSecondFactorNotReadable(t *testing.T) {
	for _, demo := range []bool{true, false} {
		t.Run(map[bool]string{true: "demo", false: "production"}[demo], func(t *testing.T) {
			p := newTestPortal(t)
			if !demo {
				p = newTestPortal(t, production)
			}
			tr := useOutbox(p)
			b := p.browser()
			status, body := b.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
			require.Equal(t, http.StatusOK, status)
			require.Contains(t, body, `action="/login/code"`)
			p.flush()
			code := tr.code("jdevries")
			require.NotEmpty(t, code, "the code went out through the transport")
			for _, path := range []string{"/outbox", "/outbox/", "/api/outbox", "/"} {
				_, body := b.get(path)
				assert.NotContains(t, body, code, "%s at the code stage", path)
				assert.NotContains(t, body, `href="/outbox"`, "%s at the code stage", path)
				assert.NotContains(t, body, "Zorggroep Zonnehuis", "not logged in yet: no name or organisation")
			}

			// Fully logged in, a session still never reads a code: not
			// its own (used), and not that of a login elsewhere.
			status, _ = b.post("/login/code", url.Values{"code": {code}})
			require.Equal(t, http.StatusOK, status)
			p.clock.Advance(time.Minute) // past the resend cooldown
			other := p.browser()
			other.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
			p.flush()
			pending := tr.code("jdevries")
			require.NotEqual(t, code, pending)
			status, body = b.get("/outbox")
			if demo {
				assert.Equal(t, http.StatusOK, status)
				assert.Contains(t, body, `id="demo-outbox"`, "marked as the demo's stand-in")
				assert.Contains(t, body, subjectCode, "the messages are listed")
			} else {
				assert.Equal(t, http.StatusNotFound, status, "no outbox page outside demo mode")
				assert.NotContains(t, body, `href="/outbox"`)
			}
			assert.NotContains(t, body, code)
			assert.NotContains(t, body, pending)
		})
	}
}

// TestBehindProxy is issue 10, hole 9: behind a TLS-terminating reverse
// proxy the cookies were not Secure, there was no HSTS, reset links were
// built from the listen address, and the throttle counted every client as
// the proxy.
func TestBehindProxy(t *testing.T) {
	p := newTestPortal(t, func(c *config) {
		c.BaseURL = "https://portaal.example.nl"
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	raw := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, form url.Values, header http.Header) *http.Response {
		req, err := http.NewRequest(http.MethodPost, p.srv.URL+path, strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := raw.Do(req)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}

	resp := post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}}, http.Header{"X-Forwarded-For": {"198.51.100.7"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	cookie := resp.Header.Get("Set-Cookie")
	assert.Contains(t, cookie, "Secure", "the public URL is https")
	assert.True(t, strings.HasPrefix(cookie, "__Host-"), "a __Host- cookie cannot be planted by a sibling domain: %s", cookie)
	assert.Contains(t, resp.Header.Get("Strict-Transport-Security"), "max-age=")

	// The reset link comes from the configured URL, whatever the Host.
	req, err := http.NewRequest(http.MethodPost, p.srv.URL+"/password/forgot", strings.NewReader("email=jan.devries%40zonnehuis.example"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Host = "evil.example"
	req.Header.Set("X-Forwarded-Host", "evil.example")
	resp, err = raw.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	link := p.sent.last("jdevries", "Wachtwoord herstellen")
	assert.Contains(t, link, "https://portaal.example.nl/password/reset?token=")
	assert.NotContains(t, link, "evil")

	// The throttle counts the client the proxy names, not the proxy.
	for range 3 {
		post("/login", url.Values{"username": {"nobody"}, "password": {"wrong"}}, http.Header{"X-Forwarded-For": {"forged, 203.0.113.9"}})
	}
	var keys []string
	rows, err := p.a.db.Query(`SELECT key FROM throttle`)
	require.NoError(t, err)
	for rows.Next() {
		var k string
		require.NoError(t, rows.Scan(&k))
		keys = append(keys, k)
	}
	require.NoError(t, rows.Err())
	joined := strings.Join(keys, " ")
	assert.Contains(t, joined, "203.0.113.9", "the client's address")
	assert.NotContains(t, joined, "127.0.0.1", "not the proxy's")
	assert.NotContains(t, joined, "forged", "not what the client wrote itself")
}

// TestSpoofedForwardedFor: a client that talks to the portal directly cannot
// choose its throttle key with a header.
func TestSpoofedForwardedFor(t *testing.T) {
	p := newTestPortal(t, func(c *config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	})
	for i := range 3 {
		req, err := http.NewRequest(http.MethodPost, p.srv.URL+"/login", strings.NewReader("username=nobody&password=wrong"))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", "192.0.2."+strconv.Itoa(i))
		req.Header.Set("Forwarded", "for=192.0.2.99")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	var n int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM throttle WHERE key LIKE '%192.0.2.%'`).Scan(&n))
	assert.Zero(t, n, "the peer is no trusted proxy: its headers are ignored")
}

func TestStaticNotListed(t *testing.T) {
	p := newTestPortal(t)
	for _, path := range []string{"/static/", "/static", "/static/./", "/static/%2e/"} {
		status, body := p.browser().get(path)
		assert.Equal(t, http.StatusNotFound, status, path)
		assert.NotContains(t, body, ">style.css<", path) // a listing; the error page itself links the style sheet
	}
	status, body := p.browser().get("/static/style.css")
	assert.Equal(t, http.StatusOK, status)
	assert.NotEmpty(t, body)
}

// hiddenFields returns the hidden form fields of a page, as a browser would
// post them back.
func hiddenFields(body string) url.Values {
	v := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// TestPseudonymAloneOpensNothing is issue 10, hole 2: organisation B took
// the subject key that organisation A's page and API showed, recorded a
// consent of its own for it and opened the client's name and address,
// without ever knowing the BSN. Every client action must be bound to a
// lookup of this session, and no reusable subject key may leave the server.
func TestPseudonymAloneOpensNothing(t *testing.T) {
	p := newTestPortal(t)
	ctx := context.Background()
	person := bsntest.TestPersons()[0]
	subject, found, err := p.a.findClient(ctx, person)
	require.NoError(t, err)
	require.True(t, found)

	a := p.browser()
	a.login("jdevries")
	_, page := a.post("/clients/lookup", url.Values{"bsn": {person.Digits()}})
	form := hiddenFields(page)
	require.NotEmpty(t, form, "the client page has forms")
	resp, err := a.c.Post(p.srv.URL+"/api/clients/lookup", "application/json", strings.NewReader(`{"bsn":"`+person.Digits()+`"}`))
	require.NoError(t, err)
	_, api := readBody(t, resp)
	assert.False(t, strings.Contains(page, subject), "the page shows the subject key")
	assert.False(t, strings.Contains(api, subject), "the API shows the subject key")
	var apiValues map[string]any
	require.NoError(t, json.Unmarshal([]byte(api), &apiValues))

	// Organisation B replays every value it could have seen, in every field.
	b := p.browser()
	b.login("linde")
	var seen []string
	for _, v := range form {
		seen = append(seen, v...)
	}
	for _, v := range apiValues {
		if s, ok := v.(string); ok {
			seen = append(seen, s)
		}
	}
	seen = append(seen, subject) // and the key itself, had it leaked elsewhere
	for _, v := range seen {
		replay := url.Values{"purpose": {"view-naw"}, "decision": {"permit"}, "given": {p.clock.Now().Format("2006-01-02")},
			"reference": {"B-0001"}, "evidence": {"paper"}}
		for k := range form {
			if k != "purpose" {
				replay.Set(k, v)
			}
		}
		replay.Set("subject", v)
		replay.Set("client", v)
		status, body := b.post("/clients/consent", replay)
		assert.NotEqual(t, http.StatusOK, status, "recording consent with %q", v)
		assert.False(t, strings.Contains(body, "De toestemming is vastgelegd"), "recorded with %q", v)
		status, body = b.post("/clients/view", replay)
		assert.NotEqual(t, http.StatusOK, status, "opening with %q", v)
		assert.False(t, strings.Contains(body, "Anna de Boer"), "opened with %q", v)
	}
	p.clock.Advance(time.Second)
	out, err := p.a.consent.DecideUnlogged(ctx, consent.Subject(subject), "delinde", consent.PurposeViewNAW, p.clock.Now())
	require.NoError(t, err)
	assert.False(t, out.Allowed, "B recorded no consent")

	// A's own form works in A's session...
	view := url.Values{"purpose": {"view-naw"}}
	for k, v := range form {
		if k != "purpose" {
			view[k] = v
		}
	}
	status, body := a.post("/clients/view", view)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "Anna de Boer")

	// ...but not in another session of the same user,
	p.clock.Advance(time.Minute) // past the resend cooldown
	a2 := p.browser()
	a2.login("jdevries")
	status, body = a2.post("/clients/view", view)
	assert.NotEqual(t, http.StatusOK, status, "another session")
	assert.NotContains(t, body, "Anna de Boer")

	// nor after logging out and in again,
	a.post("/logout", nil)
	p.clock.Advance(time.Minute)
	a.login("jdevries")
	status, body = a.post("/clients/view", view)
	assert.NotEqual(t, http.StatusOK, status, "a new session")
	assert.NotContains(t, body, "Anna de Boer")

	// nor once it has expired, though the session lives on.
	_, page = a.post("/clients/lookup", url.Values{"bsn": {person.Digits()}})
	view = hiddenFields(page)
	view.Set("purpose", "view-naw")
	for range 3 {
		p.clock.Advance(20 * time.Minute)
		status, _ = a.get("/clients")
		require.Equal(t, http.StatusOK, status)
	}
	status, body = a.post("/clients/view", view)
	assert.NotEqual(t, http.StatusOK, status, "expired")
	assert.NotContains(t, body, "Anna de Boer")
}

// TestClientHandle: a handle opens only for the session, user and
// organisation it was made for, until it expires (the sealing itself is
// tested in package internal/seal).
func TestClientHandle(t *testing.T) {
	p := newTestPortal(t)
	s := session{IDHash: []byte("session one hash")}
	u := &user{ID: "u1", OrgID: "zonnehuis"}
	ref := clientRef{Subject: "v1.kid.subjectkey", Masked: "******782"}
	h := p.a.sealClient(s, u, ref)
	got, err := p.a.openClient(s, u, h)
	require.NoError(t, err)
	assert.Equal(t, ref, got)
	tests := []struct {
		name   string
		s      session
		u      *user
		handle string
	}{
		{"another session", session{IDHash: []byte("session two hash")}, u, h},
		{"another user", s, &user{ID: "u2", OrgID: "zonnehuis"}, h},
		{"another organisation", s, &user{ID: "u1", OrgID: "delinde"}, h},
		{"the subject key itself", s, u, ref.Subject},
		{"no session", session{}, u, h},
		{"a session id that runs into the user id", session{IDHash: []byte("session one hashu")}, &user{ID: "1", OrgID: "zonnehuis"}, h},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.a.openClient(tt.s, tt.u, tt.handle)
			assert.ErrorIs(t, err, seal.ErrInvalid)
		})
	}
	t.Run("expired", func(t *testing.T) {
		p.clock.Advance(p.a.cfg.IdleTimeout)
		_, err := p.a.openClient(s, u, h)
		assert.ErrorIs(t, err, seal.ErrInvalid)
	})
}

// TestFormBodyLimited: a form of megabytes is not read, let alone acted on.
func TestFormBodyLimited(t *testing.T) {
	p := newTestPortal(t)
	body := "padding=" + strings.Repeat("x", 2<<20) + "&email=jan.devries%40zonnehuis.example"
	resp, err := http.Post(p.srv.URL+"/password/forgot", "application/x-www-form-urlencoded", strings.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Empty(t, p.sent.last("jdevries", "Wachtwoord herstellen"), "the form was cut off before the address")
}

// TestConcurrentHandlers drives the portal's handlers from many sessions at
// once (run with -race): lookups, opening name and address (decrypting),
// consent records, reset requests and logins (encrypting into the outbox),
// through one shared FieldCipher, sealer and database. Every answer must be
// the right one.
func TestConcurrentHandlers(t *testing.T) {
	p := newTestPortal(t)
	tr := useOutbox(p)
	persons := bsntest.TestPersons()
	names := map[int]string{0: "Anna de Boer", 2: "Chantal Visser", 3: "Daan Smit", 4: "Eva Mulder"} // Zonnehuis has NAW consent for these
	var browsers []*browser
	for range 4 {
		b := p.browser()
		p.clock.Advance(time.Minute) // past the resend cooldown
		status, _ := b.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
		require.Equal(t, http.StatusOK, status)
		p.flush()
		status, body := b.post("/login/code", url.Values{"code": {tr.code("jdevries")}})
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, `id="whoami"`)
		browsers = append(browsers, b)
	}
	var wg sync.WaitGroup
	for g, b := range browsers {
		wg.Go(func() {
			for i := range 8 {
				k := []int{0, 2, 3, 4}[(g+i)%4]
				_, body := b.post("/clients/lookup", url.Values{"bsn": {persons[k].Digits()}})
				m := regexp.MustCompile(`name="client" value="([^"]+)"`).FindStringSubmatch(body)
				if !assert.NotNil(t, m, "a client page") {
					return
				}
				status, body := b.post("/clients/view", url.Values{"client": {html.UnescapeString(m[1])}, "purpose": {"view-naw"}})
				assert.Equal(t, http.StatusOK, status)
				assert.Contains(t, body, names[k], "the right client's name, decrypted")
				status, _ = b.post("/password/forgot", url.Values{"email": {"lotte@delinde.example"}})
				assert.Equal(t, http.StatusOK, status)
			}
		})
	}
	wg.Go(func() {
		for range 16 {
			if _, err := p.a.deliverNext(context.Background()); err != nil {
				assert.NoError(t, err)
				return
			}
		}
	})
	wg.Wait()
	p.flush()
	var queued int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE state <> 'sent'`).Scan(&queued))
	assert.Zero(t, queued, "every message decrypted and delivered")
}

// TestForeignHandleChangesNothing: a client handle used by another user of
// the same organisation, in another session of the same user, or after it
// expired, is refused by every form that names a client (open, record,
// confirm and withdraw), before anything is decided, recorded or logged.
func TestForeignHandleChangesNothing(t *testing.T) {
	p := newTestPortal(t)
	person := bsntest.TestPersons()[0]
	jan := p.browser()
	jan.login("jdevries")
	_, page := jan.post("/clients/lookup", url.Values{"bsn": {person.Digits()}})
	handle := html.UnescapeString(hiddenValue(t, page, "client"))
	colleague := p.browser()
	colleague.login("zonnehuis-beheer")
	p.clock.Advance(time.Minute) // past the resend cooldown
	janElsewhere := p.browser()
	janElsewhere.login("jdevries")

	count := func() (events, decisions int) {
		require.NoError(t, p.a.db.QueryRow(`SELECT (SELECT COUNT(*) FROM consent_events), (SELECT COUNT(*) FROM access_log WHERE object <> 'client/lookup')`).Scan(&events, &decisions))
		return events, decisions
	}
	events, decisions := count()
	try := func(b *browser, who string) {
		t.Helper()
		form := url.Values{"client": {handle}, "purpose": {"view-naw"}, "decision": {"deny"},
			"given": {p.clock.Now().Format("2006-01-02")}, "reference": {"ZH-TOE-FOREIGN"}, "evidence": {"paper"}}
		for _, path := range []string{"/clients/view", "/clients/consent", "/clients/withdraw/confirm", "/clients/withdraw"} {
			status, body := b.post(path, form)
			assert.Equal(t, http.StatusNotFound, status, "%s: %s", who, path)
			assert.Contains(t, body, "Zoek de cliënt opnieuw op", "%s: %s", who, path)
			assert.NotContains(t, body, person.Masked(), "%s: %s", who, path)
		}
	}
	try(colleague, "a colleague of the same organisation")
	try(janElsewhere, "the same user in another session")
	for range 3 { // the session lives on, the handle expires
		p.clock.Advance(20 * time.Minute)
		status, _ := jan.get("/clients")
		require.Equal(t, http.StatusOK, status)
	}
	try(jan, "the same session, after the handle expired")

	e, d := count()
	assert.Equal(t, events, e, "nothing recorded or withdrawn")
	assert.Equal(t, decisions, d, "nothing decided")
}

// TestUnfinishedLoginReachesNothing: every route of routes.go, GET and
// POST, pages and API, with a session that has passed only the password
// step, or that must still change its password, is refused before its
// handler runs and sent to the step the session is at; a route without the
// login check must be one of the public ones. (TestPasswordStepAloneGivesNoAccess
// tries five pages; this holds for every route, also those added later.)
func TestUnfinishedLoginReachesNothing(t *testing.T) {
	p := newTestPortal(t)
	src, err := os.ReadFile("routes.go")
	require.NoError(t, err)
	public := []string{"GET /static/", "GET /healthz", "GET /metrics", "GET /login", "POST /login",
		"GET /password/forgot", "POST /password/forgot", "GET /password/reset", "POST /password/reset", "GET /survey", "POST /survey"}
	u, err := p.a.userBy(context.Background(), "username", "jdevries")
	require.NoError(t, err)
	sessionAt := func(st stage) *http.Cookie {
		rec := httptest.NewRecorder()
		require.NoError(t, p.a.startSession(context.Background(), rec, httptest.NewRequest(http.MethodGet, "/", nil), u.ID, st, newID()))
		return rec.Result().Cookies()[0]
	}
	sessions := []struct {
		stage  stage
		cookie *http.Cookie
		allows []string // the only routes open to it
		to     string
	}{
		{stageCode, sessionAt(stageCode), []string{"GET /login/code", "POST /login/code", "POST /login/code/resend", "POST /logout"}, "/login/code"},
		{stageChange, sessionAt(stageChange), []string{"GET /password", "POST /password", "POST /logout"}, "/password"},
	}
	raw := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	routes := regexp.MustCompile(`mux\.Handle(?:Func)?\("(GET|POST) ([^"]+)", (?:a\.need\((\w+),)?`).FindAllStringSubmatch(string(src), -1)
	require.Greater(t, len(routes), 40)
	checked := 0
	for _, m := range routes {
		method, pattern, stages := m[1], m[2], m[3]
		if stages == "" {
			assert.Contains(t, public, method+" "+pattern, "a route without the login check")
			continue
		}
		path := strings.ReplaceAll(regexp.MustCompile(`\{[^}$]+\}`).ReplaceAllString(pattern, "x"), "{$}", "")
		for _, s := range sessions {
			if slices.Contains(s.allows, method+" "+pattern) {
				continue
			}
			t.Run(string(s.stage)+" "+method+" "+path, func(t *testing.T) {
				req, err := http.NewRequest(method, p.srv.URL+path, strings.NewReader(""))
				require.NoError(t, err)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.AddCookie(s.cookie)
				resp, err := raw.Do(req)
				require.NoError(t, err)
				resp.Body.Close()
				assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
				assert.Equal(t, s.to, resp.Header.Get("Location"))
				checked++
			})
		}
	}
	assert.Greater(t, checked, 80, "both sessions tried on the routes of the full login")
}

// TestCrossSitePostsRefused: every POST route of routes.go, public or
// behind the login, refuses a form sent from another site, told by
// Sec-Fetch-Site or, from a browser without it, by Origin; the logged-in
// session is left alone. (TestCrossOriginPostRefused tries the login.)
func TestCrossSitePostsRefused(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	base, _ := url.Parse(p.srv.URL)
	cookie := b.c.Jar.Cookies(base)[0]
	src, err := os.ReadFile("routes.go")
	require.NoError(t, err)
	routes := regexp.MustCompile(`mux\.Handle(?:Func)?\("POST ([^"]+)"`).FindAllStringSubmatch(string(src), -1)
	require.Greater(t, len(routes), 30)
	raw := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, m := range routes {
		path := regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(m[1], "x")
		for _, h := range [][2]string{{"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Site", "same-site"}, {"Origin", "https://evil.example"}} {
			t.Run(path+" "+h[0]+": "+h[1], func(t *testing.T) {
				req, err := http.NewRequest(http.MethodPost, p.srv.URL+path, strings.NewReader("username=jdevries&password=x"))
				require.NoError(t, err)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set(h[0], h[1])
				req.AddCookie(cookie)
				resp, err := raw.Do(req)
				require.NoError(t, err)
				resp.Body.Close()
				assert.Equal(t, http.StatusForbidden, resp.StatusCode)
			})
		}
	}
	_, body := b.get("/clients")
	assert.Contains(t, body, `id="whoami"`, "the cross-site logout ended nothing")
}

// TestSecretsNeitherLoggedNorStored: through a login with a wrong and a
// right code, a password change and a reset by link, in production, the
// codes, the reset token and the passwords reach the user's transport only:
// never the log, and no text or blob in any table of the database (codes
// and tokens are kept as MAC and hash, messages encrypted).
func TestSecretsNeitherLoggedNorStored(t *testing.T) {
	p := newTestPortal(t, production)
	tr := useOutbox(p)
	b := p.browser()
	old, changed, reset := p.passwords["jdevries"], "Rivier!Koffie7", "Herstel!Wachtwoord5"
	status, _ := b.post("/login", url.Values{"username": {"jdevries"}, "password": {old}})
	require.Equal(t, http.StatusOK, status)
	p.flush()
	code := tr.code("jdevries")
	require.NotEmpty(t, code)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	b.post("/login/code", url.Values{"code": {wrong}}) // as a user mistypes
	_, body := b.post("/login/code", url.Values{"code": {code}})
	require.Contains(t, body, `id="whoami"`)
	status, _ = b.post("/password", url.Values{"current": {old}, "new": {changed}, "repeat": {changed}})
	require.Equal(t, http.StatusOK, status)
	b.post("/logout", nil)

	b.post("/password/forgot", url.Values{"email": {"jan.devries@zonnehuis.example"}})
	p.flush()
	var token string
	for _, m := range tr.delivered() {
		if m.Username == "jdevries" && m.Subject == "Wachtwoord herstellen" {
			_, rest, _ := strings.Cut(m.Body, "token=")
			token, _ = url.QueryUnescape(strings.Fields(rest)[0])
		}
	}
	require.NotEmpty(t, token)
	status, body = b.post("/password/reset", url.Values{"token": {token}, "new": {reset}, "repeat": {reset}})
	require.Equal(t, http.StatusOK, status, text(body))

	// A code is six digits, which the demo data (uploads, reports) holds
	// by chance: it is looked for in the log and the login's tables only.
	secrets := map[string]string{"code": code, "token": token, "old password": old, "changed password": changed, "reset password": reset}
	loginTables := []string{"sessions", "users", "login_codes", "reset_tokens", "throttle", "outbox", "password_history"}
	log := p.out.String()
	for name, s := range secrets {
		assert.NotContains(t, log, s, "the %s in the log", name)
	}
	ctx := context.Background()
	var tables []string
	rows, err := p.a.db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'`)
	require.NoError(t, err)
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		tables = append(tables, name)
	}
	require.NoError(t, rows.Err())
	for _, table := range loginTables {
		require.Contains(t, tables, table)
	}
	for _, table := range tables {
		rows, err := p.a.db.QueryContext(ctx, `SELECT * FROM "`+table+`"`)
		require.NoError(t, err)
		cols, err := rows.Columns()
		require.NoError(t, err)
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			for i, v := range vals {
				var s string
				switch v := v.(type) {
				case string:
					s = v
				case []byte:
					s = string(v)
				default:
					continue // numbers: timestamps, counts
				}
				for name, secret := range secrets {
					if name == "code" && !slices.Contains(loginTables, table) {
						continue
					}
					assert.NotContains(t, s, secret, "the %s in %s.%s", name, table, cols[i])
				}
			}
		}
		require.NoError(t, rows.Err())
		rows.Close()
	}
}

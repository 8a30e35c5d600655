package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/password"
)

// testPortal is a portal on a fresh database with the demo data, a clock the
// test moves, and a sender that records every message.
type testPortal struct {
	t         testing.TB
	a         *app
	srv       *httptest.Server
	clock     *testClock
	sent      *recorder
	out       *syncBuffer // console and logs
	passwords map[string]string
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer is a bytes.Buffer for several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// recorder is a Sender that keeps the messages for the test to read.
type recorder struct {
	mu   sync.Mutex
	msgs []message
	once map[string]bool // the keys of SendOnce
}

type message struct {
	To, Subject, Body string
}

func (r *recorder) Send(ctx context.Context, to *user, subject, body string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, message{To: to.Username, Subject: subject, Body: body})
	return nil
}

// SendTx records at once: the tests that roll a transaction back use the
// outbox.
func (r *recorder) SendTx(ctx context.Context, _ *sql.Tx, to *user, subject, body string) error {
	return r.Send(ctx, to, subject, body)
}

func (r *recorder) SendOnce(ctx context.Context, key string, to *user, subject, body string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.once == nil {
		r.once = map[string]bool{}
	}
	if k := key + "\x00" + to.ID; !r.once[k] {
		r.once[k] = true
		r.msgs = append(r.msgs, message{To: to.Username, Subject: subject, Body: body})
	}
	return nil
}

func (r *recorder) SendCode(ctx context.Context, to *user, body string, expires time.Time) error {
	return r.Send(ctx, to, subjectCode, body)
}

// last returns the body of the newest message to username with subject.
func (r *recorder) last(username, subject string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.msgs) - 1; i >= 0; i-- {
		if m := r.msgs[i]; m.To == username && m.Subject == subject {
			return m.Body
		}
	}
	return ""
}

var codeRE = regexp.MustCompile(`\b\d{6}\b`)

// code returns the newest verification code sent to username.
func (r *recorder) code(username string) string {
	return codeRE.FindString(r.last(username, "Verificatiecode"))
}

// cheapParams make argon2id fast in tests; the real cost is measured in the
// benchmarks.
var cheapParams = password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLength: 16, KeyLength: 32}

type portalOption func(*config)

// startTime is the test clock's start, also when the template was seeded.
var startTime = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// newTestPortal starts a portal on a fresh SQLite database in a temporary
// directory, with the demo data: a copy of a template database seeded once
// per test run, so that every test has its own database without paying for
// the seeding.
func newTestPortal(t testing.TB, opts ...portalOption) *testPortal {
	t.Helper()
	dir := t.TempDir()
	passwords := copyTemplate(t, dir)
	cfg, err := parseConfig([]string{"-data", dir, "-addr", "127.0.0.1:0"}, func(string) string { return "" })
	require.NoError(t, err)
	for _, o := range opts {
		o(&cfg)
	}
	p := startTestPortal(t, cfg, false)
	p.passwords = passwords
	return p
}

// copyTemplate fills the data directory dir with a copy of the seeded
// template database and its key file, and returns the demo users'
// passwords.
func copyTemplate(t testing.TB, dir string) map[string]string {
	t.Helper()
	tmpl := seededTemplate(t)
	require.NoError(t, os.MkdirAll(dir, 0o700))
	for _, name := range []string{"zorgkit.db", "keys.json"} {
		b, err := os.ReadFile(filepath.Join(tmpl.dir, name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
	}
	return tmpl.passwords
}

// seededDB is a database seeded with the demo data, to copy.
type seededDB struct {
	dir       string
	passwords map[string]string
	err       error
}

var (
	templateOnce sync.Once
	tmpl         seededDB
)

func seededTemplate(t testing.TB) *seededDB {
	templateOnce.Do(func() {
		tmpl.dir, tmpl.err = os.MkdirTemp("", "zorgkit-template-")
		if tmpl.err != nil {
			return
		}
		cfg, err := parseConfig([]string{"-data", tmpl.dir}, func(string) string { return "" })
		if err != nil {
			tmpl.err = err
			return
		}
		a, err := openApp(context.Background(), cfg, io.Discard)
		if err != nil {
			tmpl.err = err
			return
		}
		defer a.Close()
		a.now = func() time.Time { return startTime }
		a.sender = &recorder{}
		a.hashParams = cheapParams
		if tmpl.err = a.initAuth(); tmpl.err != nil {
			return
		}
		if tmpl.passwords, tmpl.err = a.seedDemo(context.Background()); tmpl.err != nil {
			return
		}
		// Everything into the database file, so that a copy is complete.
		_, tmpl.err = a.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	})
	require.NoError(t, tmpl.err, "seeding the template database")
	return &tmpl
}

func TestMain(m *testing.M) {
	if mode := os.Getenv(crashHelperEnv); mode != "" {
		os.Exit(crashHelper(mode)) // a server process of a crash test, see crash_test.go
	}
	code := m.Run()
	if tmpl.dir != "" {
		os.RemoveAll(tmpl.dir)
	}
	os.Exit(code)
}

// startTestPortal opens a portal on cfg's database; seed fills it with the
// demo data.
func startTestPortal(t testing.TB, cfg config, seed bool) *testPortal {
	t.Helper()
	p := &testPortal{t: t, clock: &testClock{t: startTime}, sent: &recorder{}, out: &syncBuffer{}}
	a, err := openApp(context.Background(), cfg, p.out)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	a.now = p.clock.Now
	a.sender = p.sent
	a.answerTime = 0
	a.hashParams = cheapParams
	require.NoError(t, a.initAuth())
	p.a = a
	if seed {
		p.passwords, err = a.seedDemo(context.Background())
		require.NoError(t, err)
	}
	p.srv = httptest.NewServer(a.routes())
	t.Cleanup(p.srv.Close)
	return p
}

// browser is an HTTP client with its own cookies, like one browser.
type browser struct {
	p *testPortal
	c *http.Client
}

func (p *testPortal) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{p: p, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// get fetches path and returns the status and body.
func (b *browser) get(path string) (int, string) {
	b.p.t.Helper()
	resp, err := b.c.Get(b.p.srv.URL + path)
	require.NoError(b.p.t, err)
	return readBody(b.p.t, resp)
}

// post posts a form to path and returns the status and body, after
// redirects.
func (b *browser) post(path string, form url.Values) (int, string) {
	b.p.t.Helper()
	resp, err := b.c.PostForm(b.p.srv.URL+path, form)
	require.NoError(b.p.t, err)
	return readBody(b.p.t, resp)
}

func readBody(t testing.TB, resp *http.Response) (int, string) {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// login logs username in with the demo password and the code it is sent.
func (b *browser) login(username string) {
	b.p.t.Helper()
	b.loginWith(username, b.p.passwords[username])
}

func (b *browser) loginWith(username, pw string) {
	t := b.p.t
	t.Helper()
	status, body := b.post("/login", url.Values{"username": {username}, "password": {pw}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `action="/login/code"`, "the code page")
	code := b.p.sent.code(username)
	require.NotEmpty(t, code, "a code was sent")
	status, body = b.post("/login/code", url.Values{"code": {code}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `id="whoami"`, "logged in")
}

// text returns body without tags, for assertions on what a page says.
func text(body string) string {
	return strings.Join(strings.Fields(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(body, " ")), " ")
}

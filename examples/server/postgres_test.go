package main

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/bsn/bsntest"
)

// postgresConfig returns a configuration for a fresh schema of the
// PostgreSQL database of ZORGKIT_POSTGRES_DSN, dropped after the test, or
// skips the test without it.
func postgresConfig(t testing.TB) config {
	t.Helper()
	dsn := os.Getenv("ZORGKIT_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("ZORGKIT_POSTGRES_DSN is not set")
	}
	admin, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close() })
	var b [8]byte
	rand.Read(b[:])
	schema := "portal_test_" + hex.EncodeToString(b[:])
	_, err = admin.Exec("CREATE SCHEMA " + schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		assert.NoError(t, err)
	})
	u, err := url.Parse(dsn)
	require.NoError(t, err, "ZORGKIT_POSTGRES_DSN must be a postgres:// URL")
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	cfg, err := parseConfig([]string{"-data", t.TempDir(), "-addr", "127.0.0.1:0", "-database-url", u.String()}, func(string) string { return "" })
	require.NoError(t, err)
	return cfg
}

// databaseConfigs gives a test a configuration for each database the
// portal runs on, by name: SQLite in a temporary directory, and PostgreSQL
// in a schema of its own (skipped unless ZORGKIT_POSTGRES_DSN is set).
var databaseConfigs = map[string]func(testing.TB) config{
	"sqlite": func(t testing.TB) config {
		t.Helper()
		cfg, err := parseConfig([]string{"-data", t.TempDir()}, func(string) string { return "" })
		require.NoError(t, err)
		return cfg
	},
	"postgres": postgresConfig,
}

// TestPostgres runs the portal on PostgreSQL: two instances on one database,
// where a login on one is valid on the other, and the main flows.
func TestPostgres(t *testing.T) {
	cfg := postgresConfig(t)
	first := startTestPortal(t, cfg, true)
	require.Equal(t, postgres, first.a.dialect)
	second := startTestPortal(t, cfg, false)
	second.a.now = first.clock.Now
	second.a.sender = first.sent

	b := first.browser()
	b.login("jdevries")
	u1, _ := url.Parse(first.srv.URL)
	u2, _ := url.Parse(second.srv.URL)
	b.c.Jar.SetCookies(u2, b.c.Jar.Cookies(u1))
	resp, err := b.c.Get(second.srv.URL + "/clients")
	require.NoError(t, err)
	_, body := readBody(t, resp)
	assert.Contains(t, body, "Cliënt opzoeken", "the session of one instance is valid on the other")

	// Lookup with consent, on the other instance.
	resp, err = b.c.PostForm(second.srv.URL+"/clients/lookup", url.Values{"bsn": {bsntest.TestPersons()[0].Digits()}})
	require.NoError(t, err)
	_, body = readBody(t, resp)
	subject := hiddenValue(t, body, "client")
	resp, err = b.c.PostForm(second.srv.URL+"/clients/view", url.Values{"client": {subject}, "purpose": {"view-naw"}})
	require.NoError(t, err)
	status, body := readBody(t, resp)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "Anna de Boer")

	// Throttling counters are shared: failures on one instance count on
	// the other.
	c := first.browser()
	for range 5 {
		c.post("/login", url.Values{"username": {"linde"}, "password": {"wrong"}})
	}
	resp, err = c.c.PostForm(second.srv.URL+"/login", url.Values{"username": {"linde"}, "password": {first.passwords["linde"]}})
	require.NoError(t, err)
	status, _ = readBody(t, resp)
	assert.Equal(t, http.StatusUnauthorized, status)

	// Upload and processing.
	status, body = b.upload("/uploads", "cbs.csv", strings.NewReader(uploadHeader+"\n"+cbsRow(bsntest.TestPersons()[1].Digits(), 1)+"\n"))
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `data-status="accepted"`)
	_, err = first.a.processUploads(t.Context())
	require.NoError(t, err)
}

// TestPostgresMismatchedKeys is issue 10, hole 8 as it happened: a second
// instance with a data folder of its own (so demo mode generates its own
// keys) on the first one's PostgreSQL database refuses to start.
func TestPostgresMismatchedKeys(t *testing.T) {
	cfg := postgresConfig(t)
	startTestPortal(t, cfg, true)
	other := cfg
	other.DataDir = t.TempDir()
	other.KeyFile = filepath.Join(other.DataDir, "keys.json")
	_, err := openApp(t.Context(), other, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pepper")
	assert.Contains(t, err.Error(), "same key file")
}

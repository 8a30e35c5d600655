package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/bsn/bsntest"
	"github.com/zorgkit/zorgkit/examples/server/internal/webdriver"
)

// TestBrowser drives a headless Chromium through the portal as a person
// would: login with code, client lookup with consent, upload, and the
// municipality's report. It needs Debian's chromium and chromium-driver
// (.ci/run installs them) and skips without them. On failure it saves a
// screenshot; with ZORGKIT_SCREENSHOTS=dir it saves one of every step (the
// README's pictures).
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	d, err := webdriver.Start(ctx, "chromedriver")
	if errors.Is(err, webdriver.ErrNotInstalled) {
		t.Skip(err)
	}
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	s, err := d.NewSession(ctx, "/usr/bin/chromium")
	if errors.Is(err, webdriver.ErrNotInstalled) {
		t.Skip(err)
	}
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })

	p := newTestPortal(t)
	shots := os.Getenv("ZORGKIT_SCREENSHOTS")
	step := 0
	snap := func(name string) {
		if shots == "" {
			return
		}
		step++
		png, err := s.Screenshot(ctx)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644))
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		png, err := s.Screenshot(context.Background())
		if err != nil {
			t.Logf("no screenshot: %v", err)
			return
		}
		path := filepath.Join(os.TempDir(), "zorgkit-"+t.Name()+".png")
		if err := os.WriteFile(path, png, 0o644); err == nil {
			t.Logf("screenshot of the failure: %s", path)
		}
		if src, err := s.Source(context.Background()); err == nil {
			t.Logf("page:\n%s", text(src))
		}
	})

	must := func(err error) {
		t.Helper()
		require.NoError(t, err)
	}
	typeInto := func(css, text string) {
		t.Helper()
		e, err := s.Find(ctx, css)
		must(err)
		must(e.Type(ctx, text))
	}
	click := func(css string) { // a button that submits a form
		t.Helper()
		e, err := s.Find(ctx, css)
		must(err)
		must(e.ClickAndWait(ctx))
	}
	textOf := func(css string) string {
		t.Helper()
		e, err := s.Find(ctx, css)
		must(err)
		txt, err := e.Text(ctx)
		must(err)
		return txt
	}
	login := func(username string) {
		t.Helper()
		must(s.Navigate(ctx, p.srv.URL+"/login"))
		typeInto("#username", username)
		typeInto("#password", p.passwords[username])
		snap("01-login")
		click("#login")
		typeInto("#code", p.sent.code(username))
		snap("02-code")
		click("#verify")
		require.Contains(t, textOf("#whoami"), "·")
	}

	// A provider looks a client up by BSN and opens the NAW data it has
	// consent for.
	login("jdevries")
	must(s.Navigate(ctx, p.srv.URL+"/clients"))
	person := bsntest.TestPersons()[0]
	typeInto("#bsn", dotted(person))
	click("#lookup")
	require.Contains(t, textOf("#client"), person.Masked())
	snap("03-client")
	click("#view-view-naw")
	require.Contains(t, textOf("#data"), "Anna de Boer")

	// It records consent for taking over indication data, then uses it.
	typeInto("#reference-take-over-indication", "ZH-TOE-2001")
	click("#consent-take-over-indication")
	require.Contains(t, textOf("#message"), "vastgelegd")
	snap("04-consent")
	p.clock.Advance(time.Minute)
	click("#view-take-over-indication")
	require.Contains(t, textOf("#data"), "VV-")

	// It uploads its CBS data set.
	file := filepath.Join(t.TempDir(), "cbs.csv")
	data, err := io.ReadAll(demoDataset("browser", 30))
	must(err)
	must(os.WriteFile(file, data, 0o600))
	must(s.Navigate(ctx, p.srv.URL+"/uploads"))
	typeInto("#file", file)
	click("#upload")
	require.Equal(t, "accepted", textOf("#status"))
	snap("05-upload")
	click(".logout button")

	// The municipality reads the protected report.
	login("gemeente")
	must(s.Navigate(ctx, p.srv.URL+"/reports"))
	require.Contains(t, textOf("main"), "Respons per aanbieder")
	snap("06-report")
}

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

// startBrowser starts chromedriver and a headless Chromium for the test, or
// skips it where they are not installed (Debian's chromium and
// chromium-driver; .ci/run installs them). On failure it saves a screenshot
// and logs the page's text.
func startBrowser(t *testing.T, ctx context.Context) *webdriver.Session {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a browser")
	}
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
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		png, err := s.Screenshot(context.Background())
		if err != nil {
			t.Logf("no screenshot: %v", err)
			return
		}
		path := filepath.Join(os.TempDir(), "zorgkit-"+filepath.Base(t.Name())+".png")
		if err := os.WriteFile(path, png, 0o644); err == nil {
			t.Logf("screenshot of the failure: %s", path)
		}
		if src, err := s.Source(context.Background()); err == nil {
			t.Logf("page:\n%s", text(src))
		}
	})
	return s
}

// pageDriver drives one browser through a test portal.
type pageDriver struct {
	t   *testing.T
	ctx context.Context
	s   *webdriver.Session
	p   *testPortal
}

func (d *pageDriver) must(err error) {
	d.t.Helper()
	require.NoError(d.t, err)
}

func (d *pageDriver) open(path string) {
	d.t.Helper()
	d.must(d.s.Navigate(d.ctx, d.p.srv.URL+path))
}

// typeInto replaces what an input holds by text.
func (d *pageDriver) typeInto(css, text string) {
	d.t.Helper()
	e, err := d.s.Find(d.ctx, css)
	d.must(err)
	if tag, _ := e.Attribute(d.ctx, "type"); tag != "file" {
		d.must(e.Clear(d.ctx))
	}
	d.must(e.Type(d.ctx, text))
}

// click clicks a button that submits a form, and waits for the next page.
func (d *pageDriver) click(css string) {
	d.t.Helper()
	e, err := d.s.Find(d.ctx, css)
	d.must(err)
	d.must(e.ClickAndWait(d.ctx))
}

// tick clicks a checkbox, radio button or anything else that stays on the
// page.
func (d *pageDriver) tick(css string) {
	d.t.Helper()
	e, err := d.s.Find(d.ctx, css)
	d.must(err)
	d.must(e.Click(d.ctx))
}

func (d *pageDriver) textOf(css string) string {
	d.t.Helper()
	e, err := d.s.Find(d.ctx, css)
	d.must(err)
	txt, err := e.Text(d.ctx)
	d.must(err)
	return txt
}

// login logs username in through the forms, with the code it is sent.
func (d *pageDriver) login(username string, between ...func(step string)) {
	d.t.Helper()
	d.open("/login")
	d.typeInto("#username", username)
	d.typeInto("#password", d.p.passwords[username])
	for _, f := range between {
		f("login")
	}
	d.click("#login")
	d.typeInto("#code", d.p.sent.code(username))
	for _, f := range between {
		f("code")
	}
	d.click("#verify")
	require.Contains(d.t, d.textOf("#whoami"), "·")
}

func (d *pageDriver) logout() {
	d.t.Helper()
	d.click("#logout")
}

// TestBrowser drives a headless Chromium through the portal as a person
// would: login with code, client lookup with consent, upload, and the
// municipality's report. With ZORGKIT_SCREENSHOTS=dir it saves a picture of
// every step (the README's pictures).
func TestBrowser(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := startBrowser(t, ctx)
	p := newTestPortal(t)
	d := &pageDriver{t: t, ctx: ctx, s: s, p: p}
	shots := os.Getenv("ZORGKIT_SCREENSHOTS")
	snap := func(name string) {
		if shots == "" {
			return
		}
		png, err := s.Screenshot(ctx)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644))
	}

	// A provider looks a client up by BSN and opens the NAW data it has
	// consent for.
	d.login("jdevries", func(step string) { snap(map[string]string{"login": "01-login", "code": "02-code"}[step]) })
	d.open("/clients")
	person := bsntest.TestPersons()[0]
	d.typeInto("#bsn", dotted(person))
	d.click("#lookup")
	require.Contains(t, d.textOf("#client"), person.Masked())
	snap("03-client")
	d.click("#view-view-naw")
	require.Contains(t, d.textOf("#data"), "Anna de Boer")

	// It records consent for taking over indication data, then uses it.
	d.typeInto("#reference-take-over-indication", "ZH-TOE-2001")
	d.click("#consent-take-over-indication")
	require.Contains(t, d.textOf("#message"), "vastgelegd")
	snap("04-consent")
	p.clock.Advance(time.Minute)
	d.click("#view-take-over-indication")
	require.Contains(t, d.textOf("#data"), "VV-")

	// It uploads its CBS data set.
	file := filepath.Join(t.TempDir(), "cbs.csv")
	data, err := io.ReadAll(demoDataset("browser", 30))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, data, 0o600))
	d.open("/uploads")
	d.typeInto("#file", file)
	d.click("#upload")
	require.Equal(t, "ontvangen, wordt vannacht verwerkt", d.textOf("#status"))
	snap("05-upload")
	d.logout()

	// The municipality reads the protected report.
	d.login("gemeente")
	d.open("/reports")
	require.Contains(t, d.textOf("main"), "Respons per zorgaanbieder")
	snap("06-report")
	// The charts, each with its table beside it.
	scrollTo := func(css string) {
		d.must(s.Execute(ctx, `document.querySelector(arguments[0]).scrollIntoView(); return true;`, []any{css}, nil))
	}
	scrollTo("#per-provider-title")
	snap("08-report-chart")
	scrollTo("#trend-title")
	snap("09-report-trend")
	d.open("/reports?groep=leeftijd:4-11&indicator=doelrealisatie")
	require.Contains(t, d.textOf("#selection"), "4-11 jaar")
	snap("07-report-selection")
}

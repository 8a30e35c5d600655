package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/bsn/bsntest"
	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/examples/server/internal/webdriver"
)

// axeVersion is the axe-core release the accessibility test runs; .ci/run
// installs it from npm.
const axeVersion = "4.14.1"

// axeTags are the rule sets of WCAG 2.1 level AA.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// axeSource returns axe-core's script from the file ZORGKIT_AXE names
// (node_modules/axe-core/axe.min.js). Without it the test skips, except in
// CI, where it must run.
func axeSource(t *testing.T) string {
	t.Helper()
	path := os.Getenv("ZORGKIT_AXE")
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("ZORGKIT_AXE is not set: .ci/run installs axe-core " + axeVersion + " and sets it")
		}
		t.Skip("ZORGKIT_AXE is not set; npm install axe-core@" + axeVersion + " and point it at node_modules/axe-core/axe.min.js")
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err, "ZORGKIT_AXE")
	require.Contains(t, string(b[:min(len(b), 200)]), "axe v"+axeVersion, "ZORGKIT_AXE is axe-core %s", axeVersion)
	return string(b)
}

// a11y checks pages in the browser and collects what fails.
type a11y struct {
	*pageDriver
	axe      string
	titles   map[string]string // page title → the page that had it
	visited  []string          // paths of the pages checked
	problems []string
}

// axeRun runs axe-core on the page and returns the violations, one line
// each: the rule, its impact, what it asks, and the elements.
const axeRun = `
var done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: "tag", values: arguments[0]}, resultTypes: ["violations"]}).then(function (r) {
	done(r.violations.map(function (v) {
		return v.id + " (" + v.impact + "): " + v.help + " — " + v.nodes.map(function (n) { return n.target.join(" ") + " " + n.html.slice(0, 120); }).join(" | ");
	}));
}, function (e) { done(["axe failed: " + e]); });`

// pageFacts gathers what the test checks beyond axe: the language, the title,
// the skip link, the headings, the focus, and links or buttons with one name
// for different targets.
const pageFacts = `
var englishWords = /\b(` + englishValues + `)\b/gi;
var names = {}, dups = [];
document.querySelectorAll("main a[href], main button").forEach(function (el) {
	var name = (el.getAttribute("aria-label") || el.textContent).replace(/\s+/g, " ").trim();
	var target = el.tagName === "A" ? el.getAttribute("href") :
		(el.form ? el.form.getAttribute("action") + "?" + new URLSearchParams(new FormData(el.form)).toString() + "&" + el.name + "=" + el.value : "");
	if (names[name] !== undefined && names[name] !== target && dups.indexOf(name) < 0) { dups.push(name); }
	names[name] = target;
});
var content = (document.querySelector("main") || document.body).cloneNode(true);
content.querySelectorAll("code, pre, script, style").forEach(function (el) { el.remove(); });
var english = (content.textContent.match(englishWords) || []).map(function (w) { return w.toLowerCase(); })
	.filter(function (w, i, all) { return all.indexOf(w) === i; });
var active = document.activeElement;
return {
	english: english,
	lang: document.documentElement.lang,
	title: document.title,
	path: location.pathname,
	skip: !!document.querySelector("body > a.skip-link[href='#main']"),
	h1: document.querySelectorAll("h1").length,
	main: document.querySelectorAll("main").length,
	active: active && active.id || "",
	dups: dups
};`

// reflow measures the page at 320 CSS pixels wide: content wider than the
// viewport, and the elements that stick out.
const reflow = `
var root = document.documentElement, out = [];
document.querySelectorAll("body *").forEach(function (el) {
	var r = el.getBoundingClientRect();
	if (r.right > root.clientWidth + 1 && !el.closest(".table-scroll") && out.length < 5) {
		out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className ? "." + String(el.className).replace(/ /g, ".") : "") + " right=" + Math.round(r.right));
	}
});
return {scroll: root.scrollWidth, client: root.clientWidth, over: out};`

// englishValues are the English values of the libraries and the database
// (statuses, roles, channels, evidence and problem kinds, suppression
// statuses) that a Dutch page must show in Dutch; a Dutch page shows none
// of them outside code.
const englishValues = "accepted|processed|rejected|test-approved|queued|sending|sent|failed|requested|produced|missing|" +
	"changed|reordered|truncated|rewritten|primary|secondary|frequency|published|withheld|" +
	"user|admin|auditor|municipality|provider|owner|email|active|pending|unknown|permit|deny"

type facts struct {
	English                   []string
	Lang, Title, Path, Active string
	Skip                      bool
	H1, Main                  int
	Dups                      []string
}

// state says what a page state should show: the error summary with the
// focus, and a title that says so.
type state int

const (
	normal     state = iota
	formError        // a submitted form with problems
	errorShown       // a page that says what went wrong (403, 404)
	printable        // a document outside the layout (the printable quality report)
)

// check runs every check on the page the browser shows now.
func (c *a11y) check(name string, want state) facts {
	c.t.Helper()
	ctx, s := c.ctx, c.s
	var loaded bool
	c.must(s.Execute(ctx, `return typeof axe !== "undefined"`, nil, &loaded))
	if !loaded {
		c.must(s.Execute(ctx, c.axe+"\nreturn true;", nil, nil))
	}
	var violations []string
	c.must(s.ExecuteAsync(ctx, axeRun, []any{axeTags}, &violations))
	for _, v := range violations {
		c.problems = append(c.problems, name+": axe "+v)
	}
	var f facts
	c.must(s.Execute(ctx, pageFacts, nil, &f))
	c.visited = append(c.visited, f.Path)
	fail := func(format string, args ...any) {
		c.problems = append(c.problems, name+": "+fmt.Sprintf(format, args...))
	}
	if f.Lang != "nl" {
		fail("lang is %q", f.Lang)
	}
	switch {
	case want == printable:
		// A document of its own, without the portal's navigation, but
		// built like its pages: a title, a skip link to the one main
		// landmark, one heading.
		if strings.TrimSpace(f.Title) == "" || f.H1 != 1 || f.Main != 1 {
			fail("title %q, %d h1 and %d main, want a title and one h1 and main", f.Title, f.H1, f.Main)
		}
		if !f.Skip {
			fail("no skip link")
		}
	default:
		if !strings.HasSuffix(f.Title, " – zorgkit portaal") {
			fail("title %q does not name the page", f.Title)
		}
		if !f.Skip {
			fail("no skip link")
		}
		if f.H1 != 1 || f.Main != 1 {
			fail("%d h1 and %d main, want one of each", f.H1, f.Main)
		}
	}
	if len(f.English) > 0 {
		fail("English on a Dutch page: %s", strings.Join(f.English, ", "))
	}
	for _, d := range f.Dups {
		fail("links or buttons named %q lead to different places", d)
	}
	switch want {
	case formError:
		if !strings.HasPrefix(f.Title, "Fout: ") {
			fail("the title %q does not say there is an error", f.Title)
		}
		if f.Active != "error-summary" {
			fail("the focus is on %q, not on the error summary", f.Active)
		}
	case normal:
		// The same page may be the answer to several forms
		// (/clients/lookup, /clients/view): the first segment names it.
		page := "/" + strings.SplitN(strings.TrimPrefix(f.Path, "/"), "/", 2)[0]
		if prev, ok := c.titles[f.Title]; ok && prev != page {
			fail("title %q is also the title of %s", f.Title, prev)
		}
		c.titles[f.Title] = page
	}
	// Reflow: nothing wider than 320 CSS pixels but the tables, which
	// scroll in their own region.
	c.must(s.SetViewport(ctx, 320, 640))
	var rf struct {
		Scroll, Client int
		Over           []string
	}
	c.must(s.Execute(ctx, reflow, nil, &rf))
	c.must(s.SetViewport(ctx, 0, 0))
	over := rf.Over
	if want == printable {
		// WCAG 1.4.10 exempts data tables: the printable report's tables
		// may scroll with the page; nothing else may.
		over = slices.DeleteFunc(slices.Clone(over), func(e string) bool {
			tag, _, _ := strings.Cut(e, " ")
			return slices.Contains([]string{"table", "caption", "thead", "tbody", "tr", "th", "td"}, tag)
		})
	}
	if rf.Scroll > rf.Client && (want != printable || len(over) > 0) {
		fail("at 320 px the page is %d px wide: %s", rf.Scroll, strings.Join(rf.Over, ", "))
	}
	return f
}

// visit opens path and checks it.
func (c *a11y) visit(name, path string, want state) facts {
	c.t.Helper()
	c.open(path)
	return c.check(name, want)
}

// TestAccessibility opens every page of every role, and the pages after
// every kind of form error, in a headless Chromium, and checks each with
// axe-core against WCAG 2.1 AA, at 320 CSS pixels for reflow, and for what
// axe does not check: the title, the focus after a failed submit, the skip
// link, links and buttons that need a name of their own. It needs chromium,
// chromedriver and axe-core (ZORGKIT_AXE); .ci/run installs all three.
func TestAccessibility(t *testing.T) {
	if raceEnabled {
		t.Skip("the same browser work as without -race, five times slower; CI runs it without")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	s := startBrowser(t, ctx)
	axe := axeSource(t)
	p := newTestPortal(t)
	c := &a11y{pageDriver: &pageDriver{t: t, ctx: ctx, s: s, p: p}, axe: axe, titles: map[string]string{}}

	// Not logged in.
	c.visit("anonymous login", "/login", normal)
	c.typeInto("#username", "jdevries")
	c.typeInto("#password", "Niet-het-wachtwoord-1")
	c.click("#login")
	c.check("anonymous failed login", formError)
	c.visit("anonymous forgot", "/password/forgot", normal)
	c.typeInto("#email", "iemand@zonnehuis.example")
	c.click("#send")
	c.check("anonymous forgot sent", normal)
	c.visit("anonymous reset", "/password/reset?token=onbekend", normal)
	c.typeInto("#new", "Een-Nieuw-Wachtwoord-1")
	c.typeInto("#repeat", "Een-Ander-Wachtwoord-1")
	c.click("#set")
	c.check("anonymous reset mismatch", formError)
	c.typeInto("#new", "kort")
	c.typeInto("#repeat", "kort")
	c.click("#set")
	c.check("anonymous reset weak password", formError)
	c.typeInto("#new", "Een-Nieuw-Wachtwoord-1")
	c.typeInto("#repeat", "Een-Nieuw-Wachtwoord-1")
	c.click("#set")
	c.check("anonymous reset expired link", normal)
	c.visit("anonymous survey invalid", "/survey?token=onbekend", normal)
	c.visit("anonymous not found", "/bestaat-niet", errorShown)

	// The code step: no menu yet.
	c.open("/login")
	c.typeInto("#username", "jdevries")
	c.typeInto("#password", p.passwords["jdevries"])
	c.click("#login")
	f := c.check("code form", normal)
	assert.Equal(t, "/login/code", f.Path)
	_, err := s.Find(ctx, "nav")
	assert.Error(t, err, "no menu before the full login")
	c.typeInto("#code", "000000")
	c.click("#verify")
	c.check("code wrong", formError)
	c.open("/login/code")
	c.typeInto("#code", p.sent.code("jdevries"))
	c.click("#verify")

	// A provider: every page, and the keyboard.
	c.visit("provider home", "/", normal)
	c.keyboard()
	c.visit("provider clients", "/clients", normal)
	c.typeInto("#bsn", "123456781")
	c.click("#lookup")
	c.check("provider invalid bsn", formError)
	c.typeInto("#bsn", bsntest.Numbers(99, 1)[0].Digits())
	c.click("#lookup")
	c.check("provider unknown client", formError)
	c.typeInto("#bsn", dotted(bsntest.TestPersons()[0]))
	c.click("#lookup")
	c.check("provider client", normal)
	c.click("#view-view-naw")
	c.check("provider client data", normal)
	c.click("#consent-take-over-indication")
	c.check("provider consent without reference", formError)
	c.typeInto("#reference-request-medical-information", "ZH-MED-0001")
	c.typeInto("#practitioner-request-medical-information", "dr. A. Arts")
	c.typeInto("#function-request-medical-information", "huisarts")
	c.click("#consent-request-medical-information")
	p.clock.Advance(time.Minute)
	c.click("#view-view-naw")
	assert.Contains(t, c.textOf("#authorised-request-medical-information"), "dr. A. Arts (huisarts)", "the practitioner, once recorded")
	c.click("#withdraw-view-naw")
	c.check("provider confirm withdrawal", normal)
	c.click("#cancel")
	assert.Contains(t, c.textOf("#message"), "niet ingetrokken")
	c.visit("provider uploads", "/uploads", normal)
	c.click("#upload")
	c.check("provider upload without file", formError)
	var uploadID string
	require.NoError(t, p.a.db.QueryRow(`SELECT id FROM uploads WHERE org_id = 'zonnehuis' ORDER BY created_at DESC LIMIT 1`).Scan(&uploadID))
	c.visit("provider quality report", "/uploads/"+uploadID, normal)
	c.visit("provider printable quality report", "/uploads/"+uploadID+"/report.html", printable)
	c.visit("provider reports", "/reports", normal)
	c.visit("provider reports by age", "/reports?groep=leeftijd:12-17&indicator=tevredenheid", normal)
	c.visit("provider totp", "/account/totp", normal)
	c.typeInto("#totp-code", "000000")
	c.click("#enrol")
	c.check("provider totp wrong code", formError)
	c.visit("provider outbox", "/outbox", normal)
	c.visit("provider password", "/password", normal)
	c.typeInto("#current", p.passwords["jdevries"])
	c.typeInto("#new", "zwak")
	c.typeInto("#repeat", "zwak")
	c.click("#change")
	c.check("provider weak password", formError)
	c.visit("provider forbidden", "/owner/orgs", errorShown)
	c.visit("provider not found", "/uploads/bestaat-niet", errorShown)
	c.logout()

	// An organisation administrator.
	c.login("zonnehuis-beheer")
	c.visit("admin users", "/admin/users", normal)
	c.typeInto("#new-username", "piet")
	c.typeInto("#new-name", "Piet Post")
	c.typeInto("#new-email", "info@zonnehuis.example")
	c.click("#add-user")
	c.check("admin rejected e-mail", formError)
	c.typeInto("#new-email", "piet.post@zonnehuis.example")
	c.click("#add-user")
	c.check("admin user created", normal)
	c.click("#delete-piet")
	c.check("admin confirm deletion", normal)
	c.click("#confirm")
	assert.NotContains(t, c.textOf("#users"), "Piet Post", "deleted after the confirmation")
	c.logout()

	// The municipality.
	c.login("gemeente")
	c.visit("municipality home", "/", normal)
	c.visit("municipality reports", "/reports", normal)
	c.visit("municipality reports by provider", "/reports?aanbieder=zonnehuis&groep=productgroep:45&periode=2026", normal)
	c.visit("municipality deliveries", "/deliveries", normal)
	c.visit("municipality providers", "/providers", normal)
	c.typeInto("#provider-name", "Kinderzorg Oost")
	c.typeInto("#provider-domain", "geen domein")
	c.click("#register-provider")
	c.check("municipality registration errors", formError)
	c.visit("municipality forbidden", "/clients", errorShown)
	c.logout()

	// The portal owner. The demo's consents lie in a closed window for the
	// spot check an hour from now.
	p.clock.Advance(time.Hour)
	c.login("beheerder")
	c.visit("owner home", "/", normal)
	c.visit("owner organisations", "/owner/orgs", normal)
	c.visit("owner organisation", "/owner/orgs/noord", normal)
	c.click("#resend-survey")
	c.check("owner survey sent again", normal)
	c.typeInto("#contract-end", "")
	c.click("#register-contract")
	c.check("owner contract error", formError)
	c.visit("owner audit", "/audit", normal)
	c.typeInto("#k", "0")
	c.click("#plan")
	c.check("owner plan error", formError)
	c.typeInto("#k", "3")
	c.typeInto("#days", "1")
	c.click("#plan")
	c.check("owner plan", normal)
	// Consents recorded in the plan's window; once it has closed, the
	// sample is drawn.
	for i := range 3 {
		p.clock.Advance(time.Hour)
		_, err := p.a.consent.Give(ctx, consent.Record{Subject: consent.Subject(fmt.Sprint("ps-a11y-", i)), Organisation: "zonnehuis",
			Purpose: consent.PurposeViewNAW, Decision: consent.Permit, GivenAt: p.clock.Now(), PolicyVersion: "v1",
			Evidence: consent.Evidence{Kind: consent.EvidencePaper, Reference: fmt.Sprint("ZH-TOE-8", i)}, RecordedBy: consent.Actor{User: "jdevries", Organisation: "zonnehuis"}})
		require.NoError(t, err)
	}
	p.clock.Advance(24*time.Hour + consent.FreezeMargin)
	c.login("beheerder") // the session has expired
	c.visit("owner audit with a plan to draw", "/audit", normal)
	c.click("#plans form button")
	c.check("owner sample", normal)
	c.visit("owner uploads", "/uploads", normal)
	c.visit("owner quality report", "/uploads/"+uploadID, normal)
	c.visit("owner reports", "/reports", normal)
	c.visit("owner deliveries", "/deliveries", normal)
	c.logout()

	// The survey through its link, and the forced password change after
	// the first login with the temporary password it leads to.
	m := regexp.MustCompile(`/survey\?token=\S+`).FindString(p.sent.last("noord", "Korte enquête voor het portaal"))
	require.NotEmpty(t, m)
	c.visit("survey", m, normal)
	c.click("#send-survey")
	c.check("survey errors", formError)
	c.typeInto("#survey-contact-name", "Nina Noord")
	c.typeInto("#survey-contact-email", "nina@thuiszorgnoord.example")
	c.tick("#survey-care-0")
	sel, err := s.Find(ctx, "#survey-clients")
	require.NoError(t, err)
	require.NoError(t, sel.Type(ctx, "25"))
	c.click("#send-survey")
	c.check("survey done", normal)
	p.clock.Advance(2 * time.Minute) // past the cooldown of the owner's last code
	owner := p.browser()
	owner.login("beheerder")
	owner.post("/owner/orgs/noord/dpa", url.Values{"received": {p.clock.Now().Format("2006-01-02")}})
	temp := regexp.MustCompile(`Tijdelijk wachtwoord: (\S+)`).FindStringSubmatch(p.sent.last("noord", "Uw toegang tot het portaal"))
	require.NotNil(t, temp)
	c.open("/login")
	c.typeInto("#username", "noord")
	c.typeInto("#password", temp[1])
	c.click("#login")
	c.typeInto("#code", p.sent.code("noord"))
	c.click("#verify")
	f = c.check("forced password change", normal)
	assert.Equal(t, "/password", f.Path)
	_, err = s.Find(ctx, "nav")
	assert.Error(t, err, "no menu before the password is changed")

	// Every page of the routes was checked.
	for _, route := range htmlGETRoutes(t) {
		re := regexp.MustCompile("^" + regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(regexp.QuoteMeta(strings.TrimSuffix(route, "{$}")), `[^/]+`) + "$")
		assert.True(t, slices.ContainsFunc(c.visited, re.MatchString), "GET %s is not in the walk", route)
	}
	t.Logf("%d pages and states checked", len(c.visited))
	for _, p := range c.problems {
		t.Error(p)
	}
}

// keyboard checks, on the page shown, that the first Tab reaches the skip
// link, that it moves the focus to the content, and that every element the
// Tab key reaches shows where the focus is.
func (c *a11y) keyboard() {
	c.t.Helper()
	ctx, s := c.ctx, c.s
	c.must(s.Execute(ctx, `document.activeElement.blur(); window.scrollTo(0, 0);`, nil, nil))
	c.must(s.PressKey(ctx, webdriver.Tab))
	active, err := s.Active(ctx)
	c.must(err)
	class, err := active.Attribute(ctx, "class")
	c.must(err)
	assert.Equal(c.t, "skip-link", class, "the first Tab reaches the skip link")
	c.must(s.PressKey(ctx, webdriver.Enter))
	var id string
	c.must(s.Execute(ctx, `return document.activeElement.id`, nil, &id))
	assert.Equal(c.t, "main", id, "the skip link moves the focus to the content")
	for i := range 12 {
		c.must(s.PressKey(ctx, webdriver.Tab))
		var f struct {
			Name    string
			Visible bool
		}
		c.must(s.Execute(ctx, `var e = document.activeElement, st = getComputedStyle(e);
			return {name: e.tagName + " " + e.textContent.trim().slice(0, 40), visible: st.outlineStyle !== "none" && st.outlineWidth !== "0px" || st.boxShadow !== "none"};`, nil, &f))
		if strings.HasPrefix(f.Name, "BODY") {
			break // past the last element
		}
		assert.True(c.t, f.Visible, "Tab %d: the focus on %s is not visible", i+1, f.Name)
	}
}

// htmlGETRoutes returns the GET routes of routes.go that answer with a page.
func htmlGETRoutes(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("routes.go")
	require.NoError(t, err)
	var out []string
	for _, m := range regexp.MustCompile(`"GET (/[^"]*)"`).FindAllStringSubmatch(string(src), -1) {
		switch r := m[1]; {
		case strings.HasPrefix(r, "/api/"), strings.HasPrefix(r, "/static/"), r == "/healthz", r == "/metrics", strings.HasSuffix(r, ".csv"):
			// Not pages: JSON, files, plain text for machines.
		default:
			out = append(out, r)
		}
	}
	require.NotEmpty(t, out)
	return out
}

// TestSessionWarning: before the idle timeout a dialog warns, and "Ingelogd
// blijven" extends the session without leaving the page; after the timeout
// the dialog says so and offers the login page.
func TestSessionWarning(t *testing.T) {
	if raceEnabled {
		t.Skip("real-time waits in the browser; CI runs it without -race")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := startBrowser(t, ctx)
	axe := axeSource(t)
	// A timeout of 15 seconds: the warning shows 5 seconds before.
	p := newTestPortal(t, func(c *config) { c.IdleTimeout = 15 * time.Second })
	c := &a11y{pageDriver: &pageDriver{t: t, ctx: ctx, s: s, p: p}, axe: axe, titles: map[string]string{}}
	c.login("jdevries")
	c.open("/clients")
	c.typeInto("#bsn", "1234") // unsaved input, kept by the extension
	_, err := s.Find(ctx, "#session-warning[open]")
	require.NoError(t, err, "the warning opens before the end")
	var active string
	require.NoError(t, s.Execute(ctx, `return document.activeElement.id`, nil, &active))
	assert.Equal(t, "session-extend", active, "the dialog has the focus")

	p.clock.Advance(time.Second)
	c.tick("#session-extend")
	open := true
	for deadline := time.Now().Add(5 * time.Second); open && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		require.NoError(t, s.Execute(ctx, `return document.getElementById("session-warning").open`, nil, &open))
	}
	assert.False(t, open, "the dialog closes")
	var seen int64
	require.NoError(t, p.a.db.QueryRow(`SELECT MAX(last_seen_at) FROM sessions`).Scan(&seen))
	assert.Equal(t, usec(p.clock.Now()), seen, "the session was extended")
	var kept string
	require.NoError(t, s.Execute(ctx, `return document.getElementById("bsn").value`, nil, &kept))
	assert.Equal(t, "1234", kept, "the page stayed, with what was typed")

	// The warning comes again ten seconds later; then the end.
	_, err = s.Find(ctx, "#session-warning[open]")
	require.NoError(t, err)
	c.check("session warning", normal)
	_, err = s.Find(ctx, "#session-warning[open] [data-state=ended]:not([hidden])")
	require.NoError(t, err, "after the end the dialog says so")
	require.NoError(t, s.Execute(ctx, `return document.activeElement.id`, nil, &active))
	assert.Equal(t, "session-login", active)
	c.check("session ended", normal)
	for _, p := range c.problems {
		t.Error(p)
	}
}

// TestMenuMatchesRoutes: the menu and the home page offer each role exactly
// the pages its routes let it open, and the menu appears only after the
// full login.
func TestMenuMatchesRoutes(t *testing.T) {
	p := newTestPortal(t)
	for _, username := range []string{"jdevries", "zonnehuis-beheer", "gemeente", "beheerder"} {
		t.Run(username, func(t *testing.T) {
			b := p.browser()
			b.post("/login", url.Values{"username": {username}, "password": {p.passwords[username]}})
			_, body := b.get("/login/code")
			assert.NotContains(t, body, "<nav", "no menu at the code step")
			b.post("/login/code", url.Values{"code": {p.sent.code(username)}})
			_, home := b.get("/")
			navHTML := regexp.MustCompile(`(?s)<nav.*?</nav>`).FindString(home)
			require.NotEmpty(t, navHTML)
			for _, m := range menu {
				if m.demo {
					continue
				}
				shown := strings.Contains(navHTML, `href="`+m.Path+`"`)
				status, _ := b.get(m.Path)
				assert.Equal(t, shown, status == http.StatusOK, "%s: shown %v, status %d", m.Path, shown, status)
				main := home[strings.Index(home, "<main"):]
				assert.Equal(t, shown, strings.Contains(main, `href="`+m.Path+`"`), "%s on the home page", m.Path)
			}
		})
	}
}

// TestErrorPagesInLayout: refusals and unknown addresses answer with a page
// of the portal, in Dutch, with a title and a way back; the API keeps JSON.
func TestErrorPagesInLayout(t *testing.T) {
	p := newTestPortal(t)
	linde := p.browser()
	linde.login("linde")
	tests := []struct {
		name, path string
		status     int
		title      string
	}{
		{"forbidden", "/owner/orgs", http.StatusForbidden, "Geen toegang"},
		{"unknown page", "/nergens", http.StatusNotFound, "Pagina niet gevonden"},
		{"another organisation's upload", "/uploads/onbekend", http.StatusNotFound, "Pagina niet gevonden"},
		{"wrong method", "/clients/lookup", http.StatusMethodNotAllowed, "Pagina niet gevonden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := linde.get(tt.path)
			assert.Equal(t, tt.status, status)
			assert.Contains(t, body, `<html lang="nl">`)
			assert.Contains(t, body, "<title>"+tt.title+" – zorgkit portaal</title>")
			assert.Contains(t, body, `<nav aria-label="Hoofdmenu">`, "with the menu")
			assert.Contains(t, body, `href="/"`, "a way back")
			assert.NotContains(t, text(body), "page not found")
		})
	}
	resp, err := linde.c.Get(p.srv.URL + "/static/nergens.css")
	require.NoError(t, err)
	_, body := readBody(t, resp)
	assert.Contains(t, body, "<title>Pagina niet gevonden")

	// Anonymous: the same page without a menu.
	anon := p.browser()
	status, body := anon.get("/nergens")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Contains(t, body, "Pagina niet gevonden")
	assert.NotContains(t, body, "<nav")

	// A cross-origin form post: refused, in Dutch.
	req, err := http.NewRequest(http.MethodPost, p.srv.URL+"/login", strings.NewReader("username=x"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	status, body = readBody(t, resp)
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, body, "andere website")

	// The JSON API answers errors as before.
	status, body = linde.get("/api/nergens")
	assert.Equal(t, http.StatusNotFound, status)
	assert.NotContains(t, body, "<html")
}

// TestScreenshotsAreSmall keeps the README's pictures small.
func TestScreenshotsAreSmall(t *testing.T) {
	files, err := filepath.Glob("../../docs/screenshots/*.png")
	require.NoError(t, err)
	for _, f := range files {
		info, err := os.Stat(f)
		require.NoError(t, err)
		assert.Less(t, info.Size(), int64(200<<10), f)
	}
}

// Every upload status has a Dutch name: pages and the printable report show
// the name, never the stored value.
func TestUploadStatusesInDutch(t *testing.T) {
	for _, s := range []uploadStatus{statusReceiving, statusAbandoned, statusTest, statusTestApproved, statusAccepted, statusProcessed, statusSuperseded, statusRejected} {
		t.Run(string(s), func(t *testing.T) {
			name, ok := uploadStatusNames[s]
			require.True(t, ok, "no Dutch name")
			assert.NotRegexp(t, `\b(`+englishValues+`)\b`, name)
		})
	}
}

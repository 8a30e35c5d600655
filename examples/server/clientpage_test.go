package main

import (
	"bytes"
	"html/template"
	"math/rand/v2"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/consent"
)

// hostile is text that html/template has to escape, with a NUL, invalid
// UTF-8 and non-ASCII letters.
const hostile = "<script>alert('x')</script> & \"q\" + \x00 é \xff\xfe"

// TestClientsPageMatchesTemplate holds writeClientsPage to the templates:
// for every state of the client page, the same bytes as layout.html with
// clients.html.
func TestClientsPageMatchesTemplate(t *testing.T) {
	pages, err := parseTemplates(pageFuncs())
	require.NoError(t, err)
	tmpl := pages["clients"]

	org := &organisation{Name: "Zorg & Co " + hostile}
	u := &user{Name: "J. de Vries " + hostile, Org: org}
	views := []struct {
		name string
		view view
	}{
		{"not logged in", view{}},
		{"user without menu", view{User: u}},
		{"full", view{User: u, Org: org, Menu: []menuItem{
			{Path: "/clients", Label: "Cliënten", Current: true},
			{Path: "/uploads", Label: "Aanleveringen " + hostile},
			{Path: "/account/totp", Label: "Authenticator-app"},
		}, Notices: []string{"Uw wachtwoord verloopt " + hostile, "tweede"},
			Session: &sessionClock{ExpiresIn: 1799, WarnBefore: 300, Extendable: true, Limit: "12 uur", Next: "/clients?a=<b>&c='d'+" + hostile}}},
		{"session not extendable", view{User: u, Org: org, Menu: []menuItem{{Path: "/clients", Label: "Cliënten"}},
			Session: &sessionClock{ExpiresIn: 0, WarnBefore: 300, Limit: "12 uur " + hostile, Next: "/"}}},
	}

	purposes := func() []purposeView {
		var out []purposeView
		for _, p := range pagePurposes {
			medical := p == consent.PurposeMedicalInformation
			out = append(out,
				purposeView{Purpose: p, Medical: medical, Title: capitalise(purposeText[p]), Text: purposeText[p], Reason: "Geen toestemming " + hostile},
				purposeView{Purpose: p, Medical: medical, Title: capitalise(purposeText[p]) + " " + hostile, Allowed: true},
			)
			if medical {
				out = append(out, purposeView{Purpose: p, Medical: true, Title: "Medisch", Allowed: true,
					Practitioner: &consent.Practitioner{Name: "Dr. " + hostile, Function: "huisarts " + hostile}})
			}
		}
		return out
	}
	formErrors := func(p consent.Purpose) []fieldError {
		var errs []fieldError
		for _, f := range []string{"decision", "given", "reference", "practitioner", "function", "evidence"} {
			errs = append(errs, fieldError{Field: f + "-" + string(p), Message: f + " klopt niet " + hostile})
		}
		return append(errs, fieldError{Message: "zonder veld " + hostile}, fieldError{Field: "given-" + string(p), Message: "tweede"})
	}
	day := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	client := func(mod func(*clientView)) *clientView {
		c := &clientView{Handle: "h4ndle-" + hostile, Masked: "*****" + hostile, Purposes: purposes(), Today: "2026-12-03"}
		mod(c)
		return c
	}
	states := []struct {
		name string
		page clientsPage
	}{
		{"empty form", clientsPage{}},
		{"bsn error", clientsPage{Error: "Dit is geen geldig BSN " + hostile}},
		{"client", clientsPage{Client: client(func(*clientView) {})}},
		{"no purposes", clientsPage{Client: client(func(c *clientView) { c.Purposes = nil })}},
		{"message", clientsPage{Client: client(func(c *clientView) { c.Message = "Vastgelegd " + hostile })}},
		{"refused", clientsPage{Client: client(func(c *clientView) { c.Message = "Geen toegang " + hostile; c.Refused = true })}},
		{"refused without message", clientsPage{Client: client(func(c *clientView) { c.Refused = true })}},
		{"form errors, medical", clientsPage{Client: client(func(c *clientView) {
			c.Form, c.Errors, c.Message, c.Refused = consent.PurposeMedicalInformation, formErrors(consent.PurposeMedicalInformation), "Niet vastgelegd", true
		})}},
		{"form errors, NAW", clientsPage{Client: client(func(c *clientView) {
			c.Form, c.Errors = consent.PurposeViewNAW, formErrors(consent.PurposeViewNAW)
		})}},
		{"NAW shown", clientsPage{Client: client(func(c *clientView) {
			c.Shown = &clientData{Purpose: consent.PurposeViewNAW, Name: "Piet " + hostile, Address: "Straat 1 " + hostile}
		})}},
		{"indications shown", clientsPage{Client: client(func(c *clientView) {
			c.Shown = &clientData{Purpose: consent.PurposeConsultIndication, Indications: []indication{
				{ID: "IND-1 " + hostile, CareProfile: "VV4 " + hostile, DecidedAt: day, ValidUntil: day.AddDate(1, 0, 0)},
				{ID: "IND-2", CareProfile: "GGZ", DecidedAt: day},
			}}
		})}},
		{"no indications", clientsPage{Client: client(func(c *clientView) {
			c.Shown = &clientData{Purpose: consent.PurposeTakeOverIndication}
		})}},
	}
	for _, v := range views {
		for _, s := range states {
			t.Run(v.name+"/"+s.name, func(t *testing.T) {
				d := pageData{Page: s.page, View: v.view}
				var want, got bytes.Buffer
				require.NoError(t, tmpl.ExecuteTemplate(&want, "layout", d))
				require.True(t, writeClientsPage(&got, d))
				assert.Equal(t, want.String(), got.String())
			})
		}
	}
}

// TestClientsPageFallsBack: what writeClientsPage was not written for goes
// through the template, and nothing is written.
func TestClientsPageFallsBack(t *testing.T) {
	u := &user{Name: "x", Org: &organisation{Name: "y"}}
	tests := []struct {
		name string
		d    pageData
	}{
		{"another page's data", pageData{Page: homePage{}}},
		{"user without organisation", pageData{Page: clientsPage{}, View: view{User: &user{Name: "x"}}}},
		{"menu path to escape", pageData{Page: clientsPage{}, View: view{User: u, Menu: []menuItem{{Path: "/a b"}}}}},
		{"protocol-relative menu path", pageData{Page: clientsPage{}, View: view{User: u, Menu: []menuItem{{Path: "//evil.example"}}}}},
		{"field name to escape", pageData{Page: clientsPage{Client: &clientView{Errors: []fieldError{{Field: "a/b", Message: "m"}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			assert.False(t, writeClientsPage(&b, tt.d))
			assert.Zero(t, b.Len())
		})
	}
}

// TestEscapeHTMLMatchesTemplate: escapeHTML escapes as html/template does
// in text, in a quoted attribute and in a title, for hostile and random
// strings.
func TestEscapeHTMLMatchesTemplate(t *testing.T) {
	tmpl := template.Must(template.New("").Parse(`{{.}}|<a title="{{.}}">|<title>{{.}}</title>`))
	inputs := []string{"", "plain", hostile, "\x00\x00", "a+b=c", "'\"", "\xe2\x82", "€ ë ﷐ \uFFFF"}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab<>&\"'+\x00\xff\xc3\xa9 ;#=/")
	for range 200 {
		b := make([]byte, rng.IntN(20))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		inputs = append(inputs, string(b))
	}
	for _, s := range inputs {
		var want bytes.Buffer
		require.NoError(t, tmpl.Execute(&want, s))
		var e bytes.Buffer
		escapeHTML(&e, s)
		got := e.String() + `|<a title="` + e.String() + `">|<title>` + e.String() + `</title>`
		assert.Equal(t, want.String(), got, "%q", s)
	}
}

// The cached sentence of each reason is the library's.
func TestReasonText(t *testing.T) {
	for _, r := range []consent.Reason{consent.ReasonPermitted, consent.ReasonDenied, consent.ReasonWithdrawn, consent.ReasonExpired, consent.ReasonNotYetValid, consent.ReasonEvidenceMissing, consent.ReasonGivenAfterUse, consent.ReasonNoConsent} {
		t.Run(string(r), func(t *testing.T) {
			assert.Equal(t, r.Message(language.Dutch), reasonText(r))
			assert.Equal(t, r.Message(language.Dutch), reasonText(r), "from the cache")
		})
	}
	for p, text := range purposeText {
		assert.Equal(t, capitalise(text), purposeTitle[p])
	}
}

package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// surveyLink returns the newest survey link sent to username.
func surveyLink(t *testing.T, p *testPortal, username string) string {
	t.Helper()
	m := regexp.MustCompile(`https?://\S+(/survey\?token=\S+)`).FindStringSubmatch(p.sent.last(username, "Korte enquête voor het portaal"))
	require.NotNil(t, m, "a survey link was sent to %s", username)
	return m[1]
}

// TestOnboarding walks a provider through the Gemeenteportaal's onboarding:
// registered by the municipality, then the survey, then the processing
// agreement; access only when both are in, and only until the contract ends.
func TestOnboarding(t *testing.T) {
	p := newTestPortal(t)
	owner := p.browser()
	owner.login("beheerder")

	// Thuiszorg Noord is registered with a contract, but the survey is
	// not in: no access, and the page says why.
	noord := p.browser()
	status, body := noord.post("/login", url.Values{"username": {"noord"}, "password": {p.passwords["noord"]}})
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, text(body), "nog niet aangesloten")
	_, body = owner.get("/owner/orgs")
	assert.Contains(t, text(body), "Thuiszorg Noord Gemeente Almere", "the municipality that registered it")
	assert.Contains(t, text(body), "wacht op de enquête", "not \"actief\"")
	_, body = owner.get("/owner/orgs/noord")
	steps := text(body)
	assert.Contains(t, steps, "Aangemeld door de gemeente : gedaan op 16 november 2026 door Gemeente Almere")
	assert.Contains(t, steps, "Enquête verstuurd : gedaan")
	assert.Contains(t, steps, "Enquête ingevuld : nog niet: wacht op de zorgaanbieder")

	// The owner sends the survey again (the seeding sent the first).
	status, body = owner.post("/owner/orgs/noord/survey", nil)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "nieuwe link naar de enquête")

	// The survey: every problem at its field, then the answers.
	link := surveyLink(t, p, "noord")
	anon := p.browser()
	status, body = anon.get(link)
	require.Equal(t, http.StatusOK, status)
	token := hiddenValue(t, body, "token")
	status, body = anon.post("/survey", url.Values{"token": {token}, "contact-email": {"geen adres"}})
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	for _, field := range []string{"survey-clients", "survey-contact-name", "survey-contact-email"} {
		assert.Contains(t, body, `aria-describedby="`+field+`-error"`, field)
	}
	assert.Contains(t, body, `href="#survey-care-0"`, "the summary links to the first choice")
	answers := url.Values{"token": {token}, "clients": {"25 tot 100"}, "care": {"ambulante jeugdhulp", "jeugd-ggz"},
		"contact-name": {"Nina Noord"}, "contact-email": {"nina@thuiszorgnoord.example"}}
	status, body = anon.post("/survey", answers)
	require.Equal(t, http.StatusOK, status, text(body))
	assert.Contains(t, body, `id="done"`)
	assert.NotEmpty(t, p.sent.last("noord", "Verwerkersovereenkomst"), "the agreement follows the survey")
	status, _ = anon.post("/survey", answers)
	assert.Equal(t, http.StatusNotFound, status, "a survey link works once")

	// Still no access: the agreement is not in.
	status, _ = noord.post("/login", url.Values{"username": {"noord"}, "password": {p.passwords["noord"]}})
	assert.Equal(t, http.StatusForbidden, status)
	_, body = owner.get("/owner/orgs/noord")
	assert.Contains(t, text(body), "Cliënten per jaar 25 tot 100", "the owner reads the answers")

	// The owner records the signed agreement: the contact gets the account.
	status, body = owner.post("/owner/orgs/noord/dpa", url.Values{"received": {"2030-01-01"}})
	assert.Equal(t, http.StatusUnprocessableEntity, status, "not in the future")
	assert.Contains(t, body, `aria-describedby="dpa-received-error"`)
	status, body = owner.post("/owner/orgs/noord/dpa", url.Values{"received": {p.clock.Now().Format("2006-01-02")}})
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, text(body), "Toegang tot het portaal : gedaan (inloggegevens verstuurd op 23 november 2026)")
	mail := p.sent.last("noord", "Uw toegang tot het portaal")
	require.NotEmpty(t, mail)
	temp := regexp.MustCompile(`Tijdelijk wachtwoord: (\S+)`).FindStringSubmatch(mail)
	require.NotNil(t, temp)
	p.clock.Advance(time.Minute)
	noord.post("/login", url.Values{"username": {"noord"}, "password": {temp[1]}})
	_, body = noord.post("/login/code", url.Values{"code": {p.sent.code("noord")}})
	assert.Contains(t, body, `action="/password"`, "the temporary password must be changed")

	// Access ends with the contract, which the owner shortens.
	now := p.clock.Now()
	status, _ = owner.post("/owner/orgs/noord/contract", url.Values{"start": {now.AddDate(0, 0, -7).Format("2006-01-02")}, "end": {now.AddDate(0, 0, 1).Format("2006-01-02")}})
	require.Equal(t, http.StatusOK, status)
	p.clock.Advance(48 * time.Hour)
	_, body = noord.get("/")
	assert.Contains(t, body, `action="/login"`)
	owner.login("beheerder")
	_, body = owner.get("/owner/orgs/noord")
	assert.Contains(t, text(body), "contract beëindigd op 24 november 2026")
}

// TestMunicipalityRegistersProvider: the municipality's half of the
// onboarding, with its errors tied to the fields.
func TestMunicipalityRegistersProvider(t *testing.T) {
	p := newTestPortal(t)
	gemeente := p.browser()
	gemeente.login("gemeente")
	_, body := gemeente.get("/providers")
	assert.Contains(t, text(body), "Thuiszorg Noord 16 november 2026 tot 23 november 2028 wacht op de enquête")

	form := url.Values{"name": {"Kinderzorg Oost"}, "domain": {"kinderzorg oost"}, "contact-name": {"Karel Oost"},
		"contact-email": {"info@kinderzorgoost.example"}, "start": {"2026-12-01"}, "end": {"2026-11-01"}}
	status, body := gemeente.post("/providers", form)
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, body, "<title>Fout: Zorgaanbieders")
	for _, field := range []string{"provider-domain", "provider-end"} {
		assert.Contains(t, body, field+`-error"`, field)
	}
	form.Set("domain", "kinderzorgoost.example")
	status, body = gemeente.post("/providers", form)
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, body, `aria-describedby="contact-email-error"`, "a role mailbox such as info@")
	form.Set("contact-email", "karel@kinderzorgoost.example")
	form.Set("end", "2028-12-31")
	status, body = gemeente.post("/providers", form)
	require.Equal(t, http.StatusOK, status, text(body))
	assert.Contains(t, body, `id="registered"`)
	assert.Contains(t, text(body), "Kinderzorg Oost 1 december 2026 tot 31 december 2028 contract begint op 1 december 2026")
	assert.NotEmpty(t, surveyLink(t, p, "karel"), "the contact gets the survey")

	var kind, muni string
	require.NoError(t, p.a.db.QueryRow(`SELECT o.kind, o.municipality_id FROM organisations o JOIN users u ON u.org_id = o.id WHERE u.username = 'karel' AND u.role = 'admin'`).Scan(&kind, &muni))
	assert.Equal(t, "provider", kind)
	assert.Equal(t, "almere", muni)

	// Providers cannot register providers.
	linde := p.browser()
	linde.login("linde")
	status, _ = linde.post("/providers", form)
	assert.Equal(t, http.StatusForbidden, status)
	assert.False(t, strings.Contains(p.out.String(), "karel@"), "no address in the logs")
}

// TestProviderContactKeyedByMailbox: the contact a municipality registers
// is stored under the mailbox of the address (email.Mailbox), as every
// other account is, so that the same mailbox with or without a +tag is one
// address: "forgot password" finds the contact, and no second account can
// take the mailbox.
func TestProviderContactKeyedByMailbox(t *testing.T) {
	p := newTestPortal(t)
	gemeente := p.browser()
	gemeente.login("gemeente")
	form := url.Values{"name": {"Kinderzorg Oost"}, "domain": {"kinderzorgoost.example"}, "contact-name": {"Karel Oost"},
		"contact-email": {"Karel+Portaal@kinderzorgoost.example"}, "start": {"2026-12-01"}, "end": {"2028-12-31"}}
	status, body := gemeente.post("/providers", form)
	require.Equal(t, http.StatusOK, status, text(body))

	var key string
	require.NoError(t, p.a.db.QueryRow(`SELECT email_key FROM users WHERE username = 'karelportaal'`).Scan(&key))
	assert.Equal(t, "karel@kinderzorgoost.example", key)

	form.Set("name", "Kinderzorg West")
	form.Set("contact-email", "karel@kinderzorgoost.example")
	status, body = gemeente.post("/providers", form)
	assert.Equal(t, http.StatusUnprocessableEntity, status, "the mailbox is taken")
	assert.Contains(t, body, `aria-describedby="contact-email-error"`)
}

// A contact registered before the fix keeps the key with its +tag until
// migration 012 has the keys recomputed at the next start.
func TestMigrationRekeysTaggedContact(t *testing.T) {
	p := newTestPortal(t)
	_, err := p.a.db.Exec(`UPDATE users SET email = 'Karel+Portaal@kinderzorgoost.example', email_key = 'karel+portaal@kinderzorgoost.example'
		WHERE username = 'noord'`)
	require.NoError(t, err)
	_, err = p.a.db.Exec(`DELETE FROM schema_migrations WHERE name LIKE '%012_provider_contact_mailbox.sql'`)
	require.NoError(t, err)
	require.NoError(t, p.a.Close())

	restarted := startTestPortal(t, p.a.cfg, false)
	var key string
	require.NoError(t, restarted.a.db.QueryRow(`SELECT email_key FROM users WHERE username = 'noord'`).Scan(&key))
	assert.Equal(t, "karel@kinderzorgoost.example", key)
}

// TestGrantAccessRevokesReset: granting access gives the contact a new
// (temporary) password, and package reset asks that every change of a
// password revoke the account's reset link or temporary password: one asked
// for before the grant must not set another password after it.
func TestGrantAccessRevokesReset(t *testing.T) {
	p := newTestPortal(t)
	anon := p.browser()
	anon.post("/password/forgot", url.Values{"email": {"nina@thuiszorgnoord.example"}})
	mail := p.sent.last("noord", "Wachtwoord herstellen")
	require.NotEmpty(t, mail, "a reset link before access is granted")

	grantNoord(t, p)

	next := "Zomer#Regenboog83" // nothing of "noord" or "nina"
	status, body := anon.post("/password/reset", url.Values{"token": {resetToken(mail)}, "new": {next}, "repeat": {next}})
	assert.Equal(t, http.StatusGone, status, text(body))
}

// TestGrantAccessBusy: password.ErrBusy means nothing was hashed, try again
// shortly. A grant that finds the hashing full must therefore stay to be
// done, and the page says to try again: the next try sends the details,
// instead of finding the access already granted and sending nothing, ever.
// A provider's registration, which hashes too, says to try again as well.
func TestGrantAccessBusy(t *testing.T) {
	p := newTestPortal(t)
	owner := p.browser()
	owner.login("beheerder")
	_, err := p.a.db.Exec(`UPDATE organisations SET survey_received_at = $1, dpa_sent_at = $1 WHERE id = 'noord'`, usec(p.clock.Now()))
	require.NoError(t, err)
	dpa := url.Values{"received": {p.clock.Now().Format("2006-01-02")}}

	gemeente := p.browser()
	gemeente.login("gemeente")
	provider := url.Values{"name": {"Kinderzorg Oost"}, "domain": {"kinderzorgoost.example"}, "contact-name": {"Karel Oost"},
		"contact-email": {"karel@kinderzorgoost.example"}, "start": {"2026-12-01"}, "end": {"2028-12-31"}}

	stop := busyHashing(t, p)
	status, body := owner.post("/owner/orgs/noord/dpa", dpa)
	assert.Equal(t, http.StatusServiceUnavailable, status, "try again shortly")
	assert.Contains(t, text(body), msgBusy)
	// So does the registration of a provider, whose contact's account gets
	// a hashed password nobody knows.
	status, body = gemeente.post("/providers", provider)
	assert.Equal(t, http.StatusServiceUnavailable, status, "try again shortly")
	assert.Contains(t, text(body), msgBusy)
	stop()
	status, _ = owner.post("/owner/orgs/noord/dpa", dpa)
	require.Equal(t, http.StatusOK, status)
	assert.NotEmpty(t, p.sent.last("noord", "Uw toegang tot het portaal"), "the try after the busy moment sends the details")
	status, _ = gemeente.post("/providers", provider)
	assert.Equal(t, http.StatusOK, status, "registered when sent again")
}

// grantNoord completes the onboarding of Thuiszorg Noord (the survey and the
// agreement are in) and returns the temporary password its contact, noord,
// is sent.
func grantNoord(t *testing.T, p *testPortal) string {
	t.Helper()
	_, err := p.a.db.Exec(`UPDATE organisations SET survey_received_at = $1, dpa_sent_at = $1, dpa_registered_at = $1 WHERE id = 'noord'`, usec(p.clock.Now()))
	require.NoError(t, err)
	require.NoError(t, p.a.grantAccess(context.Background(), "noord"))
	temp := regexp.MustCompile(`Tijdelijk wachtwoord: (\S+)`).FindStringSubmatch(p.sent.last("noord", "Uw toegang tot het portaal"))
	require.NotNil(t, temp, "access granted")
	return temp[1]
}

// TestGrantedPasswordReplaced: the temporary password that granting access
// mails must be replaced by a new one. Policy.CheckNew refuses a password
// among the previous ones "the current one included" (Portero: the last 12),
// so the granted password belongs to the history it is given.
func TestGrantedPasswordReplaced(t *testing.T) {
	p := newTestPortal(t)
	temp := grantNoord(t, p)
	noord := p.browser()
	noord.post("/login", url.Values{"username": {"noord"}, "password": {temp}})
	_, body := noord.post("/login/code", url.Values{"code": {p.sent.code("noord")}})
	require.Contains(t, body, `action="/password"`, "the temporary password must be changed")

	status, body := noord.post("/password", url.Values{"current": {temp}, "new": {temp}, "repeat": {temp}})
	assert.Equal(t, http.StatusUnprocessableEntity, status, "the mailed password is no new one")
	assert.Contains(t, text(body), "al eerder gebruikt")
}

package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/password"
	"github.com/zorgkit/zorgkit/password/email"
)

// The onboarding of a care provider, as the Gemeenteportaal describes it:
// "Om toegang te krijgen dient u gecontracteerd te zijn door de gemeente. De
// gemeente meldt u vervolgens aan, waarna u een korte enquête toegestuurd
// krijgt. Hierna ontvangt u de verwerkersovereenkomst. Zodra u zowel de
// enquête als de verwerkersovereenkomst ingestuurd heeft krijgt u toegang."
//
// The municipality registers the provider with its contract period and a
// contact person, who becomes the provider's organisation administrator;
// the portal sends the contact a link to the survey; once the survey is in,
// it sends the processing agreement; the portal owner records the signed
// agreement; then the contact gets the account details. organisation.access
// lets nobody in before.

// surveyLifetime is how long a survey link works.
const surveyLifetime = 30 * 24 * time.Hour

// stepState is where an onboarding step stands.
type stepState string

const (
	stepDone    stepState = "done"
	stepOpen    stepState = "open"    // waiting for someone
	stepBlocked stepState = "blocked" // a problem: suspended, ended
)

// onboardingStep is one step of the onboarding as the pages show it.
type onboardingStep struct {
	Name  string // "Enquête ingevuld"
	State stepState
	Text  string // "op 3 november 2026", "wacht op de zorgaanbieder"
}

// Sentence is the step's state in words, so that it is never told by a mark
// alone: "gedaan op 3 november 2026", "nog niet: wacht op de zorgaanbieder".
func (s onboardingStep) Sentence() string {
	switch s.State {
	case stepDone:
		return "gedaan " + s.Text
	case stepBlocked:
		return "geblokkeerd: " + s.Text
	}
	return "nog niet: " + s.Text
}

// onboarding returns the steps of o's onboarding: for a provider the
// registration, the survey, the processing agreement and the access; for a
// municipality the contract and the agreement.
func (a *app) onboarding(o *organisation, names map[string]string) []onboardingStep {
	when := func(t time.Time, waiting string) (stepState, string) {
		if t.IsZero() {
			return stepOpen, waiting
		}
		return stepDone, "op " + dutchDate(t)
	}
	var steps []onboardingStep
	add := func(name string, state stepState, text string) {
		steps = append(steps, onboardingStep{name, state, text})
	}
	if o.Kind == kindProvider {
		st, text := when(o.Registered, "nog niet aangemeld")
		if o.RegisteredBy != "" {
			text += " door " + names[o.RegisteredBy]
		}
		add("Aangemeld door de gemeente", st, text)
		st, text = when(o.SurveySent, "nog niet verstuurd")
		add("Enquête verstuurd", st, text)
		st, text = when(o.SurveyReceived, "wacht op de zorgaanbieder")
		add("Enquête ingevuld", st, text)
		st, text = when(o.DPASent, "wordt verstuurd zodra de enquête is ingevuld")
		add("Verwerkersovereenkomst verstuurd", st, text)
	}
	st, text := when(o.DPARegistered, "wacht op de ondertekende overeenkomst")
	add("Verwerkersovereenkomst ondertekend ontvangen", st, text)
	if err := o.access(a.now()); err != nil {
		st := stepOpen
		if !o.Suspended.IsZero() || errors.Is(err, errContractEnded) {
			st = stepBlocked
		}
		add("Toegang tot het portaal", st, orgState(o, a.now()))
	} else {
		text := ""
		if !o.AccessGranted.IsZero() {
			text = "(inloggegevens verstuurd op " + dutchDate(o.AccessGranted) + ")"
		}
		add("Toegang tot het portaal", stepDone, text)
	}
	return steps
}

// orgState says in a few words where o stands: never "actief" for an
// organisation without a contract.
func orgState(o *organisation, now time.Time) string {
	switch {
	case o.Kind == kindOwner:
		return "portaalbeheerder"
	case !o.Suspended.IsZero():
		return "opgeschort: " + o.SuspendedReason
	case o.ContractEnd.IsZero():
		return "geen contract"
	case now.Before(o.ContractStart):
		return "contract begint op " + dutchDate(o.ContractStart)
	case !now.Before(o.ContractEnd):
		return "contract beëindigd op " + dutchDate(o.ContractEnd)
	case o.Kind == kindProvider && o.SurveyReceived.IsZero():
		return "wacht op de enquête"
	case o.DPARegistered.IsZero():
		return "wacht op de verwerkersovereenkomst"
	}
	return "actief, contract tot " + dutchDate(o.ContractEnd)
}

// orgRow is an organisation as the overview tables show it.
type orgRow struct {
	*organisation
	Municipality string
	State        string
	Active       bool
}

func (a *app) orgRows(orgs []*organisation, names map[string]string) []orgRow {
	now := a.now()
	var out []orgRow
	for _, o := range orgs {
		out = append(out, orgRow{organisation: o, Municipality: names[o.MunicipalityID], State: orgState(o, now), Active: o.access(now) == nil})
	}
	return out
}

// orgNames returns the names of all organisations by id.
func (a *app) orgNames(ctx context.Context) (map[string]string, error) {
	names := map[string]string{}
	for _, k := range []orgKind{kindOwner, kindMunicipality, kindProvider} {
		orgs, err := a.orgs(ctx, k)
		if err != nil {
			return nil, err
		}
		for _, o := range orgs {
			names[o.ID] = o.Name
		}
	}
	return names, nil
}

type orgsPage struct {
	Providers      []orgRow
	Municipalities []orgRow
	Pending        []upload // test uploads waiting for approval
}

// orgsPage shows the portal owner every customer organisation with where it
// stands, and the test uploads that wait for approval.
func (a *app) orgsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	names, err := a.orgNames(ctx)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	var p orgsPage
	providers, err := a.orgs(ctx, kindProvider)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	municipalities, err := a.orgs(ctx, kindMunicipality)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	p.Providers, p.Municipalities = a.orgRows(providers, names), a.orgRows(municipalities, names)
	if p.Pending, err = a.uploadsWhere(ctx, `status = 'test'`); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "orgs", p)
}

type orgPage struct {
	Org          *organisation
	State        string
	Municipality string
	Steps        []onboardingStep
	Survey       *surveyAnswers
	Errors       []fieldError
	Message      string // what the last action did
	Today        string
	Form         url.Values // the values of a form sent back with Errors
}

// orgPage shows one organisation to the portal owner: each step of its
// onboarding, its contract and sanctions, and the forms to change them.
func (a *app) orgPage(w http.ResponseWriter, r *http.Request) {
	a.renderOrg(w, r, http.StatusOK, r.PathValue("id"), nil, r.URL.Query().Get("gedaan"))
}

// orgMessages are what the organisation page says after an action, by the
// "gedaan" parameter of the redirect.
var orgMessages = map[string]string{
	"contract":   "Het contract is vastgelegd.",
	"vwo":        "De ontvangst van de verwerkersovereenkomst is vastgelegd.",
	"enquete":    "Er is een nieuwe link naar de enquête verstuurd.",
	"opgeschort": "De toegang is opgeschort. De gebruikers van de organisatie zijn uitgelogd.",
	"opgeheven":  "De opschorting is opgeheven.",
}

func (a *app) renderOrg(w http.ResponseWriter, r *http.Request, status int, id string, errs []fieldError, done string) {
	ctx := r.Context()
	o, err := a.org(ctx, id)
	if errors.Is(err, errNotFound) || err == nil && o.Kind == kindOwner {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	names, err := a.orgNames(ctx)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	p := orgPage{Org: o, State: orgState(o, a.now()), Municipality: names[o.MunicipalityID], Steps: a.onboarding(o, names),
		Errors: errs, Message: orgMessages[done], Today: a.now().Local().Format("2006-01-02")}
	if errs != nil {
		p.Form = r.PostForm
	}
	if p.Survey, err = a.surveyAnswers(ctx, o.ID); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, status, "org", p)
}

// dateField reads a yyyy-mm-dd date from a form field.
func dateField(r *http.Request, name string) (time.Time, bool) {
	t, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(r.PostFormValue(name)), time.Local)
	return t, err == nil
}

// contractErrors checks the contract dates of a form: both, the end after the
// start. The fields are named prefix+"start" and prefix+"end".
func contractErrors(r *http.Request, prefix string) (start, end time.Time, errs []fieldError) {
	start, ok1 := dateField(r, "start")
	end, ok2 := dateField(r, "end")
	if !ok1 {
		errs = append(errs, fieldError{prefix + "start", "Vul de begindatum van het contract in."})
	}
	if !ok2 {
		errs = append(errs, fieldError{prefix + "end", "Vul de einddatum van het contract in."})
	}
	if ok1 && ok2 && !end.After(start) {
		errs = append(errs, fieldError{prefix + "end", "De einddatum moet na de begindatum liggen."})
	}
	return start, end, errs
}

// registerContract records or changes an organisation's contract period:
// from the start its users have access (when the rest of the onboarding is
// done), until the end.
func (a *app) registerContract(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	start, end, errs := contractErrors(r, "contract-")
	if errs != nil {
		a.renderOrg(w, r, http.StatusUnprocessableEntity, id, errs, "")
		return
	}
	if !a.execOne(w, r, `UPDATE organisations SET contract_start = $1, contract_end = $2 WHERE id = $3 AND kind <> 'owner'`,
		usec(start), usec(end), id) {
		return
	}
	a.log.InfoContext(ctx, "contract registered", "org", id, "by", userFrom(ctx).ID)
	a.afterOnboardingStep(w, r, id, "contract")
}

// recordDPA records that the signed processing agreement came in.
func (a *app) recordDPA(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	received, ok := dateField(r, "received")
	if !ok || received.After(a.now()) {
		a.renderOrg(w, r, http.StatusUnprocessableEntity, id, []fieldError{{"dpa-received", "Vul de datum in waarop de ondertekende overeenkomst binnenkwam (niet in de toekomst)."}}, "")
		return
	}
	if !a.execOne(w, r, `UPDATE organisations SET dpa_registered_at = $1, dpa_sent_at = CASE WHEN dpa_sent_at = 0 THEN $1 ELSE dpa_sent_at END WHERE id = $2 AND kind <> 'owner'`,
		usec(received), id) {
		return
	}
	a.log.InfoContext(ctx, "processing agreement registered", "org", id, "by", userFrom(ctx).ID)
	a.afterOnboardingStep(w, r, id, "vwo")
}

// resendSurvey sends the provider's contact a new survey link; the old one
// stops working.
func (a *app) resendSurvey(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	o, err := a.org(ctx, r.PathValue("id"))
	if errors.Is(err, errNotFound) || err == nil && o.Kind != kindProvider {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if !o.SurveyReceived.IsZero() {
		a.renderOrg(w, r, http.StatusConflict, o.ID, []fieldError{{"", "De enquête is al ingevuld."}}, "")
		return
	}
	if err := a.sendSurvey(ctx, o); err != nil {
		a.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/owner/orgs/"+o.ID+"?gedaan=enquete", http.StatusSeeOther)
}

// afterOnboardingStep grants access if the step completed the onboarding,
// then returns to the organisation's page.
func (a *app) afterOnboardingStep(w http.ResponseWriter, r *http.Request, id, done string) {
	err := a.grantAccess(r.Context(), id)
	if errors.Is(err, password.ErrBusy) {
		// The step is recorded; the grant waits for the step sent again.
		w.Header().Set("Retry-After", busyRetryAfter)
		a.renderOrg(w, r, http.StatusServiceUnavailable, id, []fieldError{{"", msgBusy}}, "")
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/owner/orgs/"+id+"?gedaan="+done, http.StatusSeeOther)
}

// grantAccess sends a provider's organisation administrators their account
// details, once, when the onboarding is complete: a contract, the survey and
// the signed agreement. The contract may start later; the message says so.
func (a *app) grantAccess(ctx context.Context, id string) error {
	o, err := a.org(ctx, id)
	if err != nil {
		return err
	}
	if o.Kind != kindProvider || o.ContractEnd.IsZero() || o.SurveyReceived.IsZero() || o.DPARegistered.IsZero() || !o.Suspended.IsZero() || !o.AccessGranted.IsZero() {
		return nil
	}
	now := a.now()
	users, err := a.usersOf(ctx, id)
	if err != nil {
		return err
	}
	from := "U kunt nu inloggen."
	if now.Before(o.ContractStart) {
		from = "U kunt inloggen vanaf " + dutchDate(o.ContractStart) + ", de begindatum van het contract."
	}
	// The passwords are hashed before the grant is claimed, and outside
	// the transaction, which holds the write lock: a hashing that is full
	// (password.ErrBusy: nothing hashed, try again shortly) leaves the
	// grant to the next try, not claimed with nothing sent.
	type grant struct {
		u          *user
		temp, hash string
	}
	var grants []grant
	for _, u := range users {
		if u.Role != roleAdmin || !u.LastLogin.IsZero() {
			continue
		}
		temp, err := a.policy.TemporaryPassword(nil)
		if err != nil {
			return err
		}
		hash, err := a.hasher.Hash(ctx, temp)
		if err != nil {
			return err
		}
		grants = append(grants, grant{u, temp, hash})
	}
	// The mark, the passwords and their mails commit together: a crash
	// leaves all or nothing, never an organisation marked as granted whose
	// details never went out; grantPending finishes it at the next start.
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Only one request sends the details, however many arrive at once.
	res, err := tx.ExecContext(ctx, `UPDATE organisations SET access_granted_at = $1 WHERE id = $2 AND access_granted_at = 0`, usec(now), id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return err
	}
	for _, g := range grants {
		if err := setTemporaryHash(ctx, tx, g.u.ID, g.hash, now); err != nil {
			return err
		}
		if err := a.sender.SendTx(ctx, tx, g.u, "Uw toegang tot het portaal", fmt.Sprintf(
			"Uw organisatie is aangesloten op het portaal. %s\nGebruikersnaam: %s\nTijdelijk wachtwoord: %s\n"+
				"Bij de eerste keer inloggen kiest u zelf een wachtwoord. Is het tijdelijke wachtwoord verlopen? Vraag dan via 'Wachtwoord vergeten?' een nieuw aan.\n"+
				"Als organisatiebeheerder maakt u daarna de accounts van uw collega's aan.",
			from, g.u.Username, g.temp)); err != nil {
			return err
		}
	}
	crashPoint("access.granting")
	if err := tx.Commit(); err != nil {
		return err
	}
	crashPoint("access.granted")
	a.wakeOutbox()
	a.log.InfoContext(ctx, "access granted", "org", id)
	return nil
}

// grantPending grants access to every provider whose onboarding is complete
// but whose access was never granted: the instance that took the last step
// died before it could.
func (a *app) grantPending(ctx context.Context) error {
	rows, err := a.db.QueryContext(ctx, `SELECT id FROM organisations WHERE kind = $1 AND access_granted_at = 0
		AND contract_end <> 0 AND survey_received_at <> 0 AND dpa_registered_at <> 0 AND suspended_at = 0`, string(kindProvider))
	if err != nil {
		return err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		if err := a.grantAccess(ctx, id); err != nil {
			return fmt.Errorf("granting access to %s: %w", id, err)
		}
	}
	return nil
}

// suspendOrg is the sanction for misuse: the organisation's users lose access
// at once, their sessions end now.
func (a *app) suspendOrg(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if reason == "" {
		a.renderOrg(w, r, http.StatusUnprocessableEntity, id, []fieldError{{"suspend-reason", "Vul de reden van de opschorting in."}}, "")
		return
	}
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE organisations SET suspended_at = $1, suspended_reason = $2 WHERE id = $3 AND kind <> 'owner'`,
		usec(a.now()), reason, id)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if n, _ := res.RowsAffected(); n != 1 {
		http.NotFound(w, r)
		return
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE org_id = $1)`, id); err != nil {
		a.serverError(w, r, err)
		return
	}
	if err := tx.Commit(); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.log.WarnContext(ctx, "organisation suspended", "org", id, "by", userFrom(ctx).ID)
	http.Redirect(w, r, "/owner/orgs/"+id+"?gedaan=opgeschort", http.StatusSeeOther)
}

// reinstateOrg lifts a suspension.
func (a *app) reinstateOrg(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	if !a.execOne(w, r, `UPDATE organisations SET suspended_at = 0, suspended_reason = '' WHERE id = $1 AND kind <> 'owner'`, id) {
		return
	}
	a.log.InfoContext(ctx, "organisation reinstated", "org", id, "by", userFrom(ctx).ID)
	http.Redirect(w, r, "/owner/orgs/"+id+"?gedaan=opgeheven", http.StatusSeeOther)
}

// execOne runs a statement that must change exactly one row, such as an
// update of an organisation by id. When it does not, it answers the request
// (not found, or a server error) and returns false.
func (a *app) execOne(w http.ResponseWriter, r *http.Request, query string, args ...any) bool {
	res, err := a.db.ExecContext(r.Context(), query, args...)
	if err != nil {
		a.serverError(w, r, err)
		return false
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		http.NotFound(w, r)
		return false
	}
	return true
}

// providersPage is the municipality's: the providers it registered, how far
// each is, and the form to register another.
type providersPage struct {
	Providers  []orgRow
	Steps      map[string][]onboardingStep
	Errors     []fieldError
	Form       providerForm
	Registered string // the name of a provider just registered
}

type providerForm struct {
	Name, Domain, ContactName, ContactEmail, Start, End string
}

func (a *app) providersPage(w http.ResponseWriter, r *http.Request) {
	a.renderProviders(w, r, http.StatusOK, providersPage{Registered: r.URL.Query().Get("aangemeld")})
}

func (a *app) renderProviders(w http.ResponseWriter, r *http.Request, status int, p providersPage) {
	ctx := r.Context()
	u := userFrom(ctx)
	names, err := a.orgNames(ctx)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	all, err := a.orgs(ctx, kindProvider)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	var mine []*organisation
	p.Steps = map[string][]onboardingStep{}
	for _, o := range all {
		if o.MunicipalityID == u.OrgID {
			mine = append(mine, o)
			p.Steps[o.ID] = a.onboarding(o, names)
		}
	}
	p.Providers = a.orgRows(mine, names)
	if p.Registered != "" && !slices.ContainsFunc(mine, func(o *organisation) bool { return o.Name == p.Registered }) {
		p.Registered = ""
	}
	a.render(w, r, status, "providers", p)
}

var domainRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// registerProvider is the municipality's registration of a provider it has
// contracted: the organisation, its contract period, and the contact who
// becomes its organisation administrator and gets the survey.
func (a *app) registerProvider(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := userFrom(ctx)
	f := providerForm{
		Name:         strings.TrimSpace(r.PostFormValue("name")),
		Domain:       strings.ToLower(strings.TrimSpace(r.PostFormValue("domain"))),
		ContactName:  strings.TrimSpace(r.PostFormValue("contact-name")),
		ContactEmail: strings.TrimSpace(r.PostFormValue("contact-email")),
		Start:        r.PostFormValue("start"),
		End:          r.PostFormValue("end"),
	}
	var errs []fieldError
	if f.Name == "" || len(f.Name) > 200 {
		errs = append(errs, fieldError{"provider-name", "Vul de naam van de zorgaanbieder in (hoogstens 200 tekens)."})
	}
	if !domainRE.MatchString(f.Domain) {
		errs = append(errs, fieldError{"provider-domain", "Vul het domein van de e-mailadressen van de zorgaanbieder in, zoals zorgaanbieder.nl."})
	}
	if f.ContactName == "" || len(f.ContactName) > 200 {
		errs = append(errs, fieldError{"contact-name", "Vul de naam van de contactpersoon in."})
	}
	rules := email.Rules{
		Domains: []string{f.Domain},
		Taken: func(ctx context.Context, key string) (bool, error) {
			var n int
			err := a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE email_key = $1`, key).Scan(&n)
			return n > 0, err
		},
	}
	if err := rules.Check(ctx, f.ContactEmail); err != nil {
		var eerr *email.Error
		if !errors.As(err, &eerr) {
			a.serverError(w, r, err)
			return
		}
		for _, m := range eerr.Messages(language.Dutch) {
			errs = append(errs, fieldError{"contact-email", m})
		}
	}
	start, end, dateErrs := contractErrors(r, "provider-")
	errs = append(errs, dateErrs...)
	if errs != nil {
		a.renderProviders(w, r, http.StatusUnprocessableEntity, providersPage{Errors: errs, Form: f})
		return
	}
	now := a.now()
	o := &organisation{ID: orgID(f.Name), Name: f.Name, Kind: kindProvider, Domains: []string{f.Domain}, MunicipalityID: u.OrgID,
		ContractStart: start, ContractEnd: end, RegisteredBy: u.OrgID, Registered: now}
	// Keyed by the mailbox, as Rules.Taken compares and "forgot password"
	// looks up: a +tag must not make another account.
	emailKey, _ := email.Mailbox(f.ContactEmail)
	// The contact's account exists from now on, with a password nobody
	// knows: it is replaced by a temporary one when access is granted.
	unusable := make([]byte, 32)
	rand.Read(unusable)
	hash, err := a.hasher.Hash(ctx, base64.RawURLEncoding.EncodeToString(unusable))
	if errors.Is(err, password.ErrBusy) {
		// Nothing is stored yet: the form sent again registers.
		w.Header().Set("Retry-After", busyRetryAfter)
		a.renderProviders(w, r, http.StatusServiceUnavailable, providersPage{Errors: []fieldError{{"", msgBusy}}, Form: f})
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	username, err := a.usernameFor(ctx, f.ContactEmail)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	contact := &user{ID: newID(), OrgID: o.ID, Org: o, Username: username, Name: f.ContactName, Email: f.ContactEmail,
		Channel: "email", Role: roleAdmin, Hash: hash, PasswordSet: now, Temporary: true, Created: now}
	// The organisation, its contact and the survey with its mail commit
	// together: a crash leaves none of them (the municipality registers
	// the provider again), never a provider without a contact or a survey
	// marked as sent that never went out.
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	defer tx.Rollback()
	if err := a.insertOrgIn(ctx, tx, o); err != nil {
		if isUniqueViolation(err) {
			a.renderProviders(w, r, http.StatusConflict, providersPage{Errors: []fieldError{{"provider-name", "Er is al een zorgaanbieder met een naam die hierop lijkt. Kies een andere naam."}}, Form: f})
			return
		}
		a.serverError(w, r, err)
		return
	}
	if err := insertUserTx(ctx, tx, contact, emailKey); err != nil {
		if isUniqueViolation(err) {
			a.renderProviders(w, r, http.StatusConflict, providersPage{Errors: []fieldError{{"contact-email", "Dit e-mailadres is al in gebruik bij een andere gebruiker."}}, Form: f})
			return
		}
		a.serverError(w, r, err)
		return
	}
	if err := a.surveyTx(ctx, tx, o, []*user{contact}); err != nil {
		a.serverError(w, r, err)
		return
	}
	crashPoint("provider.registering")
	if err := tx.Commit(); err != nil {
		a.serverError(w, r, err)
		return
	}
	crashPoint("provider.registered")
	a.wakeOutbox()
	a.log.InfoContext(ctx, "provider registered", "org", o.ID, "by", u.ID)
	http.Redirect(w, r, "/providers?aangemeld="+url.QueryEscape(o.Name), http.StatusSeeOther)
}

// orgID derives an organisation id from its name: lower-case letters and
// digits with dashes, and a random suffix so that two similar names differ.
func orgID(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 32 {
			break
		}
	}
	return strings.Trim(b.String(), "-") + "-" + newID()[:6]
}

// usernameFor proposes a username for a new contact: the local part of the
// address, with a number added if it is taken.
func (a *app) usernameFor(ctx context.Context, email string) (string, error) {
	local, _, _ := strings.Cut(strings.ToLower(email), "@")
	local = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return -1
	}, local)
	if local == "" {
		local = "beheerder"
	}
	name := local
	for i := 2; ; i++ {
		var n int
		if err := a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE username = $1`, name).Scan(&n); err != nil {
			return "", err
		}
		if n == 0 {
			return name, nil
		}
		name = fmt.Sprintf("%s%d", local, i)
	}
}

// sendSurvey sends the provider's administrators a new link to the survey.
func (a *app) sendSurvey(ctx context.Context, o *organisation) error {
	users, err := a.usersOf(ctx, o.ID)
	if err != nil {
		return err
	}
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := a.surveyTx(ctx, tx, o, users); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	a.wakeOutbox()
	return nil
}

// surveyTx stores a new survey link for the provider in tx, and queues it
// for the administrators among users in the same transaction: the link
// counts as sent only once it is on its way.
func (a *app) surveyTx(ctx context.Context, tx *sql.Tx, o *organisation, users []*user) error {
	b := make([]byte, 32)
	rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(token))
	now := a.now()
	if _, err := tx.ExecContext(ctx, `DELETE FROM surveys WHERE org_id = $1`, o.ID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO surveys (org_id, token_hash, sent_at, expires_at) VALUES ($1, $2, $3, $4)`,
		o.ID, h[:], usec(now), usec(now.Add(surveyLifetime))); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE organisations SET survey_sent_at = $1 WHERE id = $2`, usec(now), o.ID); err != nil {
		return err
	}
	link := a.baseURL() + "/survey?token=" + url.QueryEscape(token)
	for _, u := range users {
		if u.Role != roleAdmin {
			continue
		}
		if err := a.sender.SendTx(ctx, tx, u, "Korte enquête voor het portaal", fmt.Sprintf(
			"Uw organisatie is door de gemeente aangemeld voor het portaal. Wilt u eerst een korte enquête over uw organisatie invullen? Dat duurt ongeveer vijf minuten.\n%s\n"+
				"De link werkt tot %s. Daarna ontvangt u de verwerkersovereenkomst.", link, dutchDate(now.Add(surveyLifetime)))); err != nil {
			return err
		}
	}
	return nil
}

// surveyAnswers are the answers to the survey.
type surveyAnswers struct {
	Clients      string   `json:"clients"`
	Care         []string `json:"care"`
	Software     string   `json:"software"`
	ContactName  string   `json:"contactName"`
	ContactEmail string   `json:"contactEmail"`
	Answered     time.Time
}

// The survey's choices, in the order the form shows them.
var (
	surveyClientChoices = []string{"minder dan 25", "25 tot 100", "100 tot 500", "500 of meer"}
	surveyCareChoices   = []string{"ambulante jeugdhulp", "dagbehandeling", "jeugdhulp met verblijf", "pleegzorg", "jeugd-ggz", "jeugdbescherming of jeugdreclassering"}
)

// surveyAnswers returns the answers of the organisation's survey, or nil.
func (a *app) surveyAnswers(ctx context.Context, orgID string) (*surveyAnswers, error) {
	var js string
	var answered int64
	err := a.db.QueryRowContext(ctx, `SELECT answers, answered_at FROM surveys WHERE org_id = $1 AND answered_at > 0`, orgID).Scan(&js, &answered)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s surveyAnswers
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		return nil, err
	}
	s.Answered = fromUsec(answered)
	return &s, nil
}

type surveyPage struct {
	Token   string
	Org     string
	Invalid bool // the link is unknown, used or expired
	Done    bool
	Errors  []fieldError
	Form    surveyAnswers
	Clients []string
	Care    []string
}

// surveyFor returns the organisation a survey token belongs to, if the link
// still works.
func (a *app) surveyFor(ctx context.Context, token string) (*organisation, error) {
	if token == "" || len(token) > 100 {
		return nil, errNotFound
	}
	h := sha256.Sum256([]byte(token))
	var orgID string
	err := a.db.QueryRowContext(ctx, `SELECT org_id FROM surveys WHERE token_hash = $1 AND answered_at = 0 AND expires_at > $2`, h[:], usec(a.now())).Scan(&orgID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	return a.org(ctx, orgID)
}

// surveyForm is the survey, opened from the link in the e-mail: the contact
// has no access to the portal yet, so the link is the key.
func (a *app) surveyForm(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	o, err := a.surveyFor(r.Context(), token)
	if errors.Is(err, errNotFound) {
		a.render(w, r, http.StatusNotFound, "survey", surveyPage{Invalid: true})
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "survey", surveyPage{Token: token, Org: o.Name, Clients: surveyClientChoices, Care: surveyCareChoices})
}

// submitSurvey stores the answers, once, and sends the processing agreement.
func (a *app) submitSurvey(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	token := r.PostFormValue("token")
	o, err := a.surveyFor(ctx, token)
	if errors.Is(err, errNotFound) {
		a.render(w, r, http.StatusNotFound, "survey", surveyPage{Invalid: true})
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	_ = r.ParseForm()
	f := surveyAnswers{
		Clients:      r.PostFormValue("clients"),
		Care:         r.PostForm["care"],
		Software:     strings.TrimSpace(r.PostFormValue("software")),
		ContactName:  strings.TrimSpace(r.PostFormValue("contact-name")),
		ContactEmail: strings.TrimSpace(r.PostFormValue("contact-email")),
	}
	var errs []fieldError
	if !slices.Contains(surveyClientChoices, f.Clients) {
		errs = append(errs, fieldError{"survey-clients", "Kies hoeveel cliënten uw organisatie per jaar heeft."})
	}
	if len(f.Care) == 0 || slices.ContainsFunc(f.Care, func(c string) bool { return !slices.Contains(surveyCareChoices, c) }) {
		errs = append(errs, fieldError{"survey-care-0", "Kies minstens één soort zorg die u levert."})
	}
	if len(f.Software) > 200 {
		errs = append(errs, fieldError{"survey-software", "Vul hoogstens 200 tekens in."})
	}
	if f.ContactName == "" || len(f.ContactName) > 200 {
		errs = append(errs, fieldError{"survey-contact-name", "Vul de naam van de contactpersoon voor de aanleveringen in."})
	}
	if _, err := email.Normalize(f.ContactEmail); err != nil {
		errs = append(errs, fieldError{"survey-contact-email", "Vul een geldig e-mailadres in, zoals naam@zorgaanbieder.nl."})
	}
	if errs != nil {
		a.render(w, r, http.StatusUnprocessableEntity, "survey", surveyPage{Token: token, Org: o.Name, Errors: errs, Form: f, Clients: surveyClientChoices, Care: surveyCareChoices})
		return
	}
	js, err := json.Marshal(f)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	now := a.now()
	h := sha256.Sum256([]byte(token))
	users, err := a.usersOf(ctx, o.ID)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	// Answered once: the update takes the link that is still open. The
	// agreement's mail commits with the answers: a crash leaves the link
	// open to answer again, or the agreement on its way, never the
	// agreement marked as sent when it was not.
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE surveys SET answers = $1, answered_at = $2 WHERE token_hash = $3 AND answered_at = 0`, string(js), usec(now), h[:])
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if n, _ := res.RowsAffected(); n != 1 {
		a.render(w, r, http.StatusNotFound, "survey", surveyPage{Invalid: true})
		return
	}
	if _, err := tx.ExecContext(ctx, `UPDATE organisations SET survey_received_at = $1, dpa_sent_at = $1 WHERE id = $2`, usec(now), o.ID); err != nil {
		a.serverError(w, r, err)
		return
	}
	if err := a.sendDPA(ctx, tx, users); err != nil {
		a.serverError(w, r, err)
		return
	}
	crashPoint("survey.answering")
	if err := tx.Commit(); err != nil {
		a.serverError(w, r, err)
		return
	}
	crashPoint("survey.answered")
	a.wakeOutbox()
	// A crash before the grant leaves it to grantPending.
	if err := a.grantAccess(ctx, o.ID); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.log.InfoContext(ctx, "survey answered", "org", o.ID)
	a.render(w, r, http.StatusOK, "survey", surveyPage{Done: true, Org: o.Name})
}

// sendDPA queues, in tx, the processing agreement to sign for the
// administrators among the provider's users; the portal owner records it
// when it comes back.
func (a *app) sendDPA(ctx context.Context, tx *sql.Tx, users []*user) error {
	for _, u := range users {
		if u.Role != roleAdmin {
			continue
		}
		if err := a.sender.SendTx(ctx, tx, u, "Verwerkersovereenkomst", "Bedankt voor het invullen van de enquête. Hierbij ontvangt u de verwerkersovereenkomst. "+
			"Daarin staat hoe wij met de gegevens van uw cliënten omgaan en met welk doel. Laat de overeenkomst ondertekenen door iemand die uw organisatie mag "+
			"vertegenwoordigen, en stuur hem terug naar de portaalbeheerder. Zodra wij hem hebben ontvangen, krijgt u uw inloggegevens."); err != nil {
			return err
		}
	}
	return nil
}

package main

import (
	"bytes"
	"context"
	"encoding/base32"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/password"
	"github.com/zorgkit/zorgkit/password/otp"
	"github.com/zorgkit/zorgkit/password/throttle"
)

type homePage struct {
	Name, Role, Org string
	Menu            []menuItem
}

// home is the dashboard: what this user can do, and nothing else.
func (a *app) home(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	a.render(w, r, http.StatusOK, "home", homePage{Name: u.Name, Role: roleNames[u.Role], Org: u.Org.Name, Menu: a.menuFor(u, "/")})
}

type totpPage struct {
	Secret  string // base32, for typing into an app
	URI     string // otpauth:// for a QR code
	Pending string // the secret, encrypted, carried to the confirmation
	Error   string
	// ErrorField is the input Error is about: "totp-current" (the
	// password) or, if empty, "totp-code".
	ErrorField string
	Done       bool
}

// totpForm starts enrolment of an authenticator app: a new secret, shown once.
func (a *app) totpForm(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	secret, err := otp.NewTOTPSecret()
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "totp", a.totpPage(u, secret, ""))
}

func (a *app) totpPage(u *user, secret []byte, msg string) totpPage {
	return totpPage{
		Secret:  base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret),
		URI:     otp.TOTPKeyURI("zorgkit portaal", u.Username, secret),
		Pending: a.field.Encrypt("totp.pending:"+u.ID, secret),
		Error:   msg,
	}
}

// enrolTOTP switches the user's second factor to the authenticator app once
// the user has given the password again and the app has produced a right
// code.
func (a *app) enrolTOTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := userFrom(ctx)
	secret, err := a.field.Decrypt("totp.pending:"+u.ID, r.PostFormValue("pending"))
	if err != nil {
		http.Error(w, "Ongeldig formulier.", http.StatusBadRequest)
		return
	}
	// Whoever has only the session (a computer left logged in, a stolen
	// cookie) must not put an app of their own in place of the user's
	// second factor: the password first, checked as at the login, under
	// its throttles.
	passwordError := func(status int, msg string) {
		page := a.totpPage(u, secret, msg)
		page.ErrorField = "totp-current"
		a.render(w, r, status, "totp", page)
	}
	switch _, err := a.checkPassword(ctx, u.Username, r.PostFormValue("current"), sourceKey(r)); {
	case errors.Is(err, errWrongPassword):
		passwordError(http.StatusUnprocessableEntity, "Uw wachtwoord is onjuist.")
		return
	case errors.Is(err, throttle.ErrThrottled):
		passwordError(http.StatusTooManyRequests, "Uw wachtwoord is te vaak onjuist ingevuld. "+password.ErrorMessage(err, language.Dutch))
		return
	case errors.Is(err, password.ErrBusy):
		a.busy(w, r, "totp", a.totpPage(u, secret, msgBusy))
		return
	case err != nil:
		a.serverError(w, r, err)
		return
	}
	step, err := a.totp.Verify(secret, strings.TrimSpace(r.PostFormValue("code")), 0)
	if err != nil {
		if errors.Is(err, otp.ErrWrong) || errors.Is(err, otp.ErrUsed) {
			a.render(w, r, http.StatusUnprocessableEntity, "totp", a.totpPage(u, secret, "De code klopt niet. Controleer de tijd op uw telefoon en probeer het opnieuw."))
			return
		}
		a.serverError(w, r, err)
		return
	}
	enc := a.field.Encrypt("users.totp_secret:"+u.ID, secret)
	if _, err := a.db.ExecContext(ctx, `UPDATE users SET totp_secret = $1, totp_last_step = $2, channel = 'totp' WHERE id = $3`, []byte(enc), step, u.ID); err != nil {
		a.serverError(w, r, err)
		return
	}
	// A stronger second factor is a change of privilege: a new session id.
	if err := a.renewSession(ctx, w, r, stageFull); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "totp", totpPage{Done: true})
}

// menuItem is a page in the main menu, for the roles whose routes serve it.
type menuItem struct {
	Path    string
	Label   string
	Desc    string // what the page is for, on the home page
	Current bool   // the page being shown
	roles   []role // the same lists as the routes: nil is every role
	demo    bool   // only in demo mode
}

// menu lists the pages of the main menu, in order. The roles are the
// variables the routes use, so that the menu shows exactly what the role
// may open (TestMenuMatchesRoutes checks it).
var menu = []menuItem{
	{Path: "/clients", Label: "Cliënten", Desc: "Een cliënt opzoeken op BSN en de toestemming van de cliënt vastleggen.", roles: providers},
	{Path: "/uploads", Label: "Aanleveringen", Desc: "De CBS-dataset aanleveren en de kwaliteitsrapporten bekijken.", roles: uploaders},
	{Path: "/reports", Label: "Zorgmonitor", Desc: "De rapportages: respons per zorgaanbieder en indicator, en het verloop per periode.", roles: readers},
	{Path: "/deliveries", Label: "Aanlevertermijnen", Desc: "Welke zorgaanbieders op tijd hebben aangeleverd.", roles: overseers},
	{Path: "/providers", Label: "Zorgaanbieders", Desc: "Een gecontracteerde zorgaanbieder aanmelden en zien hoe ver de aansluiting is.", roles: municipalities},
	{Path: "/owner/orgs", Label: "Organisaties", Desc: "Contracten, enquêtes, verwerkersovereenkomsten, sancties en testbestanden.", roles: auditors},
	{Path: "/audit", Label: "Steekproef", Desc: "Een steekproef van toestemmingen trekken en de formulieren opvragen.", roles: auditors},
	{Path: "/admin/users", Label: "Gebruikers", Desc: "De gebruikers van uw organisatie beheren.", roles: admins},
	{Path: "/outbox", Label: "Berichten", Desc: "De e-mails en sms-berichten die de demo u stuurt.", demo: true},
	{Path: "/password", Label: "Wachtwoord", Desc: "Uw wachtwoord wijzigen."},
	{Path: "/account/totp", Label: "Authenticator-app", Desc: "Inloggen met een code uit een app in plaats van een code per e-mail of sms."},
}

// menuFor returns the menu items u's role may open, with the one for path
// marked as the current page.
func (a *app) menuFor(u *user, path string) []menuItem {
	out := make([]menuItem, 0, len(menu)) // one allocation per page, not one per doubling
	for _, m := range menu {
		if m.roles != nil && !slices.Contains(m.roles, u.Role) || m.demo && !a.cfg.Demo {
			continue
		}
		m.Current = path == m.Path || strings.HasPrefix(path, m.Path+"/")
		out = append(out, m)
	}
	return out
}

// sessionClock tells the session warning when the session ends.
type sessionClock struct {
	ExpiresIn  int    `json:"expiresIn"`  // seconds until the session ends if the user does nothing
	WarnBefore int    `json:"warnBefore"` // seconds before the end that the warning shows
	Extendable bool   `json:"extendable"` // false when the session's absolute lifetime ends first
	Limit      string `json:"-"`          // the absolute lifetime, such as "12 uur"
	Next       string `json:"-"`          // the page to return to after extending without script
}

// sessionWarning is how long before the idle timeout the warning shows: five
// minutes, and never more than a third of the timeout.
func sessionWarning(idle time.Duration) time.Duration {
	return min(5*time.Minute, idle/3)
}

func (a *app) sessionClock(s session, path string) *sessionClock {
	now := a.now()
	idle := a.cfg.IdleTimeout - now.Sub(s.LastSeen)
	left, extendable := idle, true
	if abs := a.cfg.MaxSession - now.Sub(s.Created); abs < idle {
		left, extendable = abs, false
	}
	return &sessionClock{
		ExpiresIn:  max(int(left/time.Second), 0),
		WarnBefore: int(sessionWarning(a.cfg.IdleTimeout) / time.Second),
		Extendable: extendable,
		Limit:      dutchDuration(a.cfg.MaxSession),
		Next:       path,
	}
}

// extendSession is the warning's "stay logged in": it counts as activity, so
// the idle timeout starts again. The script asks for JSON and stays on the
// page; a plain form post returns to the page it came from.
func (a *app) extendSession(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s := sessionFrom(ctx)
	now := a.now()
	if _, err := a.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2`, usec(now), s.IDHash); err != nil {
		a.serverError(w, r, err)
		return
	}
	s.LastSeen = now
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		a.renderJSON(w, r, http.StatusOK, a.sessionClock(s, ""))
		return
	}
	http.Redirect(w, r, localPath(r.PostFormValue("next")), http.StatusSeeOther)
}

// localPath returns p if it is a path on this site, else "/": a form's
// return address must not lead elsewhere. Browsers drop tabs and newlines
// from a Location and read a backslash as a slash ("/\t/x" and "/\\x" are
// "//x", another site), so p may hold no control character or backslash.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsFunc(p, func(c rune) bool {
		return c < 0x20 || c == 0x7f || c == '\\'
	}) {
		return "/"
	}
	return p
}

// errorPage is a page that says what went wrong, inside the portal's layout.
type errorPage struct {
	Status  int
	Title   string
	Message string
}

// errorTitles and errorTexts are what an error page says for a status when
// the handler gave no Dutch message of its own.
var (
	errorTitles = map[int]string{
		http.StatusBadRequest:            "Ongeldig verzoek",
		http.StatusForbidden:             "Geen toegang",
		http.StatusNotFound:              "Pagina niet gevonden",
		http.StatusMethodNotAllowed:      "Pagina niet gevonden",
		http.StatusGone:                  "Niet meer beschikbaar",
		http.StatusRequestEntityTooLarge: "Te groot",
		http.StatusServiceUnavailable:    "Tijdelijk niet beschikbaar",
	}
	errorTexts = map[int]string{
		http.StatusBadRequest:       "Het formulier is niet goed aangekomen. Open de pagina opnieuw en probeer het nog eens.",
		http.StatusForbidden:        "U heeft geen toegang tot deze pagina.",
		http.StatusNotFound:         "Deze pagina bestaat niet (meer). Misschien is de link verouderd of zit er een tikfout in het adres.",
		http.StatusMethodNotAllowed: "Deze pagina bestaat niet (meer). Misschien is de link verouderd of zit er een tikfout in het adres.",
	}
)

const serverErrorText = "Er ging iets mis aan onze kant. Probeer het later opnieuw. Blijft het misgaan? Neem dan contact op met de portaalbeheerder."

// goDefaultError reports whether msg is one of the English texts of
// net/http (http.NotFound, the mux's 405, the cross-origin refusal): those
// are replaced by the Dutch text for the status.
func goDefaultError(status int, msg string) bool {
	return msg == "" || msg == "404 page not found" || msg == http.StatusText(status) ||
		strings.HasPrefix(msg, "cross-origin request") || status >= 500
}

// errorPages shows every error a handler answers in plain text (http.Error,
// http.NotFound, the mux's own 404 and 405, the cross-origin refusal) as a
// page of the portal: in the layout, in Dutch, with the menu and a way back.
// The JSON API and the health check keep their plain answers.
func (a *app) errorPages(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/healthz" || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		ew := &errorPageWriter{ResponseWriter: w}
		next.ServeHTTP(ew, r)
		if ew.status != 0 {
			a.renderError(w, r, ew.status, strings.TrimSpace(ew.msg.String()))
		}
	})
}

// errorPageWriter holds back a plain-text error answer for errorPages.
type errorPageWriter struct {
	http.ResponseWriter
	status int          // the held-back status; 0 when the answer went through
	msg    bytes.Buffer // the handler's message, at most 1 KiB
	passed bool
}

func (w *errorPageWriter) WriteHeader(code int) {
	if !w.passed && w.status == 0 && code >= 400 && strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		w.status = code
		return
	}
	w.passed = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *errorPageWriter) Write(b []byte) (int, error) {
	if w.status != 0 {
		if room := 1024 - w.msg.Len(); room > 0 {
			w.msg.Write(b[:min(len(b), room)])
		}
		return len(b), nil
	}
	w.passed = true
	return w.ResponseWriter.Write(b)
}

func (w *errorPageWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// renderError answers with an error page for status. A logged-in user sees
// it with the menu.
func (a *app) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	p := errorPage{Status: status, Title: errorTitles[status], Message: msg}
	if p.Title == "" {
		p.Title = "Er ging iets mis"
	}
	if goDefaultError(status, msg) {
		p.Message = errorTexts[status]
		if p.Message == "" {
			p.Message = serverErrorText
		}
	}
	if userFrom(r.Context()) == nil {
		r = a.withViewer(r)
	}
	var buf bytes.Buffer
	if err := a.pages["error"].ExecuteTemplate(&buf, "layout", pageData{Page: p, View: a.viewOf(r)}); err != nil {
		a.log.ErrorContext(r.Context(), "error page", "err", err)
		http.Error(w, p.Title+". "+p.Message, status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// withViewer returns r with the logged-in user and session in its context,
// if there is one with access: for pages outside the routes' own checks, such
// as an error page.
func (a *app) withViewer(r *http.Request) *http.Request {
	ctx := r.Context()
	s, u, err := a.loadSession(ctx, r)
	if err != nil || a.refusal(u) != "" {
		return r
	}
	ctx = context.WithValue(ctx, ctxUser, u)
	ctx = context.WithValue(ctx, ctxSession, s)
	return r.WithContext(ctx)
}

// confirmPage asks to confirm an action that cannot be undone (WCAG 3.3.4):
// the withdrawal of a consent, the deletion of a user.
type confirmPage struct {
	Title       string // the page's heading, such as "Gebruiker verwijderen"
	Question    string
	Consequence string
	Action      string // where the confirmation posts
	Fields      []hiddenField
	Confirm     string // the confirming button's text
	Cancel      string // the cancelling button's or link's text
	CancelURL   string // a link back, or
	CancelPost  string // where Cancel posts the Fields with answer=nee
}

type hiddenField struct{ Name, Value string }

// confirmDeleteUser asks the administrator to confirm the deletion of a user
// of their own organisation; a user of another organisation is "not found".
func (a *app) confirmDeleteUser(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	admin := userFrom(ctx)
	u, err := a.userBy(ctx, "id", r.PathValue("id"))
	if errors.Is(err, errNotFound) || err == nil && u.OrgID != admin.OrgID {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if u.ID == admin.ID {
		a.renderUsers(w, r, http.StatusUnprocessableEntity, usersPage{Errors: []string{"U kunt uzelf niet verwijderen."}})
		return
	}
	a.render(w, r, http.StatusOK, "confirm", confirmPage{
		Title:       "Gebruiker verwijderen",
		Question:    "Weet u zeker dat u " + u.Name + " (gebruikersnaam " + u.Username + ") wilt verwijderen?",
		Consequence: "De gebruiker kan daarna niet meer inloggen en wordt direct uitgelogd. Dit kunt u niet ongedaan maken; u kunt de gebruiker wel opnieuw aanmaken.",
		Action:      "/admin/users/" + u.ID + "/delete",
		Confirm:     "Ja, verwijder " + u.Name,
		Cancel:      "Nee, terug naar de gebruikers",
		CancelURL:   "/admin/users",
	})
}

// confirmWithdraw asks the provider to confirm that the client withdraws a
// consent; "nee" returns to the client. The confirmation posts the same
// form to /clients/withdraw.
func (a *app) confirmWithdraw(w http.ResponseWriter, r *http.Request) {
	subject, ok := a.formSubject(w, r)
	if !ok {
		return
	}
	purpose := consent.Purpose(r.PostFormValue("purpose"))
	if !purpose.Valid() {
		http.Error(w, "Onbekend doel.", http.StatusBadRequest)
		return
	}
	if r.PostFormValue("answer") == "nee" {
		a.renderClient(w, r, subject, http.StatusOK, "De toestemming is niet ingetrokken.", nil)
		return
	}
	c, _ := a.formClient(r) // formSubject checked it
	var fields []hiddenField
	for _, name := range []string{"client", "purpose"} {
		fields = append(fields, hiddenField{name, r.PostFormValue(name)})
	}
	a.render(w, r, http.StatusOK, "confirm", confirmPage{
		Title:       "Toestemming intrekken",
		Question:    "Trekt de cliënt met BSN " + c.Masked + " de toestemming in voor: " + purposeText[purpose] + "?",
		Consequence: "Vanaf nu mag uw organisatie deze gegevens niet meer gebruiken. Wat u eerder met de toestemming heeft gedaan, blijft verantwoord. Geeft de cliënt later opnieuw toestemming, dan legt u die opnieuw vast.",
		Action:      "/clients/withdraw",
		Fields:      fields,
		Confirm:     "Ja, trek de toestemming in",
		Cancel:      "Nee, niet intrekken",
		CancelPost:  "/clients/withdraw/confirm",
	})
}

// consentFields says, for each field of a consent.Record that the consent
// form fills in, which input it is (with the purpose appended, since the page
// has a form per purpose) and what to do about a problem with it.
var consentFields = map[string]struct{ input, message string }{
	"GivenAt":               {"given", "Vul de datum in waarop de cliënt het formulier heeft ondertekend (niet in de toekomst)."},
	"Evidence.Reference":    {"reference", "Vul het kenmerk in waaronder het ondertekende formulier in uw archief staat."},
	"Evidence.Kind":         {"evidence", "Kies hoe de cliënt het formulier heeft ondertekend."},
	"Decision":              {"decision", "Kies of de cliënt toestemming geeft of weigert."},
	"Practitioner":          {"practitioner", "Vul de naam en de functie van de behandelaar in."},
	"Practitioner.Name":     {"practitioner", "Vul de naam van de behandelaar in."},
	"Practitioner.Function": {"function", "Vul de functie van de behandelaar in, zoals huisarts."},
}

// renderConsentError shows the client page again after a consent form that
// the registry refused, with the problem at its field.
func (a *app) renderConsentError(w http.ResponseWriter, r *http.Request, subject string, ferr *consent.FieldError) {
	purpose := consent.Purpose(r.PostFormValue("purpose"))
	cv, err := a.formClientView(r, subject)
	if err != nil {
		a.consentError(w, r, err)
		return
	}
	e := fieldError{Message: ferr.Message(language.Dutch)}
	if f, ok := consentFields[ferr.Field]; ok {
		e = fieldError{Field: f.input + "-" + string(purpose), Message: f.message}
	}
	cv.Errors, cv.Form = []fieldError{e}, purpose
	a.render(w, r, http.StatusUnprocessableEntity, "clients", clientsPage{Client: cv})
}

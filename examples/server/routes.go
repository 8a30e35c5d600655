package main

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"slices"

	"golang.org/x/text/language"
)

// routes lists every route of the portal. Each handler states the login stage
// and roles it needs; the middleware checks them on the server for every
// request.
func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", staticFiles(static))
	mux.HandleFunc("GET /healthz", a.healthz)
	if a.cfg.MetricsToken != "" {
		mux.Handle("GET /metrics", a.metrics.handler(a.cfg.MetricsToken))
	}

	// Logging in and out, passwords.
	mux.HandleFunc("GET /login", a.loginForm)
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("GET /password/forgot", a.forgotForm)
	mux.HandleFunc("POST /password/forgot", a.forgot)
	mux.HandleFunc("GET /password/reset", a.resetForm)
	mux.HandleFunc("POST /password/reset", a.reset)
	mux.Handle("GET /login/code", a.need(codeStage, anyRole, a.codeForm))
	mux.Handle("POST /login/code", a.need(codeStage, anyRole, a.verifyCode))
	mux.Handle("POST /login/code/resend", a.need(codeStage, anyRole, a.resendCode))
	if a.cfg.Demo {
		// The demo's stand-in for a mailbox: after the second factor
		// only, and never with a message's content.
		mux.Handle("GET /outbox", a.need(fullStage, anyRole, a.outboxPage))
	}
	mux.Handle("POST /logout", a.need(anyStage, anyRole, a.logout))
	mux.Handle("GET /password", a.need(changeStage, anyRole, a.passwordForm))
	mux.Handle("POST /password", a.need(changeStage, anyRole, a.changePassword))
	mux.Handle("GET /account/totp", a.need(fullStage, anyRole, a.totpForm))
	mux.Handle("POST /account/totp", a.need(fullStage, anyRole, a.enrolTOTP))

	mux.Handle("GET /{$}", a.need(fullStage, anyRole, a.home))
	mux.Handle("POST /session/extend", a.need(fullStage, anyRole, a.extendSession))

	// Organisation administrators: users of their own organisation.
	mux.Handle("GET /admin/users", a.need(fullStage, admins, a.usersPage))
	mux.Handle("POST /admin/users", a.need(fullStage, admins, a.createUser))
	mux.Handle("GET /admin/users/{id}/delete", a.need(fullStage, admins, a.confirmDeleteUser))
	mux.Handle("POST /admin/users/{id}/delete", a.need(fullStage, admins, a.deleteUser))

	// The portal owner: organisations, sanctions, test uploads, spot checks.
	mux.Handle("GET /owner/orgs", a.need(fullStage, auditors, a.orgsPage))
	mux.Handle("GET /owner/orgs/{id}", a.need(fullStage, auditors, a.orgPage))
	mux.Handle("POST /owner/orgs/{id}/contract", a.need(fullStage, auditors, a.registerContract))
	mux.Handle("POST /owner/orgs/{id}/dpa", a.need(fullStage, auditors, a.recordDPA))
	mux.Handle("POST /owner/orgs/{id}/survey", a.need(fullStage, auditors, a.resendSurvey))
	mux.Handle("POST /owner/orgs/{id}/suspend", a.need(fullStage, auditors, a.suspendOrg))
	mux.Handle("POST /owner/orgs/{id}/reinstate", a.need(fullStage, auditors, a.reinstateOrg))
	mux.Handle("POST /owner/uploads/{id}/approve", a.need(fullStage, auditors, a.approveUpload))
	mux.Handle("GET /audit", a.need(fullStage, auditors, a.auditPage))
	mux.Handle("POST /audit/plan", a.need(fullStage, auditors, a.planSample))
	mux.Handle("POST /audit/sample", a.need(fullStage, auditors, a.drawSample))
	mux.Handle("POST /audit/evidence", a.need(fullStage, auditors, a.recordEvidence))
	mux.Handle("POST /audit/quarantine", a.need(fullStage, auditors, a.quarantine))
	mux.Handle("POST /jobs/run", a.need(fullStage, auditors, a.runJobsNow))

	// Providers: clients and consent (Portero), uploads (Gemeenteportaal).
	mux.Handle("GET /clients", a.need(fullStage, providers, a.clientsPage))
	mux.Handle("POST /clients/lookup", a.need(fullStage, providers, a.lookupClient))
	mux.Handle("POST /clients/consent", a.need(fullStage, providers, a.recordConsent))
	mux.Handle("POST /clients/withdraw/confirm", a.need(fullStage, providers, a.confirmWithdraw))
	mux.Handle("POST /clients/withdraw", a.need(fullStage, providers, a.withdrawConsent))
	mux.Handle("POST /clients/view", a.need(fullStage, providers, a.viewClientData))
	mux.Handle("GET /uploads", a.need(fullStage, uploaders, a.uploadsPage))
	mux.Handle("POST /uploads", a.need(fullStage, providers, a.upload))
	if a.cfg.Demo {
		// A generated data set to try the upload with (demo.go).
		mux.Handle("GET /uploads/demo.csv", a.need(fullStage, providers, a.demoFile))
	}
	mux.Handle("GET /uploads/{id}", a.need(fullStage, uploaders, a.uploadReport))
	mux.Handle("GET /uploads/{id}/report.csv", a.need(fullStage, uploaders, a.uploadReportCSV))
	mux.Handle("GET /uploads/{id}/report.html", a.need(fullStage, uploaders, a.uploadReportPrint))

	// Municipalities: registering the providers they contracted, whose
	// contact answers the survey through the link it is sent.
	mux.Handle("GET /providers", a.need(fullStage, municipalities, a.providersPage))
	mux.Handle("POST /providers", a.need(fullStage, municipalities, a.registerProvider))
	mux.HandleFunc("GET /survey", a.surveyForm)
	mux.HandleFunc("POST /survey", a.submitSurvey)

	// Reports and delivery compliance.
	mux.Handle("GET /reports", a.need(fullStage, readers, a.reportsPage))
	mux.Handle("GET /reports.csv", a.need(fullStage, readers, a.reportsCSV))
	mux.Handle("GET /deliveries", a.need(fullStage, overseers, a.deliveriesPage))

	// The JSON API: the same checks, the same library calls.
	mux.Handle("GET /api/me", a.need(fullStage, anyRole, a.apiMe))
	mux.Handle("POST /api/clients/lookup", a.need(fullStage, providers, a.apiLookup))
	mux.Handle("GET /api/reports", a.need(fullStage, readers, a.apiReports))
	mux.Handle("GET /api/uploads/{id}", a.need(fullStage, uploaders, a.apiUpload))
	mux.Handle("GET /api/uploads/{id}/report.csv", a.need(fullStage, uploaders, a.uploadReportCSV))
	mux.Handle("GET /api/uploads/{id}/report.html", a.need(fullStage, uploaders, a.uploadReportPrint))

	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Dit formulier is verstuurd vanaf een andere website en daarom geweigerd. Open de pagina opnieuw en probeer het nog eens.", http.StatusForbidden)
	}))
	// Behind a proxy that rewrites Host, the browser's Origin is still the
	// public address: the portal's own origin.
	if err := csrf.AddTrustedOrigin(a.cfg.BaseURL); err != nil && a.cfg.BaseURL != "" {
		panic(err) // parseConfig checked it
	}
	return a.withClientAddr(securityHeaders(a.errorPages(a.logRequests(csrf.Handler(limitBodies(mux)))), a.secureCookies()))
}

// Which login stages a route accepts.
var (
	codeStage   = []stage{stageCode}
	changeStage = []stage{stageChange, stageFull}
	fullStage   = []stage{stageFull}
	anyStage    = []stage{stageCode, stageChange, stageFull}
)

// Which roles a route accepts.
var (
	anyRole        []role // nil: every role
	admins         = []role{roleAdmin}
	auditors       = []role{roleAuditor}
	providers      = []role{roleUser, roleAdmin}
	uploaders      = []role{roleUser, roleAdmin, roleAuditor}
	readers        = []role{roleUser, roleAdmin, roleMunicipality, roleAuditor}
	overseers      = []role{roleAuditor, roleMunicipality}
	municipalities = []role{roleMunicipality}
)

// need wraps h so that it runs only for a logged-in user at one of the
// stages, with one of the roles, of an organisation that still has access.
// Anything else is refused before h sees the request.
func (a *app) need(stages []stage, roles []role, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		s, u, err := a.loadSession(ctx, r)
		if errors.Is(err, errNoUser) {
			a.endSession(ctx, w, r)
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		if errors.Is(err, errNotFound) {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		if err != nil {
			a.serverError(w, r, err)
			return
		}
		// Checked on every request, not only at login: a suspension or
		// the end of a contract ends access at once.
		if a.refusal(u) != "" && s.Stage != stageCode {
			a.endSession(ctx, w, r)
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		if !slices.Contains(stages, s.Stage) {
			switch s.Stage {
			case stageCode:
				http.Redirect(w, r, "/login/code", http.StatusSeeOther)
			case stageChange:
				http.Redirect(w, r, "/password", http.StatusSeeOther)
			default:
				http.Error(w, "Niet beschikbaar.", http.StatusNotFound)
			}
			return
		}
		if roles != nil && !slices.Contains(roles, u.Role) {
			http.Error(w, "U heeft geen toegang tot deze pagina.", http.StatusForbidden)
			return
		}
		if st := a.policy.Status(u.account(), a.now()); st.Warn && s.Stage == stageFull {
			u.notices = append(u.notices, st.Message(language.Dutch))
		}
		ctx = context.WithValue(ctx, ctxUser, u)
		ctx = context.WithValue(ctx, ctxSession, s)
		h(w, r.WithContext(ctx))
	})
}

func (a *app) healthz(w http.ResponseWriter, r *http.Request) {
	if err := a.db.PingContext(r.Context()); err != nil {
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ok\n"))
}

package main

import (
	"net/http"
	"strings"
	"time"
)

type orgsPage struct {
	Providers      []*organisation
	Municipalities []*organisation
	Pending        []upload // test uploads waiting for approval
	Message        string
}

// orgsPage shows the portal owner every customer organisation with its
// contract, processing agreement and sanctions, and the test uploads that
// wait for approval.
func (a *app) orgsPage(w http.ResponseWriter, r *http.Request) {
	a.renderOrgs(w, r, http.StatusOK, "")
}

func (a *app) renderOrgs(w http.ResponseWriter, r *http.Request, status int, msg string) {
	ctx := r.Context()
	var p orgsPage
	var err error
	if p.Providers, err = a.orgs(ctx, kindProvider); err != nil {
		a.serverError(w, r, err)
		return
	}
	if p.Municipalities, err = a.orgs(ctx, kindMunicipality); err != nil {
		a.serverError(w, r, err)
		return
	}
	if p.Pending, err = a.uploadsWhere(ctx, `status = 'test'`); err != nil {
		a.serverError(w, r, err)
		return
	}
	p.Message = msg
	a.render(w, r, status, "orgs", p)
}

// registerContract records a contract period and the processing agreement:
// from then on the organisation's users have access, until the end date.
func (a *app) registerContract(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	start, err1 := time.ParseInLocation("2006-01-02", r.PostFormValue("start"), time.Local)
	end, err2 := time.ParseInLocation("2006-01-02", r.PostFormValue("end"), time.Local)
	if err1 != nil || err2 != nil || !end.After(start) {
		a.renderOrgs(w, r, http.StatusUnprocessableEntity, "Geef een begin- en einddatum (JJJJ-MM-DD), de einddatum na de begindatum.")
		return
	}
	dpa := a.now()
	if r.PostFormValue("dpa") != "on" {
		dpa = time.Time{}
	}
	if !a.execOne(w, r, `UPDATE organisations SET contract_start = $1, contract_end = $2, dpa_registered_at = $3 WHERE id = $4 AND kind <> 'owner'`,
		usec(start), usec(end), usec(dpa), r.PathValue("id")) {
		return
	}
	a.log.InfoContext(ctx, "contract registered", "org", r.PathValue("id"), "by", userFrom(ctx).ID)
	http.Redirect(w, r, "/owner/orgs", http.StatusSeeOther)
}

// suspendOrg is the sanction for misuse: the organisation's users lose access
// at once, their sessions end now.
func (a *app) suspendOrg(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if reason == "" {
		a.renderOrgs(w, r, http.StatusUnprocessableEntity, "Geef de reden van de opschorting.")
		return
	}
	id := r.PathValue("id")
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
	http.Redirect(w, r, "/owner/orgs", http.StatusSeeOther)
}

// reinstateOrg lifts a suspension.
func (a *app) reinstateOrg(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !a.execOne(w, r, `UPDATE organisations SET suspended_at = 0, suspended_reason = '' WHERE id = $1 AND kind <> 'owner'`, r.PathValue("id")) {
		return
	}
	a.log.InfoContext(ctx, "organisation reinstated", "org", r.PathValue("id"), "by", userFrom(ctx).ID)
	http.Redirect(w, r, "/owner/orgs", http.StatusSeeOther)
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

package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/consent"
)

type auditPage struct {
	Problems  []consent.Problem // of the consent registry, when it does not verify
	Plans     []planView
	Samples   []sampleView
	Providers []*organisation
	Error     string
	Verified  string // the chain's checkpoint digest after verification
	Purposes  []consent.Purpose
}

// planView is a planned spot check: drawable once its window has closed.
type planView struct {
	Plan     consent.SamplePlan
	OrgName  string
	Drawable bool
	Drawn    bool
}

type sampleView struct {
	Manifest consent.Manifest
	Records  []sampleRecord
}

type sampleRecord struct {
	ID        consent.RecordID
	OrgName   string
	Reference string // of the signed form in the provider's archive
	Purpose   string
	GivenAt   time.Time
	Evidence  consent.EvidenceState
	Void      bool
}

// auditPage shows the portal owner's spot checks: the plans, committed to
// before their records were known; the samples drawn, with the evidence
// status of every drawn record; and the form to plan a new one. It also
// verifies the consent registry and shows its checkpoint.
func (a *app) auditPage(w http.ResponseWriter, r *http.Request) {
	a.renderAudit(w, r, http.StatusOK, "")
}

func (a *app) renderAudit(w http.ResponseWriter, r *http.Request, status int, msg string) {
	ctx := r.Context()
	p := auditPage{Error: msg, Purposes: consent.Purposes()}
	var err error
	if p.Providers, err = a.orgs(ctx, kindProvider); err != nil {
		a.serverError(w, r, err)
		return
	}
	names := map[string]string{}
	for _, o := range p.Providers {
		names[o.ID] = o.Name
	}
	cp, err := a.consent.Verify(ctx)
	if err != nil {
		var terr *consent.TamperError
		if !errors.As(err, &terr) && !errors.Is(err, consent.ErrCheckpoint) {
			a.serverError(w, r, err)
			return
		}
		if p.Error == "" { // an action's own message says it already; the problems are listed either way
			p.Error = "De toestemmingsregistratie is gewijzigd buiten het portaal om: " +
				"de opgeslagen controlepunten kloppen niet of het verankerde controlepunt ontbreekt. Zoek uit hoe dit kon en zet ze terug uit een back-up."
			if terr != nil {
				p.Error = "De toestemmingsregistratie is gewijzigd buiten het portaal om: " + dutchCount(len(terr.Problems), "gebeurtenis klopt", "gebeurtenissen kloppen") +
					" niet (zie de tabel). Zet de gebeurtenissen terug uit een back-up en zoek uit hoe dit kon; een gebeurtenis die er niet hoort, zet u in quarantaine."
			}
		}
		if terr != nil {
			p.Problems = terr.Problems
		}
	} else {
		p.Verified = cp.Digest
	}
	if _, err := a.verifyAccessLog(ctx); err != nil {
		var terr *consent.TamperError
		if !errors.As(err, &terr) {
			a.serverError(w, r, err)
			return
		}
		p.Error = "Het toegangslog is gewijzigd buiten het portaal om: " + dutchCount(len(terr.Problems), "regel klopt", "regels kloppen") +
			" niet. Zet het toegangslog terug uit een back-up en zoek uit hoe dit kon."
		p.Verified = ""
	}
	rows, err := a.db.QueryContext(ctx, `SELECT manifest FROM audit_samples ORDER BY created_at DESC LIMIT 10`)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	var manifests []consent.Manifest
	drawn := map[string]bool{}
	for rows.Next() {
		var js string
		var m consent.Manifest
		if err := rows.Scan(&js); err != nil {
			rows.Close()
			a.serverError(w, r, err)
			return
		}
		if err := json.Unmarshal([]byte(js), &m); err != nil {
			rows.Close()
			a.serverError(w, r, err)
			return
		}
		manifests = append(manifests, m)
		drawn[m.Plan.ID] = true
	}
	rows.Close()
	plans, err := a.consent.Plans(ctx)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	now := a.now()
	for i := len(plans) - 1; i >= 0; i-- { // the latest first
		pl := plans[i]
		p.Plans = append(p.Plans, planView{Plan: pl, OrgName: names[string(pl.Filter.Organisation)], Drawn: drawn[pl.ID],
			Drawable: !drawn[pl.ID] && !now.Before(pl.Filter.Until.Add(consent.FreezeMargin))})
	}
	for _, m := range manifests {
		sv := sampleView{Manifest: m}
		for _, id := range m.Selected {
			st, err := a.consent.Status(ctx, id)
			if err != nil {
				a.serverError(w, r, err)
				return
			}
			sv.Records = append(sv.Records, sampleRecord{ID: id, OrgName: names[string(st.Record.Organisation)], Reference: st.Record.Evidence.Reference, Purpose: purposeText[st.Record.Purpose],
				GivenAt: st.Record.GivenAt, Evidence: st.Evidence, Void: st.Void()})
		}
		p.Samples = append(p.Samples, sv)
	}
	a.render(w, r, status, "audit", p)
}

// dutchCount says n of a thing in Dutch, singular or plural: "1 regel klopt",
// "3 regels kloppen".
func dutchCount(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// planSample commits to a spot check of the consents that will be recorded
// in the coming days, before anyone knows them: the registry records the
// plan, with the hash of the seed it will be drawn with.
func (a *app) planSample(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	k, err := strconv.Atoi(r.PostFormValue("k"))
	if err != nil || k < 1 || k > 1000 {
		a.renderAudit(w, r, http.StatusUnprocessableEntity, "Kies een steekproefgrootte van 1 tot 1000.")
		return
	}
	days, err := strconv.Atoi(r.PostFormValue("days"))
	if err != nil || days < 1 || days > 3660 {
		a.renderAudit(w, r, http.StatusUnprocessableEntity, "Kies een periode van 1 tot 3660 dagen.")
		return
	}
	f := consent.Filter{
		Organisation: consent.Organisation(r.PostFormValue("org")),
		Purpose:      consent.Purpose(r.PostFormValue("purpose")),
		Until:        a.now().AddDate(0, 0, days).Truncate(time.Second),
	}
	if _, err := a.consent.PlanSample(ctx, f, k, userFrom(ctx).actor()); err != nil {
		var ferr *consent.FieldError
		switch {
		case errors.As(err, &ferr):
			a.renderAudit(w, r, http.StatusUnprocessableEntity, "De steekproef kan niet worden gepland: "+ferr.Message(language.Dutch))
		case isDamaged(err):
			a.renderAudit(w, r, http.StatusServiceUnavailable, "De steekproef kan niet worden gepland: "+msgAuditDamaged)
		default:
			a.serverError(w, r, err)
		}
		return
	}
	http.Redirect(w, r, "/audit", http.StatusSeeOther)
}

// drawSample draws the sample of a plan whose window has closed, and keeps
// its manifest.
func (a *app) drawSample(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	m, err := a.consent.Sample(ctx, r.PostFormValue("plan"))
	if err != nil {
		var ferr *consent.FieldError
		switch {
		case errors.Is(err, consent.ErrNotFound):
			http.NotFound(w, r)
		case isDamaged(err):
			a.renderAudit(w, r, http.StatusServiceUnavailable, "De steekproef kan niet worden getrokken: "+msgAuditDamaged)
		case errors.As(err, &ferr):
			a.renderAudit(w, r, http.StatusUnprocessableEntity, "De steekproef kan nog niet worden getrokken: "+ferr.Message(language.Dutch))
		default:
			a.serverError(w, r, err)
		}
		return
	}
	js, err := json.Marshal(m)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	// A plan draws one sample: a second draw finds the first.
	if _, err := a.db.ExecContext(ctx, `INSERT INTO audit_samples (id, manifest, drawn_by, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		m.Plan.ID, string(js), userFrom(ctx).ID, usec(a.now())); err != nil {
		a.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/audit", http.StatusSeeOther)
}

// quarantine moves a row of the consent registry that does not verify out
// of its chain, with the auditor's reason: the operator's way out when a row
// was written behind the portal's back and blocks a client's chain. The
// registry refuses a row that verifies, and logs what it moved.
func (a *app) quarantine(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	seq, err := strconv.ParseUint(r.PostFormValue("seq"), 10, 64)
	if err != nil {
		http.Error(w, "Onbekende gebeurtenis.", http.StatusBadRequest)
		return
	}
	err = a.consent.Quarantine(ctx, consent.ChainID(r.PostFormValue("chain")), seq,
		consent.Change{By: userFrom(ctx).actor(), Reason: strings.TrimSpace(r.PostFormValue("reason"))})
	var ferr *consent.FieldError
	switch {
	case errors.Is(err, consent.ErrNotFound):
		http.NotFound(w, r)
		return
	case errors.As(err, &ferr):
		a.renderAudit(w, r, http.StatusUnprocessableEntity, "Niet in quarantaine geplaatst: "+ferr.Message(language.Dutch))
		return
	case err != nil:
		a.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/audit", http.StatusSeeOther)
}

// defaultEvidenceReason is recorded when the auditor gives no reason.
var defaultEvidenceReason = map[string]string{
	"request":  "steekproef",
	"produced": "formulier overlegd",
	"missing":  "formulier niet overlegd binnen de termijn",
}

// recordEvidence asks a provider for a signed form, or records whether it
// was produced.
func (a *app) recordEvidence(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := consent.RecordID(r.PostFormValue("record"))
	action := r.PostFormValue("action")
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if reason == "" {
		reason = defaultEvidenceReason[action]
	}
	c := consent.Change{By: userFrom(ctx).actor(), Reason: reason}
	var err error
	switch action {
	case "request":
		if err = a.consent.RequestEvidence(ctx, id, r.PostFormValue("sample"), c); err == nil {
			err = a.notifyEvidenceRequest(ctx, id, r.PostFormValue("sample"))
		}
	case "produced":
		err = a.consent.EvidenceProduced(ctx, id, c)
	case "missing":
		err = a.consent.EvidenceMissing(ctx, id, c)
	default:
		http.Error(w, "Onbekende actie.", http.StatusBadRequest)
		return
	}
	if err != nil {
		var ferr *consent.FieldError
		switch {
		case errors.As(err, &ferr):
			a.renderAudit(w, r, http.StatusUnprocessableEntity, ferr.Message(language.Dutch))
		case isDamaged(err):
			a.renderAudit(w, r, http.StatusServiceUnavailable, "Niet vastgelegd: "+msgAuditDamaged)
		default:
			a.serverError(w, r, err)
		}
		return
	}
	http.Redirect(w, r, "/audit", http.StatusSeeOther)
}

// msgAuditDamaged says why the registry refused an auditor's action.
const msgAuditDamaged = "de toestemmingsregistratie is gewijzigd buiten het portaal om. Onderzoek eerst de problemen die deze pagina noemt."

// isDamaged reports whether the consent registry refused because the store,
// or its checkpoints, do not verify (a *TamperError, ErrCheckpoint): a
// refusal until an operator has looked into it, which no retry lifts.
func isDamaged(err error) bool {
	return errors.Is(err, consent.ErrTampered) || errors.Is(err, consent.ErrCheckpoint)
}

// notifyPendingEvidence asks again for every form whose request the registry
// holds and that is still open: the registry records a request in a
// transaction of its own, and an instance that died before it queued the
// mail left the provider untold. The mails go once per request
// (notifyEvidenceRequest), so a request told before is not told again. It
// runs at start, over the samples drawn within outboxKeep: as long as the
// outbox remembers what it sent (so that nothing is sent twice), and so
// that the work does not grow with the years of samples kept.
func (a *app) notifyPendingEvidence(ctx context.Context) error {
	rows, err := a.db.QueryContext(ctx, `SELECT manifest FROM audit_samples WHERE created_at >= $1`, usec(a.now().Add(-outboxKeep)))
	if err != nil {
		return err
	}
	var selected []consent.RecordID
	for rows.Next() {
		var js string
		var m consent.Manifest
		if err := rows.Scan(&js); err != nil {
			rows.Close()
			return err
		}
		if err := json.Unmarshal([]byte(js), &m); err != nil {
			rows.Close()
			return err
		}
		selected = append(selected, m.Selected...)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range selected {
		st, err := a.consent.Status(ctx, id)
		if err != nil {
			return err
		}
		if st.Evidence != consent.EvidenceRequested {
			continue
		}
		// The reference of the latest request: the sample that asked.
		for i := len(st.Events) - 1; i >= 0; i-- {
			if e := st.Events[i]; e.Kind == consent.EventEvidenceRequested {
				if err := a.notifyEvidenceRequest(ctx, id, e.Reference); err != nil {
					return err
				}
				break
			}
		}
	}
	return nil
}

// notifyEvidenceRequest asks the provider's administrators for the signed
// form of a record, once per request: a second call for the same record
// and sample queues nothing (Sender.SendOnce).
func (a *app) notifyEvidenceRequest(ctx context.Context, id consent.RecordID, sample string) error {
	st, err := a.consent.Status(ctx, id)
	if err != nil {
		return err
	}
	users, err := a.usersOf(ctx, string(st.Record.Organisation))
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.Role != roleAdmin {
			continue
		}
		body := "In het kader van steekproef " + sample + " vragen wij u het ondertekende toestemmingsformulier met kenmerk " +
			st.Record.Evidence.Reference + " (" + purposeText[st.Record.Purpose] + ", ondertekend " + st.Record.GivenAt.Local().Format("2-1-2006") +
			") binnen twee weken te overleggen."
		if err := a.sender.SendOnce(ctx, "evidence-request\x00"+string(id)+"\x00"+sample, u, "Verzoek om toestemmingsformulier", body); err != nil {
			return err
		}
	}
	return nil
}

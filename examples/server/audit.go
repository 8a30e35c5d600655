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
	Samples   []sampleView
	Providers []*organisation
	Error     string
	Verified  string // the chain's checkpoint digest after verification
	Purposes  []consent.Purpose
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

// auditPage shows the portal owner's spot checks: earlier samples with the
// evidence status of every drawn record, and the form to draw a new one. It
// also verifies the consent chain and shows its checkpoint.
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
		if !errors.As(err, &terr) {
			a.serverError(w, r, err)
			return
		}
		p.Error = "De toestemmingsregistratie is gewijzigd buiten het portaal om: " + terr.Error()
	} else {
		p.Verified = cp.Digest
	}
	rows, err := a.db.QueryContext(ctx, `SELECT manifest FROM audit_samples ORDER BY created_at DESC LIMIT 10`)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	var manifests []consent.Manifest
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
	}
	rows.Close()
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

// drawSample draws a reproducible random sample of consent records and
// keeps its manifest.
func (a *app) drawSample(w http.ResponseWriter, r *http.Request) {
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
	// The window must have closed before the draw, so that nobody can add
	// records to a population once its sample is known.
	until := a.now().Add(-consent.FreezeMargin).Truncate(time.Second)
	f := consent.Filter{
		Organisation: consent.Organisation(r.PostFormValue("org")),
		Purpose:      consent.Purpose(r.PostFormValue("purpose")),
		From:         until.AddDate(0, 0, -days),
		Until:        until,
	}
	m, err := a.consent.Sample(ctx, f, k, nil)
	if err != nil {
		var ferr *consent.FieldError
		if errors.As(err, &ferr) {
			a.renderAudit(w, r, http.StatusUnprocessableEntity, "De steekproef kan niet worden getrokken: "+ferr.Message(language.Dutch))
			return
		}
		a.serverError(w, r, err)
		return
	}
	js, err := json.Marshal(m)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if _, err := a.db.ExecContext(ctx, `INSERT INTO audit_samples (id, manifest, drawn_by, created_at) VALUES ($1, $2, $3, $4)`,
		m.ID(), string(js), userFrom(ctx).ID, usec(a.now())); err != nil {
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
		if errors.As(err, &ferr) {
			a.renderAudit(w, r, http.StatusUnprocessableEntity, ferr.Message(language.Dutch))
			return
		}
		a.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/audit", http.StatusSeeOther)
}

// notifyEvidenceRequest asks the provider's administrators for the signed
// form of a record.
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
		if err := a.sender.Send(ctx, u, "Verzoek om toestemmingsformulier", body); err != nil {
			return err
		}
	}
	return nil
}

package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/zorgkit/zorgkit/bsn"
	"github.com/zorgkit/zorgkit/consent"
)

// The JSON API answers with the same checks and the same library calls as
// the pages; a session cookie authenticates it, and cross-origin requests are
// refused like those of the forms.

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (a *app) apiMe(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	a.renderJSON(w, r, http.StatusOK, map[string]string{
		"username": u.Username, "name": u.Name, "role": string(u.Role), "organisation": u.Org.Name,
	})
}

// apiLookup looks a client up by exact BSN, sent in the JSON body
// {"bsn": "…"}, and answers which purposes the organisation's consent
// allows now. The answer names the client by a handle and the masked BSN
// only.
func (a *app) apiLookup(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := userFrom(ctx)
	var req struct {
		BSN string `json:"bsn"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4<<10)).Decode(&req); err != nil {
		a.renderJSON(w, r, http.StatusBadRequest, apiError{"bad-request", "Stuur JSON: {\"bsn\": \"123456782\"}."})
		return
	}
	n, err := bsn.Parse(req.BSN)
	if err != nil {
		code := "bsn-invalid"
		if errors.Is(err, bsn.ErrPlaceholder) {
			code = "bsn-placeholder"
		}
		a.renderJSON(w, r, http.StatusUnprocessableEntity, apiError{code, bsnMessage(err)})
		return
	}
	cv, err := a.lookup(ctx, u, n, clientIP(r), nil)
	if errors.Is(err, errNotFound) {
		a.renderJSON(w, r, http.StatusNotFound, apiError{"not-found", msgNoClient})
		return
	}
	if errors.Is(err, consent.ErrTampered) {
		// As the page answers it (consentError).
		a.logDamagedChain(r, err)
		a.renderJSON(w, r, http.StatusServiceUnavailable, apiError{"consent-damaged", msgConsentDamaged})
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	type purpose struct {
		Purpose consent.Purpose `json:"purpose"`
		Allowed bool            `json:"allowed"`
		Reason  string          `json:"reason"`
	}
	// The client is named by a handle valid in this session only, never by
	// its subject key (clienthandle.go).
	out := struct {
		Client   string    `json:"client"`
		BSN      string    `json:"bsn"`
		Purposes []purpose `json:"purposes"`
	}{Client: cv.Handle, BSN: cv.Masked}
	for _, p := range cv.Purposes {
		out.Purposes = append(out.Purposes, purpose{p.Purpose, p.Allowed, p.Reason})
	}
	a.renderJSON(w, r, http.StatusOK, out)
}

// apiUpload returns an upload's quality report.
func (a *app) apiUpload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	up, err := a.uploadFor(ctx, userFrom(ctx), r.PathValue("id"))
	if errors.Is(err, errNotFound) {
		a.renderJSON(w, r, http.StatusNotFound, apiError{"not-found", "Onbekende aanlevering."})
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	var q qualityReportJSON
	if up.Report != "" {
		if err := json.Unmarshal([]byte(up.Report), &q); err != nil {
			a.serverError(w, r, err)
			return
		}
	}
	a.renderJSON(w, r, http.StatusOK, struct {
		ID      string            `json:"id"`
		Status  uploadStatus      `json:"status"`
		Quality qualityReportJSON `json:"quality"`
	}{up.ID, up.Status, q})
}

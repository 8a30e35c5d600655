package main

import (
	"encoding/base32"
	"errors"
	"net/http"
	"strings"

	"github.com/zorgkit/zorgkit/password/otp"
)

// home is the dashboard: what this user can do.
func (a *app) home(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "home", nil)
}

type totpPage struct {
	Secret  string // base32, for typing into an app
	URI     string // otpauth:// for a QR code
	Pending string // the secret, encrypted, carried to the confirmation
	Error   string
	Done    bool
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
// it has produced a right code.
func (a *app) enrolTOTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := userFrom(ctx)
	secret, err := a.field.Decrypt("totp.pending:"+u.ID, r.PostFormValue("pending"))
	if err != nil {
		http.Error(w, "Ongeldig formulier.", http.StatusBadRequest)
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
	if err := a.startSession(ctx, w, r, u.ID, stageFull, ""); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "totp", totpPage{Done: true})
}

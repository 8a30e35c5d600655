package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/password"
	"github.com/zorgkit/zorgkit/password/email"
	"github.com/zorgkit/zorgkit/password/otp"
	"github.com/zorgkit/zorgkit/password/reset"
	"github.com/zorgkit/zorgkit/password/throttle"
)

// msgLoginFailed is the one answer to every failed login: unknown user, wrong
// password and throttled look alike, so that nobody learns which usernames
// exist.
const msgLoginFailed = "Onbekende gebruikersnaam of onjuist wachtwoord, of te veel pogingen. Probeer het over enkele minuten opnieuw."

// defaultAnswerTime is how long the login and reset answers take at least,
// so that their timing does not tell an unknown user from a wrong password.
const defaultAnswerTime = 400 * time.Millisecond

// initAuth builds the login's pieces from the configuration and keys, with
// their state in the database.
func (a *app) initAuth() error {
	var config password.Config
	switch a.cfg.Policy {
	case "portero":
		config = password.Portero()
	case "almere":
		config = password.Almere()
	case "nist":
		config = password.NIST(true, "zorgkit", "portaal")
	default:
		return fmt.Errorf("unknown password policy %q", a.cfg.Policy)
	}
	var err error
	if a.policy, err = password.NewPolicy(config); err != nil {
		return err
	}
	if a.hasher, err = password.NewHasher(password.HasherConfig{Params: a.hashParams, Pepper: a.keys.Pepper}); err != nil {
		return err
	}
	thConfig := throttle.Accounts(throttleStore{a.db})
	thConfig.Now = a.clock
	if a.throttle, err = throttle.New(thConfig); err != nil {
		return err
	}
	if a.codes, err = otp.NewOutOfBand(otp.Config{Key: a.keys.Code, Store: codeStore{a.db}, Limiter: a.throttle, Now: a.clock}); err != nil {
		return err
	}
	if a.resets, err = reset.New(reset.Config{Store: resetStore{a.db}, Now: a.clock}); err != nil {
		return err
	}
	a.totp = &otp.TOTP{Now: a.clock}
	return nil
}

// evenTiming waits until at least the answer time has passed since start.
func (a *app) evenTiming(ctx context.Context, start time.Time) {
	t := time.NewTimer(a.answerTime - time.Since(start))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// passwordKey is the throttle's key for password attempts on an account,
// known before the user is looked up, so that unknown users are throttled
// alike.
func passwordKey(username string) string { return "password:" + strings.ToLower(username) }

// resetKey is the throttle's key for reset requests for an address.
func resetKey(emailKey string) string { return "reset:" + emailKey }

// accountKey is the key of an account in the code store and the throttle's
// key for wrong verification codes and authenticator codes.
func accountKey(username string) string { return "user:" + strings.ToLower(username) }

type loginPage struct {
	Error    string
	Username string
}

func (a *app) loginForm(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "login", loginPage{})
}

// login checks username and password, then starts the second step.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	start := time.Now()
	username := strings.TrimSpace(r.PostFormValue("username"))
	pw := r.PostFormValue("password")
	fail := func() {
		a.evenTiming(ctx, start)
		a.render(w, r, http.StatusUnauthorized, "login", loginPage{Error: msgLoginFailed, Username: username})
	}
	if username == "" || pw == "" || len(username) > 200 {
		a.metrics.login("wrong_password")
		fail()
		return
	}
	// Count the attempt for the account and the source before checking
	// anything: a failure stays counted until the password is right.
	pwKey, ipKey := passwordKey(username), "ip:"+clientIP(r)
	for _, k := range []string{pwKey, ipKey} {
		if err := a.throttle.Attempt(ctx, k); err != nil {
			if !errors.Is(err, throttle.ErrThrottled) {
				a.serverError(w, r, err)
				return
			}
			a.log.WarnContext(ctx, "login throttled", "key", strings.SplitN(k, ":", 2)[0])
			a.metrics.login("throttled")
			fail()
			return
		}
	}
	u, err := a.userBy(ctx, "username", username)
	if errors.Is(err, errNotFound) {
		_ = a.hasher.VerifyUnknown(ctx, pw) // as long as a wrong password takes
		a.metrics.login("wrong_password")
		fail()
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if err := a.hasher.Verify(ctx, u.Hash, pw); err != nil {
		if !errors.Is(err, password.ErrMismatch) {
			a.log.ErrorContext(ctx, "verify password", "user", u.ID, "err", err)
		}
		a.metrics.login("wrong_password")
		fail()
		return
	}
	// The password is right: from here on the user may learn why a login
	// is refused.
	if refusal := a.refusal(u); refusal != "" {
		a.metrics.login("refused")
		a.evenTiming(ctx, start)
		a.render(w, r, http.StatusForbidden, "login", loginPage{Error: refusal, Username: username})
		return
	}
	if a.hasher.NeedsRehash(u.Hash) {
		if h, err := a.hasher.Hash(ctx, pw); err == nil {
			_, _ = a.db.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, h, u.ID)
		}
	}
	// The password is proven. Wrong codes count on the account's own key,
	// which only a complete login resets: asking for new codes does not
	// buy new guesses.
	for _, k := range []string{pwKey, ipKey} {
		if err := a.throttle.Reset(ctx, k); err != nil {
			a.serverError(w, r, err)
			return
		}
	}
	attempt := newID()
	if err := a.startSession(ctx, w, r, u.ID, stageCode, attempt); err != nil {
		a.serverError(w, r, err)
		return
	}
	if u.Channel != "totp" {
		err := a.sendCode(ctx, u, attempt)
		var cd *otp.CooldownError
		if errors.As(err, &cd) {
			// A login right after the previous one: the code of that one
			// was replaced, and a new one may be sent after the cooldown.
			a.evenTiming(ctx, start)
			a.render(w, r, http.StatusOK, "code", codePage{Error: a.cooldownMessage(cd), Demo: a.cfg.Demo})
			return
		}
		if err != nil {
			a.serverError(w, r, err)
			return
		}
	}
	a.evenTiming(ctx, start)
	http.Redirect(w, r, "/login/code", http.StatusSeeOther)
}

// refusal returns why u may not log in now, or "".
func (a *app) refusal(u *user) string {
	now := a.now()
	if !u.Deactivated.IsZero() {
		return "Dit account is inactief. Vraag uw organisatiebeheerder om u opnieuw aan te maken."
	}
	if err := u.Org.access(now); err != nil {
		return capitalise(err.Error()) + "."
	}
	switch st := a.policy.Status(u.account(), now); {
	case st.Inactive && st.NoReactivation:
		return "Dit account is inactief omdat er 6 maanden niet mee is ingelogd, en kan niet worden gereactiveerd. Vraag uw organisatiebeheerder om u opnieuw aan te maken."
	case st.Inactive:
		return "Dit account is inactief omdat er lang niet mee is ingelogd. Vraag uw organisatiebeheerder om het te heractiveren."
	case st.TemporaryExpired:
		return "Uw tijdelijke wachtwoord is verlopen. Vraag via 'Wachtwoord vergeten?' een nieuw aan."
	}
	return ""
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// sendCode issues a verification code bound to this login attempt and sends
// it through the user's channel.
func (a *app) sendCode(ctx context.Context, u *user, attempt string) error {
	ch := otp.ChannelFunc(func(ctx context.Context, account, code string, expires time.Time) error {
		body := fmt.Sprintf("Uw verificatiecode is %s. De code is geldig tot %s. Heeft u niet geprobeerd in te loggen? Neem dan contact op met uw organisatiebeheerder.",
			code, expires.Local().Format("15:04"))
		return a.sender.SendCode(ctx, u, body, expires)
	})
	_, err := a.codes.Issue(ctx, ch, accountKey(u.Username), attempt)
	return err
}

type codePage struct {
	Error  string
	Notice string
	TOTP   bool
	Demo   bool
}

func (a *app) codeForm(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	a.render(w, r, http.StatusOK, "code", codePage{TOTP: u.Channel == "totp", Demo: a.cfg.Demo})
}

// verifyCode completes the login with the verification code or TOTP.
func (a *app) verifyCode(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u, s := userFrom(ctx), sessionFrom(ctx)
	code := strings.TrimSpace(r.PostFormValue("code"))
	var err error
	if u.Channel == "totp" {
		err = a.verifyTOTP(ctx, u, code)
	} else {
		err = a.codes.Verify(ctx, accountKey(u.Username), s.AttemptID, code)
	}
	if err != nil {
		// The package's own Dutch text for a wrong, expired or used code,
		// or a wait after too many failures.
		msg := password.ErrorMessage(err, language.Dutch)
		if msg == "" {
			a.serverError(w, r, err)
			return
		}
		a.metrics.codeFailed(err)
		a.render(w, r, http.StatusUnauthorized, "code", codePage{Error: msg, TOTP: u.Channel == "totp", Demo: a.cfg.Demo})
		return
	}
	_ = a.throttle.Reset(ctx, accountKey(u.Username))
	now := a.now()
	if _, err := a.db.ExecContext(ctx, `UPDATE users SET last_login_at = $1 WHERE id = $2`, usec(now), u.ID); err != nil {
		a.serverError(w, r, err)
		return
	}
	next := stageFull
	if a.policy.Status(u.account(), now).MustChange() {
		next = stageChange
	}
	// A new session id now that the user is fully logged in.
	if err := a.startSession(ctx, w, r, u.ID, next, ""); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.log.InfoContext(ctx, "login", "user", u.ID, "org", u.OrgID)
	a.metrics.login("success")
	if next == stageChange {
		http.Redirect(w, r, "/password", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// resendCode sends a new code for the same login attempt; the cooldown of
// one-time passwords keeps this from flooding the user's phone.
func (a *app) resendCode(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u, s := userFrom(ctx), sessionFrom(ctx)
	if err := a.sendCode(ctx, u, s.AttemptID); err != nil {
		var cd *otp.CooldownError
		if !errors.As(err, &cd) {
			a.serverError(w, r, err)
			return
		}
		a.render(w, r, http.StatusOK, "code", codePage{Error: a.cooldownMessage(cd), Demo: a.cfg.Demo})
		return
	}
	a.render(w, r, http.StatusOK, "code", codePage{Notice: "Er is een nieuwe code verstuurd.", Demo: a.cfg.Demo})
}

func (a *app) cooldownMessage(cd *otp.CooldownError) string {
	return cd.Message(language.Dutch)
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	a.endSession(r.Context(), w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

type passwordPage struct {
	Errors  []string
	Done    bool
	Token   string // for a reset link
	Expired bool
}

func (a *app) passwordForm(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "password", passwordPage{})
}

// changePassword sets a new password for the logged-in user.
func (a *app) changePassword(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := userFrom(ctx)
	if err := a.hasher.Verify(ctx, u.Hash, r.PostFormValue("current")); err != nil {
		a.render(w, r, http.StatusUnprocessableEntity, "password", passwordPage{Errors: []string{"Uw huidige wachtwoord is onjuist."}})
		return
	}
	errs, err := a.setPassword(ctx, u, r.PostFormValue("new"), r.PostFormValue("repeat"), false)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if len(errs) > 0 {
		a.render(w, r, http.StatusUnprocessableEntity, "password", passwordPage{Errors: errs})
		return
	}
	// A changed password is a change of privilege: a new session id.
	if err := a.startSession(ctx, w, r, u.ID, stageFull, ""); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "password", passwordPage{Done: true})
}

// setPassword checks pw against the policy and the history and stores it.
// It returns the violations in Dutch, or an error.
func (a *app) setPassword(ctx context.Context, u *user, pw, repeat string, temporary bool) ([]string, error) {
	if pw != repeat {
		return []string{"De twee nieuwe wachtwoorden zijn niet gelijk."}, nil
	}
	history, err := a.passwordHistory(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if err := a.policy.CheckNew(ctx, a.hasher, pw, u.pwUser(), history); err != nil {
		var perr *password.PolicyError
		if errors.As(err, &perr) {
			return perr.Messages(language.Dutch), nil
		}
		return nil, err
	}
	hash, err := a.hasher.Hash(ctx, pw)
	if err != nil {
		return nil, err
	}
	now := a.now()
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, password_set_at = $2, password_temporary = $3 WHERE id = $4`,
		hash, usec(now), temporary, u.ID); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO password_history (user_id, hash, set_at) VALUES ($1, $2, $3)`, u.ID, hash, usec(now)); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	// A password change invalidates every outstanding reset link.
	if err := a.resets.Revoke(ctx, u.ID); err != nil {
		return nil, err
	}
	u.Hash, u.PasswordSet, u.Temporary = hash, now, temporary
	return nil, nil
}

// passwordHistory returns the user's latest password hashes, newest first,
// as many as the policy compares against.
func (a *app) passwordHistory(ctx context.Context, userID string) ([]string, error) {
	n := max(a.policy.Config().History, 1)
	rows, err := a.db.QueryContext(ctx, `SELECT hash FROM password_history WHERE user_id = $1 ORDER BY set_at DESC LIMIT $2`, userID, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

type forgotPage struct{ Sent bool }

func (a *app) forgotForm(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "forgot", forgotPage{})
}

// forgot answers every request the same way, in about the same time, and
// sends a reset link (Portero) or a temporary password (Almere) only when
// the address belongs to an active account.
func (a *app) forgot(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	start := time.Now()
	defer a.render(w, r, http.StatusOK, "forgot", forgotPage{Sent: true})
	defer a.evenTiming(ctx, start)
	key, err := email.Mailbox(r.PostFormValue("email"))
	if err != nil {
		return
	}
	// Requests for one address are throttled like logins, so that nobody
	// floods a mailbox; a completed reset clears the count.
	if err := a.throttle.Attempt(ctx, resetKey(key)); err != nil {
		return
	}
	u, err := a.userBy(ctx, "email_key", key)
	if err != nil || !u.Deactivated.IsZero() {
		return
	}
	if err := a.sendReset(ctx, u); err != nil {
		a.log.ErrorContext(ctx, "password reset", "user", u.ID, "err", err)
	}
}

// sendReset sends a reset link or, under the Almere policy, a temporary
// password that must be replaced at the next login.
func (a *app) sendReset(ctx context.Context, u *user) error {
	if a.cfg.Policy == "almere" {
		temp, err := a.policy.TemporaryPassword(nil)
		if err != nil {
			return err
		}
		hash, err := a.hasher.Hash(ctx, temp)
		if err != nil {
			return err
		}
		if _, err := a.db.ExecContext(ctx, `UPDATE users SET password_hash = $1, password_set_at = $2, password_temporary = TRUE WHERE id = $3`,
			hash, usec(a.now()), u.ID); err != nil {
			return err
		}
		return a.sender.Send(ctx, u, "Nieuw wachtwoord", fmt.Sprintf(
			"Uw tijdelijke wachtwoord is: %s\nLog hiermee binnen een uur in; u wordt dan gevraagd een zelf gekozen wachtwoord in te stellen.", temp))
	}
	token, expires, err := a.resets.Issue(ctx, u.ID)
	if err != nil {
		return err
	}
	link := a.baseURL() + "/password/reset?token=" + url.QueryEscape(token)
	return a.sender.Send(ctx, u, "Wachtwoord herstellen", fmt.Sprintf(
		"Via deze link stelt u een nieuw wachtwoord in: %s\nDe link is geldig tot %s en werkt één keer.", link, expires.Local().Format("15:04")))
}

func (a *app) resetForm(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "reset", passwordPage{Token: r.URL.Query().Get("token")})
}

// reset sets a new password with a reset link's token.
func (a *app) reset(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	token := r.PostFormValue("token")
	pw, repeat := r.PostFormValue("new"), r.PostFormValue("repeat")
	if pw != repeat {
		a.render(w, r, http.StatusUnprocessableEntity, "reset", passwordPage{Token: token, Errors: []string{"De twee nieuwe wachtwoorden zijn niet gelijk."}})
		return
	}
	// Check the policy before redeeming, so that a rejected password does
	// not use up the link. The history check needs the user, so it comes
	// after; a password that fails it costs a new link.
	if err := a.policy.Check(pw, password.User{}); err != nil {
		var perr *password.PolicyError
		if errors.As(err, &perr) {
			a.render(w, r, http.StatusUnprocessableEntity, "reset", passwordPage{Token: token, Errors: perr.Messages(language.Dutch)})
			return
		}
	}
	account, err := a.resets.Redeem(ctx, token)
	if err != nil {
		if errors.Is(err, reset.ErrInvalid) {
			a.render(w, r, http.StatusGone, "reset", passwordPage{Expired: true})
			return
		}
		a.serverError(w, r, err)
		return
	}
	u, err := a.userBy(ctx, "id", account)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	errs, err := a.setPassword(ctx, u, pw, repeat, false)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if len(errs) > 0 {
		errs = append(errs, "Vraag een nieuwe herstellink aan.")
		a.render(w, r, http.StatusUnprocessableEntity, "reset", passwordPage{Errors: errs, Expired: true})
		return
	}
	// Every session of the user ends: whoever knew the old password is out.
	// A reset is also what lifts a lockout after too many failures.
	if _, err := a.db.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, u.ID); err != nil {
		a.serverError(w, r, err)
		return
	}
	emailKey, _ := email.Mailbox(u.Email)
	for _, k := range []string{passwordKey(u.Username), accountKey(u.Username), resetKey(emailKey)} {
		if err := a.throttle.Reset(ctx, k); err != nil {
			a.serverError(w, r, err)
			return
		}
	}
	a.render(w, r, http.StatusOK, "reset", passwordPage{Done: true})
}

// verifyTOTP checks an authenticator code, counting the attempt first, and
// records its step so that it works only once.
func (a *app) verifyTOTP(ctx context.Context, u *user, code string) error {
	key := accountKey(u.Username)
	if err := a.throttle.Attempt(ctx, key); err != nil {
		return err
	}
	secret, err := a.totpSecret(u)
	if err != nil {
		return err
	}
	step, err := a.totp.Verify(secret, code, u.TOTPStep)
	if err != nil {
		return err
	}
	res, err := a.db.ExecContext(ctx, `UPDATE users SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2`, u.ID, step)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return otp.ErrUsed
	}
	return nil
}

// totpSecret decrypts the user's TOTP secret.
func (a *app) totpSecret(u *user) ([]byte, error) {
	if len(u.TOTPSecret) == 0 {
		return nil, otp.ErrNotIssued
	}
	return a.field.Decrypt("users.totp_secret:"+u.ID, string(u.TOTPSecret))
}

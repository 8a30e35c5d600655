package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
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
	resetConfig := throttle.Accounts(throttleStore{a.db})
	resetConfig.Lockout = -1
	resetConfig.Now = a.clock
	if a.resetRequests, err = throttle.New(resetConfig); err != nil {
		return err
	}
	srcConfig := throttle.Sources(throttleStore{a.db})
	srcConfig.Now = a.clock
	if a.sources, err = throttle.New(srcConfig); err != nil {
		return err
	}
	if a.codes, err = otp.NewOutOfBand(otp.Config{Key: a.keys.Code, Store: codeStore{a.db}, Limiter: a.throttle, Now: a.clock}); err != nil {
		return err
	}
	if a.resets, err = reset.New(reset.Config{Store: resetStore{a.db}, Now: a.clock}); err != nil {
		return err
	}
	a.totp = &otp.TOTP{Now: a.clock}
	return a.rekeyEmails(context.Background())
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

// sourceKey is the source throttle's key for the client's address: an IPv4
// address, or an IPv6 address's /64 prefix (one network gets a /64, so an
// attacker can pick any address within it).
func sourceKey(r *http.Request) string {
	ip := clientIP(r)
	if addr, err := netip.ParseAddr(ip); err == nil {
		addr = addr.Unmap()
		if addr.Is6() {
			p, _ := addr.WithZone("").Prefix(64)
			return "ip:" + p.String()
		}
		return "ip:" + addr.String()
	}
	return "ip:" + ip
}

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

// msgBusy is the answer when too many passwords are being checked at once.
const msgBusy = "Het is op dit moment erg druk. Probeer het over enkele seconden opnieuw."

// busyRetryAfter is the Retry-After of that answer, in seconds.
const busyRetryAfter = "2"

// Login throttling (issue 10, hole 6). Two throttles guard the password
// step, each with the rule that fits what it counts:
//
//   - The account (the submitted username, known or not) stops guessing at
//     one account from many addresses. An attempt counts as a failure from
//     the moment it begins and is forgiven once the password proves right,
//     so that concurrent guesses cannot slip past the count. The checks of
//     one account take turns within the process (keyTurns), so that a
//     user's own simultaneous correct logins (two tabs, a double click)
//     never count against each other; an attempt that could not be checked
//     (the hashing was full, the client left) is withdrawn.
//   - The source address (an IPv6 /64) stops one address from trying
//     passwords on many accounts. Many colleagues share one office address,
//     so only wrong passwords count, after the fact, and they leak away one
//     a minute: any number of correct logins pass, at the same moment too,
//     while an address that makes more than 20 failures soon waits (up to 15
//     minutes a time, as long as the failures go on). It never locks, and a
//     success does not clear it (an attacker with an account of their own
//     could otherwise clear it at will). See package throttle.

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
	u, err := a.checkPassword(ctx, username, pw, sourceKey(r))
	switch {
	case errors.Is(err, errWrongPassword):
		a.metrics.login("wrong_password")
		fail()
		return
	case errors.Is(err, throttle.ErrThrottled):
		a.metrics.login("throttled")
		fail()
		return
	case errors.Is(err, password.ErrBusy):
		// Nothing was checked or counted: come back in a moment.
		a.busy(w, r, "login", loginPage{Error: msgBusy, Username: username})
		return
	case err != nil:
		a.serverError(w, r, err)
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
	attempt := newID()
	if err := a.startSession(ctx, w, r, u.ID, stageCode, attempt); err != nil {
		a.serverError(w, r, err)
		return
	}
	if u.Channel != "totp" {
		if err := a.sendCode(ctx, u, attempt); err != nil {
			status, page, ok := a.codeNotSent(err)
			if !ok {
				a.serverError(w, r, err)
				return
			}
			a.evenTiming(ctx, start)
			a.render(w, r, status, "code", page)
			return
		}
	}
	a.evenTiming(ctx, start)
	http.Redirect(w, r, "/login/code", http.StatusSeeOther)
}

// errWrongPassword is checkPassword's answer for an unknown user or a wrong
// password, told apart by nobody.
var errWrongPassword = errors.New("unknown user or wrong password")

// checkPassword checks username's password (or temporary password) under
// both throttles and returns the user. It returns errWrongPassword (counted
// against the account and the source), an error matching
// throttle.ErrThrottled, password.ErrBusy (nothing counted), or another
// error.
func (a *app) checkPassword(ctx context.Context, username, pw, source string) (*user, error) {
	if err := a.sources.Check(ctx, source); err != nil {
		if errors.Is(err, throttle.ErrThrottled) {
			a.log.WarnContext(ctx, "login throttled", "key", "ip")
		}
		return nil, err
	}
	key := passwordKey(username)
	release, err := a.turns.take(ctx, key)
	if err != nil {
		return nil, err
	}
	defer release()
	if err := a.throttle.Attempt(ctx, key); err != nil {
		if errors.Is(err, throttle.ErrThrottled) {
			a.log.WarnContext(ctx, "login throttled", "key", "password")
		}
		return nil, err
	}
	u, err := a.userBy(ctx, "username", username)
	switch {
	case errors.Is(err, errNotFound):
		// As long as a wrong password takes: the hash, and the look-up of
		// a temporary password (which finds none).
		err = a.hasher.VerifyUnknown(ctx, pw)
		if errors.Is(err, password.ErrMismatch) {
			_, _ = a.resets.RedeemTemporary(ctx, "", pw)
		}
	case err == nil:
		err = a.hasher.Verify(ctx, u.Hash, pw)
		if errors.Is(err, password.ErrMismatch) {
			err = a.useTemporary(ctx, u, pw)
		}
	}
	switch {
	case err == nil && u != nil:
		if a.hasher.NeedsRehash(u.Hash) {
			if h, err := a.hasher.Hash(ctx, pw); err == nil {
				_, _ = a.db.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, h, u.ID)
			}
		}
		// The password is proven: the account's count starts again. Wrong
		// codes count on the account's own key (accountKey), which only a
		// complete login resets: asking for new codes buys no guesses.
		if err := a.throttle.Reset(ctx, key); err != nil {
			return nil, err
		}
		return u, nil
	case errors.Is(err, password.ErrMismatch), errors.Is(err, password.ErrTooLong):
		if err := a.sources.Fail(ctx, source); err != nil {
			return nil, err
		}
		return nil, errWrongPassword
	case errors.Is(err, password.ErrBusy), ctx.Err() != nil:
		// Never checked: withdraw the attempt (on a fresh context, since
		// the request's may have ended).
		if cerr := a.throttle.Cancel(context.WithoutCancel(ctx), key); cerr != nil {
			return nil, cerr
		}
		return nil, err
	case err == nil:
		return nil, errors.New("login: an unknown user's password verified")
	default:
		if u != nil {
			a.log.ErrorContext(ctx, "verify password", "user", u.ID, "err", err)
		}
		return nil, err
	}
}

// busy answers a request that found the password hashing full with 503 and
// Retry-After, on page with data.
func (a *app) busy(w http.ResponseWriter, r *http.Request, page string, data any) {
	a.log.WarnContext(r.Context(), "refused: password hashing is full", "path", r.URL.Path)
	w.Header().Set("Retry-After", busyRetryAfter)
	a.render(w, r, http.StatusServiceUnavailable, page, data)
}

// useTemporary checks pw, which did not match u's password, as u's
// temporary password (Almere: "wachtwoord vergeten" sends one). If it is,
// it becomes u's password, marked temporary and dated when it was issued,
// so that it must be replaced at once and expires as it would have unused;
// the current password has kept working until now. It returns
// password.ErrMismatch if pw is not u's valid temporary password.
func (a *app) useTemporary(ctx context.Context, u *user, pw string) error {
	issued, err := a.resets.RedeemTemporary(ctx, u.ID, pw)
	if errors.Is(err, reset.ErrInvalid) {
		return password.ErrMismatch
	}
	if err != nil {
		return err
	}
	// The temporary password is used up from here: should hashing or the
	// update fail, the current password still works and the user asks for
	// a new temporary one.
	hash, err := a.hasher.Hash(context.WithoutCancel(ctx), pw)
	if err != nil {
		return fmt.Errorf("hashing a used temporary password: %w", err)
	}
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := setTemporaryHash(ctx, tx, u.ID, hash, issued); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	u.Hash, u.PasswordSet, u.Temporary = hash, issued, true
	a.log.InfoContext(ctx, "temporary password used", "user", u.ID)
	return nil
}

// keyTurns lets the holders of one key take turns: the password checks of
// one account in this process run one after the other. The zero value is
// ready for use.
type keyTurns struct {
	mu sync.Mutex
	m  map[string]*keyTurn
}

type keyTurn struct {
	ch      chan struct{} // holds a token while the turn is taken
	waiting int           // holders and waiters; the entry goes when 0
}

// take waits for key's turn and returns the function that ends it, or ctx's
// error if ctx ends first.
func (k *keyTurns) take(ctx context.Context, key string) (release func(), err error) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyTurn{}
	}
	t := k.m[key]
	if t == nil {
		t = &keyTurn{ch: make(chan struct{}, 1)}
		k.m[key] = t
	}
	t.waiting++
	k.mu.Unlock()
	done := func() {
		k.mu.Lock()
		if t.waiting--; t.waiting == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
	select {
	case t.ch <- struct{}{}:
		return func() { <-t.ch; done() }, nil
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
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
// one-time passwords keeps this from flooding the user's phone. A user of
// an authenticator app gets no code (the login would not take it): the page
// points to the app, as it does without the button.
func (a *app) resendCode(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u, s := userFrom(ctx), sessionFrom(ctx)
	if u.Channel == "totp" {
		a.render(w, r, http.StatusOK, "code", codePage{TOTP: true, Demo: a.cfg.Demo})
		return
	}
	if err := a.sendCode(ctx, u, s.AttemptID); err != nil {
		status, page, ok := a.codeNotSent(err)
		if !ok {
			a.serverError(w, r, err)
			return
		}
		a.render(w, r, status, "code", page)
		return
	}
	a.render(w, r, http.StatusOK, "code", codePage{Notice: "Er is een nieuwe code verstuurd.", Demo: a.cfg.Demo})
}

// codeNotSent returns the status and code page for err of sendCode when it
// sent nothing on purpose, or false for another error: within the cooldown
// (a login right after the previous one replaced that one's code, and a new
// one may be sent after it), or while the account waits after too many
// wrong codes, which the user with the right password may be told.
func (a *app) codeNotSent(err error) (int, codePage, bool) {
	var cd *otp.CooldownError
	switch {
	case errors.As(err, &cd):
		return http.StatusOK, codePage{Error: a.cooldownMessage(cd), Demo: a.cfg.Demo}, true
	case errors.Is(err, throttle.ErrThrottled):
		return http.StatusTooManyRequests, codePage{Error: password.ErrorMessage(err, language.Dutch), Demo: a.cfg.Demo}, true
	}
	return 0, codePage{}, false
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
	// The current password is checked as at the login, under both
	// throttles: else a stolen session could guess it unthrottled here.
	switch _, err := a.checkPassword(ctx, u.Username, r.PostFormValue("current"), sourceKey(r)); {
	case errors.Is(err, errWrongPassword):
		a.render(w, r, http.StatusUnprocessableEntity, "password", passwordPage{Errors: []string{"Uw huidige wachtwoord is onjuist."}})
		return
	case errors.Is(err, throttle.ErrThrottled):
		a.render(w, r, http.StatusTooManyRequests, "password", passwordPage{Errors: []string{
			"Uw huidige wachtwoord is te vaak onjuist ingevuld. " + password.ErrorMessage(err, language.Dutch)}})
		return
	case errors.Is(err, password.ErrBusy):
		a.busy(w, r, "password", passwordPage{Errors: []string{msgBusy}})
		return
	case err != nil:
		a.serverError(w, r, err)
		return
	}
	errs, err := a.setPassword(ctx, u, r.PostFormValue("new"), r.PostFormValue("repeat"), false)
	if errors.Is(err, password.ErrBusy) {
		a.busy(w, r, "password", passwordPage{Errors: []string{msgBusy}})
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if len(errs) > 0 {
		a.render(w, r, http.StatusUnprocessableEntity, "password", passwordPage{Errors: errs})
		return
	}
	// Whoever knew the old password is out: setPassword ended every
	// session of the user, also one waiting at the code step. A changed
	// password is a change of privilege: this one goes on with a new
	// session id.
	if err := a.renewSession(ctx, w, r, stageFull); err != nil {
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
	// In the same transaction, so that a crash cannot store the new
	// password and leave the old one's sessions or links working: every
	// session of the user ends (whoever knew the old password is out), and
	// every outstanding reset link is revoked.
	if err := endSessionsIn(ctx, tx, u.ID); err != nil {
		return nil, err
	}
	if err := deleteResetTokens(ctx, tx, u.ID); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	u.Hash, u.PasswordSet, u.Temporary = hash, now, temporary
	return nil, nil
}

// setTemporaryHash makes hash, of a temporary password set at setAt, the
// user's password in tx. It enters the history, as Policy.CheckNew wants
// the previous passwords with the current one (so that the temporary
// password is not chosen again as the new one), and revokes the reset links
// asked for before, as package reset wants whenever the password changes:
// one would set another password after this one.
func setTemporaryHash(ctx context.Context, tx *sql.Tx, userID, hash string, setAt time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, password_set_at = $2, password_temporary = TRUE WHERE id = $3`,
		hash, usec(setAt), userID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO password_history (user_id, hash, set_at) VALUES ($1, $2, $3)`, userID, hash, usec(setAt)); err != nil {
		return err
	}
	return deleteResetTokens(ctx, tx, userID)
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
	// floods a mailbox, but never locked; a completed reset clears the
	// count.
	if err := a.resetRequests.Attempt(ctx, resetKey(key)); err != nil {
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
		// The current password keeps working until the temporary one is
		// used: anyone can ask for one, and nobody may lock the user out.
		temp, expires, err := a.resets.IssueTemporary(ctx, u.ID, a.policy)
		if err != nil {
			return err
		}
		return a.sender.Send(ctx, u, "Nieuw wachtwoord", fmt.Sprintf(
			"Uw tijdelijke wachtwoord is: %s\nLog hiermee in vóór %s; u wordt dan gevraagd een zelf gekozen wachtwoord in te stellen. Het werkt één keer.\n"+
				"Tot u het gebruikt, blijft uw huidige wachtwoord geldig. Heeft u dit niet aangevraagd? Dan kunt u dit bericht negeren.",
			temp, expires.Local().Format("15:04")))
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
	if errors.Is(err, password.ErrBusy) {
		// Rare (the queue was full just now), but the link is used up.
		a.busy(w, r, "reset", passwordPage{Errors: []string{msgBusy, "Vraag een nieuwe herstellink aan."}, Expired: true})
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if len(errs) > 0 {
		errs = append(errs, "Vraag een nieuwe herstellink aan.")
		a.render(w, r, http.StatusUnprocessableEntity, "reset", passwordPage{Errors: errs, Expired: true})
		return
	}
	crashPoint("reset.stored")
	// setPassword ended every session of the user. A reset is also what
	// lifts a lockout after too many failures.
	emailKey, _ := email.Mailbox(u.Email)
	for _, k := range []string{passwordKey(u.Username), accountKey(u.Username)} {
		if err := a.throttle.Reset(ctx, k); err != nil {
			a.serverError(w, r, err)
			return
		}
	}
	if err := a.resetRequests.Reset(ctx, resetKey(emailKey)); err != nil {
		a.serverError(w, r, err)
		return
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

package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/password"
	"github.com/zorgkit/zorgkit/password/email"
)

type usersPage struct {
	Users   []*user
	Errors  []string
	Created string // username of a user just created
	Form    newUserForm
}

type newUserForm struct {
	Username, Name, Email, Phone, Channel, Role string
}

// usersPage lists the users of the administrator's own organisation.
func (a *app) usersPage(w http.ResponseWriter, r *http.Request) {
	a.renderUsers(w, r, http.StatusOK, usersPage{})
}

func (a *app) renderUsers(w http.ResponseWriter, r *http.Request, status int, p usersPage) {
	admin := userFrom(r.Context())
	users, err := a.usersOf(r.Context(), admin.OrgID)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	p.Users = users
	a.render(w, r, status, "users", p)
}

// createUser adds a user to the administrator's own organisation, with a
// unique business address in one of the organisation's domains (no role
// mailbox such as info@), and sends a temporary password to that address.
func (a *app) createUser(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	admin := userFrom(ctx)
	f := newUserForm{
		Username: strings.TrimSpace(r.PostFormValue("username")),
		Name:     strings.TrimSpace(r.PostFormValue("name")),
		Email:    strings.TrimSpace(r.PostFormValue("email")),
		Phone:    strings.TrimSpace(r.PostFormValue("phone")),
		Channel:  r.PostFormValue("channel"),
		Role:     r.PostFormValue("role"),
	}
	var errs []string
	if f.Username == "" || len(f.Username) > 64 || strings.ContainsAny(f.Username, " \t@") {
		errs = append(errs, "Kies een gebruikersnaam van hoogstens 64 tekens, zonder spaties of @.")
	}
	if f.Name == "" || len(f.Name) > 200 {
		errs = append(errs, "Vul de naam in.")
	}
	if f.Channel != "email" && f.Channel != "sms" {
		errs = append(errs, "Kies e-mail of sms voor de verificatiecode.")
	}
	if f.Channel == "sms" && f.Phone == "" {
		errs = append(errs, "Vul voor sms een mobiel nummer in.")
	}
	if f.Channel == "sms" && a.transports["sms"] == nil {
		errs = append(errs, "Dit portaal verstuurt geen sms (er is geen sms-gateway ingesteld); kies e-mail.")
	}
	if f.Role != string(roleUser) && f.Role != string(roleAdmin) {
		errs = append(errs, "Kies de rol gebruiker of organisatiebeheerder.")
	}
	rules := email.Rules{
		Domains: admin.Org.Domains,
		Taken: func(ctx context.Context, key string) (bool, error) {
			var n int
			err := a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE email_key = $1`, key).Scan(&n)
			return n > 0, err
		},
	}
	if err := rules.Check(ctx, f.Email); err != nil {
		var eerr *email.Error
		if !errors.As(err, &eerr) {
			a.serverError(w, r, err)
			return
		}
		errs = append(errs, eerr.Messages(language.Dutch)...)
	}
	if len(errs) > 0 {
		a.renderUsers(w, r, http.StatusUnprocessableEntity, usersPage{Errors: errs, Form: f})
		return
	}
	emailKey, _ := email.Mailbox(f.Email)
	temp, err := a.policy.TemporaryPassword(nil)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	hash, err := a.hasher.Hash(ctx, temp)
	if errors.Is(err, password.ErrBusy) {
		w.Header().Set("Retry-After", busyRetryAfter)
		a.renderUsers(w, r, http.StatusServiceUnavailable, usersPage{Errors: []string{msgBusy}, Form: f})
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	now := a.now()
	u := &user{ID: newID(), OrgID: admin.OrgID, Org: admin.Org, Username: f.Username, Name: f.Name, Email: f.Email, Phone: f.Phone,
		Channel: f.Channel, Role: role(f.Role), Hash: hash, PasswordSet: now, Temporary: true, Created: now}
	// The user and the mail with the temporary password commit together:
	// a crash leaves neither (the administrator creates the user again),
	// never a user who will not hear of the account.
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	defer tx.Rollback()
	err = insertUserTx(ctx, tx, u, emailKey)
	if err == nil {
		err = a.sender.SendTx(ctx, tx, u, "Uw account", fmt.Sprintf(
			"Er is een account voor u aangemaakt.\nGebruikersnaam: %s\nTijdelijk wachtwoord: %s\nLog binnen een uur in; u kiest dan zelf een wachtwoord.", u.Username, temp))
	}
	if err == nil {
		crashPoint("user.creating")
		err = tx.Commit()
	}
	if err != nil {
		// The unique indexes settle two administrators creating the same
		// user or address at once.
		if isUniqueViolation(err) {
			a.renderUsers(w, r, http.StatusConflict, usersPage{Errors: []string{"Deze gebruikersnaam of dit e-mailadres is al in gebruik."}, Form: f})
			return
		}
		a.serverError(w, r, err)
		return
	}
	crashPoint("user.created")
	a.wakeOutbox()
	a.log.InfoContext(ctx, "user created", "by", admin.ID, "user", u.ID, "org", u.OrgID)
	a.renderUsers(w, r, http.StatusOK, usersPage{Created: u.Username})
}

// deleteUser removes a user of the administrator's own organisation, with
// their sessions, messages, password history and reset link (which would
// otherwise answer 500 when used). A user of another organisation is "not
// found", the same as one that does not exist.
func (a *app) deleteUser(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	admin := userFrom(ctx)
	id := r.PathValue("id")
	if id == admin.ID {
		a.renderUsers(w, r, http.StatusUnprocessableEntity, usersPage{Errors: []string{"U kunt uzelf niet verwijderen."}})
		return
	}
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	defer tx.Rollback()
	for _, q := range []string{
		`DELETE FROM sessions WHERE user_id = $1 AND user_id IN (SELECT id FROM users WHERE org_id = $2)`,
		`DELETE FROM outbox WHERE user_id = $1 AND user_id IN (SELECT id FROM users WHERE org_id = $2)`,
		`DELETE FROM password_history WHERE user_id = $1 AND user_id IN (SELECT id FROM users WHERE org_id = $2)`,
		`DELETE FROM reset_tokens WHERE account = $1 AND account IN (SELECT id FROM users WHERE org_id = $2)`,
	} {
		if _, err := tx.ExecContext(ctx, q, id, admin.OrgID); err != nil {
			a.serverError(w, r, err)
			return
		}
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = $1 AND org_id = $2`, id, admin.OrgID)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if n, _ := res.RowsAffected(); n != 1 {
		http.NotFound(w, r)
		return
	}
	if err := tx.Commit(); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.log.InfoContext(ctx, "user deleted", "by", admin.ID, "user", id)
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
}

// isUniqueViolation reports whether err is a unique constraint violation, on
// SQLite or PostgreSQL.
func isUniqueViolation(err error) bool {
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}

// rekeyEmails recomputes users.email_key as the mailbox of each user's
// address (migration 008), once: the pending row and the new keys commit
// together, and a second instance that started at the same moment finds the
// row gone and changes nothing. Two existing accounts with one mailbox
// (piet@ and piet+x@) keep their old keys, so that both can still be found,
// and are logged by id for an administrator to resolve.
func (a *app) rekeyEmails(ctx context.Context) error {
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM pending_rekeys WHERE what = 'users.email_key'`)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err // nothing pending
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, email, email_key FROM users ORDER BY created_at, id`)
	if err != nil {
		return err
	}
	type change struct{ id, key string }
	var changes []change
	holders := map[string][]string{} // mailbox -> ids of the users that would have it
	for rows.Next() {
		var id, addr, old string
		if err := rows.Scan(&id, &addr, &old); err != nil {
			rows.Close()
			return err
		}
		key, err := email.Mailbox(addr)
		if err != nil {
			key = old // an address the rules no longer accept: left as it is
		}
		holders[key] = append(holders[key], id)
		if key != old {
			changes = append(changes, change{id, key})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range changes {
		if ids := holders[c.key]; len(ids) > 1 {
			a.log.WarnContext(ctx, "users share one mailbox: their e-mail keys are left as they were; give each its own address", "users", strings.Join(ids, ","))
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET email_key = $1 WHERE id = $2`, c.key, c.id); err != nil {
			return fmt.Errorf("rekeying user %s: %w", c.id, err)
		}
	}
	return tx.Commit()
}

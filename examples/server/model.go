package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/password"
)

// orgKind is what an organisation is to the portal.
type orgKind string

const (
	kindOwner        orgKind = "owner"        // runs the portal (CIZ, the TTP)
	kindProvider     orgKind = "provider"     // a care provider (zorgaanbieder)
	kindMunicipality orgKind = "municipality" // buys care, reads the reports
)

// organisation is a customer of the portal.
type organisation struct {
	ID              string
	Name            string
	Kind            orgKind
	Domains         []string
	MunicipalityID  string // a provider's contracting municipality
	CBSCode         string // a municipality's gemeentecode, such as "0034"
	ContractStart   time.Time
	ContractEnd     time.Time
	DPARegistered   time.Time // the processing agreement (verwerkersovereenkomst)
	Suspended       time.Time
	SuspendedReason string

	// The onboarding of a provider: registered by its municipality, then
	// the survey and the processing agreement.
	RegisteredBy   string // the municipality's organisation id
	Registered     time.Time
	SurveySent     time.Time
	SurveyReceived time.Time
	DPASent        time.Time
	AccessGranted  time.Time // the account details were sent
}

// Errors of organisation.access, shown to the user after a correct password.
var (
	errNoContract    = errors.New("uw organisatie heeft nog geen geregistreerd contract en verwerkersovereenkomst; neem contact op met de portaalbeheerder")
	errContractEnded = errors.New("het contract van uw organisatie is beëindigd; neem contact op met de portaalbeheerder")
	errSuspended     = errors.New("de toegang van uw organisatie is opgeschort; neem contact op met de portaalbeheerder")
	errOnboarding    = errors.New("uw organisatie is nog niet aangesloten: wij wachten nog op de ingevulde enquête of de ondertekende verwerkersovereenkomst")
)

// access tells whether the organisation's users may use the portal at now:
// only with a registered contract and processing agreement (and for a
// provider the survey), until the contract's end, and not while suspended.
// The portal owner always may.
func (o *organisation) access(now time.Time) error {
	switch {
	case o.Kind == kindOwner:
		return nil
	case !o.Suspended.IsZero():
		return errSuspended
	case o.ContractEnd.IsZero() || now.Before(o.ContractStart):
		return errNoContract
	case o.DPARegistered.IsZero() || o.Kind == kindProvider && o.SurveyReceived.IsZero():
		return errOnboarding
	case !now.Before(o.ContractEnd):
		return errContractEnded
	}
	return nil
}

// role is what a user may do.
type role string

const (
	roleUser         role = "user"         // a provider's employee (zorgaanmelder)
	roleAdmin        role = "admin"        // a provider's organisation administrator, also a user
	roleAuditor      role = "auditor"      // the portal owner's staff
	roleMunicipality role = "municipality" // a municipality's employee
)

// user is an account.
type user struct {
	ID          string
	OrgID       string
	Username    string
	Name        string
	Email       string
	Phone       string
	Channel     string // email, sms or totp: where the second factor comes from
	Role        role
	Hash        string
	PasswordSet time.Time
	Temporary   bool
	LastLogin   time.Time
	Deactivated time.Time
	TOTPSecret  []byte // encrypted
	TOTPStep    int64
	Created     time.Time

	Org     *organisation
	notices []string // shown on every page of this request
}

// account returns what password.Policy.Status needs.
func (u *user) account() password.Account {
	return password.Account{Created: u.Created, LastLogin: u.LastLogin, PasswordSet: u.PasswordSet, Temporary: u.Temporary}
}

// pwUser returns what the password rules compare against.
func (u *user) pwUser() password.User {
	return password.User{Name: u.Name, Username: u.Username, Email: u.Email}
}

// actor is the user as the consent registry records who did something.
func (u *user) actor() consent.Actor {
	return consent.Actor{User: u.ID, Organisation: consent.Organisation(u.OrgID)}
}

// newID returns a random identifier for a row.
func newID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

const orgColumns = `id, name, kind, domains, municipality_id, cbs_code, contract_start, contract_end, dpa_registered_at, suspended_at, suspended_reason,
	registered_by, registered_at, survey_sent_at, survey_received_at, dpa_sent_at, access_granted_at`

type scanner interface{ Scan(dest ...any) error }

func scanOrg(s scanner) (*organisation, error) {
	var o organisation
	var kind, domains string
	var start, end, dpa, susp, reg, surveySent, surveyIn, dpaSent, granted int64
	if err := s.Scan(&o.ID, &o.Name, &kind, &domains, &o.MunicipalityID, &o.CBSCode, &start, &end, &dpa, &susp, &o.SuspendedReason,
		&o.RegisteredBy, &reg, &surveySent, &surveyIn, &dpaSent, &granted); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound
		}
		return nil, err
	}
	o.Kind, o.Domains = orgKind(kind), strings.Fields(domains)
	o.ContractStart, o.ContractEnd, o.DPARegistered, o.Suspended = fromUsec(start), fromUsec(end), fromUsec(dpa), fromUsec(susp)
	o.Registered, o.SurveySent, o.SurveyReceived, o.DPASent, o.AccessGranted = fromUsec(reg), fromUsec(surveySent), fromUsec(surveyIn), fromUsec(dpaSent), fromUsec(granted)
	return &o, nil
}

func (a *app) org(ctx context.Context, id string) (*organisation, error) {
	return scanOrg(a.db.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM organisations WHERE id = $1`, id))
}

func (a *app) orgs(ctx context.Context, kind orgKind) ([]*organisation, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT `+orgColumns+` FROM organisations WHERE kind = $1 ORDER BY name`, string(kind))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*organisation
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

func (a *app) insertOrg(ctx context.Context, o *organisation) error {
	return a.insertOrgIn(ctx, a.db, o)
}

// insertOrgIn is insertOrg through db, which may be a transaction.
func (a *app) insertOrgIn(ctx context.Context, db execer, o *organisation) error {
	_, err := db.ExecContext(ctx, `INSERT INTO organisations (`+orgColumns+`, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		o.ID, o.Name, string(o.Kind), strings.Join(o.Domains, " "), o.MunicipalityID, o.CBSCode,
		usec(o.ContractStart), usec(o.ContractEnd), usec(o.DPARegistered), usec(o.Suspended), o.SuspendedReason,
		o.RegisteredBy, usec(o.Registered), usec(o.SurveySent), usec(o.SurveyReceived), usec(o.DPASent), usec(o.AccessGranted), usec(a.now()))
	return err
}

const userColumns = `id, org_id, username, name, email, phone, channel, role, password_hash, password_set_at, password_temporary, last_login_at, deactivated_at, totp_secret, totp_last_step, created_at`

func scanUser(s scanner) (*user, error) {
	var u user
	var r string
	var set, last, deact, created int64
	if err := s.Scan(&u.ID, &u.OrgID, &u.Username, &u.Name, &u.Email, &u.Phone, &u.Channel, &r, &u.Hash, &set, &u.Temporary, &last, &deact, &u.TOTPSecret, &u.TOTPStep, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound
		}
		return nil, err
	}
	u.Role = role(r)
	u.PasswordSet, u.LastLogin, u.Deactivated, u.Created = fromUsec(set), fromUsec(last), fromUsec(deact), fromUsec(created)
	return &u, nil
}

// userBy returns the user whose column col equals v, with the organisation,
// in one query: it runs on every request, to check the session.
func (a *app) userBy(ctx context.Context, col, v string) (*user, error) {
	switch col {
	case "id", "username", "email_key":
	default:
		panic("userBy: unknown column " + col)
	}
	return scanUserOrg(a.db.QueryRowContext(ctx, `SELECT `+userOrgColumns+` FROM users u JOIN organisations o ON o.id = u.org_id WHERE u.`+col+` = $1`, v))
}

// scanUserOrg scans the userOrgColumns of a row into a user with its
// organisation, or returns errNotFound for no row.
func scanUserOrg(row scanner) (*user, error) {
	// scanUser and scanOrg each convert their own columns; the row has both.
	var org *organisation
	u, err := scanUser(scanFunc(func(userDest ...any) error {
		var err error
		org, err = scanOrg(scanFunc(func(orgDest ...any) error {
			return row.Scan(append(userDest, orgDest...)...)
		}))
		return err
	}))
	if err != nil {
		return nil, err
	}
	u.Org = org
	return u, nil
}

// userOrgColumns are userColumns and orgColumns of users u joined with
// organisations o.
var userOrgColumns = "u." + strings.ReplaceAll(userColumns, ", ", ", u.") + ", o." + strings.ReplaceAll(orgColumns, ", ", ", o.")

// scanFunc adapts a function to a scanner.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

func (a *app) usersOf(ctx context.Context, orgID string) ([]*user, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE org_id = $1 ORDER BY username`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*user
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// insertUser creates a user with a first password, recorded in the history.
func (a *app) insertUser(ctx context.Context, u *user, emailKey string) error {
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := insertUserTx(ctx, tx, u, emailKey); err != nil {
		return err
	}
	return tx.Commit()
}

// insertUserTx is insertUser in tx, with whatever else must commit with it.
func insertUserTx(ctx context.Context, tx *sql.Tx, u *user, emailKey string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO users (`+userColumns+`, email_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		u.ID, u.OrgID, u.Username, u.Name, u.Email, u.Phone, u.Channel, string(u.Role), u.Hash,
		usec(u.PasswordSet), u.Temporary, usec(u.LastLogin), usec(u.Deactivated), u.TOTPSecret, u.TOTPStep, usec(u.Created), emailKey); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO password_history (user_id, hash, set_at) VALUES ($1, $2, $3)`, u.ID, u.Hash, usec(u.PasswordSet))
	return err
}

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/bsn"
	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/pseudonym"
)

// The purposes whose data a provider can open, in the order Portero asks
// for consent; the fourth, the client's authorisation to request medical
// information from a practitioner, is recorded but opens nothing here.
var clientPurposes = []consent.Purpose{consent.PurposeViewNAW, consent.PurposeConsultIndication, consent.PurposeTakeOverIndication}

// pagePurposes are the purposes the client page shows: those that open
// data, then the medical authorisation.
var pagePurposes = append(slices.Clip(clientPurposes), consent.PurposeMedicalInformation)

var purposeText = map[consent.Purpose]string{
	consent.PurposeViewNAW:            "NAW-gegevens inzien",
	consent.PurposeConsultIndication:  "een indicatie raadplegen",
	consent.PurposeTakeOverIndication: "indicatiegegevens overnemen",
	consent.PurposeMedicalInformation: "medische informatie opvragen bij een behandelaar",
}

// purposeTitle is purposeText capitalised, the heading of a purpose on the
// client page.
var purposeTitle = func() map[consent.Purpose]string {
	m := make(map[consent.Purpose]string, len(purposeText))
	for p, t := range purposeText {
		m[p] = capitalise(t)
	}
	return m
}()

// reasonTexts keeps the Dutch sentence of each decision's reason:
// Reason.Message builds a message.Printer on every call (a tenth of a
// lookup's allocations, for four reasons per page), and the sentence
// depends on the code alone (the catalogue is fixed when built). The codes
// are the consent library's, a handful.
var reasonTexts sync.Map // consent.Reason -> string

// reasonText returns r.Message(language.Dutch).
func reasonText(r consent.Reason) string {
	if t, ok := reasonTexts.Load(r); ok {
		return t.(string)
	}
	t := r.Message(language.Dutch)
	reasonTexts.Store(r, t)
	return t
}

type clientsPage struct {
	Error  string
	Client *clientView
}

// clientView is a looked-up client as the provider sees it: masked, with what
// each purpose allows.
type clientView struct {
	Handle   string // names the client in forms, for this session only (clienthandle.go)
	Masked   string
	Purposes []purposeView
	Shown    *clientData // data of the purpose just opened
	Message  string
	Refused  bool            // Message says an action was refused
	Errors   []fieldError    // the problems of a consent form just sent
	Form     consent.Purpose // the purpose whose form had Errors
	Today    string          // the default date of signing, as yyyy-mm-dd
}

type purposeView struct {
	Purpose consent.Purpose
	Medical bool   // the authorisation to request medical information: nothing to open
	Title   string // "NAW-gegevens inzien"
	Text    string // "NAW-gegevens inzien", to use in a sentence
	Allowed bool
	Reason  string
	// Practitioner is named by the medical authorisation: shown once it
	// is recorded.
	Practitioner *consent.Practitioner
}

type clientData struct {
	Purpose     consent.Purpose
	Name        string
	Address     string
	Indications []indication
}

type indication struct {
	ID          string
	CareProfile string
	DecidedAt   time.Time
	ValidUntil  time.Time
}

func (a *app) clientsPage(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "clients", clientsPage{})
}

// bsnMessage is the Dutch message for a BSN that does not parse.
func bsnMessage(err error) string {
	switch {
	case errors.Is(err, bsn.ErrLength):
		return "Een BSN heeft 9 cijfers (of 8, voor een nummer van vóór 2007)."
	case errors.Is(err, bsn.ErrCharacter):
		return "Een BSN bestaat alleen uit cijfers; spaties, punten en streepjes mogen."
	case errors.Is(err, bsn.ErrPlaceholder):
		return "Dit is geen BSN maar een vervangende code."
	default:
		return "Dit is geen geldig BSN (elfproef). Controleer het nummer op een tikfout."
	}
}

// lookupClient finds a client by the exact BSN only: there is no search by
// name or part of a number. The BSN arrives in the POST body, is turned into
// its pseudonym at once, and goes nowhere else.
func (a *app) lookupClient(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := userFrom(ctx)
	n, err := bsn.Parse(r.PostFormValue("bsn"))
	if err != nil {
		a.render(w, r, http.StatusUnprocessableEntity, "clients", clientsPage{Error: bsnMessage(err)})
		return
	}
	// The page is built while the lookup's access-log entry commits, and
	// sent only once lookup has returned without an error, which is after
	// the commit (see lookup).
	var page *bytes.Buffer
	var pageErr error
	_, err = a.lookup(ctx, u, n, clientIP(r), func(cv *clientView) {
		page, pageErr = a.renderPage(r, "clients", clientsPage{Client: cv})
	})
	if err == nil {
		err = pageErr
	}
	if err != nil && page != nil {
		putPageBuffer(page) // built, never sent
	}
	if errors.Is(err, errNotFound) {
		a.render(w, r, http.StatusNotFound, "clients", clientsPage{Error: msgNoClient})
		return
	}
	if err != nil {
		a.consentError(w, r, err)
		return
	}
	sendPage(w, http.StatusOK, page)
}

const msgNoClient = "Er is geen cliënt met dit BSN bekend."

// msgConsentDamaged answers a request about a client whose consent chain
// does not verify.
const msgConsentDamaged = "De toestemmingsregistratie van deze cliënt is niet in orde. Het portaal geeft daarom geen toegang tot de gegevens en legt niets vast. De beheerder ziet de fout op de auditpagina."

// consentError answers a request that failed on err, from the consent
// registry or after it. A chain that does not verify (edited, cut off or
// rolled back behind the portal's back) opens nothing and records nothing
// until an operator has looked into it: the user sees that, and the log an
// error; anything else is an internal error.
func (a *app) consentError(w http.ResponseWriter, r *http.Request, err error) {
	if !errors.Is(err, consent.ErrTampered) {
		a.serverError(w, r, err)
		return
	}
	a.logDamagedChain(r, err)
	a.render(w, r, http.StatusServiceUnavailable, "clients", clientsPage{Error: msgConsentDamaged})
}

// logDamagedChain tells the operator that a request was refused because a
// consent chain does not verify (err wraps consent.ErrTampered): the pages
// and the API say it alike.
func (a *app) logDamagedChain(r *http.Request, err error) {
	a.log.ErrorContext(r.Context(), "consent: a chain does not verify; no access to the client until an operator has looked into it on the audit page",
		"method", r.Method, "path", r.URL.Path, "err", err)
}

// lookup finds the client with BSN n for u, writes the lookup to the access
// log, found or not, and returns what u's organisation may do with the
// client, or errNotFound. It returns only after the entry is committed, and
// with the log's error if it is not: then nothing of the client may be
// shown.
//
// The consent decisions (which log nothing) are made while the entry
// commits, and then prepare, if not nil, gets the view to build the answer
// from; prepare must not send anything, as the entry may still fail. A
// lookup waits for a group commit most of its time (about 1.5 commit
// cycles at 16 concurrent lookups); doing its other work meanwhile takes
// that work off the time between two lookups of one connection.
func (a *app) lookup(ctx context.Context, u *user, n bsn.Number, address string, prepare func(*clientView)) (*clientView, error) {
	subject, found, err := a.findClient(ctx, n)
	if err != nil {
		return nil, err
	}
	entry := consent.AccessEntry{Instance: a.instance, Address: address, User: u.ID, Role: string(u.Role),
		Organisation: consent.Organisation(u.OrgID), Subject: consent.Subject(subject), Object: "client/lookup",
		Action: consent.ActionExecute, Allowed: found, Reason: "exact-bsn"}
	if !found {
		if err := a.logAccess(ctx, entry); err != nil {
			return nil, err
		}
		return nil, errNotFound
	}
	logged := make(chan error, 1)
	go func() { logged <- a.logAccess(ctx, entry) }()
	cv, err := a.clientView(ctx, u, subject, n.Masked())
	if err == nil && prepare != nil {
		prepare(cv)
	}
	if lerr := <-logged; lerr != nil {
		return nil, lerr // the log's error first: the access did not happen
	}
	if err != nil {
		return nil, err
	}
	return cv, nil
}

// findClient returns the client's pseudonym as the portal stores it (the
// subject key of its consents and access-log entries) and whether the
// portal knows it; for an unknown client, the pseudonym under the current
// key.
//
// A client registered before a key rotation is stored under the pseudonym
// of an older key of the ring, and keeps it: the consent chains are sealed
// with it. So when the current key's pseudonym is not known, the older
// keys' are tried, newest first; with one key that costs nothing.
func (a *app) findClient(ctx context.Context, n bsn.Number) (string, bool, error) {
	p := a.pseudonyms.Get().(*pseudonym.Pseudonymiser)
	subject := p.Pseudonym(n).String()
	a.pseudonyms.Put(p)
	found, err := a.knownClient(ctx, subject)
	if err != nil || found || !a.rotated {
		return subject, found, err
	}
	// Pseudonymisers of their own: one is not safe for concurrent use.
	ps, err := a.keyring.Pseudonyms(a.lookupDomain, n)
	if err != nil {
		return "", false, err
	}
	for _, older := range ps[1:] {
		if found, err := a.knownClient(ctx, older.String()); err != nil || found {
			return older.String(), found, err
		}
	}
	return subject, false, nil
}

// knownClient reports whether a client is stored under pseudonym.
func (a *app) knownClient(ctx context.Context, pseudonym string) (bool, error) {
	var count int
	err := a.db.QueryRowContext(a.quickRead(ctx), `SELECT COUNT(*) FROM clients WHERE pseudonym = $1`, pseudonym).Scan(&count)
	return count == 1, err
}

// clientView decides, for each purpose, whether the user's organisation has
// the client's consent now.
func (a *app) clientView(ctx context.Context, u *user, subject, masked string) (*clientView, error) {
	now := a.now()
	cv := &clientView{Handle: a.sealClient(sessionFrom(ctx), u, clientRef{Subject: subject, Masked: masked}), Masked: masked, Today: now.Local().Format("2006-01-02")}
	// Which purposes the page offers opens no data: no log entry. One
	// call decides them all with one read of the client's consent chain.
	// It reads the chain's head by its key and nothing else: a quick read.
	outcomes, err := a.consent.DecideUnloggedEach(a.quickRead(ctx), consent.Subject(subject), consent.Organisation(u.OrgID), pagePurposes, now)
	if err != nil {
		return nil, err
	}
	for i, p := range pagePurposes {
		out := outcomes[i]
		pv := purposeView{Purpose: p, Medical: p == consent.PurposeMedicalInformation, Title: purposeTitle[p], Text: purposeText[p], Allowed: out.Allowed, Reason: reasonText(out.Reason)}
		if out.Allowed && out.Record != nil {
			pv.Practitioner = out.Record.Practitioner
		}
		cv.Purposes = append(cv.Purposes, pv)
	}
	return cv, nil
}

// formSubject returns the client (subject) a form names by the handle of a
// lookup in this session, if the portal knows it; otherwise it answers the
// request and returns false.
func (a *app) formSubject(w http.ResponseWriter, r *http.Request) (string, bool) {
	c, err := a.formClient(r)
	if err != nil {
		a.render(w, r, http.StatusNotFound, "clients", clientsPage{Error: msgLookupAgain})
		return "", false
	}
	var count int
	if err := a.db.QueryRowContext(r.Context(), `SELECT COUNT(*) FROM clients WHERE pseudonym = $1`, c.Subject).Scan(&count); err != nil {
		a.serverError(w, r, err)
		return "", false
	}
	if count != 1 {
		a.render(w, r, http.StatusNotFound, "clients", clientsPage{Error: msgNoClient})
		return "", false
	}
	return c.Subject, true
}

// msgLookupAgain answers a form whose client handle is not (or no longer)
// valid in this session.
const msgLookupAgain = "Zoek de cliënt opnieuw op met het BSN: de vorige zoekopdracht is verlopen of hoort bij een andere sessie."

// recordConsent records the provider's statement that the client gave (or
// refused) consent for one purpose, with the reference of the signed form in
// the provider's own archive.
func (a *app) recordConsent(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := userFrom(ctx)
	subject, ok := a.formSubject(w, r)
	if !ok {
		return
	}
	given, err := time.ParseInLocation("2006-01-02", r.PostFormValue("given"), time.Local)
	if err != nil {
		a.renderConsentError(w, r, subject, &consent.FieldError{Field: "GivenAt", Err: consent.ErrInvalid})
		return
	}
	if today := a.now(); given.After(today) {
		given = today // signed today: the form's date has no time
	}
	rec := consent.Record{
		Subject:       consent.Subject(subject),
		Organisation:  consent.Organisation(u.OrgID),
		Purpose:       consent.Purpose(r.PostFormValue("purpose")),
		Decision:      consent.Decision(r.PostFormValue("decision")),
		GivenAt:       given,
		PolicyVersion: "portero-toestemming-2017",
		Evidence: consent.Evidence{
			Kind:      consent.EvidenceKind(r.PostFormValue("evidence")),
			Reference: strings.TrimSpace(r.PostFormValue("reference")),
		},
		RecordedBy: u.actor(),
	}
	if doc := r.PostFormValue("document"); doc != "" {
		h := sha256.Sum256([]byte(doc))
		rec.Evidence.DocumentSHA256 = h[:]
	}
	if rec.Purpose == consent.PurposeMedicalInformation {
		rec.Practitioner = &consent.Practitioner{Name: strings.TrimSpace(r.PostFormValue("practitioner")), Function: strings.TrimSpace(r.PostFormValue("function"))}
	}
	if _, err := a.consent.Give(ctx, rec); err != nil {
		var ferr *consent.FieldError
		if !errors.As(err, &ferr) {
			a.consentError(w, r, err)
			return
		}
		a.renderConsentError(w, r, subject, ferr)
		return
	}
	msg := "De toestemming is vastgelegd."
	if rec.Decision == consent.Deny {
		msg = "De weigering van de cliënt is vastgelegd."
	}
	a.renderClient(w, r, subject, http.StatusOK, msg, nil)
}

// withdrawConsent records that the client withdrew the consent for a
// purpose, for the user's own organisation: one click, as easy as giving it.
// It ends every permit of that purpose from now on; earlier uses stay
// justified.
func (a *app) withdrawConsent(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := userFrom(ctx)
	subject, ok := a.formSubject(w, r)
	if !ok {
		return
	}
	_, err := a.consent.Withdraw(ctx, consent.Withdrawal{
		Subject:      consent.Subject(subject),
		Organisation: consent.Organisation(u.OrgID),
		Purpose:      consent.Purpose(r.PostFormValue("purpose")),
		By:           u.actor(),
		Reason:       "ingetrokken door de cliënt",
	})
	var ferr *consent.FieldError
	msg := "De toestemming is ingetrokken."
	switch {
	case errors.Is(err, consent.ErrNotActive):
		msg = "Er is geen toestemming om in te trekken."
	case errors.Is(err, consent.ErrDenyNotWithdrawable):
		msg = "De cliënt heeft voor dit doel geen toestemming gegeven; een weigering kunt u niet intrekken. Verandert de cliënt van gedachten? Leg dan een nieuwe toestemming vast."
	case errors.As(err, &ferr):
		http.Error(w, "Onbekend doel.", http.StatusBadRequest)
		return
	case err != nil:
		a.consentError(w, r, err)
		return
	}
	a.renderClient(w, r, subject, http.StatusOK, msg, nil)
}

// viewClientData opens the client's data for one purpose, if the consent
// allows it now. The decision goes to the access log either way.
func (a *app) viewClientData(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := userFrom(ctx)
	subject, ok := a.formSubject(w, r)
	if !ok {
		return
	}
	purpose := consent.Purpose(r.PostFormValue("purpose"))
	if !slices.Contains(clientPurposes, purpose) {
		// Only the purposes that open data: the client's authorisation to
		// request medical information opens nothing here, and clientData
		// would answer it with the indications.
		http.Error(w, "Onbekend doel: met dit doel opent u geen gegevens.", http.StatusBadRequest)
		return
	}
	access := consent.Access{
		Subject: consent.Subject(subject),
		Purpose: purpose,
		By:      u.actor(),
		Role:    string(u.Role),
		Object:  dataObject(purpose),
		Action:  consent.ActionRead,
		Address: clientIP(r),
	}
	out, err := a.consent.Authorize(ctx, access)
	var data *clientData
	if err == nil && out.Allowed {
		data, err = a.clientData(ctx, subject, purpose)
	}
	var cv *clientView
	if err == nil {
		cv, err = a.formClientView(r, subject)
	}
	if err == nil && out.Allowed && !cv.allows(purpose) {
		// The page's decisions are made after the access-log entry
		// committed, which Authorize waits for: a withdrawal committed
		// meanwhile (in another tab, say) ends this access too, before
		// any data leave. Decided again, the refusal is logged as well.
		out, err = a.consent.Authorize(ctx, access)
	}
	if err != nil {
		var ferr *consent.FieldError
		if errors.As(err, &ferr) {
			http.Error(w, "Onbekend doel.", http.StatusBadRequest)
			return
		}
		a.consentError(w, r, err)
		return
	}
	status := http.StatusOK
	if out.Allowed {
		cv.Shown = data
	} else {
		status, cv.Message, cv.Refused = http.StatusForbidden, "Geen toegang: "+reasonText(out.Reason), true
	}
	a.render(w, r, status, "clients", clientsPage{Client: cv})
}

// allows reports whether the view's decisions allow purpose.
func (cv *clientView) allows(p consent.Purpose) bool {
	for _, pv := range cv.Purposes {
		if pv.Purpose == p {
			return pv.Allowed
		}
	}
	return false
}

// renderClient shows the client page of subject after an action: what the
// user's organisation may do now, a message, and the data opened, if any.
func (a *app) renderClient(w http.ResponseWriter, r *http.Request, subject string, status int, msg string, shown *clientData) {
	cv, err := a.formClientView(r, subject)
	if err != nil {
		a.consentError(w, r, err)
		return
	}
	cv.Message, cv.Shown, cv.Refused = msg, shown, status >= 400
	a.render(w, r, status, "clients", clientsPage{Client: cv})
}

// formClientView decides, for the client of the request's form (subject),
// what the user's organisation may do now.
func (a *app) formClientView(r *http.Request, subject string) (*clientView, error) {
	c, _ := a.formClient(r) // formSubject checked it; only the masked BSN is new here
	return a.clientView(r.Context(), userFrom(r.Context()), subject, c.Masked)
}

// dataObject names, for the access log, the data a purpose opens.
func dataObject(p consent.Purpose) string {
	if p == consent.PurposeViewNAW {
		return "client/naw"
	}
	return "client/indications"
}

// clientData returns what one purpose shows: name and address for NAW, the
// indications for the other two.
func (a *app) clientData(ctx context.Context, subject string, purpose consent.Purpose) (*clientData, error) {
	d := &clientData{Purpose: purpose}
	if purpose == consent.PurposeViewNAW {
		var nameEnc, addrEnc string
		if err := a.db.QueryRowContext(ctx, `SELECT name_enc, address_enc FROM clients WHERE pseudonym = $1`, subject).Scan(&nameEnc, &addrEnc); err != nil {
			return nil, err
		}
		name, err := a.field.Decrypt("clients.name", nameEnc)
		if err != nil {
			return nil, err
		}
		addr, err := a.field.Decrypt("clients.address", addrEnc)
		if err != nil {
			return nil, err
		}
		d.Name, d.Address = string(name), string(addr)
		return d, nil
	}
	rows, err := a.db.QueryContext(ctx, `SELECT id, care_profile, decided_at, valid_until FROM indications WHERE client = $1 ORDER BY decided_at DESC`, subject)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var in indication
		var decided, until int64
		if err := rows.Scan(&in.ID, &in.CareProfile, &decided, &until); err != nil {
			return nil, err
		}
		in.DecidedAt, in.ValidUntil = fromUsec(decided), fromUsec(until)
		d.Indications = append(d.Indications, in)
	}
	return d, rows.Err()
}

// newLogID returns an access-log entry's id: the time in milliseconds (as
// in a UUIDv7 or a ULID) and 48 random bits, 24 hexadecimal digits as
// newID's. Ids that grow with time land at the end of the access log's
// primary-key index, so that a group commit changes one or two of its pages
// rather than one page per entry (random ids spread the entries of a commit
// over the whole index: more pages to read, write to the WAL and fsync).
// Two ids of the same millisecond collide with a chance of 2^-48.
func newLogID(now time.Time) string {
	var b [12]byte
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	rand.Read(b[6:]) // never returns an error (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b[:])
}

// logAccess writes an access-log entry. It is also the consent registry's
// AccessLog, so that lookups and consent decisions land in one log. It
// returns once the entry is committed (in a group commit with the entries of
// other requests, see groupCommit); an error means the entry is not logged,
// and the access must not go ahead.
func (a *app) logAccess(ctx context.Context, e consent.AccessEntry) error {
	if e.ID == "" {
		e.ID = newLogID(time.Now())
	}
	if e.Time.IsZero() {
		e.Time = a.now()
	}
	start := time.Now()
	err := a.accessLog.add(ctx, e)
	a.metrics.accessLogged(time.Since(start), err)
	if e.Purpose.Valid() { // a consent decision, not a lookup
		a.metrics.decision(e.Purpose, e.Reason)
	}
	return err
}

package consent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// Reason says why an [Outcome] came out as it did. Its value is a stable
// code; [Reason.Message] gives the text for users, in Dutch or English.
type Reason string

// The reasons.
const (
	// ReasonPermitted: a permit counts at that moment.
	ReasonPermitted Reason = "permitted"
	// ReasonDenied: the client explicitly refused.
	ReasonDenied Reason = "denied"
	// ReasonWithdrawn: the client withdrew the consent at or before that
	// moment.
	ReasonWithdrawn Reason = "withdrawn"
	// ReasonExpired: the validity period had ended.
	ReasonExpired Reason = "expired"
	// ReasonNotYetValid: the validity period had not started.
	ReasonNotYetValid Reason = "not-yet-valid"
	// ReasonEvidenceMissing: the signed form could not be produced in a spot
	// check.
	ReasonEvidenceMissing Reason = "evidence-missing"
	// ReasonGivenAfterUse: consent was only given after that moment, and
	// consent after use is not consent.
	ReasonGivenAfterUse Reason = "given-after-use"
	// ReasonNoConsent: there is no record for this purpose.
	ReasonNoConsent Reason = "no-consent"
)

// messages holds the user-facing texts of the reasons; Dutch is the default.
var messages = func() *catalog.Builder {
	b := catalog.NewBuilder(catalog.Fallback(language.Dutch))
	for _, m := range []struct {
		reason Reason
		nl, en string
	}{
		{ReasonPermitted, "De cliënt heeft toestemming gegeven voor dit doel.", "The client consented to this purpose."},
		{ReasonDenied, "De cliënt heeft voor dit doel geen toestemming gegeven.", "The client refused consent for this purpose."},
		{ReasonWithdrawn, "De cliënt heeft de toestemming voor dit doel ingetrokken.", "The client withdrew consent for this purpose."},
		{ReasonExpired, "De toestemming voor dit doel is verlopen.", "The consent for this purpose has expired."},
		{ReasonNotYetValid, "De toestemming voor dit doel gaat later in.", "The consent for this purpose is not yet in effect."},
		{ReasonEvidenceMissing, "Het toestemmingsformulier kon bij een controle niet worden overgelegd.", "The signed consent form could not be produced in a spot check."},
		{ReasonGivenAfterUse, "De toestemming is pas na het gebruik gegeven; toestemming achteraf is geen toestemming.", "Consent was given only after the use; consent afterwards is not consent."},
		{ReasonNoConsent, "Er is geen toestemming van de cliënt vastgelegd voor dit doel.", "No consent of the client is recorded for this purpose."},
	} {
		b.SetString(language.Dutch, string(m.reason), m.nl)
		b.SetString(language.English, string(m.reason), m.en)
	}
	b.SetString(language.Dutch, codePractitionerRequired, "Vul de naam en de functie van de behandelaar in: de machtiging om medische informatie op te vragen noemt de behandelaar.")
	b.SetString(language.English, codePractitionerRequired, "Fill in the practitioner's name and function: the authorisation to request medical information names the practitioner.")
	b.SetString(language.Dutch, codeInvalidInput, "Het veld %s is niet goed ingevuld.")
	b.SetString(language.English, codeInvalidInput, "The field %s is not filled in correctly.")
	return b
}()

// The codes of FieldError.
const (
	codePractitionerRequired = "practitioner-required"
	codeInvalidInput         = "invalid-input"
)

// languages are the languages of the messages; the first is the default.
var languages = []language.Tag{language.Dutch, language.English}

var matcher = language.NewMatcher(languages)

// printer returns a printer of the messages in the language that best
// matches tag: Dutch or English, Dutch by default.
func printer(tag language.Tag) *message.Printer {
	_, i, _ := matcher.Match(tag)
	return message.NewPrinter(languages[i], message.Catalog(messages))
}

// Message returns the reason as a sentence for users, in Dutch unless tag
// matches English better.
func (r Reason) Message(tag language.Tag) string {
	return printer(tag).Sprintf(string(r))
}

// Outcome answers whether a use was allowed.
type Outcome struct {
	Allowed bool
	Reason  Reason
	// Record is the record the outcome rests on: the permit or deny that
	// counts, or the record that no longer counts (withdrawn, expired…). It
	// is nil for ReasonNoConsent.
	Record *Record
}

// RecordID returns the id of d.Record, or "" if there is none.
func (d *Outcome) RecordID() RecordID {
	if d.Record == nil {
		return ""
	}
	return d.Record.ID
}

// DecideUnlogged reports whether organisation may use subject's data for
// purpose at the moment at, with everything known now; see the package
// documentation for the rules. Only records of this purpose count: purposes
// never imply each other.
//
// It writes nothing to the access log, as its name says: use it for
// questions that open no data, such as which purposes a page may offer, or
// whether a use on a past date was allowed. Every access to a client's data
// goes through [Registry.Authorize], which logs it.
func (r *Registry) DecideUnlogged(ctx context.Context, subject Subject, organisation Organisation, purpose Purpose, at time.Time) (Outcome, error) {
	purposes := [1]Purpose{purpose}
	l, err := r.ledgerAt(ctx, subject, organisation, purposes[:], at)
	if err != nil {
		return Outcome{}, err
	}
	return l.decide(purpose, at.UTC()), nil
}

// DecideUnloggedEach is [Registry.DecideUnlogged] for several purposes of
// one subject and organisation at one moment: outcome i is the decision for
// purposes[i], exactly as DecideUnlogged gives it. It reads the chain's head
// once, with the same checks (the seal, and that the head did not go back
// behind the registry's back), so that a page that shows what each purpose
// allows costs one read instead of one per purpose. Purposes may repeat; an
// empty list is invalid.
//
// Like DecideUnlogged it writes nothing to the access log: an access to the
// data goes through [Registry.Authorize].
func (r *Registry) DecideUnloggedEach(ctx context.Context, subject Subject, organisation Organisation, purposes []Purpose, at time.Time) ([]Outcome, error) {
	l, err := r.ledgerAt(ctx, subject, organisation, purposes, at)
	if err != nil {
		return nil, err
	}
	out := make([]Outcome, len(purposes))
	for i, p := range purposes {
		out[i] = l.decide(p, at.UTC())
	}
	return out, nil
}

// ledgerAt checks a question about purposes and returns the verified ledger
// that answers it at the moment at: the head's state, or the whole history
// for a moment before the head's state begins.
func (r *Registry) ledgerAt(ctx context.Context, subject Subject, organisation Organisation, purposes []Purpose, at time.Time) (*ledger, error) {
	if err := checkSubject(subject); err != nil {
		return nil, err
	}
	if err := checkText("Organisation", string(organisation), maxKeyLen, true); err != nil {
		return nil, err
	}
	if len(purposes) == 0 {
		return nil, fieldError("Purpose", "is missing: name at least one purpose")
	}
	for _, p := range purposes {
		if !p.Valid() {
			return nil, fieldError("Purpose", "is not one of the defined purposes")
		}
	}
	if err := checkTime("at", at, true); err != nil {
		return nil, err
	}
	chain := ChainOf(subject, organisation)
	l, _, err := r.state(ctx, chain)
	if err != nil {
		return nil, err
	}
	if at.Before(l.since) {
		// A moment before the last statement took effect: the head's
		// state does not hold what counted then.
		return r.history(ctx, chain)
	}
	return l, nil
}

// AccessLog receives the access-log entries of [Registry.Authorize]. An
// implementation writes each entry durably before returning nil: an access is
// allowed only once its entry is logged. Package consent/accesslog seals
// entries in a MAC chain, so that the log itself is tamper-evident.
type AccessLog interface {
	LogAccess(ctx context.Context, e AccessEntry) error
}

// AccessLogFunc adapts a function to an [AccessLog].
type AccessLogFunc func(ctx context.Context, e AccessEntry) error

// LogAccess calls f.
func (f AccessLogFunc) LogAccess(ctx context.Context, e AccessEntry) error { return f(ctx, e) }

// Action is what an access does with the data, in the codes of the event
// action of NEN 7513 (the codes of ISO 27789, IHE ATNA and FHIR
// AuditEvent.action): a fixed list.
type Action string

// The actions.
const (
	ActionCreate  Action = "C" // create or enter data
	ActionRead    Action = "R" // read, view, print or copy data
	ActionUpdate  Action = "U" // change data
	ActionDelete  Action = "D" // remove data
	ActionExecute Action = "E" // search or another operation on data
)

func (a Action) valid() bool {
	switch a {
	case ActionCreate, ActionRead, ActionUpdate, ActionDelete, ActionExecute:
		return true
	}
	return false
}

// AccessEntry is one logged access decision, with the elements of NEN 7513
// (logging of access to health records): the event (id, moment, action and
// outcome), the user (who, in which role, for whom, of which organisation),
// the access point (application instance and client address), and the
// objects (the client and the data).
type AccessEntry struct {
	ID   string    // unique id of this entry
	Time time.Time // when the access was decided

	Instance string // the application instance that decided: Config.Instance
	Address  string // the network address of the user's client

	User         string
	Role         string // the user's role, such as "secretary"
	OnBehalfOf   string // the responsible user, if not User
	Organisation Organisation

	Subject Subject // the client's subject key
	Object  string  // the data accessed, such as "client/naw"
	Purpose Purpose
	Action  Action

	Allowed bool
	Reason  Reason   // why, when a decision was made
	Record  RecordID // the consent record relied on, if any
	// Error is set when no decision could be made (and the access was
	// refused): "tampered" when the client's consent chain does not
	// verify, "unavailable" when the store or clock failed.
	Error string
}

// The values of AccessEntry.Error.
const (
	errorTampered    = "tampered"
	errorUnavailable = "unavailable"
)

// LogValue implements [slog.LogValuer], for writing entries with log/slog.
func (e AccessEntry) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", e.ID),
		slog.Time("time", e.Time),
		slog.String("instance", e.Instance),
		slog.String("address", e.Address),
		slog.String("user", e.User),
		slog.String("role", e.Role),
		slog.String("onBehalfOf", e.OnBehalfOf),
		slog.String("organisation", string(e.Organisation)),
		slog.String("subject", string(e.Subject)),
		slog.String("object", e.Object),
		slog.String("purpose", string(e.Purpose)),
		slog.String("action", string(e.Action)),
		slog.Bool("allowed", e.Allowed),
		slog.String("reason", string(e.Reason)),
		slog.String("record", string(e.Record)),
		slog.String("error", e.Error),
	)
}

// Access is a request to use a client's data now, for [Registry.Authorize].
type Access struct {
	Subject Subject
	Purpose Purpose
	By      Actor  // the user, their organisation and responsible user
	Role    string // the user's role
	Object  string // the data accessed, such as "client/naw"
	Action  Action
	Address string // the network address of the user's client; empty only without one
}

func (a *Access) validate() error {
	if err := checkSubject(a.Subject); err != nil {
		return err
	}
	if err := a.By.validate("By"); err != nil {
		return err
	}
	if !a.Action.valid() {
		return fieldError("Action", "is not one of the defined actions")
	}
	for _, f := range []struct {
		field, value string
		required     bool
	}{{"Role", a.Role, true}, {"Object", a.Object, true}, {"Address", a.Address, false}} {
		if err := checkText(f.field, f.value, maxKeyLen, f.required); err != nil {
			return err
		}
	}
	return nil
}

// Authorize decides whether an access may go ahead now, for the
// organisation of a.By, and writes the decision to the access log, allowed
// or not, also when no decision can be made. It returns an error, and the
// access must not go ahead, when the request is invalid (nothing is logged
// then), when the decision cannot be made (the entry says why), or when it
// cannot be logged (wrapping [ErrLog]).
//
// The decision is made at the entry's time, before the entry is logged;
// a withdrawal committed while the entry is being written does not change
// it. A caller that holds the data back until Authorize returns, and must
// not show them after a withdrawal the user has already seen confirmed
// (another tab), decides again once Authorize returned (with
// [Registry.DecideUnlogged]) and, if that refuses, calls Authorize again,
// so that the refusal is logged too; the example portal does so.
func (r *Registry) Authorize(ctx context.Context, a Access) (Outcome, error) {
	if err := a.validate(); err != nil {
		return Outcome{}, err
	}
	if r.log == nil {
		return Outcome{}, fmt.Errorf("%w: the Registry has no AccessLog", ErrLog)
	}
	entry := AccessEntry{
		ID:           newID(),
		Instance:     r.instance,
		Address:      a.Address,
		User:         a.By.User,
		Role:         a.Role,
		OnBehalfOf:   a.By.OnBehalfOf,
		Organisation: a.By.Organisation,
		Subject:      a.Subject,
		Object:       a.Object,
		Purpose:      a.Purpose,
		Action:       a.Action,
	}
	now, err := r.clock()
	var d Outcome
	if err == nil {
		d, err = r.DecideUnlogged(ctx, a.Subject, a.By.Organisation, a.Purpose, now)
	} else {
		now = r.now().UTC()
	}
	entry.Time = now
	switch {
	case errors.Is(err, ErrTampered):
		entry.Error = errorTampered
	case errors.Is(err, ErrInvalid):
		return Outcome{}, err
	case err != nil:
		entry.Error = errorUnavailable
	default:
		entry.Allowed, entry.Reason, entry.Record = d.Allowed, d.Reason, d.RecordID()
	}
	if lerr := r.log.LogAccess(ctx, entry); lerr != nil {
		return Outcome{}, errors.Join(fmt.Errorf("%w: %w", ErrLog, lerr), err)
	}
	if err != nil {
		return Outcome{}, err
	}
	return d, nil
}

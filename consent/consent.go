// Package consent records a client's explicit, prior consent per purpose and
// decides, for every access, whether a consent justifies it.
//
// By Dutch law a portal may share a client's personal data with a care
// provider only when the client demonstrably gave explicit consent
// beforehand. The provider states in the portal that it has consent and keeps
// the signed form in its own archive; the portal owner spot-checks by sampling
// and may demand the forms. This package keeps the statements, decides with
// them, samples them for audit, and makes sure nobody can quietly rewrite the
// past.
//
// # Model
//
// A [Record] is about one client ([Subject]), one provider ([Organisation]) and
// one [Purpose]. Purposes are independent: a consent to take over indication
// data does not allow viewing name and address data, exactly as CIZ's Portero
// asks the question once per purpose. A record holds an explicit [Decision]
// (permit or deny), the moment the consent was given, an optional validity
// period, who recorded it, the policy text version consented to, and the
// [Evidence]: where the signed form sits in the provider's own archive.
//
// The client is identified by an opaque subject key that the caller supplies,
// such as a keyed pseudonym of the BSN. The package never needs the raw BSN,
// refuses a subject key that looks like one ([ErrSubjectIsBSN]), and cannot
// list clients: every question names a subject the caller already knows.
//
// # Events
//
// Records are immutable. Everything that happens is an append-only [Event]:
// given, withdrawn (a purpose, as of a moment), entered in error, corrected,
// evidence requested, produced or missing. The state at any moment is derived from the events, so "was this
// access allowed on 12 March?" still has an answer after a later withdrawal.
//
// # Deciding
//
// [Registry.DecideUnlogged] answers whether a subject's data may be used by
// an organisation for a purpose at a moment, with the record the answer rests
// on and a [Reason]; [Registry.Authorize] does the same for an access now and
// writes it to the access log. [Registry.DecideUnloggedEach] decides several
// purposes at one moment with one read of the chain. Only the statements about that subject,
// organisation and purpose count. A statement is a record (a permit or a
// deny) or a withdrawal, and the client's last statement decides:
//
//   - Statements are ordered by their moment: when the consent was given
//     ([Record.GivenAt]), or when the withdrawal takes effect
//     ([Withdrawal.At]). At the same moment a deny comes after a permit, and
//     a withdrawal after both; records given at the same moment in the order
//     they were recorded. The order of recording does not matter otherwise.
//   - At a moment t, the statement that decides is the last one, in that
//     order, that was made at or before t and has started: a record whose
//     validity starts later ([Record.ValidFrom]) starts then.
//   - An earlier statement never decides again once a later one has started:
//     a withdrawal ends every permit given before it, and an expired or
//     suspended later record does not bring an older one back.
//   - A record entered in error or corrected never counted, and neither did
//     a withdrawal entered in error: they are left out, also for moments
//     before they were marked, and the statement before them decides.
//
// The statement that decides gives the answer:
//
//	deciding statement at t                          allowed  reason
//	none: no record of the purpose                   no       no-consent
//	none: only records given after t                 no       given-after-use
//	none: records given, validity not yet started    no       not-yet-valid
//	a withdrawal                                     no       withdrawn
//	a record whose validity ended at or before t     no       expired
//	a record suspended for missing evidence at t     no       evidence-missing
//	a deny                                           no       denied
//	a permit                                         yes      permitted
//
// Intervals include their start and exclude their end, as everywhere here:
// consent given at t counts at t, a withdrawal or suspension at t counts at
// t, and a validity that ends at t no longer counts at t. Consent given after
// the use is not consent.
//
// Recording, withdrawing and correcting follow from these rules:
//
//	operation                          effect
//	Give, same form again              nothing: the record already recorded is returned (idempotent)
//	Give, another permit or deny       a new statement: from its start it supersedes the earlier ones
//	Withdraw a permit in force         one withdrawal: every permit given before its moment ends
//	Withdraw a suspended permit        a withdrawal: it could have counted again
//	Withdraw after a deny              refused, ErrDenyNotWithdrawable: record a permit, or enter the deny in error
//	Withdraw with nothing in force     refused, ErrNotActive: a second click changes nothing
//	Give a form signed before a        recorded, and it never counts after the withdrawal:
//	withdrawal, entered after it       the client withdrew it already
//	EnterInError (record, withdrawal)  it never counted; the statement before it decides again
//	Correct                            the old record never counted; the replacement counts from its GivenAt
//
// The same form is a record with the same purpose, decision, moments,
// policy version, evidence and practitioner that still decides or will.
//
// The decision is made with everything known when it is asked: a record
// entered today of a form signed last week answers "was last Tuesday's use
// allowed?" with yes. What was known at the moment of an access is in the
// access log: [Registry.Authorize] decides at that moment, with the records
// entered by then, and writes an [AccessEntry], in the spirit of NEN 7513, to
// an [AccessLog].
//
// # Time
//
// Every time the package accepts, keeps or writes lies in the years 1970 to
// 2199, from 1970-01-01T00:00:00Z up to but not including 2200-01-01: a date typed as 0026, or 9999-12-31 for "no end"
// (leave the end zero instead), is refused with a [FieldError] before
// anything is written. Nothing is appended that the package cannot read back
// unchanged, so one bad input can never make a chain unreadable.
//
// # Tamper evidence
//
// Events form chains, one per subject and organisation. Each event carries an
// HMAC-SHA256, keyed with a secret from configuration, over the previous
// event's MAC and the event's canonical encoding (see [Event] for the exact
// bytes, which never depend on encoding/json). Each chain has a head, written
// in the same transaction as its events and sealed with the key: the
// sequence number and MAC of the last event, and the chain's state (below).
// A tail cut off a chain, such as a withdrawal deleted, is found because the
// head still names it, and a row added behind the registry's back because
// the head does not cover it.
//
// [Registry.Verify] reads every chain and head, names each changed, removed,
// reordered, cut-off or added event, and stores a [Checkpoint]: the head of
// every chain, chained to the checkpoint before. The next Verify compares
// with it, so that a chain rolled back whole, head and all, or removed, is
// found too. A rollback puts back a head that the key sealed (or none), so
// only a registry that knows a later head can tell, and every Registry does:
// before its first decision or change it reads the stored checkpoints
// ([Registry.LoadCheckpoints]; the checkpoints, not the events) and
// remembers the head of every chain they cover, and it remembers the last
// head it saw itself of each chain in use (up to 65,536 chains). It refuses
// to decide on or append to a chain whose head is behind either, or
// vanished, with a [TamperError] (ProblemTruncated), also after a restart;
// its Verify and Sample report the chain. What remains open is a chain
// rolled back to a head after the last checkpoint's while no registry that
// saw the later head runs (across a restart, or an instance that never read
// the chain): nothing in the store shows that the lost events existed, so
// neither a registry nor Verify finds it, and the next Verify's checkpoint
// covers the chain as it then is. Run Verify regularly, such as daily, to
// keep that window short. What no check inside the database can find is the
// database rolled back as a whole (checkpoints too); for that, anchor each checkpoint's digest outside it, where its
// administrator cannot change it: in the access log that is mailed to the
// portal's owner every day, with a notary or a transparency log, or in an
// e-mail to the supervisor. [Registry.VerifyAnchor] later shows that the
// store still holds the anchored checkpoint and every event it covers.
//
// One chain per subject and organisation, rather than one global chain, means
// that appends for different clients never contend (a global chain serialises
// every write in the portal), and that a damaged chain does not taint the
// others. The store serialises the appends to one chain.
//
// The key is a secret from configuration, at least 32 random bytes. It is
// needed for as long as the events it sealed must be verified. The package
// has no key rotation, because an old key that stays valid for verification
// would let whoever has it forge old events: to move to a new key, verify the
// store and anchor its checkpoint under the old key, then continue in a new
// store under the new one.
//
// # Cost
//
// A decision costs the same however long the chain: the head's state holds
// what a decision at or after the chain's last statement needs (the
// statements that a later one has not superseded), so [Registry.Authorize]
// reads one row and verifies one MAC. So do Give, Withdraw and the evidence
// outcomes. A question about a moment before the chain's last statement,
// [Registry.Status], [Registry.Records], [Registry.History], corrections and
// entries in error read and verify the whole chain, and Verify reads
// everything.
//
// # Spot checks
//
// A spot check is committed to before its population is known:
// [Registry.PlanSample] records, before its window starts, which records it
// will draw from (an organisation, purpose and decision, recorded in a time
// window), how many, and the SHA-256 of the seed it will draw with, in the
// registry's chain of plans, one plan per window. Once the window has
// closed, [Registry.Sample] draws from the verified events, never from
// index columns, and only from a store that matches its last checkpoint (a
// chain removed since is found): the k records with the smallest
// HMAC-SHA256(seed, record id), "bottom-k". The [Manifest] reveals the seed, so anyone can check it
// against the plan and redraw the sample ([Registry.Redraw]). Evidence
// requests and their outcome are events on the records.
//
// # Operations
//
// The store is append-only, so a row that someone with INSERT rights wrote
// into it behind the registry's back stays, and may take the place of the
// next event of a chain: nothing can be appended to that chain until an
// operator moves the row out. [Registry.Verify] names the row (chain and
// sequence number); [Registry.Quarantine] moves exactly that row, if it does
// not verify, into the store's quarantine, with who did it, when and why,
// and logs it to [Config.Logger]. An event that verifies can never be
// quarantined. [Registry.RepairHeads] rewrites a damaged or missing head
// from the chain's verified events; run it once after upgrading a store
// written before heads existed.
//
// # Stores
//
// The registry keeps its events in a store: consent/sqlstore keeps them in
// SQLite or PostgreSQL, and consent/store.Memory in memory, for tests.
// Package consent/store is what a store implements, and consent/consenttest
// is the conformance suite every store runs.
package consent

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/consent/internal/canon"
	"github.com/zorgkit/zorgkit/consent/internal/elfproef"
)

// Errors that callers branch on. Test for them with [errors.Is].
var (
	// ErrInvalid means a record or request has a missing or malformed field;
	// the error is a [*FieldError] that names the field.
	ErrInvalid = errors.New("consent: invalid input")

	// ErrPractitionerRequired means a record for
	// [PurposeMedicalInformation] lacks the practitioner's name or function.
	// It is also an [ErrInvalid].
	ErrPractitionerRequired error = &invalidError{"consent: the authorisation to request medical information needs the practitioner's name and function"}

	// ErrNotFound means no record (or withdrawal, or sample plan) has the
	// given id.
	ErrNotFound = errors.New("consent: record not found: check the record id")

	// ErrNotActive means there is nothing to change: a withdrawal found no
	// permit that could still allow access, or a correction names a record
	// that was already entered in error or corrected.
	ErrNotActive = errors.New("consent: nothing active to change: the consent was already withdrawn, entered in error or corrected, or there is none")

	// ErrDenyNotWithdrawable means a withdrawal was asked for a purpose whose
	// last statement is the client's refusal. A refusal is not withdrawn:
	// record a new permit when the client changes their mind, or enter the
	// refusal in error ([Registry.EnterInError]) when it was recorded by
	// mistake.
	ErrDenyNotWithdrawable = errors.New("consent: the client refused consent for this purpose, and a refusal cannot be withdrawn: record a new permit, or enter the refusal in error if it was recorded by mistake")

	// ErrSubjectIsBSN means a subject key looks like a citizen service
	// number: eight or nine digits (separators aside) that pass the
	// eleven-proof. Pass a pseudonym of the BSN instead. It is also an
	// [ErrInvalid].
	ErrSubjectIsBSN error = &invalidError{"consent: the subject key looks like a BSN: pass a pseudonym of the BSN, never the number itself"}

	// ErrTampered means stored events do not verify: an event was changed,
	// removed or reordered outside this package. The error is a
	// [*TamperError] that names each event.
	ErrTampered = errors.New("consent: stored events do not verify")

	// ErrLog means the access log did not accept an entry, so the access must
	// not go ahead.
	ErrLog = errors.New("consent: access log failed: deny the access and check the log sink")
)

// invalidError is a sentinel that is also an ErrInvalid.
type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

// FieldError reports which field of the input is wrong and why. It unwraps to
// [ErrInvalid] or, for a missing practitioner, [ErrPractitionerRequired].
//
// A FieldError never contains the field's value: a subject key or evidence
// reference does not belong in a log.
type FieldError struct {
	Field   string // the field, such as "Evidence.Reference"
	Problem string // what is wrong, such as "is empty"
	Err     error  // ErrInvalid or a more specific sentinel
}

func (e *FieldError) Error() string {
	return "consent: " + e.Field + " " + e.Problem
}

// Code returns a stable code for the problem, for user interfaces:
// "practitioner-required" for [ErrPractitionerRequired], else
// "invalid-input".
func (e *FieldError) Code() string {
	if errors.Is(e.Err, ErrPractitionerRequired) {
		return codePractitionerRequired
	}
	return codeInvalidInput
}

// Message returns the problem as a sentence for users, in Dutch unless tag
// matches English better. It names the field, never its value.
func (e *FieldError) Message(tag language.Tag) string {
	return printer(tag).Sprintf(e.Code(), e.Field)
}

// Unwrap returns the sentinel.
func (e *FieldError) Unwrap() error { return e.Err }

func fieldError(field, problem string) error {
	return &FieldError{Field: field, Problem: problem, Err: ErrInvalid}
}

// Field lengths, in bytes. Everything read from users or storage is bounded.
const (
	maxKeyLen  = 256  // subject keys, organisations, users, ids
	maxTextLen = 1024 // references, reasons, notes, names
)

// checkText validates a free-text or key field: valid UTF-8, no control
// characters, at most max bytes, and not empty when required.
func checkText(field, s string, max int, required bool) error {
	switch {
	case s == "":
		if required {
			return fieldError(field, "is empty")
		}
		return nil
	case len(s) > max:
		return fieldError(field, fmt.Sprintf("is longer than %d bytes", max))
	case !utf8.ValidString(s):
		return fieldError(field, "is not valid UTF-8")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return fieldError(field, "contains a control character")
	case strings.TrimSpace(s) != s:
		return fieldError(field, "has leading or trailing white space")
	}
	return nil
}

// checkTime validates a time field: in the package's range of times, from
// 1970-01-01 up to 2200-01-01 (see the package documentation), or zero when
// not required. A moment outside it is a mistake (a date typed as 0026, or
// 9999-12-31 for "no end": leave an end zero instead), and could not be
// written as a FHIR dateTime or kept by every store.
func checkTime(field string, t time.Time, required bool) error {
	switch {
	case t.IsZero():
		if required {
			return fieldError(field, "is zero")
		}
		return nil
	case t.Before(canon.MinTime):
		return fieldError(field, "is before 1970-01-01")
	case !t.Before(canon.MaxTime):
		return fieldError(field, "is not before 2200-01-01 (leave an end zero for no end)")
	}
	return nil
}

// Subject is the opaque key of a client, such as a keyed pseudonym of the
// BSN. The package compares subject keys byte for byte and never interprets
// them, except to refuse one that looks like a BSN ([ErrSubjectIsBSN]): it
// never needs, and must never be given, a raw BSN.
type Subject string

// checkSubject validates a subject key.
func checkSubject(s Subject) error {
	if err := checkText("Subject", string(s), maxKeyLen, true); err != nil {
		return err
	}
	if elfproef.LooksLikeBSN(string(s)) {
		return &FieldError{Field: "Subject", Problem: "looks like a BSN: never pass the number itself", Err: ErrSubjectIsBSN}
	}
	return nil
}

// Organisation identifies a care provider, such as its AGB code. Compared byte
// for byte.
type Organisation string

// RecordID identifies a record. [Registry.Give] assigns it: 32 lowercase
// hexadecimal digits of a random 128-bit number.
type RecordID string

// newID returns a random 128-bit id in hexadecimal.
func newID() string {
	var b [16]byte
	rand.Read(b[:]) // never returns an error (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b[:])
}

// Purpose is what the data may be used for. Purposes are independent: consent
// for one never implies consent for another.
type Purpose string

// The purposes of the consent questions in CIZ's Portero, and the client's
// authorisation to request extra medical information.
const (
	// PurposeViewNAW is viewing the client's name and address data (NAW).
	PurposeViewNAW Purpose = "view-naw"
	// PurposeConsultIndication is consulting an indication.
	PurposeConsultIndication Purpose = "consult-indication"
	// PurposeTakeOverIndication is taking over indication data.
	PurposeTakeOverIndication Purpose = "take-over-indication"
	// PurposeMedicalInformation is the client's authorisation to request
	// extra medical information from a named practitioner. A record for
	// it needs the practitioner's name and function.
	PurposeMedicalInformation Purpose = "request-medical-information"
)

// Purposes returns every purpose, in a fixed order.
func Purposes() []Purpose {
	return []Purpose{PurposeViewNAW, PurposeConsultIndication, PurposeTakeOverIndication, PurposeMedicalInformation}
}

// Valid reports whether p is one of the defined purposes.
func (p Purpose) Valid() bool {
	switch p {
	case PurposeViewNAW, PurposeConsultIndication, PurposeTakeOverIndication, PurposeMedicalInformation:
		return true
	}
	return false
}

// Decision is the client's explicit answer.
type Decision string

// The two explicit decisions.
const (
	Permit Decision = "permit"
	Deny   Decision = "deny"
)

func (d Decision) valid() bool { return d == Permit || d == Deny }

// EvidenceKind is the form of the signed consent.
type EvidenceKind string

// The kinds of evidence.
const (
	// EvidencePaper is a form signed on paper.
	EvidencePaper EvidenceKind = "paper"
	// EvidenceElectronicSignature is an electronically signed form.
	EvidenceElectronicSignature EvidenceKind = "electronic-signature"
)

func (k EvidenceKind) valid() bool {
	return k == EvidencePaper || k == EvidenceElectronicSignature
}

// Evidence says where the signed form is: it stays in the provider's own
// archive, under Reference.
type Evidence struct {
	Kind      EvidenceKind
	Reference string // the form's reference in the provider's archive
	// DocumentSHA256 optionally holds the SHA-256 of the signed document, so
	// that a form produced later can be shown to be the one recorded. Empty
	// or 32 bytes.
	DocumentSHA256 []byte
}

// Actor is who did something: a user of an organisation, acting for a
// responsible user (the one on whose behalf, such as the practitioner a
// secretary works for). OnBehalfOf is empty when the user is responsible
// themselves.
type Actor struct {
	User         string
	Organisation Organisation
	OnBehalfOf   string
}

func (a Actor) validate(field string) error {
	if err := checkText(field+".User", a.User, maxKeyLen, true); err != nil {
		return err
	}
	if err := checkText(field+".Organisation", string(a.Organisation), maxKeyLen, true); err != nil {
		return err
	}
	return checkText(field+".OnBehalfOf", a.OnBehalfOf, maxKeyLen, false)
}

// Practitioner is the practitioner from whom extra medical information may be
// requested, by name and function (such as "huisarts").
type Practitioner struct {
	Name     string
	Function string
}

// Record is one consent statement: one subject, one organisation, one
// purpose, one decision. Records are immutable once given; what happens to
// them afterwards is in the events.
type Record struct {
	ID           RecordID // assigned by [Registry.Give]
	Subject      Subject
	Organisation Organisation // the provider that holds the consent
	Purpose      Purpose
	Decision     Decision

	// GivenAt is the moment the client gave the consent (signed the form).
	// It must not be after the moment it is recorded.
	GivenAt time.Time
	// ValidFrom and ValidUntil optionally limit the validity to
	// [ValidFrom, ValidUntil). Zero means unbounded.
	ValidFrom, ValidUntil time.Time

	// PolicyVersion is the version of the consent text the client agreed to.
	PolicyVersion string
	Evidence      Evidence
	// Practitioner is required for PurposeMedicalInformation and must be nil
	// for every other purpose.
	Practitioner *Practitioner

	RecordedBy Actor     // who recorded the consent in the portal
	RecordedAt time.Time // assigned by [Registry.Give]
}

// validate checks everything the caller supplies (not ID and RecordedAt).
func (r *Record) validate() error {
	if err := checkSubject(r.Subject); err != nil {
		return err
	}
	checks := []struct {
		field    string
		value    string
		max      int
		required bool
	}{
		{"Organisation", string(r.Organisation), maxKeyLen, true},
		{"PolicyVersion", r.PolicyVersion, maxKeyLen, true},
		{"Evidence.Reference", r.Evidence.Reference, maxTextLen, true},
	}
	for _, c := range checks {
		if err := checkText(c.field, c.value, c.max, c.required); err != nil {
			return err
		}
	}
	switch {
	case !r.Purpose.Valid():
		return fieldError("Purpose", "is not one of the defined purposes")
	case !r.Decision.valid():
		return fieldError("Decision", `is neither "permit" nor "deny"`)
	case !r.Evidence.Kind.valid():
		return fieldError("Evidence.Kind", "is not one of the defined kinds")
	case len(r.Evidence.DocumentSHA256) != 0 && len(r.Evidence.DocumentSHA256) != 32:
		return fieldError("Evidence.DocumentSHA256", "is not 32 bytes long")
	case r.GivenAt.IsZero():
		return fieldError("GivenAt", "is zero: record the moment the consent was given")
	}
	for _, t := range []struct {
		field string
		t     time.Time
	}{{"GivenAt", r.GivenAt}, {"ValidFrom", r.ValidFrom}, {"ValidUntil", r.ValidUntil}} {
		if err := checkTime(t.field, t.t, false); err != nil {
			return err
		}
	}
	if !r.ValidFrom.IsZero() && !r.ValidUntil.IsZero() && !r.ValidFrom.Before(r.ValidUntil) {
		return fieldError("ValidUntil", "is not after ValidFrom")
	}
	if !r.ValidUntil.IsZero() && !r.GivenAt.Before(r.ValidUntil) {
		return fieldError("ValidUntil", "is not after GivenAt: the consent would never count")
	}
	if err := r.RecordedBy.validate("RecordedBy"); err != nil {
		return err
	}
	if r.Purpose == PurposeMedicalInformation {
		p := r.Practitioner
		if p == nil || p.Name == "" || p.Function == "" {
			return &FieldError{Field: "Practitioner", Problem: "needs a name and a function", Err: ErrPractitionerRequired}
		}
		if err := checkText("Practitioner.Name", p.Name, maxTextLen, true); err != nil {
			return err
		}
		return checkText("Practitioner.Function", p.Function, maxTextLen, true)
	}
	if r.Practitioner != nil {
		return fieldError("Practitioner", "is set, but only the medical-information purpose names a practitioner")
	}
	return nil
}

// clone returns a deep copy, so that callers cannot change stored state.
func (r Record) clone() Record {
	if r.Evidence.DocumentSHA256 != nil {
		r.Evidence.DocumentSHA256 = append([]byte(nil), r.Evidence.DocumentSHA256...)
	}
	if r.Practitioner != nil {
		p := *r.Practitioner
		r.Practitioner = &p
	}
	return r
}

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
// and it cannot list clients: every question names a subject the caller
// already knows.
//
// # Events
//
// Records are immutable. Everything that happens is an append-only [Event]:
// given, withdrawn, entered in error, corrected, evidence requested, produced or
// missing. The state at any moment is derived from the events, so "was this
// access allowed on 12 March?" still has an answer after a later withdrawal.
//
// # Deciding
//
// [Registry.Decide] answers whether a subject's data may be used by an
// organisation for a purpose at a moment, with the record the answer rests on
// and a [Reason]. The rules, for the records of that subject, organisation and
// purpose only:
//
//   - A record counts from the moment the consent was given ([Record.GivenAt]),
//     inclusive. Consent given after the use is not consent.
//   - A record counts within its validity period, [ValidFrom, ValidUntil): the
//     start is inclusive, the end exclusive, as with every interval here.
//   - A withdrawal ends a record from the moment of withdrawal, not before.
//   - A record entered in error, or corrected (replaced by a new record), never
//     counted: it is ignored, also for moments before it was marked.
//   - Evidence found missing in a spot check suspends a record from that moment
//     until the evidence is produced after all.
//   - Of the records that count, the one given last decides, so a client can
//     change their mind either way; a deny beats a permit given at the same
//     moment. An explicit deny is reported as [ReasonDenied], with the deny
//     record, which is more than the [ReasonNoConsent] of no record at all.
//
// The decision is made with everything known when it is asked: a record
// entered today of a form signed last week answers "was last Tuesday's use
// allowed?" with yes. What was known at the moment of an access is in the
// access log: [Registry.Authorize] decides at that moment, with the records
// entered by then, and writes an [AccessEntry], in the spirit of NEN 7513, to
// an [AccessLog].
//
// # Tamper evidence
//
// Events form chains, one per subject and organisation. Each event carries an
// HMAC-SHA256, keyed with a secret from configuration, over the previous
// event's MAC and the event's canonical encoding (see [Event] for the exact
// bytes). [Registry.Verify] recomputes every chain and names each changed,
// removed or reordered event. A [Checkpoint] holds the head of every chain and
// a digest over them; anchor the digest elsewhere (a notary, a transparency
// log, an e-mail to the supervisor) and [Registry.VerifyCheckpoint] later
// detects what a chain alone cannot: events cut off the end of a chain, or a
// chain removed whole.
//
// One chain per subject and organisation, rather than one global chain, means
// that appends for different clients never contend (a global chain serialises
// every write in the portal), that a decision reads and verifies exactly one
// short chain, and that a damaged chain does not taint the others. The
// checkpoint ties the chains together. Two writers on the same chain are
// serialised by an optimistic check: the store accepts an append only on top
// of the head the writer read, and the loser retries (see [ErrConflict]).
//
// The key is a secret from configuration, at least 32 random bytes. It is
// needed for as long as the events it sealed must be verified. The package
// has no key rotation, because an old key that stays valid for verification
// would let whoever has it forge old events: to move to a new key, verify the
// store and anchor its checkpoint under the old key, then continue in a new
// store under the new one.
//
// # Spot checks
//
// [Registry.Sample] draws a reproducible random sample of k records from a
// frozen population (records of an organisation and purpose given in a closed
// time window): the k records with the smallest HMAC-SHA256(seed, record id),
// "bottom-k". The [Manifest] states the algorithm, seed, filter, population
// size and digest and the selected records, so anyone can redraw it
// ([Registry.Redraw], or [BottomK] on a list of ids) and get the same sample.
// Evidence requests and their outcome are events on the records.
//
// # Stores
//
// A [Store] keeps sealed events; it never interprets them. [NewMemoryStore]
// keeps them in memory; package consent/sqlstore keeps them in SQLite or
// PostgreSQL. Package consent/consenttest is a conformance suite for any Store.
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

	// ErrNotFound means no record has the given id.
	ErrNotFound = errors.New("consent: record not found: check the record id")

	// ErrNotActive means a withdrawal or correction names a record that was
	// already withdrawn, entered in error or corrected.
	ErrNotActive = errors.New("consent: record is no longer active: it was withdrawn, entered in error or corrected")

	// ErrConflict means another writer appended to the same chain first. The
	// [Registry] retries a few times by itself; when it still returns
	// ErrConflict the chain is very busy and the caller may retry the whole
	// operation.
	ErrConflict = errors.New("consent: concurrent append to the same chain: retry the operation")

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

// Subject is the opaque key of a client, such as a keyed pseudonym of the
// BSN. The package compares subject keys byte for byte and never interprets
// them; it never needs, and should never be given, a raw BSN.
type Subject string

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

// Valid reports whether d is Permit or Deny.
func (d Decision) Valid() bool { return d == Permit || d == Deny }

// EvidenceKind is the form of the signed consent.
type EvidenceKind string

// The kinds of evidence.
const (
	// EvidencePaper is a form signed on paper.
	EvidencePaper EvidenceKind = "paper"
	// EvidenceElectronicSignature is an electronically signed form.
	EvidenceElectronicSignature EvidenceKind = "electronic-signature"
)

// Valid reports whether k is one of the defined kinds.
func (k EvidenceKind) Valid() bool {
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
	checks := []struct {
		field    string
		value    string
		max      int
		required bool
	}{
		{"Subject", string(r.Subject), maxKeyLen, true},
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
	case !r.Decision.Valid():
		return fieldError("Decision", `is neither "permit" nor "deny"`)
	case !r.Evidence.Kind.Valid():
		return fieldError("Evidence.Kind", "is not one of the defined kinds")
	case len(r.Evidence.DocumentSHA256) != 0 && len(r.Evidence.DocumentSHA256) != 32:
		return fieldError("Evidence.DocumentSHA256", "is not 32 bytes long")
	case r.GivenAt.IsZero():
		return fieldError("GivenAt", "is zero: record the moment the consent was given")
	case !r.ValidFrom.IsZero() && !r.ValidUntil.IsZero() && !r.ValidFrom.Before(r.ValidUntil):
		return fieldError("ValidUntil", "is not after ValidFrom")
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

// Package fhir exports consent records as HL7 FHIR R4 Consent resources.
//
// [Export] maps a [consent.Status] to a [Consent] that encoding/json writes as
// a FHIR R4 Consent resource (https://hl7.org/fhir/R4/consent.html):
//
//   - id: the record id.
//   - status: entered-in-error for a record entered in error or corrected;
//     inactive once withdrawn or past its validity; active otherwise (also
//     for a deny, whose provision says deny).
//   - scope: patient-privacy; category: LOINC 59284-0, patient consent.
//   - patient and performer: the client, by subject key (an identifier, never
//     a BSN); organization: the provider that holds the consent.
//   - dateTime: when the consent was given.
//   - sourceReference: the signed form in the provider's archive, by
//     reference. (FHIR's Attachment.hash is SHA-1, so the record's SHA-256 of
//     the document is not exported.)
//   - policyRule: OPTIN (v3-ActCode): nothing is shared without consent;
//     policy: the consent text's version, when [Options.PolicyBase] is set.
//   - provision: permit or deny, the period in which the record counts, the
//     organisation as actor (role IRCP, information recipient), the purpose
//     as a coding, and for the medical-information authorisation the named
//     practitioner as actor (role INF, informant).
//
// [Consent.Validate] enforces FHIR's invariants for Consent (ppc-1: a policy
// or policyRule; ppc-2: a patient for the patient-privacy scope) and the
// cardinalities the JSON schema cannot express; Export calls it.
package fhir

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/zorgkit/zorgkit/consent"
)

// Code systems of HL7 used in the export.
const (
	ScopeSystem         = "http://terminology.hl7.org/CodeSystem/consentscope"
	ActCodeSystem       = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	ParticipationSystem = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	LOINCSystem         = "http://loinc.org"
)

// Options are the identifier systems of the export: the URIs that say what
// kind of value an identifier or code is. Set them to the naming systems of
// your portal; the zero value uses the defaults below.
type Options struct {
	SubjectSystem      string // the subject keys; default "urn:zorgkit:consent:subject"
	OrganisationSystem string // the organisations; default "urn:zorgkit:consent:organisation"
	PurposeSystem      string // the purposes; default "urn:zorgkit:consent:purpose"
	EvidenceSystem     string // the archive references; default "urn:zorgkit:consent:evidence"
	// PolicyBase, when set, exports policy.uri as PolicyBase followed by
	// the escaped policy version, such as "https://portal.example/toestemming/"
	// + "2026-1".
	PolicyBase string
}

func (o Options) withDefaults() Options {
	set := func(s *string, def string) {
		if *s == "" {
			*s = def
		}
	}
	set(&o.SubjectSystem, "urn:zorgkit:consent:subject")
	set(&o.OrganisationSystem, "urn:zorgkit:consent:organisation")
	set(&o.PurposeSystem, "urn:zorgkit:consent:purpose")
	set(&o.EvidenceSystem, "urn:zorgkit:consent:evidence")
	return o
}

// Consent is a FHIR R4 Consent resource, with the elements this package
// exports.
type Consent struct {
	ResourceType    string            `json:"resourceType"` // "Consent"
	ID              string            `json:"id,omitempty"`
	Status          string            `json:"status"`
	Scope           *CodeableConcept  `json:"scope"`
	Category        []CodeableConcept `json:"category"`
	Patient         *Reference        `json:"patient,omitempty"`
	DateTime        string            `json:"dateTime,omitempty"`
	Performer       []Reference       `json:"performer,omitempty"`
	Organization    []Reference       `json:"organization,omitempty"`
	SourceReference *Reference        `json:"sourceReference,omitempty"`
	Policy          []Policy          `json:"policy,omitempty"`
	PolicyRule      *CodeableConcept  `json:"policyRule,omitempty"`
	Provision       *Provision        `json:"provision,omitempty"`
}

// CodeableConcept is a FHIR CodeableConcept.
type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// Coding is a FHIR Coding.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// Identifier is a FHIR Identifier.
type Identifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
}

// Reference is a FHIR Reference, here always by identifier or display.
type Reference struct {
	Type       string      `json:"type,omitempty"`
	Identifier *Identifier `json:"identifier,omitempty"`
	Display    string      `json:"display,omitempty"`
}

// Policy is a FHIR Consent.policy.
type Policy struct {
	URI string `json:"uri,omitempty"`
}

// Period is a FHIR Period.
type Period struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

// Provision is a FHIR Consent.provision.
type Provision struct {
	Type    string   `json:"type,omitempty"` // "permit" or "deny"
	Period  *Period  `json:"period,omitempty"`
	Actor   []Actor  `json:"actor,omitempty"`
	Purpose []Coding `json:"purpose,omitempty"`
}

// Actor is a FHIR Consent.provision.actor.
type Actor struct {
	Role      *CodeableConcept `json:"role"`
	Reference *Reference       `json:"reference"`
}

// ErrInvariant means a resource breaks a FHIR invariant or cardinality; the
// message names it.
var ErrInvariant = errors.New("consent/fhir: the resource breaks a FHIR invariant")

var purposeDisplay = map[consent.Purpose]string{
	consent.PurposeViewNAW:            "NAW-gegevens inzien",
	consent.PurposeConsultIndication:  "Indicatie raadplegen",
	consent.PurposeTakeOverIndication: "Indicatiegegevens overnemen",
	consent.PurposeMedicalInformation: "Aanvullende medische informatie opvragen bij de behandelaar",
}

var evidenceDisplay = map[consent.EvidenceKind]string{
	consent.EvidencePaper:               "Ondertekend toestemmingsformulier (papier)",
	consent.EvidenceElectronicSignature: "Ondertekend toestemmingsformulier (elektronische handtekening)",
}

// dateTime formats t as a FHIR dateTime, in UTC.
func dateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Export maps a record and its events to a Consent resource, with the status
// at the moment now. It returns an error wrapping [ErrInvariant] if the
// result would break a FHIR invariant, such as for a record without subject.
func Export(s *consent.Status, now time.Time, opts Options) (*Consent, error) {
	o := opts.withDefaults()
	r := &s.Record
	status := "active"
	switch {
	case s.Void():
		status = "entered-in-error"
	case !s.WithdrawnAt.IsZero() && !s.WithdrawnAt.After(now),
		!r.ValidUntil.IsZero() && !r.ValidUntil.After(now):
		status = "inactive"
	}
	c := &Consent{
		ResourceType: "Consent",
		ID:           string(r.ID),
		Status:       status,
		Scope: &CodeableConcept{Coding: []Coding{
			{System: ScopeSystem, Code: "patient-privacy", Display: "Privacy Consent"},
		}},
		Category: []CodeableConcept{{Coding: []Coding{
			{System: LOINCSystem, Code: "59284-0", Display: "Patient Consent"},
		}}},
		DateTime:   dateTime(r.GivenAt),
		PolicyRule: &CodeableConcept{Coding: []Coding{{System: ActCodeSystem, Code: "OPTIN", Display: "opt-in"}}},
	}
	if r.Subject != "" {
		patient := Reference{Type: "Patient", Identifier: &Identifier{System: o.SubjectSystem, Value: string(r.Subject)}}
		c.Patient = &patient
		c.Performer = []Reference{patient}
	}
	organisation := Reference{Type: "Organization", Identifier: &Identifier{System: o.OrganisationSystem, Value: string(r.Organisation)}}
	if r.Organisation != "" {
		c.Organization = []Reference{organisation}
	}
	if r.Evidence.Reference != "" {
		c.SourceReference = &Reference{
			Type:       "DocumentReference",
			Identifier: &Identifier{System: o.EvidenceSystem, Value: r.Evidence.Reference},
			Display:    evidenceDisplay[r.Evidence.Kind],
		}
	}
	if o.PolicyBase != "" && r.PolicyVersion != "" {
		c.Policy = []Policy{{URI: o.PolicyBase + url.PathEscape(r.PolicyVersion)}}
	}
	start := r.GivenAt
	if r.ValidFrom.After(start) {
		start = r.ValidFrom
	}
	p := &Provision{
		Type:    string(r.Decision),
		Period:  &Period{Start: dateTime(start), End: dateTime(r.ValidUntil)},
		Purpose: []Coding{{System: o.PurposeSystem, Code: string(r.Purpose), Display: purposeDisplay[r.Purpose]}},
	}
	if r.Organisation != "" {
		p.Actor = append(p.Actor, Actor{
			Role:      &CodeableConcept{Coding: []Coding{{System: ParticipationSystem, Code: "IRCP", Display: "information recipient"}}},
			Reference: &organisation,
		})
	}
	if pr := r.Practitioner; pr != nil {
		p.Actor = append(p.Actor, Actor{
			Role:      &CodeableConcept{Coding: []Coding{{System: ParticipationSystem, Code: "INF", Display: "informant"}}},
			Reference: &Reference{Type: "Practitioner", Display: pr.Name + " (" + pr.Function + ")"},
		})
	}
	c.Provision = p
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate checks the FHIR invariants of Consent that this package can
// break: ppc-1 (a policy or policyRule), ppc-2 (a patient when the scope is
// patient-privacy), and the required elements status, scope, category,
// and each actor's role and reference.
func (c *Consent) Validate() error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvariant, fmt.Sprintf(format, args...))
	}
	switch c.Status {
	case "draft", "proposed", "active", "rejected", "inactive", "entered-in-error":
	default:
		return fail("status %q is not a Consent status", c.Status)
	}
	switch {
	case c.ResourceType != "Consent":
		return fail("resourceType is %q", c.ResourceType)
	case c.Scope == nil || len(c.Scope.Coding) == 0 && c.Scope.Text == "":
		return fail("scope is required")
	case len(c.Category) == 0:
		return fail("category is required")
	case len(c.Policy) == 0 && c.PolicyRule == nil:
		return fail("ppc-1: either a policy or a policyRule is required")
	}
	for _, cd := range c.Scope.Coding {
		if cd.System == ScopeSystem && cd.Code == "patient-privacy" && c.Patient == nil {
			return fail("ppc-2: a patient is required for the patient-privacy scope")
		}
	}
	if c.Patient != nil && (c.Patient.Identifier == nil || c.Patient.Identifier.Value == "") {
		return fail("the patient has no identifier")
	}
	if p := c.Provision; p != nil {
		if p.Type != "" && p.Type != "permit" && p.Type != "deny" {
			return fail("provision.type %q is neither permit nor deny", p.Type)
		}
		for i, a := range p.Actor {
			if a.Role == nil || a.Reference == nil {
				return fail("provision.actor[%d] needs a role and a reference", i)
			}
		}
	}
	return nil
}

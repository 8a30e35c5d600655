// Package fhir exports consent records as HL7 FHIR R4 Consent resources.
//
// [Export] maps a [consent.Status] to a [Consent] that encoding/json writes as
// a FHIR R4 Consent resource (https://hl7.org/fhir/R4/consent.html):
//
//   - id and identifier: the record id (identifier with the system of
//     [Options.RecordSystem]).
//   - status: entered-in-error for a record entered in error or corrected;
//     inactive once it ended (withdrawn, superseded by a later statement of
//     the client, or past its validity) and while it is suspended because
//     its signed form could not be produced, since a consumer acts only on
//     an active consent; active otherwise (also for a deny, whose provision
//     says deny).
//   - scope: patient-privacy; category: LOINC 59284-0, patient consent.
//   - patient and performer: the client, by subject key (an identifier, never
//     a BSN); organization: the provider that holds the consent.
//   - dateTime: when the consent was given.
//   - sourceReference: the signed form in the provider's archive, by
//     reference. (FHIR's Attachment.hash is SHA-1, so the record's SHA-256 of
//     the document is not exported.)
//   - policyRule: OPTIN (v3-ActCode): nothing is shared without consent;
//     policy: the consent text's version, when [Options.PolicyBase] is set.
//   - provision: permit or deny; the period in which the record counts,
//     from when it was given or its validity started to when it ended: its
//     validity's end, the moment of the withdrawal, or the start of the
//     statement that superseded it, whichever came first; the organisation
//     as actor (role IRCP, information recipient); the purpose as a coding;
//     and for the medical-information authorisation the named practitioner
//     as actor (role INF, informant): a reference to a contained
//     PractitionerRole whose code is the practitioner's function (coded with
//     [Options.FunctionSystem], the function's words as text), for a
//     contained Practitioner whose name is the practitioner's name.
//
// [Consent.Validate] enforces FHIR's invariants for Consent (ppc-1: a policy
// or policyRule; ppc-2: a patient for the patient-privacy scope; dom-3: every
// contained resource referenced) and the cardinalities the JSON schema cannot
// express; Export calls it.
package fhir

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
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
	RecordSystem       string // the record ids; default "urn:zorgkit:consent:record"
	// FunctionSystem codes the practitioner's function, with the function
	// in lower case as code; default "urn:zorgkit:consent:practitioner-function".
	FunctionSystem string
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
	set(&o.RecordSystem, "urn:zorgkit:consent:record")
	set(&o.FunctionSystem, "urn:zorgkit:consent:practitioner-function")
	return o
}

// Consent is a FHIR R4 Consent resource, with the elements this package
// exports.
type Consent struct {
	ResourceType    string            `json:"resourceType"` // "Consent"
	ID              string            `json:"id,omitempty"`
	Contained       []Resource        `json:"contained,omitempty"`
	Identifier      []Identifier      `json:"identifier,omitempty"`
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

// Reference is a FHIR Reference: to a contained resource ("#id"), or by
// identifier or display.
type Reference struct {
	Reference  string      `json:"reference,omitempty"`
	Type       string      `json:"type,omitempty"`
	Identifier *Identifier `json:"identifier,omitempty"`
	Display    string      `json:"display,omitempty"`
}

// Resource is a resource contained in the Consent: the Practitioner and
// PractitionerRole of the medical-information authorisation.
type Resource struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	Name         []HumanName       `json:"name,omitempty"`         // Practitioner
	Practitioner *Reference        `json:"practitioner,omitempty"` // PractitionerRole
	Code         []CodeableConcept `json:"code,omitempty"`         // PractitionerRole
}

// HumanName is a FHIR HumanName, here the name as written.
type HumanName struct {
	Text string `json:"text"`
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
	start := r.GivenAt
	if r.ValidFrom.After(start) {
		start = r.ValidFrom
	}
	end := r.ValidUntil
	for _, t := range []time.Time{s.WithdrawnAt, s.SupersededAt} {
		if !t.IsZero() && (end.IsZero() || t.Before(end)) {
			end = t
		}
	}
	if !end.IsZero() && end.Before(start) {
		end = start // ended before it started: the period is empty
	}
	status := "active"
	switch {
	case s.Void():
		status = "entered-in-error"
	case !end.IsZero() && !end.After(now), s.Evidence == consent.EvidenceMissing:
		status = "inactive"
	}
	c := &Consent{
		ResourceType: "Consent",
		ID:           string(r.ID),
		Identifier:   []Identifier{{System: o.RecordSystem, Value: string(r.ID)}},
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
	p := &Provision{
		Type:    string(r.Decision),
		Period:  &Period{Start: dateTime(start), End: dateTime(end)},
		Purpose: []Coding{{System: o.PurposeSystem, Code: string(r.Purpose), Display: purposeDisplay[r.Purpose]}},
	}
	if r.Organisation != "" {
		p.Actor = append(p.Actor, Actor{
			Role:      &CodeableConcept{Coding: []Coding{{System: ParticipationSystem, Code: "IRCP", Display: "information recipient"}}},
			Reference: &organisation,
		})
	}
	if pr := r.Practitioner; pr != nil {
		c.Contained = []Resource{
			{ResourceType: "Practitioner", ID: "practitioner", Name: []HumanName{{Text: pr.Name}}},
			{ResourceType: "PractitionerRole", ID: "practitioner-role", Practitioner: &Reference{Reference: "#practitioner", Type: "Practitioner", Display: pr.Name},
				Code: []CodeableConcept{{Coding: []Coding{{System: o.FunctionSystem, Code: strings.Join(strings.Fields(strings.ToLower(pr.Function)), " "), Display: pr.Function}}, Text: pr.Function}}},
		}
		p.Actor = append(p.Actor, Actor{
			Role:      &CodeableConcept{Coding: []Coding{{System: ParticipationSystem, Code: "INF", Display: "informant"}}},
			Reference: &Reference{Reference: "#practitioner-role", Type: "PractitionerRole", Display: pr.Name + " (" + pr.Function + ")"},
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
	ids := map[string]bool{}
	for _, r := range c.Contained {
		ids["#"+r.ID] = true
	}
	referenced := map[string]bool{}
	refer := func(r *Reference) error {
		if r != nil && strings.HasPrefix(r.Reference, "#") {
			if !ids[r.Reference] {
				return fail("the reference %s names no contained resource", r.Reference)
			}
			referenced[r.Reference] = true
		}
		return nil
	}
	for i := range c.Contained {
		if err := refer(c.Contained[i].Practitioner); err != nil {
			return err
		}
	}
	if p := c.Provision; p != nil {
		for _, a := range p.Actor {
			if err := refer(a.Reference); err != nil {
				return err
			}
		}
	}
	for id := range ids {
		if !referenced[id] {
			return fail("dom-3: the contained resource %s is not referenced", id)
		}
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

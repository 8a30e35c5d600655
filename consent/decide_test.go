package consent_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/consenttest"
	"github.com/zorgkit/zorgkit/consent/store"
)

// t0 is the reference moment of the rule tests; the clock stands 30 days
// later, so every moment in the tables is in the past.
var t0 = time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)

func newRegistry(t *testing.T) (*consent.Registry, *consenttest.Clock) {
	t.Helper()
	clock := consenttest.NewClock(t0.Add(30 * 24 * time.Hour))
	r, err := consent.New(store.NewMemory(), consent.Config{Key: consenttest.Key(), Now: clock.Now})
	require.NoError(t, err)
	return r, clock
}

var (
	recorder = consent.Actor{User: "u1", Organisation: "org-a"}
)

// given is a record of a rule test, by label.
type given struct {
	label        string
	subject      consent.Subject      // default s1
	organisation consent.Organisation // default org-a
	purpose      consent.Purpose
	decision     consent.Decision
	at           time.Duration // GivenAt, relative to t0
	from, until  *time.Duration
}

func d(x time.Duration) *time.Duration { return &x }

// change is something that happens after all records are given: to a
// labelled record, or a withdrawal (labelled, so that it can be entered in
// error), or a record given late.
type change struct {
	label string
	kind  consent.EventKind // withdrawn, entered-in-error, evidence-missing, evidence-produced, corrected, given
	at    time.Duration     // relative to t0, for withdrawals and evidence outcomes
	// replacement, for corrected; the record, for given
	replacement *given
	err         error // the error the change meets, if any
}

func TestDecideRules(t *testing.T) {
	const ns = time.Nanosecond
	h := time.Hour
	permit := func(label string, at time.Duration) given {
		return given{label: label, purpose: consent.PurposeViewNAW, decision: consent.Permit, at: at}
	}
	deny := func(label string, at time.Duration) given {
		return given{label: label, purpose: consent.PurposeViewNAW, decision: consent.Deny, at: at}
	}
	withdraw := func(label string, at time.Duration) change {
		return change{label: label, kind: consent.EventWithdrawn, at: at}
	}
	tests := []struct {
		reason  string
		records []given
		changes []change
		purpose consent.Purpose // default view-naw
		at      time.Duration
		allowed bool
		why     consent.Reason
		record  string // label of the record the outcome rests on
	}{
		{reason: "no record: no consent",
			at: 0, why: consent.ReasonNoConsent},
		{reason: "a permit given before the use allows it",
			records: []given{permit("p", -h)}, at: 0, allowed: true, why: consent.ReasonPermitted, record: "p"},
		{reason: "a permit given at the very moment of use counts",
			records: []given{permit("p", 0)}, at: 0, allowed: true, why: consent.ReasonPermitted, record: "p"},
		{reason: "consent after use is not consent",
			records: []given{permit("p", h)}, at: 0, why: consent.ReasonGivenAfterUse, record: "p"},
		{reason: "consent one nanosecond after use is not consent",
			records: []given{permit("p", ns)}, at: 0, why: consent.ReasonGivenAfterUse, record: "p"},
		{reason: "consent after use: the earliest late record is named",
			records: []given{permit("late", 2*h), permit("later", 3*h)}, at: 0, why: consent.ReasonGivenAfterUse, record: "late"},
		{reason: "a deny beats nothing: it is reported with its record",
			records: []given{deny("d", -h)}, at: 0, why: consent.ReasonDenied, record: "d"},
		{reason: "a deny given after the use is not a denial at the use",
			records: []given{deny("d", h)}, at: 0, why: consent.ReasonGivenAfterUse, record: "d"},
		{reason: "a later permit overrides an earlier deny",
			records: []given{deny("d", -2*h), permit("p", -h)}, at: 0, allowed: true, why: consent.ReasonPermitted, record: "p"},
		{reason: "a later deny overrides an earlier permit",
			records: []given{permit("p", -2*h), deny("d", -h)}, at: 0, why: consent.ReasonDenied, record: "d"},
		{reason: "the order of recording does not matter, only when consent was given",
			records: []given{deny("d", -h), permit("p", -2*h)}, at: 0, why: consent.ReasonDenied, record: "d"},
		{reason: "before the later deny was given, the permit still counted",
			records: []given{permit("p", -2*h), deny("d", -h)}, at: -h - ns, allowed: true, why: consent.ReasonPermitted, record: "p"},
		{reason: "a deny beats a permit given at the same moment",
			records: []given{permit("p", -h), deny("d", -h)}, at: 0, why: consent.ReasonDenied, record: "d"},
		{reason: "a deny beats a permit given at the same moment, whatever the recording order",
			records: []given{deny("d", -h), permit("p", -h)}, at: 0, why: consent.ReasonDenied, record: "d"},
		{reason: "of two permits given at the same moment, the one recorded last decides",
			records: []given{permit("p1", -h), {label: "p2", purpose: consent.PurposeViewNAW, decision: consent.Permit, at: -h, until: d(h)}},
			at:      h, why: consent.ReasonExpired, record: "p2"},
		{reason: "a withdrawal does not reach back: the use before it was allowed",
			records: []given{permit("p", -h)}, changes: []change{withdraw("w", h)},
			at: h - ns, allowed: true, why: consent.ReasonPermitted, record: "p"},
		{reason: "a withdrawal ends permission from that very moment",
			records: []given{permit("p", -h)}, changes: []change{withdraw("w", h)},
			at: h, why: consent.ReasonWithdrawn, record: "p"},
		{reason: "a withdrawal ends permission for good",
			records: []given{permit("p", -h)}, changes: []change{withdraw("w", h)},
			at: 20 * h, why: consent.ReasonWithdrawn, record: "p"},
		{reason: "a withdrawal at the moment consent was given ends it at once",
			records: []given{permit("p", -h)}, changes: []change{withdraw("w", -h)},
			at: -h, why: consent.ReasonWithdrawn, record: "p"},
		{reason: "a withdrawal ends every permit of the purpose: the older one does not decide again",
			records: []given{permit("old", -2*h), permit("new", -h)}, changes: []change{withdraw("w", 0)},
			at: h, why: consent.ReasonWithdrawn, record: "new"},
		{reason: "the same form twice is one record, and one withdrawal ends it",
			records: []given{permit("p", -h), permit("again", -h)}, changes: []change{withdraw("w", 0)},
			at: h, why: consent.ReasonWithdrawn, record: "p"},
		{reason: "a withdrawal ends a permit whose validity starts later",
			records: []given{{label: "p", purpose: consent.PurposeViewNAW, decision: consent.Permit, at: -h, from: d(2 * h)}},
			changes: []change{withdraw("w", 0)},
			at:      3 * h, why: consent.ReasonWithdrawn, record: "p"},
		{reason: "a withdrawal leaves other purposes alone",
			records: []given{permit("p", -h), {label: "c", purpose: consent.PurposeConsultIndication, decision: consent.Permit, at: -h}},
			changes: []change{withdraw("w", 0)}, purpose: consent.PurposeConsultIndication,
			at: h, allowed: true, why: consent.ReasonPermitted, record: "c"},
		{reason: "a permit given before the withdrawal but recorded after it does not count",
			records: []given{permit("p", -3*h)},
			changes: []change{withdraw("w", -h), {kind: consent.EventGiven, replacement: &given{label: "late", purpose: consent.PurposeViewNAW, decision: consent.Permit, at: -2 * h}}},
			at:      0, why: consent.ReasonWithdrawn, record: "late"},
		{reason: "a permit given after the withdrawal counts again",
			records: []given{permit("p", -3*h)},
			changes: []change{withdraw("w", -2*h), {kind: consent.EventGiven, replacement: &given{label: "new", purpose: consent.PurposeViewNAW, decision: consent.Permit, at: -h}}},
			at:      0, allowed: true, why: consent.ReasonPermitted, record: "new"},
		{reason: "a refusal cannot be withdrawn",
			records: []given{deny("d", -h)}, changes: []change{{label: "w", kind: consent.EventWithdrawn, at: 0, err: consent.ErrDenyNotWithdrawable}},
			at: h, why: consent.ReasonDenied, record: "d"},
		{reason: "a refusal cannot be withdrawn, and the older permit it overrode stays overridden",
			records: []given{permit("p", -2*h), deny("d", -h)}, changes: []change{{label: "w", kind: consent.EventWithdrawn, at: 0, err: consent.ErrDenyNotWithdrawable}},
			at: h, why: consent.ReasonDenied, record: "d"},
		{reason: "nothing to withdraw without a permit",
			changes: []change{{label: "w", kind: consent.EventWithdrawn, at: 0, err: consent.ErrNotActive}},
			at:      h, why: consent.ReasonNoConsent},
		{reason: "withdrawing twice: the second finds nothing to withdraw",
			records: []given{permit("p", -h)}, changes: []change{withdraw("w", 0), {label: "w2", kind: consent.EventWithdrawn, at: h, err: consent.ErrNotActive}},
			at: 2 * h, why: consent.ReasonWithdrawn, record: "p"},
		{reason: "a withdrawal before the permit was given withdraws nothing",
			records: []given{permit("p", 0)}, changes: []change{{label: "w", kind: consent.EventWithdrawn, at: -h, err: consent.ErrNotActive}},
			at: h, allowed: true, why: consent.ReasonPermitted, record: "p"},
		{reason: "a withdrawal entered in error never counted",
			records: []given{permit("p", -h)},
			changes: []change{withdraw("w", 0), {label: "w", kind: consent.EventEnteredInError}},
			at:      h, allowed: true, why: consent.ReasonPermitted, record: "p"},
		{reason: "entering the later refusal in error lets the older permit count again",
			records: []given{permit("p", -2*h), deny("d", -h)}, changes: []change{{label: "d", kind: consent.EventEnteredInError}},
			at: 0, allowed: true, why: consent.ReasonPermitted, record: "p"},
		{reason: "an expired later permit does not bring an older one back",
			records: []given{permit("old", -2*h), {label: "new", purpose: consent.PurposeViewNAW, decision: consent.Permit, at: -h, until: d(h)}},
			at:      2 * h, why: consent.ReasonExpired, record: "new"},
		{reason: "an expired refusal does not bring an older permit back",
			records: []given{permit("old", -2*h), {label: "d", purpose: consent.PurposeViewNAW, decision: consent.Deny, at: -h, until: d(h)}},
			at:      2 * h, why: consent.ReasonExpired, record: "d"},
		{reason: "a later permit whose validity starts later leaves the earlier one in force until then",
			records: []given{permit("old", -2*h), {label: "new", purpose: consent.PurposeViewNAW, decision: consent.Permit, at: -h, from: d(h)}},
			at:      0, allowed: true, why: consent.ReasonPermitted, record: "old"},
		{reason: "a later permit whose validity starts later takes over when it starts",
			records: []given{permit("old", -2*h), {label: "new", purpose: consent.PurposeViewNAW, decision: consent.Permit, at: -h, from: d(h)}},
			at:      h, allowed: true, why: consent.ReasonPermitted, record: "new"},
		{reason: "a refusal whose validity starts later leaves the permit in force until then",
			records: []given{permit("p", -2*h), {label: "d", purpose: consent.PurposeViewNAW, decision: consent.Deny, at: -h, from: d(h)}},
			at:      h - ns, allowed: true, why: consent.ReasonPermitted, record: "p"},
		{reason: "a permit that starts later but was overridden by a later refusal never counts",
			records: []given{{label: "p", purpose: consent.PurposeViewNAW, decision: consent.Permit, at: -2 * h, from: d(h)}, deny("d", -h)},
			at:      2 * h, why: consent.ReasonDenied, record: "d"},
		{reason: "validity start is inclusive",
			records: []given{{label: "p", purpose: consent.PurposeViewNAW, decision: consent.Permit, at: -h, from: d(0), until: d(h)}},
			at:      0, allowed: true, why: consent.ReasonPermitted, record: "p"},
		{reason: "before the validity period",
			records: []given{{label: "p", purpose: consent.PurposeViewNAW, decision: consent.Permit, at: -h, from: d(0), until: d(h)}},
			at:      -ns, why: consent.ReasonNotYetValid, record: "p"},
		{reason: "validity end is exclusive",
			records: []given{{label: "p", purpose: consent.PurposeViewNAW, decision: consent.Permit, at: -h, from: d(0), until: d(h)}},
			at:      h, why: consent.ReasonExpired, record: "p"},
		{reason: "just before the validity end",
			records: []given{{label: "p", purpose: consent.PurposeViewNAW, decision: consent.Permit, at: -h, until: d(h)}},
			at:      h - ns, allowed: true, why: consent.ReasonPermitted, record: "p"},
		{reason: "a validity period that starts before consent was given does not reach back",
			records: []given{{label: "p", purpose: consent.PurposeViewNAW, decision: consent.Permit, at: 0, from: d(-10 * h)}},
			at:      -h, why: consent.ReasonGivenAfterUse, record: "p"},
		{reason: "purposes never imply each other: consult does not allow viewing NAW",
			records: []given{
				{label: "c", purpose: consent.PurposeConsultIndication, decision: consent.Permit, at: -h},
				{label: "t", purpose: consent.PurposeTakeOverIndication, decision: consent.Permit, at: -h},
				{label: "m", purpose: consent.PurposeMedicalInformation, decision: consent.Permit, at: -h},
			},
			at: 0, why: consent.ReasonNoConsent},
		{reason: "purposes never imply each other: viewing NAW does not allow taking over",
			records: []given{permit("p", -h)}, purpose: consent.PurposeTakeOverIndication,
			at: 0, why: consent.ReasonNoConsent},
		{reason: "purposes never imply each other: a deny for one purpose does not deny another",
			records: []given{permit("p", -h), {label: "d", purpose: consent.PurposeConsultIndication, decision: consent.Deny, at: -h}},
			at:      0, allowed: true, why: consent.ReasonPermitted, record: "p"},
		{reason: "the medical-information authorisation with a practitioner allows the request",
			records: []given{{label: "m", purpose: consent.PurposeMedicalInformation, decision: consent.Permit, at: -h}},
			purpose: consent.PurposeMedicalInformation, at: 0, allowed: true, why: consent.ReasonPermitted, record: "m"},
		{reason: "another organisation's consent does not count",
			records: []given{{label: "p", organisation: "org-b", purpose: consent.PurposeViewNAW, decision: consent.Permit, at: -h}},
			at:      0, why: consent.ReasonNoConsent},
		{reason: "another client's consent does not count",
			records: []given{{label: "p", subject: "s2", purpose: consent.PurposeViewNAW, decision: consent.Permit, at: -h}},
			at:      0, why: consent.ReasonNoConsent},
		{reason: "a record entered in error never counted, also not before it was marked",
			records: []given{permit("p", -h)}, changes: []change{{label: "p", kind: consent.EventEnteredInError}},
			at: 0, why: consent.ReasonNoConsent},
		{reason: "a record entered in error is not a late consent either",
			records: []given{permit("p", h)}, changes: []change{{label: "p", kind: consent.EventEnteredInError}},
			at: 0, why: consent.ReasonNoConsent},
		{reason: "a corrected record is replaced by its correction",
			records: []given{permit("p", -h)},
			changes: []change{{label: "p", kind: consent.EventCorrected, replacement: &given{label: "c", purpose: consent.PurposeViewNAW, decision: consent.Deny, at: -h}}},
			at:      0, why: consent.ReasonDenied, record: "c"},
		{reason: "a correction may move the moment consent was given",
			records: []given{permit("p", -2*h)},
			changes: []change{{label: "p", kind: consent.EventCorrected, replacement: &given{label: "c", purpose: consent.PurposeViewNAW, decision: consent.Permit, at: h}}},
			at:      0, why: consent.ReasonGivenAfterUse, record: "c"},
		{reason: "missing evidence suspends a permit from that moment",
			records: []given{permit("p", -h)}, changes: []change{{label: "p", kind: consent.EventEvidenceMissing, at: h}},
			at: h, why: consent.ReasonEvidenceMissing, record: "p"},
		{reason: "missing evidence does not reach back",
			records: []given{permit("p", -h)}, changes: []change{{label: "p", kind: consent.EventEvidenceMissing, at: h}},
			at: h - ns, allowed: true, why: consent.ReasonPermitted, record: "p"},
		{reason: "a suspended later permit does not bring an older one back",
			records: []given{permit("old", -2*h), permit("new", -h)}, changes: []change{{label: "new", kind: consent.EventEvidenceMissing, at: 0}},
			at: h, why: consent.ReasonEvidenceMissing, record: "new"},
		{reason: "a suspended permit can still be withdrawn, since it may count again",
			records: []given{permit("p", -h)},
			changes: []change{{label: "p", kind: consent.EventEvidenceMissing, at: 0}, withdraw("w", h), {label: "p", kind: consent.EventEvidenceProduced, at: 2 * h}},
			at:      3 * h, why: consent.ReasonWithdrawn, record: "p"},
		{reason: "evidence produced after all restores the permit from then on",
			records: []given{permit("p", -h)},
			changes: []change{{label: "p", kind: consent.EventEvidenceMissing, at: h}, {label: "p", kind: consent.EventEvidenceProduced, at: 2 * h}},
			at:      2 * h, allowed: true, why: consent.ReasonPermitted, record: "p"},
		{reason: "evidence produced after all does not reach back into the suspension",
			records: []given{permit("p", -h)},
			changes: []change{{label: "p", kind: consent.EventEvidenceMissing, at: h}, {label: "p", kind: consent.EventEvidenceProduced, at: 2 * h}},
			at:      2*h - ns, why: consent.ReasonEvidenceMissing, record: "p"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			ctx := t.Context()
			r, _ := newRegistry(t)
			ids := map[string]consent.RecordID{}
			give := func(g given) consent.Record {
				t.Helper()
				rec := record(g)
				got, err := r.Give(ctx, rec)
				require.NoError(t, err)
				if _, seen := ids[g.label]; !seen {
					ids[g.label] = got.ID
				}
				return got
			}
			for _, g := range tt.records {
				give(g)
			}
			for _, c := range tt.changes {
				ch := consent.Change{At: t0.Add(c.at), By: recorder, Reason: "test"}
				var err error
				switch c.kind {
				case consent.EventGiven:
					give(*c.replacement)
				case consent.EventWithdrawn:
					purpose := consent.PurposeViewNAW
					ids[c.label], err = r.Withdraw(ctx, consent.Withdrawal{Subject: "s1", Organisation: "org-a", Purpose: purpose, At: ch.At, By: recorder, Reason: "per brief"})
				case consent.EventEnteredInError:
					err = r.EnterInError(ctx, ids[c.label], ch)
				case consent.EventEvidenceMissing:
					err = r.EvidenceMissing(ctx, ids[c.label], ch)
				case consent.EventEvidenceProduced:
					err = r.EvidenceProduced(ctx, ids[c.label], ch)
				case consent.EventCorrected:
					var rec consent.Record
					rec, err = r.Correct(ctx, ids[c.label], record(*c.replacement), ch)
					ids[c.replacement.label] = rec.ID
				}
				if c.err != nil {
					require.ErrorIs(t, err, c.err, "change %s of %s", c.kind, c.label)
				} else {
					require.NoError(t, err, "change %s of %s", c.kind, c.label)
				}
			}
			purpose := tt.purpose
			if purpose == "" {
				purpose = consent.PurposeViewNAW
			}
			out, err := r.DecideUnlogged(ctx, "s1", "org-a", purpose, t0.Add(tt.at))
			require.NoError(t, err)
			assert.Equal(t, tt.allowed, out.Allowed, "allowed")
			assert.Equal(t, tt.why, out.Reason, "reason")
			if tt.record == "" {
				assert.Nil(t, out.Record, "record")
			} else if assert.NotNil(t, out.Record, "record") {
				assert.Equal(t, ids[tt.record], out.Record.ID, "record: want %s", tt.record)
			}

			// Every purpose in one call, twice over and in another
			// order, gives what one call per purpose gives.
			reversed := consent.Purposes()
			slices.Reverse(reversed)
			all := append(consent.Purposes(), reversed...)
			each, err := r.DecideUnloggedEach(ctx, "s1", "org-a", all, t0.Add(tt.at))
			require.NoError(t, err)
			require.Len(t, each, len(all))
			for i, p := range all {
				one, err := r.DecideUnlogged(ctx, "s1", "org-a", p, t0.Add(tt.at))
				require.NoError(t, err)
				assert.Equal(t, one, each[i], "DecideUnloggedEach for %s", p)
			}
		})
	}
}

// record turns a rule-test record into a complete Record.
func record(g given) consent.Record {
	subject, org := g.subject, g.organisation
	if subject == "" {
		subject = "s1"
	}
	if org == "" {
		org = "org-a"
	}
	rec := consenttest.NewRecord(subject, org, g.purpose, g.decision, t0.Add(g.at))
	if g.from != nil {
		rec.ValidFrom = t0.Add(*g.from)
	}
	if g.until != nil {
		rec.ValidUntil = t0.Add(*g.until)
	}
	return rec
}

// TestDecideAfterWithdrawal is the question of the issue: was an access on
// 12 March allowed, asked after a later withdrawal?
func TestDecideAfterWithdrawal(t *testing.T) {
	ctx := t.Context()
	r, clock := newRegistry(t)
	clock.Set(time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC))
	rec, err := r.Give(ctx, consenttest.NewRecord("s1", "org-a", consent.PurposeConsultIndication, consent.Permit, clock.Now().Add(-time.Hour)))
	require.NoError(t, err)
	clock.Set(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC))
	_, err = r.Withdraw(ctx, consent.Withdrawal{Subject: "s1", Organisation: "org-a", Purpose: rec.Purpose, By: recorder})
	require.NoError(t, err)

	march12 := time.Date(2026, 3, 12, 14, 30, 0, 0, time.UTC)
	out, err := r.DecideUnlogged(ctx, "s1", "org-a", consent.PurposeConsultIndication, march12)
	require.NoError(t, err)
	assert.True(t, out.Allowed, "the access on 12 March was allowed")
	out, err = r.DecideUnlogged(ctx, "s1", "org-a", consent.PurposeConsultIndication, clock.Now())
	require.NoError(t, err)
	assert.False(t, out.Allowed, "since the withdrawal it is not")
	assert.Equal(t, consent.ReasonWithdrawn, out.Reason)
}

func TestDecideInvalid(t *testing.T) {
	r, _ := newRegistry(t)
	tests := []struct {
		reason  string
		subject consent.Subject
		org     consent.Organisation
		purpose consent.Purpose
		at      time.Time
	}{
		{"empty subject", "", "org-a", consent.PurposeViewNAW, t0},
		{"empty organisation", "s1", "", consent.PurposeViewNAW, t0},
		{"unknown purpose", "s1", "org-a", "everything", t0},
		{"zero moment", "s1", "org-a", consent.PurposeViewNAW, time.Time{}},
		{"a moment before 1970", "s1", "org-a", consent.PurposeViewNAW, time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)},
		{"a moment in 2200", "s1", "org-a", consent.PurposeViewNAW, time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"a BSN as subject", "111222333", "org-a", consent.PurposeViewNAW, t0},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			_, err := r.DecideUnlogged(t.Context(), tt.subject, tt.org, tt.purpose, tt.at)
			assert.ErrorIs(t, err, consent.ErrInvalid)
			out, err := r.DecideUnloggedEach(t.Context(), tt.subject, tt.org, []consent.Purpose{consent.PurposeViewNAW, tt.purpose}, tt.at)
			assert.ErrorIs(t, err, consent.ErrInvalid, "DecideUnloggedEach")
			assert.Nil(t, out, "DecideUnloggedEach")
		})
	}
	t.Run("no purposes", func(t *testing.T) {
		for _, purposes := range [][]consent.Purpose{nil, {}} {
			out, err := r.DecideUnloggedEach(t.Context(), "s1", "org-a", purposes, t0)
			var ferr *consent.FieldError
			require.ErrorAs(t, err, &ferr)
			assert.Equal(t, "Purpose", ferr.Field)
			assert.ErrorIs(t, err, consent.ErrInvalid)
			assert.Nil(t, out)
		}
	})
}

func TestAuthorize(t *testing.T) {
	ctx := t.Context()
	var entries []consent.AccessEntry
	var fail error
	clock := consenttest.NewClock(t0)
	s := store.NewMemory()
	r, err := consent.New(s, consent.Config{
		Key:      consenttest.Key(),
		Now:      clock.Now,
		Instance: "portal-1",
		AccessLog: consent.AccessLogFunc(func(_ context.Context, e consent.AccessEntry) error {
			if fail != nil {
				return fail
			}
			entries = append(entries, e)
			return nil
		}),
	})
	require.NoError(t, err)
	rec, err := r.Give(ctx, consenttest.NewRecord("s1", "org-a", consent.PurposeViewNAW, consent.Permit, t0.Add(-time.Hour)))
	require.NoError(t, err)
	clock.Advance(time.Minute)

	secretary := consent.Actor{User: "secretary", Organisation: "org-a", OnBehalfOf: "dr-jansen"}
	access := func(purpose consent.Purpose, action consent.Action) consent.Access {
		return consent.Access{Subject: "s1", Purpose: purpose, By: secretary, Role: "secretariaat", Object: "client/naw", Action: action, Address: "192.0.2.7"}
	}
	out, err := r.Authorize(ctx, access(consent.PurposeViewNAW, consent.ActionRead))
	require.NoError(t, err)
	assert.True(t, out.Allowed)
	out, err = r.Authorize(ctx, access(consent.PurposeTakeOverIndication, consent.ActionCreate))
	require.NoError(t, err)
	assert.False(t, out.Allowed, "a refused access is logged too")

	require.Len(t, entries, 2)
	want := consent.AccessEntry{
		ID: entries[0].ID, Time: clock.Now(), Instance: "portal-1", Address: "192.0.2.7",
		User: "secretary", Role: "secretariaat", OnBehalfOf: "dr-jansen", Organisation: "org-a",
		Subject: "s1", Object: "client/naw", Purpose: consent.PurposeViewNAW, Action: consent.ActionRead,
		Allowed: true, Reason: consent.ReasonPermitted, Record: rec.ID,
	}
	assert.Equal(t, want, entries[0])
	assert.Len(t, entries[0].ID, 32)
	assert.NotEqual(t, entries[0].ID, entries[1].ID, "every entry has its own id")
	assert.Equal(t, consent.ReasonNoConsent, entries[1].Reason)
	assert.Equal(t, consent.ActionCreate, entries[1].Action)
	assert.Empty(t, entries[1].Record)

	fail = errors.New("disk full")
	_, err = r.Authorize(ctx, access(consent.PurposeViewNAW, consent.ActionRead))
	assert.ErrorIs(t, err, consent.ErrLog, "no access without a log entry")
	fail = nil

	invalid := []struct {
		reason string
		change func(a *consent.Access)
	}{
		{"no user", func(a *consent.Access) { a.By.User = "" }},
		{"no role", func(a *consent.Access) { a.Role = "" }},
		{"no data object", func(a *consent.Access) { a.Object = "" }},
		{"an action that is not on the list", func(a *consent.Access) { a.Action = "copy" }},
		{"no action", func(a *consent.Access) { a.Action = "" }},
		{"a BSN as subject", func(a *consent.Access) { a.Subject = "111222333" }},
		{"an unknown purpose", func(a *consent.Access) { a.Purpose = "all" }},
	}
	for _, tt := range invalid {
		t.Run(tt.reason, func(t *testing.T) {
			a := access(consent.PurposeViewNAW, consent.ActionRead)
			tt.change(&a)
			before := len(entries)
			_, err := r.Authorize(ctx, a)
			assert.ErrorIs(t, err, consent.ErrInvalid)
			assert.Len(t, entries, before, "an invalid request is not logged")
		})
	}

	// A chain whose head was tampered with: no decision, and the entry
	// says so.
	h, err := s.Head(ctx, string(consent.ChainOf("s1", "org-a")))
	require.NoError(t, err)
	require.NoError(t, s.Update(ctx, h.Chain, func(h *store.Head, _ store.EventReader) (*store.Batch, error) {
		forged := *h
		forged.State = []byte(`{"v":2,"records":[],"withdrawals":[],"plans":[]}`)
		return &store.Batch{Head: forged}, nil
	}))
	before := len(entries)
	_, err = r.Authorize(ctx, access(consent.PurposeViewNAW, consent.ActionRead))
	assert.ErrorIs(t, err, consent.ErrTampered)
	require.Len(t, entries, before+1, "a decision that fails is logged")
	assert.False(t, entries[before].Allowed)
	assert.Equal(t, "tampered", entries[before].Error)
	fail = errors.New("disk full")
	_, err = r.Authorize(ctx, access(consent.PurposeViewNAW, consent.ActionRead))
	assert.ErrorIs(t, err, consent.ErrLog)
	assert.ErrorIs(t, err, consent.ErrTampered, "both failures are reported")

	nolog, err := consent.New(store.NewMemory(), consent.Config{Key: consenttest.Key()})
	require.NoError(t, err)
	_, err = nolog.Authorize(ctx, access(consent.PurposeViewNAW, consent.ActionRead))
	assert.ErrorIs(t, err, consent.ErrLog)
}

func TestReasonMessages(t *testing.T) {
	reasons := []consent.Reason{
		consent.ReasonPermitted, consent.ReasonDenied, consent.ReasonWithdrawn, consent.ReasonExpired,
		consent.ReasonNotYetValid, consent.ReasonEvidenceMissing, consent.ReasonGivenAfterUse, consent.ReasonNoConsent,
	}
	seen := map[string]bool{}
	for _, r := range reasons {
		t.Run(string(r), func(t *testing.T) {
			nl, en := r.Message(language.Dutch), r.Message(language.English)
			assert.NotEqual(t, string(r), nl, "a Dutch text exists")
			assert.NotEqual(t, string(r), en, "an English text exists")
			assert.NotEqual(t, nl, en)
			assert.Equal(t, nl, r.Message(language.Und), "Dutch is the default")
			assert.Equal(t, nl, r.Message(language.German), "Dutch is the fallback")
			assert.Equal(t, en, r.Message(language.BritishEnglish))
			assert.False(t, seen[nl], "texts are distinct")
			seen[nl] = true
		})
	}
	assert.Equal(t, "Er is geen toestemming van de cliënt vastgelegd voor dit doel.", consent.ReasonNoConsent.Message(language.Dutch))
}

package consent_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/consenttest"
	"github.com/zorgkit/zorgkit/consent/store"
)

func TestNew(t *testing.T) {
	_, err := consent.New(nil, consent.Config{Key: consenttest.Key()})
	assert.Error(t, err)
	_, err = consent.New(store.NewMemory(), consent.Config{Key: make([]byte, 31)})
	assert.ErrorContains(t, err, "at least 32")
	_, err = consent.New(store.NewMemory(), consent.Config{Key: consenttest.Key(), AccessLog: consent.AccessLogFunc(nil)})
	assert.ErrorIs(t, err, consent.ErrInvalid, "an access log needs the instance's name")
	key := consenttest.Key()
	r, err := consent.New(store.NewMemory(), consent.Config{Key: key})
	require.NoError(t, err)
	key[0] ^= 1 // the registry keeps its own copy
	_, err = r.Give(t.Context(), consenttest.NewRecord("s1", "org-a", consent.PurposeViewNAW, consent.Permit, time.Now().Add(-time.Hour)))
	require.NoError(t, err)
	_, err = r.Verify(t.Context())
	assert.NoError(t, err)
}

func TestGiveInvalid(t *testing.T) {
	valid := func() consent.Record {
		return consenttest.NewRecord("pseudonym-7f3a", "org-a", consent.PurposeViewNAW, consent.Permit, t0)
	}
	medical := func() consent.Record {
		return consenttest.NewRecord("pseudonym-7f3a", "org-a", consent.PurposeMedicalInformation, consent.Permit, t0)
	}
	tests := []struct {
		reason string
		change func(*consent.Record)
		field  string
		want   error
	}{
		{"no subject", func(r *consent.Record) { r.Subject = "" }, "Subject", consent.ErrInvalid},
		{"no organisation", func(r *consent.Record) { r.Organisation = "" }, "Organisation", consent.ErrInvalid},
		{"unknown purpose", func(r *consent.Record) { r.Purpose = "marketing" }, "Purpose", consent.ErrInvalid},
		{"no purpose", func(r *consent.Record) { r.Purpose = "" }, "Purpose", consent.ErrInvalid},
		{"no decision: consent must be explicit", func(r *consent.Record) { r.Decision = "" }, "Decision", consent.ErrInvalid},
		{"unknown decision", func(r *consent.Record) { r.Decision = "maybe" }, "Decision", consent.ErrInvalid},
		{"no moment of consent", func(r *consent.Record) { r.GivenAt = time.Time{} }, "GivenAt", consent.ErrInvalid},
		{"consent in the future", func(r *consent.Record) { r.GivenAt = t0.Add(31 * 24 * time.Hour) }, "GivenAt", consent.ErrInvalid},
		{"empty validity period", func(r *consent.Record) { r.ValidFrom, r.ValidUntil = t0, t0 }, "ValidUntil", consent.ErrInvalid},
		{"validity ends before it starts", func(r *consent.Record) { r.ValidFrom, r.ValidUntil = t0, t0.Add(-time.Second) }, "ValidUntil", consent.ErrInvalid},
		{"no policy version", func(r *consent.Record) { r.PolicyVersion = "" }, "PolicyVersion", consent.ErrInvalid},
		{"no evidence reference", func(r *consent.Record) { r.Evidence.Reference = "" }, "Evidence.Reference", consent.ErrInvalid},
		{"unknown evidence kind", func(r *consent.Record) { r.Evidence.Kind = "verbal" }, "Evidence.Kind", consent.ErrInvalid},
		{"short document hash", func(r *consent.Record) { r.Evidence.DocumentSHA256 = make([]byte, 20) }, "Evidence.DocumentSHA256", consent.ErrInvalid},
		{"no recording user", func(r *consent.Record) { r.RecordedBy.User = "" }, "RecordedBy.User", consent.ErrInvalid},
		{"no recording organisation", func(r *consent.Record) { r.RecordedBy.Organisation = "" }, "RecordedBy.Organisation", consent.ErrInvalid},
		{"control character in the subject", func(r *consent.Record) { r.Subject = "pseudonym\n7f3a" }, "Subject", consent.ErrInvalid},
		{"invalid UTF-8 in the reference", func(r *consent.Record) { r.Evidence.Reference = "map\xff3" }, "Evidence.Reference", consent.ErrInvalid},
		{"padded subject", func(r *consent.Record) { r.Subject = " pseudonym-7f3a" }, "Subject", consent.ErrInvalid},
		{"overlong subject", func(r *consent.Record) { r.Subject = consent.Subject(strings.Repeat("p", 257)) }, "Subject", consent.ErrInvalid},
		{"overlong reference", func(r *consent.Record) { r.Evidence.Reference = strings.Repeat("r", 1025) }, "Evidence.Reference", consent.ErrInvalid},
		{"a validity in year 10000", func(r *consent.Record) { r.ValidUntil = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "ValidUntil", consent.ErrInvalid},
		{"9999-12-31 for no end", func(r *consent.Record) { r.ValidUntil = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC) }, "ValidUntil", consent.ErrInvalid},
		{"consent given in year 0", func(r *consent.Record) { r.GivenAt = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC) }, "GivenAt", consent.ErrInvalid},
		{"consent given in 0026", func(r *consent.Record) { r.GivenAt = time.Date(26, 3, 12, 0, 0, 0, 0, time.UTC) }, "GivenAt", consent.ErrInvalid},
		{"a validity start before 1970", func(r *consent.Record) { r.ValidFrom = time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC) }, "ValidFrom", consent.ErrInvalid},
		{"a validity that ends before consent was given", func(r *consent.Record) { r.ValidUntil = t0 }, "ValidUntil", consent.ErrInvalid},
		{"a BSN as subject", func(r *consent.Record) { r.Subject = "111222333" }, "Subject", consent.ErrSubjectIsBSN},
		{"a dotted BSN as subject", func(r *consent.Record) { r.Subject = "1112.22.333" }, "Subject", consent.ErrSubjectIsBSN},
		{"an eight-digit BSN as subject", func(r *consent.Record) { r.Subject = "11222311" }, "Subject", consent.ErrSubjectIsBSN},
		{"a BSN in fullwidth digits as subject", func(r *consent.Record) { r.Subject = "１１１２２２３３３" }, "Subject", consent.ErrSubjectIsBSN},
		{"a practitioner for another purpose", func(r *consent.Record) {
			r.Practitioner = &consent.Practitioner{Name: "Dr. A. Jansen", Function: "huisarts"}
		}, "Practitioner", consent.ErrInvalid},
	}
	medicalTests := []struct {
		reason string
		change func(*consent.Record)
		field  string
		want   error
	}{
		{"medical information without practitioner", func(r *consent.Record) { r.Practitioner = nil }, "Practitioner", consent.ErrPractitionerRequired},
		{"medical information without the practitioner's name", func(r *consent.Record) { r.Practitioner.Name = "" }, "Practitioner", consent.ErrPractitionerRequired},
		{"medical information without the practitioner's function", func(r *consent.Record) { r.Practitioner.Function = "" }, "Practitioner", consent.ErrPractitionerRequired},
		{"medical information with a padded function", func(r *consent.Record) { r.Practitioner.Function = "huisarts " }, "Practitioner.Function", consent.ErrInvalid},
	}
	run := func(base func() consent.Record, tt struct {
		reason string
		change func(*consent.Record)
		field  string
		want   error
	}) {
		t.Run(tt.reason, func(t *testing.T) {
			r, _ := newRegistry(t)
			rec := base()
			tt.change(&rec)
			_, err := r.Give(t.Context(), rec)
			require.ErrorIs(t, err, tt.want)
			assert.ErrorIs(t, err, consent.ErrInvalid, "every input error is an ErrInvalid")
			var ferr *consent.FieldError
			require.ErrorAs(t, err, &ferr)
			assert.Equal(t, tt.field, ferr.Field)
			nl, en := ferr.Message(language.Dutch), ferr.Message(language.English)
			assert.NotEqual(t, nl, en, "a Dutch and an English text")
			assert.Equal(t, nl, ferr.Message(language.Und), "Dutch is the default")
			assert.NotContains(t, nl+en, "pseudonym", "a message never contains the value")
			if errors.Is(err, consent.ErrPractitionerRequired) {
				assert.Equal(t, "practitioner-required", ferr.Code())
				assert.Contains(t, nl, "behandelaar")
			} else {
				assert.Equal(t, "invalid-input", ferr.Code())
				assert.Contains(t, nl, tt.field)
			}
			assert.NotContains(t, err.Error(), "pseudonym", "an error never contains the subject key")
			assert.NotContains(t, err.Error(), "archive/", "an error never contains the evidence reference")
			_, err = r.Verify(t.Context())
			require.NoError(t, err)
			got, err := r.History(t.Context(), rec.Subject, rec.Organisation)
			require.NoError(t, err)
			assert.Empty(t, got, "nothing is recorded")
		})
	}
	for _, tt := range tests {
		run(valid, tt)
	}
	for _, tt := range medicalTests {
		run(medical, tt)
	}
}

func TestGive(t *testing.T) {
	ctx := t.Context()
	r, clock := newRegistry(t)
	hash := sha256.Sum256([]byte("the signed form"))
	in := consenttest.NewRecord("s1", "org-a", consent.PurposeMedicalInformation, consent.Permit,
		time.Date(2026, 3, 12, 11, 0, 0, 0, time.FixedZone("CET", 3600)))
	in.Evidence = consent.Evidence{Kind: consent.EvidenceElectronicSignature, Reference: "sig-42", DocumentSHA256: bytes.Clone(hash[:])}
	in.ValidUntil = t0.Add(365 * 24 * time.Hour)
	in.RecordedBy.OnBehalfOf = "dr-jansen"
	in.ID = "chosen by the caller"
	rec, err := r.Give(ctx, in)
	require.NoError(t, err)
	assert.Len(t, rec.ID, 32, "the registry assigns a random id")
	assert.NotEqual(t, in.ID, rec.ID)
	assert.Equal(t, clock.Now(), rec.RecordedAt)
	assert.Equal(t, time.UTC, rec.GivenAt.Location(), "times are kept in UTC")
	assert.True(t, rec.GivenAt.Equal(in.GivenAt))
	in.Evidence.DocumentSHA256[0] ^= 1 // the caller's slice, after Give
	st, err := r.Status(ctx, rec.ID)
	require.NoError(t, err)
	assert.Equal(t, rec, st.Record)
	assert.Equal(t, hash[:], st.Record.Evidence.DocumentSHA256)
	require.Len(t, st.Events, 1)
	assert.Equal(t, consent.EventGiven, st.Events[0].Kind)
	assert.Equal(t, uint64(1), st.Events[0].Seq)

	second, err := r.Give(ctx, consenttest.NewRecord("s1", "org-a", consent.PurposeViewNAW, consent.Permit, t0))
	require.NoError(t, err)
	assert.NotEqual(t, rec.ID, second.ID)
}

// TestGiveIdempotent checks that the same form entered twice is one record,
// and that any other statement is recorded.
func TestGiveIdempotent(t *testing.T) {
	ctx := t.Context()
	r, clock := newRegistry(t)
	form := consenttest.NewRecord("s1", "org-a", consent.PurposeViewNAW, consent.Permit, t0)
	first, err := r.Give(ctx, form)
	require.NoError(t, err)
	clock.Advance(time.Second)
	again := form
	again.RecordedBy.User = "a colleague" // who enters it does not matter
	second, err := r.Give(ctx, again)
	require.NoError(t, err)
	assert.Equal(t, first, second, "the record already recorded is returned")
	history, err := r.History(ctx, "s1", "org-a")
	require.NoError(t, err)
	assert.Len(t, history, 1, "nothing is appended")

	tests := []struct {
		reason string
		change func(*consent.Record)
	}{
		{"another reference", func(r *consent.Record) { r.Evidence.Reference = "map 13" }},
		{"another moment", func(r *consent.Record) { r.GivenAt = r.GivenAt.Add(time.Minute) }},
		{"another decision", func(r *consent.Record) { r.Decision = consent.Deny }},
		{"another policy", func(r *consent.Record) { r.PolicyVersion = "v2" }},
		{"a validity period", func(r *consent.Record) { r.ValidUntil = t0.Add(time.Hour) }},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			rec := form
			tt.change(&rec)
			got, err := r.Give(ctx, rec)
			require.NoError(t, err)
			assert.NotEqual(t, first.ID, got.ID, "a different statement is a new record")
		})
	}

	// Once withdrawn, the same form again is a new record, which the
	// withdrawal ends too: it was given before the withdrawal.
	r2, clock2 := newRegistry(t)
	p, err := r2.Give(ctx, form)
	require.NoError(t, err)
	clock2.Advance(time.Hour)
	_, err = r2.Withdraw(ctx, consent.Withdrawal{Subject: "s1", Organisation: "org-a", Purpose: consent.PurposeViewNAW, By: recorder})
	require.NoError(t, err)
	re, err := r2.Give(ctx, form)
	require.NoError(t, err)
	assert.NotEqual(t, p.ID, re.ID)
	out, err := r2.DecideUnlogged(ctx, "s1", "org-a", consent.PurposeViewNAW, clock2.Now())
	require.NoError(t, err)
	assert.False(t, out.Allowed, "entering an old form again does not undo a withdrawal")
	assert.Equal(t, consent.ReasonWithdrawn, out.Reason)
}

func TestWithdraw(t *testing.T) {
	ctx := t.Context()
	by := recorder
	withdrawal := func(c func(w *consent.Withdrawal)) consent.Withdrawal {
		w := consent.Withdrawal{Subject: "s1", Organisation: "org-a", Purpose: consent.PurposeViewNAW, By: by, Reason: "per brief"}
		if c != nil {
			c(&w)
		}
		return w
	}
	t.Run("records who, when and why", func(t *testing.T) {
		r, clock := newRegistry(t)
		rec, err := r.Give(ctx, consenttest.NewRecord("s1", "org-a", consent.PurposeViewNAW, consent.Permit, t0))
		require.NoError(t, err)
		id, err := r.Withdraw(ctx, withdrawal(nil))
		require.NoError(t, err)
		assert.Len(t, id, 32)
		st, err := r.Status(ctx, rec.ID)
		require.NoError(t, err)
		assert.Equal(t, clock.Now(), st.WithdrawnAt)
		assert.Equal(t, id, st.Withdrawal)
		require.Len(t, st.Events, 2)
		assert.Equal(t, consent.EventWithdrawn, st.Events[1].Kind)
		assert.Equal(t, "per brief", st.Events[1].Reason)
		assert.Equal(t, by, st.Events[1].By)
		assert.Equal(t, consent.PurposeViewNAW, st.Events[1].Purpose)
		_, err = r.Withdraw(ctx, withdrawal(nil))
		assert.ErrorIs(t, err, consent.ErrNotActive, "a second withdrawal finds nothing")
		_, err = r.Status(ctx, id)
		assert.ErrorIs(t, err, consent.ErrInvalid, "a withdrawal is not a record")
	})
	t.Run("a withdrawal in the past", func(t *testing.T) {
		r, _ := newRegistry(t)
		_, err := r.Give(ctx, consenttest.NewRecord("s1", "org-a", consent.PurposeViewNAW, consent.Permit, t0))
		require.NoError(t, err)
		_, err = r.Withdraw(ctx, withdrawal(func(w *consent.Withdrawal) { w.At = t0.Add(time.Hour) }))
		require.NoError(t, err)
		out, err := r.DecideUnlogged(ctx, "s1", "org-a", consent.PurposeViewNAW, t0.Add(time.Hour-time.Nanosecond))
		require.NoError(t, err)
		assert.True(t, out.Allowed)
	})
	tests := []struct {
		reason string
		change func(w *consent.Withdrawal)
		want   error
	}{
		{"in the future", func(w *consent.Withdrawal) { w.At = t0.Add(365 * 24 * time.Hour) }, consent.ErrInvalid},
		{"before 1970", func(w *consent.Withdrawal) { w.At = time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC) }, consent.ErrInvalid},
		{"without a user", func(w *consent.Withdrawal) { w.By.User = "" }, consent.ErrInvalid},
		{"without a subject", func(w *consent.Withdrawal) { w.Subject = "" }, consent.ErrInvalid},
		{"with a BSN as subject", func(w *consent.Withdrawal) { w.Subject = "1112.22.333" }, consent.ErrSubjectIsBSN},
		{"without an organisation", func(w *consent.Withdrawal) { w.Organisation = "" }, consent.ErrInvalid},
		{"of an unknown purpose", func(w *consent.Withdrawal) { w.Purpose = "everything" }, consent.ErrInvalid},
		{"of another purpose", func(w *consent.Withdrawal) { w.Purpose = consent.PurposeConsultIndication }, consent.ErrNotActive},
		{"at another organisation", func(w *consent.Withdrawal) { w.Organisation = "org-b" }, consent.ErrNotActive},
		{"before the consent was given", func(w *consent.Withdrawal) { w.At = t0.Add(-time.Second) }, consent.ErrNotActive},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			r, _ := newRegistry(t)
			_, err := r.Give(ctx, consenttest.NewRecord("s1", "org-a", consent.PurposeViewNAW, consent.Permit, t0))
			require.NoError(t, err)
			_, err = r.Withdraw(ctx, withdrawal(tt.change))
			assert.ErrorIs(t, err, tt.want)
			history, err := r.History(ctx, "s1", "org-a")
			require.NoError(t, err)
			assert.Len(t, history, 1, "nothing is recorded")
		})
	}
	t.Run("a refusal", func(t *testing.T) {
		r, _ := newRegistry(t)
		_, err := r.Give(ctx, consenttest.NewRecord("s1", "org-a", consent.PurposeViewNAW, consent.Deny, t0))
		require.NoError(t, err)
		_, err = r.Withdraw(ctx, withdrawal(nil))
		assert.ErrorIs(t, err, consent.ErrDenyNotWithdrawable)
		assert.Contains(t, err.Error(), "in error", "the message says what to do")
	})
	t.Run("a withdrawal entered in error", func(t *testing.T) {
		r, _ := newRegistry(t)
		_, err := r.Give(ctx, consenttest.NewRecord("s1", "org-a", consent.PurposeViewNAW, consent.Permit, t0))
		require.NoError(t, err)
		id, err := r.Withdraw(ctx, withdrawal(nil))
		require.NoError(t, err)
		require.NoError(t, r.EnterInError(ctx, id, consent.Change{By: by, Reason: "wrong client"}))
		assert.ErrorIs(t, r.EnterInError(ctx, id, consent.Change{By: by, Reason: "again"}), consent.ErrNotActive)
		assert.ErrorIs(t, r.EvidenceProduced(ctx, id, consent.Change{By: by}), consent.ErrInvalid, "a withdrawal has no evidence")
		_, err = r.Correct(ctx, id, consenttest.NewRecord("s1", "org-a", consent.PurposeViewNAW, consent.Permit, t0), consent.Change{By: by, Reason: "x"})
		assert.ErrorIs(t, err, consent.ErrInvalid, "a withdrawal is not corrected")
		_, err = r.Withdraw(ctx, withdrawal(nil))
		assert.NoError(t, err, "the consent counts again, and can be withdrawn")
	})
}

func TestChanges(t *testing.T) {
	ctx := t.Context()
	r, _ := newRegistry(t)
	n := 0
	give := func() consent.Record {
		n++
		rec, err := r.Give(ctx, consenttest.NewRecord(consent.Subject(fmt.Sprint("s", n)), "org-a", consent.PurposeViewNAW, consent.Permit, t0))
		require.NoError(t, err)
		return rec
	}
	by := recorder

	t.Run("enter in error", func(t *testing.T) {
		rec := give()
		require.NoError(t, r.EnterInError(ctx, rec.ID, consent.Change{By: by, Reason: "wrong client"}))
		_, err := r.Withdraw(ctx, consent.Withdrawal{Subject: rec.Subject, Organisation: "org-a", Purpose: rec.Purpose, By: by})
		assert.ErrorIs(t, err, consent.ErrNotActive, "a record entered in error is nothing to withdraw")
		assert.ErrorIs(t, r.EnterInError(ctx, rec.ID, consent.Change{By: by, Reason: "again"}), consent.ErrNotActive)
		st, err := r.Status(ctx, rec.ID)
		require.NoError(t, err)
		assert.True(t, st.EnteredInError)
		assert.True(t, st.Void())
	})
	t.Run("enter in error needs a reason", func(t *testing.T) {
		rec := give()
		assert.ErrorIs(t, r.EnterInError(ctx, rec.ID, consent.Change{By: by}), consent.ErrInvalid)
	})
	t.Run("enter an unknown record in error", func(t *testing.T) {
		assert.ErrorIs(t, r.EnterInError(ctx, "0123456789abcdef0123456789abcdef", consent.Change{By: by, Reason: "x"}), consent.ErrNotFound)
		assert.ErrorIs(t, r.EnterInError(ctx, "", consent.Change{By: by, Reason: "x"}), consent.ErrInvalid)
	})
	t.Run("a withdrawn record can still be entered in error", func(t *testing.T) {
		rec := give()
		_, err := r.Withdraw(ctx, consent.Withdrawal{Subject: rec.Subject, Organisation: "org-a", Purpose: rec.Purpose, By: by})
		require.NoError(t, err)
		assert.NoError(t, r.EnterInError(ctx, rec.ID, consent.Change{By: by, Reason: "wrong client"}))
	})
	t.Run("correct", func(t *testing.T) {
		rec := give()
		fixed := consenttest.NewRecord(rec.Subject, "org-a", consent.PurposeViewNAW, consent.Permit, t0)
		fixed.Evidence.Reference = "map 12"
		_, err := r.Correct(ctx, rec.ID, fixed, consent.Change{By: by})
		assert.ErrorIs(t, err, consent.ErrInvalid, "a correction needs a reason")
		repl, err := r.Correct(ctx, rec.ID, fixed, consent.Change{By: by, Reason: "typo in the reference"})
		require.NoError(t, err)
		assert.NotEqual(t, rec.ID, repl.ID)
		assert.Equal(t, "map 12", repl.Evidence.Reference)
		st, err := r.Status(ctx, rec.ID)
		require.NoError(t, err)
		assert.Equal(t, repl.ID, st.ReplacedBy)
		assert.True(t, st.Void())
		_, err = r.Correct(ctx, rec.ID, fixed, consent.Change{By: by, Reason: "again"})
		assert.ErrorIs(t, err, consent.ErrNotActive, "a corrected record is replaced already")
		_, err = r.Withdraw(ctx, consent.Withdrawal{Subject: rec.Subject, Organisation: "org-a", Purpose: rec.Purpose, By: by})
		assert.NoError(t, err, "the replacement is active")
	})
	t.Run("correct into another client", func(t *testing.T) {
		rec := give()
		other := consenttest.NewRecord("another", "org-a", consent.PurposeViewNAW, consent.Permit, t0)
		_, err := r.Correct(ctx, rec.ID, other, consent.Change{By: by, Reason: "wrong client"})
		assert.ErrorIs(t, err, consent.ErrInvalid)
	})
	t.Run("correct with an invalid replacement", func(t *testing.T) {
		rec := give()
		bad := consenttest.NewRecord(rec.Subject, "org-a", consent.PurposeMedicalInformation, consent.Permit, t0)
		bad.Practitioner = nil
		_, err := r.Correct(ctx, rec.ID, bad, consent.Change{By: by, Reason: "purpose"})
		assert.ErrorIs(t, err, consent.ErrPractitionerRequired)
	})
	t.Run("evidence", func(t *testing.T) {
		rec := give()
		assert.ErrorIs(t, r.RequestEvidence(ctx, rec.ID, "", consent.Change{By: by}), consent.ErrInvalid, "a request names its reference")
		require.NoError(t, r.RequestEvidence(ctx, rec.ID, "spot check 2026-Q1", consent.Change{By: by}))
		st, err := r.Status(ctx, rec.ID)
		require.NoError(t, err)
		assert.Equal(t, consent.EvidenceRequested, st.Evidence)
		assert.Equal(t, "spot check 2026-Q1", st.Events[1].Reference)
		assert.ErrorIs(t, r.EvidenceMissing(ctx, rec.ID, consent.Change{By: by}), consent.ErrInvalid, "missing evidence needs a reason")
		require.NoError(t, r.EvidenceMissing(ctx, rec.ID, consent.Change{By: by, Reason: "not in the archive"}))
		st, err = r.Status(ctx, rec.ID)
		require.NoError(t, err)
		assert.Equal(t, consent.EvidenceMissing, st.Evidence)
		require.NoError(t, r.EvidenceProduced(ctx, rec.ID, consent.Change{By: by}))
		st, err = r.Status(ctx, rec.ID)
		require.NoError(t, err)
		assert.Equal(t, consent.EvidenceProduced, st.Evidence)
		kinds := []consent.EventKind{}
		for _, e := range st.Events {
			kinds = append(kinds, e.Kind)
		}
		assert.Equal(t, []consent.EventKind{consent.EventGiven, consent.EventEvidenceRequested, consent.EventEvidenceMissing, consent.EventEvidenceProduced}, kinds)
	})
	t.Run("status of an unknown record", func(t *testing.T) {
		_, err := r.Status(ctx, "nope")
		assert.ErrorIs(t, err, consent.ErrNotFound)
	})
}

// TestStatusIsACopy checks that changing what Status or History returns does
// not change what the registry knows.
func TestStatusIsACopy(t *testing.T) {
	ctx := t.Context()
	r, _ := newRegistry(t)
	rec, err := r.Give(ctx, consenttest.NewRecord("s1", "org-a", consent.PurposeMedicalInformation, consent.Permit, t0))
	require.NoError(t, err)
	st, err := r.Status(ctx, rec.ID)
	require.NoError(t, err)
	st.Record.Practitioner.Name = "someone else"
	st.Events[0].Consent.Decision = consent.Deny
	history, err := r.History(ctx, "s1", "org-a")
	require.NoError(t, err)
	history[0].Consent.Practitioner.Function = "tandarts"
	again, err := r.Status(ctx, rec.ID)
	require.NoError(t, err)
	assert.Equal(t, rec, again.Record)
	assert.Equal(t, consent.Permit, again.Events[0].Consent.Decision)
}

// TestNoSecretsStored checks that the key is nowhere in what the store
// keeps, and that no error or stored event contains it.
func TestNoSecretsStored(t *testing.T) {
	ctx := t.Context()
	s := store.NewMemory()
	key := consenttest.Key()
	r, err := consent.New(s, consent.Config{Key: key})
	require.NoError(t, err)
	rec, err := r.Give(ctx, consenttest.NewRecord("s1", "org-a", consent.PurposeViewNAW, consent.Permit, time.Now().Add(-time.Hour)))
	require.NoError(t, err)
	events, err := s.Events(ctx, string(consent.ChainOf("s1", "org-a")), 1)
	require.NoError(t, err)
	head, err := s.Head(ctx, string(consent.ChainOf("s1", "org-a")))
	require.NoError(t, err)
	for _, e := range events {
		for _, field := range [][]byte{e.Payload, e.Prev, e.MAC, head.State, head.Seal} {
			assert.False(t, bytes.Contains(field, key), "the key is stored")
			assert.False(t, bytes.Contains(field, []byte(hex.EncodeToString(key))), "the key is stored in hexadecimal")
		}
	}
	_, err = r.Withdraw(ctx, consent.Withdrawal{Subject: rec.Subject, Organisation: rec.Organisation, Purpose: rec.Purpose})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), hex.EncodeToString(key))
}

func TestConflictRetried(t *testing.T) {
	// A store that checks optimistically and loses the race a few times:
	// the registry retries, and the caller never sees the conflict.
	ctx := t.Context()
	s := &racingStore{Memory: store.NewMemory(), losses: 3}
	r, err := consent.New(s, consent.Config{Key: consenttest.Key()})
	require.NoError(t, err)
	_, err = r.Give(ctx, consenttest.NewRecord("s1", "org-a", consent.PurposeViewNAW, consent.Permit, time.Now().Add(-time.Hour)))
	require.NoError(t, err)
	assert.Equal(t, 4, s.updates)

	s.losses = 1000
	rec := consenttest.NewRecord("s1", "org-a", consent.PurposeViewNAW, consent.Permit, time.Now().Add(-time.Minute))
	_, err = r.Give(ctx, rec)
	assert.ErrorIs(t, err, store.ErrConflict, "a chain that stays busy gives up")
}

type racingStore struct {
	*store.Memory
	losses, updates int
}

func (s *racingStore) Update(ctx context.Context, chain string, fn func(*store.Head, store.EventReader) (*store.Batch, error)) error {
	s.updates++
	if s.losses > 0 {
		s.losses--
		return store.ErrConflict
	}
	return s.Memory.Update(ctx, chain, fn)
}

func TestRecords(t *testing.T) {
	ctx := t.Context()
	r, _ := newRegistry(t)
	first, err := r.Give(ctx, consenttest.NewRecord("s1", "org-a", consent.PurposeViewNAW, consent.Permit, t0))
	require.NoError(t, err)
	second, err := r.Give(ctx, consenttest.NewRecord("s1", "org-a", consent.PurposeConsultIndication, consent.Deny, t0))
	require.NoError(t, err)
	_, err = r.Give(ctx, consenttest.NewRecord("s1", "org-b", consent.PurposeViewNAW, consent.Permit, t0))
	require.NoError(t, err)
	_, err = r.Withdraw(ctx, consent.Withdrawal{Subject: "s1", Organisation: "org-a", Purpose: first.Purpose, By: recorder})
	require.NoError(t, err)

	got, err := r.Records(ctx, "s1", "org-a")
	require.NoError(t, err)
	require.Len(t, got, 2, "only the records of this organisation")
	assert.Equal(t, first, got[0].Record)
	assert.False(t, got[0].WithdrawnAt.IsZero())
	assert.Equal(t, second, got[1].Record)
	assert.Len(t, got[1].Events, 1)

	none, err := r.Records(ctx, "s9", "org-a")
	require.NoError(t, err)
	assert.Empty(t, none)
}

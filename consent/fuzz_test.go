package consent_test

import (
	"testing"
	"time"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/consenttest"
	"github.com/zorgkit/zorgkit/consent/store"
)

// FuzzGiveRoundTrip checks that whatever Give accepts is kept exactly: the
// record and the withdrawal read back unchanged, and the chain verifies. No
// input may be altered on the way, as encoding/json would alter invalid
// UTF-8.
func FuzzGiveRoundTrip(f *testing.F) {
	f.Add("ps-7f3a9c", "agb-01234567", "2026-1", "archief 2026/0311", "Dr. A. Jansen", "huisarts", "j.devries", "per brief", int64(0))
	f.Add("ü", "<&>", "\u2028", "\"quoted\"", "名前", "\\", "u", "", int64(-1))
	f.Add("a\xffb", "org", "v", "r", "n", "f", "u", "reden\x00", int64(1e9))
	f.Fuzz(func(t *testing.T, subject, org, policy, reference, name, function, user, reason string, nanos int64) {
		ctx := t.Context()
		clock := consenttest.NewClock(time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC))
		r, err := consent.New(store.NewMemory(), consent.Config{Key: consenttest.Key(), Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		in := consent.Record{
			Subject:       consent.Subject(subject),
			Organisation:  consent.Organisation(org),
			Purpose:       consent.PurposeMedicalInformation,
			Decision:      consent.Permit,
			GivenAt:       clock.Now().Add(-time.Duration(nanos % int64(time.Hour))),
			PolicyVersion: policy,
			Evidence:      consent.Evidence{Kind: consent.EvidencePaper, Reference: reference},
			Practitioner:  &consent.Practitioner{Name: name, Function: function},
			RecordedBy:    consent.Actor{User: user, Organisation: consent.Organisation(org)},
		}
		rec, err := r.Give(ctx, in)
		if err != nil {
			return // rejected input is fine; accepted input must round-trip
		}
		clock.Advance(time.Hour)
		if _, err := r.Withdraw(ctx, consent.Withdrawal{Subject: in.Subject, Organisation: in.Organisation,
			Purpose: in.Purpose, By: in.RecordedBy, Reason: reason}); err != nil {
			return
		}
		st, err := r.Status(ctx, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := st.Record
		if got.Subject != in.Subject || got.Organisation != in.Organisation || got.PolicyVersion != in.PolicyVersion ||
			got.Evidence.Reference != in.Evidence.Reference || *got.Practitioner != *in.Practitioner ||
			got.RecordedBy != in.RecordedBy || !got.GivenAt.Equal(in.GivenAt) {
			t.Fatalf("record changed on the way:\n in %+v\ngot %+v", in, got)
		}
		if len(st.Events) != 2 || st.Events[1].Reason != reason || st.WithdrawnAt.IsZero() {
			t.Fatalf("reason %q read back as %q", reason, st.Events[1].Reason)
		}
		if _, err := r.Verify(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

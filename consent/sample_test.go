package consent_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/consenttest"
)

var auditor = consent.Actor{User: "auditor", Organisation: "portal"}

func TestSample(t *testing.T) {
	ctx := t.Context()
	r, clock := newRegistry(t)
	start := clock.Now()
	plan, err := r.PlanSample(ctx, consent.Filter{Organisation: "org-a", Purpose: consent.PurposeViewNAW, Until: start.Add(24 * time.Hour)}, 3, auditor)
	require.NoError(t, err)
	assert.True(t, plan.Filter.From.Equal(start), "a zero From is the moment of planning")
	assert.True(t, plan.PlannedAt.Equal(start))
	assert.Len(t, plan.ID, 32)
	assert.Len(t, plan.SeedHash, 64)

	var want []consent.RecordID
	for i := range 10 {
		rec, err := r.Give(ctx, consenttest.NewRecord(consent.Subject(fmt.Sprint("s", i)), "org-a", consent.PurposeViewNAW, consent.Permit, clock.Now()))
		require.NoError(t, err)
		want = append(want, rec.ID)
		// Records outside the population: another organisation, another
		// purpose.
		_, err = r.Give(ctx, consenttest.NewRecord(consent.Subject(fmt.Sprint("s", i)), "org-b", consent.PurposeViewNAW, consent.Permit, clock.Now()))
		require.NoError(t, err)
		_, err = r.Give(ctx, consenttest.NewRecord(consent.Subject(fmt.Sprint("s", i)), "org-a", consent.PurposeConsultIndication, consent.Permit, clock.Now()))
		require.NoError(t, err)
		clock.Advance(time.Hour)
	}
	clock.Set(start.Add(24 * time.Hour))
	_, err = r.Give(ctx, consenttest.NewRecord("late", "org-a", consent.PurposeViewNAW, consent.Permit, clock.Now()))
	require.NoError(t, err, "recorded at Until: outside the window")

	_, err = r.Sample(ctx, plan.ID)
	assert.ErrorIs(t, err, consent.ErrInvalid, "not before FreezeMargin has passed")
	clock.Advance(consent.FreezeMargin)
	m, err := r.Sample(ctx, plan.ID)
	require.NoError(t, err)
	assert.Equal(t, plan, m.Plan)
	assert.Equal(t, "bottom-k/HMAC-SHA256/v1", m.Algorithm)
	assert.Equal(t, 10, m.PopulationSize)
	require.Len(t, m.Selected, 3)
	for _, id := range m.Selected {
		assert.Contains(t, want, id)
	}
	seed, err := hex.DecodeString(m.Seed)
	require.NoError(t, err)
	sum := sha256.Sum256(seed)
	assert.Equal(t, plan.SeedHash, hex.EncodeToString(sum[:]), "the seed is the one committed to")
	require.NoError(t, r.Redraw(ctx, m))
	again, err := r.Sample(ctx, plan.ID)
	require.NoError(t, err)
	assert.Equal(t, m.Selected, again.Selected, "a plan draws one sample")

	tests := []struct {
		reason string
		change func(m *consent.Manifest)
	}{
		{"another seed", func(m *consent.Manifest) { m.Seed = hex.EncodeToString(make([]byte, 32)) }},
		{"another k", func(m *consent.Manifest) { m.Plan.K = 2 }},
		{"another window", func(m *consent.Manifest) { m.Plan.Filter.Until = m.Plan.Filter.Until.Add(time.Hour) }},
		{"an unknown plan", func(m *consent.Manifest) { m.Plan.ID = "unknown" }},
		{"another population size", func(m *consent.Manifest) { m.PopulationSize++ }},
		{"another population", func(m *consent.Manifest) { m.PopulationDigest = hex.EncodeToString(make([]byte, 32)) }},
		{"a record left out", func(m *consent.Manifest) { m.Selected = m.Selected[1:] }},
		{"another order", func(m *consent.Manifest) { m.Selected[0], m.Selected[1] = m.Selected[1], m.Selected[0] }},
		{"another algorithm", func(m *consent.Manifest) { m.Algorithm = "first-k" }},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			altered := m
			altered.Selected = slices.Clone(m.Selected)
			tt.change(&altered)
			assert.ErrorIs(t, r.Redraw(ctx, altered), consent.ErrSampleMismatch)
		})
	}

	// Records given in the window afterwards change the population: the
	// redraw says so. (They cannot be: Give records them now.) A record
	// entered in error stays in the population: it was recorded.
	require.NoError(t, r.EnterInError(ctx, m.Selected[0], consent.Change{By: recorder, Reason: "wrong client"}))
	assert.NoError(t, r.Redraw(ctx, m))

	plans, err := r.Plans(ctx)
	require.NoError(t, err)
	assert.Equal(t, []consent.SamplePlan{plan}, plans)
}

func TestPlanSampleInvalid(t *testing.T) {
	ctx := t.Context()
	r, clock := newRegistry(t)
	now := clock.Now()
	until := now.Add(24 * time.Hour)
	tests := []struct {
		reason string
		filter consent.Filter
		k      int
	}{
		{"k zero", consent.Filter{Until: until}, 0},
		{"k too large", consent.Filter{Until: until}, 100_001},
		{"no end", consent.Filter{}, 1},
		{"a window that started before the plan", consent.Filter{From: now.Add(-time.Second), Until: until}, 1},
		{"a window that ends before it starts", consent.Filter{From: until, Until: now.Add(time.Hour)}, 1},
		{"an end in 2200", consent.Filter{Until: time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)}, 1},
		{"an unknown purpose", consent.Filter{Until: until, Purpose: "all"}, 1},
		{"an unknown decision", consent.Filter{Until: until, Decision: "yes"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			_, err := r.PlanSample(ctx, tt.filter, tt.k, auditor)
			assert.ErrorIs(t, err, consent.ErrInvalid)
		})
	}
	_, err := r.PlanSample(ctx, consent.Filter{Until: until}, 1, consent.Actor{})
	assert.ErrorIs(t, err, consent.ErrInvalid, "who plans is recorded")

	_, err = r.PlanSample(ctx, consent.Filter{Organisation: "org-a", Until: until}, 5, auditor)
	require.NoError(t, err)
	_, err = r.PlanSample(ctx, consent.Filter{Organisation: "org-a", From: now.Add(time.Hour), Until: until.Add(time.Hour)}, 5, auditor)
	assert.ErrorIs(t, err, consent.ErrInvalid, "one plan per window: no second try at a better sample")
	_, err = r.PlanSample(ctx, consent.Filter{Organisation: "org-a", From: until, Until: until.Add(time.Hour)}, 5, auditor)
	assert.NoError(t, err, "the next window")
	_, err = r.PlanSample(ctx, consent.Filter{Organisation: "org-b", Until: until}, 5, auditor)
	assert.NoError(t, err, "other records")
	_, err = r.Sample(ctx, "no such plan")
	assert.ErrorIs(t, err, consent.ErrNotFound)
}

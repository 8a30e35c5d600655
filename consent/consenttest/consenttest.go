// Package consenttest provides fixtures for tests that use package consent,
// and a conformance suite for [consent.Store] implementations.
//
// A Store passes when
//
//	func TestConformance(t *testing.T) {
//		consenttest.Run(t, func(t *testing.T) consent.Store {
//			return openFreshStore(t) // one fresh, empty store per call
//		})
//	}
//
// passes, also under the race detector.
package consenttest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/consent"
)

// Clock is a manual clock for [consent.Config.Now], safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock that stands at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Key returns a fixed 32-byte key for tests. Never use it outside tests:
// whoever knows the key can forge events.
func Key() []byte {
	sum := sha256.Sum256([]byte("zorgkit consenttest key: for tests only"))
	return sum[:]
}

// NewRecord returns a complete record that [consent.Registry.Give] accepts:
// paper evidence, policy version "v1", recorded by user "u1" of the
// organisation, and for [consent.PurposeMedicalInformation] a practitioner.
func NewRecord(subject consent.Subject, org consent.Organisation, purpose consent.Purpose, decision consent.Decision, givenAt time.Time) consent.Record {
	r := consent.Record{
		Subject:       subject,
		Organisation:  org,
		Purpose:       purpose,
		Decision:      decision,
		GivenAt:       givenAt,
		PolicyVersion: "v1",
		Evidence:      consent.Evidence{Kind: consent.EvidencePaper, Reference: "archive/" + string(subject)},
		RecordedBy:    consent.Actor{User: "u1", Organisation: org},
	}
	if purpose == consent.PurposeMedicalInformation {
		r.Practitioner = &consent.Practitioner{Name: "Dr. A. Jansen", Function: "huisarts"}
	}
	return r
}

// epoch is the suite's starting time: a Monday, with nanoseconds so that a
// store that loses precision fails.
var epoch = time.Date(2026, 3, 2, 9, 0, 0, 123456789, time.UTC)

// Run runs the conformance suite against stores made by newStore, which must
// return a fresh, empty store on every call (and clean it up with t.Cleanup).
func Run(t *testing.T, newStore func(t *testing.T) consent.Store) {
	tests := []struct {
		name string
		test func(t *testing.T, s consent.Store)
	}{
		{"AppendAndRead", testAppendAndRead},
		{"AppendConflicts", testAppendConflicts},
		{"AppendBatchIsAtomic", testAppendBatchIsAtomic},
		{"AppendRejectsBadBatch", testAppendRejectsBadBatch},
		{"ReadsAreCopies", testReadsAreCopies},
		{"Locate", testLocate},
		{"Heads", testHeads},
		{"Population", testPopulation},
		{"CancelledContext", testCancelledContext},
		{"ConcurrentAppendOneWinner", testConcurrentAppendOneWinner},
		{"Quarantine", testQuarantine},
		{"Registry", testRegistry},
		{"RegistryConcurrent", testRegistryConcurrent},
		{"Sample", testSample},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.test(t, newStore(t))
		})
	}
}

// sealed returns synthetic events n, n+1, … of a chain. A store never
// checks MACs, so these need not verify; they only link up.
func sealed(chain consent.ChainID, first uint64, prev []byte, kinds ...consent.EventKind) []consent.SealedEvent {
	events := make([]consent.SealedEvent, len(kinds))
	for i, kind := range kinds {
		seq := first + uint64(i)
		mac := sha256.Sum256(fmt.Appendf(nil, "%s/%d/%x", chain, seq, prev))
		e := consent.SealedEvent{
			Chain:      chain,
			Seq:        seq,
			Record:     consent.RecordID(fmt.Sprintf("%.8s-%d", chain, seq)),
			Kind:       kind,
			RecordedAt: epoch.Add(time.Duration(seq) * time.Hour),
			Payload:    fmt.Appendf(nil, `{"chain":%q,"seq":%d,"bytes":"\u0000\xff"}`, chain, seq),
			Prev:       bytes.Clone(prev),
			MAC:        mac[:],
		}
		if kind == consent.EventGiven {
			e.Organisation, e.Purpose, e.Decision = "org-a", consent.PurposeViewNAW, consent.Permit
		}
		events[i] = e
		prev = mac[:]
	}
	return events
}

var zero = make([]byte, 32)

func chainID(name string) consent.ChainID {
	return consent.ChainOf(consent.Subject(name), "org-a")
}

func testAppendAndRead(t *testing.T, s consent.Store) {
	ctx := t.Context()
	c := chainID("s1")
	first := sealed(c, 1, zero, consent.EventGiven, consent.EventEvidenceRequested)
	require.NoError(t, s.Append(ctx, first))
	more := sealed(c, 3, first[1].MAC, consent.EventWithdrawn)
	require.NoError(t, s.Append(ctx, more))

	got, err := s.Chain(ctx, c)
	require.NoError(t, err)
	want := append(first, more...)
	require.Len(t, got, len(want))
	for i := range want {
		assertSameEvent(t, want[i], got[i])
	}

	empty, err := s.Chain(ctx, chainID("unknown"))
	require.NoError(t, err, "an unknown chain is empty, not an error")
	assert.Empty(t, empty)
}

func assertSameEvent(t *testing.T, want, got consent.SealedEvent) {
	t.Helper()
	assert.True(t, want.RecordedAt.Equal(got.RecordedAt), "RecordedAt %v, want %v (nanoseconds must be kept)", got.RecordedAt, want.RecordedAt)
	want.RecordedAt, got.RecordedAt = time.Time{}, time.Time{}
	assert.Equal(t, want, got)
}

func testAppendConflicts(t *testing.T, s consent.Store) {
	ctx := t.Context()
	c := chainID("s1")
	first := sealed(c, 1, zero, consent.EventGiven, consent.EventWithdrawn)
	require.NoError(t, s.Append(ctx, first))
	tests := []struct {
		name   string
		events []consent.SealedEvent
	}{
		{"the same first event again", sealed(c, 1, zero, consent.EventGiven)},
		{"an event at a taken place", sealed(c, 2, first[0].MAC, consent.EventGiven)},
		{"an event after a gap", sealed(c, 4, first[1].MAC, consent.EventGiven)},
		{"the right place but another predecessor", sealed(c, 3, first[0].MAC, consent.EventGiven)},
		{"a first event with a non-zero predecessor", sealed(chainID("s2"), 1, first[0].MAC, consent.EventGiven)},
		{"a new chain not starting at 1", sealed(chainID("s3"), 2, zero, consent.EventGiven)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Append(ctx, tt.events)
			assert.ErrorIs(t, err, consent.ErrConflict)
			got, err := s.Chain(ctx, tt.events[0].Chain)
			require.NoError(t, err)
			if tt.events[0].Chain == c {
				assert.Len(t, got, 2, "a conflicting append adds nothing")
			} else {
				assert.Empty(t, got, "a conflicting append adds nothing")
			}
		})
	}
}

func testAppendBatchIsAtomic(t *testing.T, s consent.Store) {
	ctx := t.Context()
	c := chainID("s1")
	first := sealed(c, 1, zero, consent.EventGiven)
	require.NoError(t, s.Append(ctx, first))
	// A batch of three whose first event conflicts: none may be stored,
	// also not the two after it.
	batch := sealed(c, 1, zero, consent.EventGiven, consent.EventGiven, consent.EventGiven)
	require.ErrorIs(t, s.Append(ctx, batch), consent.ErrConflict)
	got, err := s.Chain(ctx, c)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assertSameEvent(t, first[0], got[0])
	_, err = s.Locate(ctx, batch[2].Record)
	assert.ErrorIs(t, err, consent.ErrNotFound, "a record of a failed batch is not located")
}

func testAppendRejectsBadBatch(t *testing.T, s consent.Store) {
	ctx := t.Context()
	good := sealed(chainID("s1"), 1, zero, consent.EventGiven, consent.EventGiven)
	gap := slices.Clone(good)
	gap[1].Seq = 3
	mixed := append(slices.Clone(good[:1]), sealed(chainID("s2"), 2, good[0].MAC, consent.EventGiven)...)
	unlinked := slices.Clone(good)
	unlinked[1].Prev = zero
	tests := []struct {
		name   string
		events []consent.SealedEvent
	}{
		{"empty", nil},
		{"a gap inside the batch", gap},
		{"two chains", mixed},
		{"the second does not follow the first", unlinked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Append(ctx, tt.events)
			assert.ErrorIs(t, err, consent.ErrInvalid)
			got, err := s.Chain(ctx, chainID("s1"))
			require.NoError(t, err)
			assert.Empty(t, got)
		})
	}
}

func testReadsAreCopies(t *testing.T, s consent.Store) {
	ctx := t.Context()
	c := chainID("s1")
	events := sealed(c, 1, zero, consent.EventGiven)
	want := events[0]
	want.Payload = bytes.Clone(want.Payload)
	require.NoError(t, s.Append(ctx, events))
	events[0].Payload[0] = 'X' // the caller's slice after Append
	got, err := s.Chain(ctx, c)
	require.NoError(t, err)
	got[0].Payload[1] = 'Y' // a returned slice
	got[0].MAC[0] ^= 1
	again, err := s.Chain(ctx, c)
	require.NoError(t, err)
	assertSameEvent(t, want, again[0])
}

func testLocate(t *testing.T, s consent.Store) {
	ctx := t.Context()
	c1, c2 := chainID("s1"), chainID("s2")
	e1 := sealed(c1, 1, zero, consent.EventGiven, consent.EventWithdrawn)
	e2 := sealed(c2, 1, zero, consent.EventGiven)
	require.NoError(t, s.Append(ctx, e1))
	require.NoError(t, s.Append(ctx, e2))
	got, err := s.Locate(ctx, e1[0].Record)
	require.NoError(t, err)
	assert.Equal(t, c1, got)
	got, err = s.Locate(ctx, e2[0].Record)
	require.NoError(t, err)
	assert.Equal(t, c2, got)
	_, err = s.Locate(ctx, "no-such-record")
	assert.ErrorIs(t, err, consent.ErrNotFound)
	got, err = s.Locate(ctx, e1[1].Record)
	require.NoError(t, err, "every event locates the id it names")
	assert.Equal(t, c1, got)
}

func testQuarantine(t *testing.T, s consent.Store) {
	ctx := t.Context()
	c := chainID("s1")
	events := sealed(c, 1, zero, consent.EventGiven, consent.EventGiven, consent.EventWithdrawn)
	require.NoError(t, s.Append(ctx, events))
	note := func(e consent.SealedEvent) consent.Quarantined {
		return consent.Quarantined{Event: e, At: epoch, By: consent.Actor{User: "operator", Organisation: "portal"}, Reason: "inserted by hand"}
	}

	changed := events[2]
	changed.MAC = bytes.Clone(changed.MAC)
	changed.MAC[0] ^= 1
	assert.ErrorIs(t, s.Quarantine(ctx, note(changed)), consent.ErrConflict, "only the event as stored is quarantined")
	missing := events[2]
	missing.Seq = 9
	assert.ErrorIs(t, s.Quarantine(ctx, note(missing)), consent.ErrNotFound)
	got, err := s.Chain(ctx, c)
	require.NoError(t, err)
	require.Len(t, got, 3, "a refused quarantine changes nothing")

	require.NoError(t, s.Quarantine(ctx, note(events[2])))
	got, err = s.Chain(ctx, c)
	require.NoError(t, err)
	require.Len(t, got, 2, "the quarantined event left the chain")
	assertSameEvent(t, events[1], got[1])
	_, err = s.Locate(ctx, events[2].Record)
	assert.ErrorIs(t, err, consent.ErrNotFound, "a quarantined event no longer locates its id")

	// The place is free again: the chain goes on.
	require.NoError(t, s.Append(ctx, sealed(c, 3, events[1].MAC, consent.EventGiven)))
	got, err = s.Chain(ctx, c)
	require.NoError(t, err)
	assert.Len(t, got, 3)
}

func testHeads(t *testing.T, s consent.Store) {
	ctx := t.Context()
	var want []consent.Head
	for i := range 7 {
		c := chainID(fmt.Sprint("subject-", i))
		kinds := make([]consent.EventKind, 1+i%3)
		for j := range kinds {
			kinds[j] = consent.EventGiven
		}
		events := sealed(c, 1, zero, kinds...)
		require.NoError(t, s.Append(ctx, events))
		last := events[len(events)-1]
		want = append(want, consent.Head{Chain: c, Seq: last.Seq, MAC: last.MAC})
	}
	slices.SortFunc(want, func(a, b consent.Head) int { return compare(a.Chain, b.Chain) })

	var got []consent.Head
	for after := consent.ChainID(""); ; {
		page, err := s.Heads(ctx, after, 3)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page), 3, "a page holds at most limit heads")
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		after = page[len(page)-1].Chain
	}
	assert.Equal(t, want, got)
}

func compare(a, b consent.ChainID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func testPopulation(t *testing.T, s consent.Store) {
	ctx := t.Context()
	type given struct {
		org      consent.Organisation
		purpose  consent.Purpose
		decision consent.Decision
		at       time.Time
	}
	events := []given{
		{"org-a", consent.PurposeViewNAW, consent.Permit, epoch},
		{"org-a", consent.PurposeViewNAW, consent.Deny, epoch.Add(time.Hour)},
		{"org-a", consent.PurposeConsultIndication, consent.Permit, epoch.Add(2 * time.Hour)},
		{"org-b", consent.PurposeViewNAW, consent.Permit, epoch.Add(3 * time.Hour)},
		{"org-a", consent.PurposeViewNAW, consent.Permit, epoch.Add(4*time.Hour - time.Nanosecond)},
		{"org-a", consent.PurposeViewNAW, consent.Permit, epoch.Add(4 * time.Hour)},
	}
	ids := make([]consent.RecordID, len(events))
	for i, g := range events {
		c := chainID(fmt.Sprint("subject-", i))
		e := sealed(c, 1, zero, consent.EventGiven, consent.EventWithdrawn)
		e[0].Organisation, e[0].Purpose, e[0].Decision, e[0].RecordedAt = g.org, g.purpose, g.decision, g.at
		e[1].RecordedAt = g.at // a withdrawal in the window is not a record
		require.NoError(t, s.Append(ctx, e))
		ids[i] = e[0].Record
	}
	window := consent.Filter{From: epoch, Until: epoch.Add(4 * time.Hour)}
	tests := []struct {
		name   string
		filter consent.Filter
		want   []int
	}{
		{"the window alone: From inclusive, Until exclusive", window, []int{0, 1, 2, 3, 4}},
		{"one organisation", with(window, func(f *consent.Filter) { f.Organisation = "org-a" }), []int{0, 1, 2, 4}},
		{"one purpose", with(window, func(f *consent.Filter) { f.Purpose = consent.PurposeViewNAW }), []int{0, 1, 3, 4}},
		{"one decision", with(window, func(f *consent.Filter) { f.Decision = consent.Deny }), []int{1}},
		{"all three", with(window, func(f *consent.Filter) {
			f.Organisation, f.Purpose, f.Decision = "org-a", consent.PurposeViewNAW, consent.Permit
		}), []int{0, 4}},
		{"a later window", consent.Filter{From: epoch.Add(time.Hour + time.Nanosecond), Until: epoch.Add(5 * time.Hour)}, []int{2, 3, 4, 5}},
		{"an empty window", consent.Filter{From: epoch.Add(-time.Hour), Until: epoch}, nil},
		{"an unknown organisation", with(window, func(f *consent.Filter) { f.Organisation = "org-z" }), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []consent.RecordID
			for _, i := range tt.want {
				want = append(want, ids[i])
			}
			slices.Sort(want)
			got, err := s.Population(ctx, tt.filter)
			require.NoError(t, err)
			if len(want) == 0 {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, want, got)
		})
	}
}

func with(f consent.Filter, change func(*consent.Filter)) consent.Filter {
	change(&f)
	return f
}

func testCancelledContext(t *testing.T, s consent.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	c := chainID("s1")
	assert.Error(t, s.Append(ctx, sealed(c, 1, zero, consent.EventGiven)))
	_, err := s.Chain(ctx, c)
	assert.Error(t, err)
	got, err := s.Chain(t.Context(), c)
	require.NoError(t, err)
	assert.Empty(t, got, "an append with a cancelled context stores nothing")
}

func testConcurrentAppendOneWinner(t *testing.T, s consent.Store) {
	ctx := t.Context()
	c := chainID("s1")
	first := sealed(c, 1, zero, consent.EventGiven)
	require.NoError(t, s.Append(ctx, first))
	const writers = 8
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			// Each writer appends its own event 2: they all read the
			// same head, and only one may win.
			e := sealed(c, 2, first[0].MAC, consent.EventGiven)
			e[0].Record = consent.RecordID(fmt.Sprint("writer-", i))
			e[0].MAC[0] = byte(i)
			errs[i] = s.Append(ctx, e)
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
		} else {
			assert.ErrorIs(t, err, consent.ErrConflict)
		}
	}
	assert.Equal(t, 1, won, "exactly one writer wins")
	got, err := s.Chain(ctx, c)
	require.NoError(t, err)
	assert.Len(t, got, 2)
}

// newRegistry returns a registry on s with a manual clock at epoch.
func newRegistry(t *testing.T, s consent.Store, log consent.AccessLog) (*consent.Registry, *Clock) {
	t.Helper()
	clock := NewClock(epoch)
	r, err := consent.New(s, consent.Config{Key: Key(), Now: clock.Now, AccessLog: log})
	require.NoError(t, err)
	return r, clock
}

func testRegistry(t *testing.T, s consent.Store) {
	ctx := t.Context()
	var logged []consent.AccessEntry
	r, clock := newRegistry(t, s, consent.AccessLogFunc(func(_ context.Context, e consent.AccessEntry) error {
		logged = append(logged, e)
		return nil
	}))
	given := epoch.Add(-24 * time.Hour)
	rec, err := r.Give(ctx, NewRecord("subject-1", "org-a", consent.PurposeViewNAW, consent.Permit, given))
	require.NoError(t, err)
	medical, err := r.Give(ctx, NewRecord("subject-1", "org-a", consent.PurposeMedicalInformation, consent.Permit, given))
	require.NoError(t, err)

	clock.Advance(time.Hour)
	out, err := r.Authorize(ctx, consent.Access{Subject: "subject-1", Purpose: consent.PurposeViewNAW, By: consent.Actor{User: "u2", Organisation: "org-a"}})
	require.NoError(t, err)
	assert.True(t, out.Allowed)
	require.Len(t, logged, 1)
	assert.Equal(t, rec.ID, logged[0].Record)

	clock.Advance(time.Hour)
	withdrawnAt := clock.Now()
	_, err = r.Withdraw(ctx, consent.Withdrawal{Subject: "subject-1", Organisation: "org-a", Purpose: consent.PurposeViewNAW,
		By: consent.Actor{User: "u1", Organisation: "org-a"}})
	require.NoError(t, err)
	for _, tt := range []struct {
		at      time.Time
		allowed bool
	}{
		{withdrawnAt.Add(-time.Nanosecond), true},
		{withdrawnAt, false},
	} {
		out, err := r.DecideUnlogged(ctx, "subject-1", "org-a", consent.PurposeViewNAW, tt.at)
		require.NoError(t, err)
		assert.Equal(t, tt.allowed, out.Allowed, "at %v", tt.at)
		assert.Equal(t, rec.ID, out.RecordID())
	}
	got, err := r.Status(ctx, medical.ID)
	require.NoError(t, err)
	assert.Equal(t, medical, got.Record, "a record reads back exactly as given")

	history, err := r.History(ctx, "subject-1", "org-a")
	require.NoError(t, err)
	assert.Len(t, history, 3)
	cp, err := r.Verify(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), cp.Events)
	assert.NoError(t, r.VerifyCheckpoint(ctx, cp))
}

func testRegistryConcurrent(t *testing.T, s consent.Store) {
	ctx := t.Context()
	r, _ := newRegistry(t, s, nil)
	const (
		writers   = 8
		perWriter = 4
	)
	subjects := []consent.Subject{"shared", "shared", "shared", "shared", "own-4", "own-5", "own-6", "own-7"}
	var wg sync.WaitGroup
	ids := make([][]consent.RecordID, writers)
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				// Distinct forms: the same form twice would be one record.
				rec := NewRecord(subjects[w], "org-a", consent.PurposeConsultIndication, consent.Permit, epoch.Add(-time.Hour))
				rec.Evidence.Reference = fmt.Sprintf("form %d-%d", w, i)
				rec, err := r.Give(ctx, rec)
				if err != nil {
					errs[w] = err
					return
				}
				ids[w] = append(ids[w], rec.ID)
				if err := r.RequestEvidence(ctx, rec.ID, fmt.Sprint("check ", w), consent.Change{By: rec.RecordedBy}); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	cp, err := r.Verify(ctx)
	require.NoError(t, err, "concurrent appends never break a chain")
	assert.Equal(t, uint64(writers*perWriter*2), cp.Events, "no event is lost")
	for w := range writers {
		for _, id := range ids[w] {
			st, err := r.Status(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, consent.EvidenceRequested, st.Evidence, "every evidence request is kept")
		}
	}
	history, err := r.History(ctx, "shared", "org-a")
	require.NoError(t, err)
	assert.Len(t, history, 4*perWriter*2)

	// Concurrent withdrawals of the same consent: one ends it, the others
	// find nothing left to withdraw.
	var withdrawn, nothing int
	var mu sync.Mutex
	for range writers {
		wg.Go(func() {
			_, err := r.Withdraw(ctx, consent.Withdrawal{Subject: "shared", Organisation: "org-a", Purpose: consent.PurposeConsultIndication,
				By: consent.Actor{User: "u1", Organisation: "org-a"}})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				withdrawn++
			case errors.Is(err, consent.ErrNotActive):
				nothing++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, withdrawn, "exactly one withdrawal is recorded")
	assert.Equal(t, writers-1, nothing)
}

func testSample(t *testing.T, s consent.Store) {
	ctx := t.Context()
	r, clock := newRegistry(t, s, nil)
	var all []consent.RecordID
	for i := range 12 {
		rec, err := r.Give(ctx, NewRecord(consent.Subject(fmt.Sprint("subject-", i)), "org-a", consent.PurposeViewNAW, consent.Permit, epoch.Add(-time.Hour)))
		require.NoError(t, err)
		all = append(all, rec.ID)
		clock.Advance(time.Minute)
	}
	clock.Advance(time.Hour)
	f := consent.Filter{Organisation: "org-a", From: epoch, Until: epoch.Add(time.Hour)}
	m, err := r.Sample(ctx, f, 4, []byte("a seed of sixteen bytes or more"))
	require.NoError(t, err)
	assert.Equal(t, 12, m.PopulationSize)
	assert.Equal(t, consent.PopulationDigest(all), m.PopulationDigest)
	assert.Equal(t, consent.BottomK([]byte("a seed of sixteen bytes or more"), 4, all), m.Selected)
	require.NoError(t, r.Redraw(ctx, m), "the same manifest redraws the same sample")

	for _, id := range m.Selected {
		require.NoError(t, r.RequestEvidence(ctx, id, m.ID(), consent.Change{By: consent.Actor{User: "auditor", Organisation: "portal"}}))
	}
	require.NoError(t, r.Redraw(ctx, m), "evidence requests do not change the population")

	altered := m
	altered.Selected = slices.Clone(m.Selected)
	altered.Selected[0], altered.Selected[1] = altered.Selected[1], altered.Selected[0]
	assert.ErrorIs(t, r.Redraw(ctx, altered), consent.ErrSampleMismatch)
}

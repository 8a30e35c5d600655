// Package consenttest provides fixtures for tests that use package consent,
// and the conformance suite for implementations of consent/store.Store.
//
// A store passes when
//
//	func TestConformance(t *testing.T) {
//		consenttest.Run(t, func(t *testing.T) store.Store {
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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/store"
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
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		test func(t *testing.T, s store.Store)
	}{
		{"UpdateAndRead", testUpdateAndRead},
		{"UpdateStoresNothingOnError", testUpdateStoresNothingOnError},
		{"UpdateRejectsBadBatch", testUpdateRejectsBadBatch},
		{"UpdateHeadOnly", testUpdateHeadOnly},
		{"UpdatesAreSerialised", testUpdatesAreSerialised},
		{"ReadsAreCopies", testReadsAreCopies},
		{"Locate", testLocate},
		{"Heads", testHeads},
		{"Scan", testScan},
		{"Checkpoints", testCheckpoints},
		{"Quarantine", testQuarantine},
		{"CancelledContext", testCancelledContext},
		{"Registry", testRegistry},
		{"RegistryConcurrent", testRegistryConcurrent},
		{"RegistryDoubleClick", testRegistryDoubleClick},
		{"RegistryDecideEach", testRegistryDecideEach},
		{"Sample", testSample},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.test(t, newStore(t))
		})
	}
}

// events returns synthetic events n, n+1, … of a chain. A store never
// checks MACs, so these need not verify; they only link up.
func events(chain string, first uint64, prev []byte, n int) []store.Event {
	evs := make([]store.Event, n)
	for i := range evs {
		seq := first + uint64(i)
		mac := sha256.Sum256(fmt.Appendf(nil, "%s/%d/%x", chain, seq, prev))
		evs[i] = store.Event{
			Chain:      chain,
			Seq:        seq,
			Record:     fmt.Sprintf("%.8s-%d", chain, seq),
			Kind:       "given",
			RecordedAt: epoch.Add(time.Duration(seq) * time.Hour),
			Payload:    fmt.Appendf(nil, `{"chain":%q,"seq":%d,"bytes":"\u0000\xff"}`, chain, seq),
			Prev:       bytes.Clone(prev),
			MAC:        mac[:],
		}
		prev = mac[:]
	}
	return evs
}

// batch returns a batch of events with a head at the last one.
func batch(chain string, evs []store.Event) *store.Batch {
	last := evs[len(evs)-1]
	state := fmt.Appendf(nil, `{"state of":%q,"at":%d,"bytes":"\u0000\xff"}`, chain, last.Seq)
	seal := sha256.Sum256(state)
	return &store.Batch{Events: evs, Head: store.Head{Chain: chain, Seq: last.Seq, MAC: bytes.Clone(last.MAC), State: state, Seal: seal[:]}}
}

var zero = make([]byte, 32)

func chainID(name string) string {
	return string(consent.ChainOf(consent.Subject(name), "org-a"))
}

// appendEvents appends n synthetic events to a chain and returns them.
func appendEvents(t *testing.T, s store.Store, chain string, n int) []store.Event {
	t.Helper()
	var evs []store.Event
	err := s.Update(t.Context(), chain, func(h *store.Head, _ store.EventReader) (*store.Batch, error) {
		first, prev := uint64(1), zero
		if h != nil {
			first, prev = h.Seq+1, h.MAC
		}
		evs = events(chain, first, prev, n)
		return batch(chain, evs), nil
	})
	require.NoError(t, err)
	return evs
}

func testUpdateAndRead(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := chainID("s1")
	_, err := s.Head(ctx, c)
	assert.ErrorIs(t, err, store.ErrNotFound, "a new chain has no head")

	first := events(c, 1, zero, 2)
	err = s.Update(ctx, c, func(h *store.Head, read store.EventReader) (*store.Batch, error) {
		assert.Nil(t, h, "a new chain has no head")
		evs, err := read(1)
		require.NoError(t, err)
		assert.Empty(t, evs)
		return batch(c, first), nil
	})
	require.NoError(t, err)
	want := batch(c, first).Head

	more := events(c, 3, first[1].MAC, 1)
	err = s.Update(ctx, c, func(h *store.Head, read store.EventReader) (*store.Batch, error) {
		require.NotNil(t, h)
		assert.Equal(t, want, *h, "the update sees the head as stored")
		evs, err := read(2)
		require.NoError(t, err, "the update reads the chain")
		require.Len(t, evs, 1)
		assertSameEvent(t, first[1], evs[0])
		return batch(c, more), nil
	})
	require.NoError(t, err)

	got, err := s.Events(ctx, c, 1)
	require.NoError(t, err)
	all := append(first, more...)
	require.Len(t, got, len(all))
	for i := range all {
		assertSameEvent(t, all[i], got[i])
	}
	tail, err := s.Events(ctx, c, 3)
	require.NoError(t, err)
	require.Len(t, tail, 1, "Events reads from the given Seq on")
	head, err := s.Head(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, batch(c, more).Head, head)

	empty, err := s.Events(ctx, chainID("unknown"), 1)
	require.NoError(t, err, "an unknown chain is empty, not an error")
	assert.Empty(t, empty)
}

func assertSameEvent(t *testing.T, want, got store.Event) {
	t.Helper()
	assert.True(t, want.RecordedAt.Equal(got.RecordedAt), "RecordedAt %v, want %v (nanoseconds must be kept)", got.RecordedAt, want.RecordedAt)
	want.RecordedAt, got.RecordedAt = time.Time{}, time.Time{}
	assert.Equal(t, want, got)
}

func testUpdateStoresNothingOnError(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := chainID("s1")
	stored := appendEvents(t, s, c, 1)
	before, err := s.Head(ctx, c)
	require.NoError(t, err)
	boom := errors.New("boom")
	tests := []struct {
		name string
		fn   func(ctx context.Context, cancel func(), h *store.Head) (*store.Batch, error)
		want error
	}{
		{"fn fails", func(_ context.Context, _ func(), h *store.Head) (*store.Batch, error) {
			return batch(c, events(c, 2, h.MAC, 3)), boom
		}, boom},
		{"nil batch", func(context.Context, func(), *store.Head) (*store.Batch, error) { return nil, nil }, nil},
		{"the context ends during the update", func(_ context.Context, cancel func(), h *store.Head) (*store.Batch, error) {
			cancel()
			return batch(c, events(c, 2, h.MAC, 3)), nil
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uctx, cancel := context.WithCancel(ctx)
			defer cancel()
			err := s.Update(uctx, c, func(h *store.Head, _ store.EventReader) (*store.Batch, error) {
				return tt.fn(uctx, cancel, h)
			})
			if tt.want == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tt.want)
			}
			got, err := s.Events(ctx, c, 1)
			require.NoError(t, err)
			require.Len(t, got, 1, "nothing is stored")
			assertSameEvent(t, stored[0], got[0])
			head, err := s.Head(ctx, c)
			require.NoError(t, err)
			assert.Equal(t, before, head, "the head is unchanged")
		})
	}
}

func testUpdateRejectsBadBatch(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := chainID("s1")
	stored := appendEvents(t, s, c, 2)
	tests := []struct {
		name  string
		batch func(h *store.Head) *store.Batch
	}{
		{"a gap after the head", func(h *store.Head) *store.Batch { return batch(c, events(c, h.Seq+2, h.MAC, 1)) }},
		{"the place of an event", func(h *store.Head) *store.Batch { return batch(c, events(c, h.Seq, h.MAC, 1)) }},
		{"another predecessor", func(h *store.Head) *store.Batch { return batch(c, events(c, h.Seq+1, zero, 1)) }},
		{"events of another chain", func(h *store.Head) *store.Batch {
			return batch(chainID("s2"), events(chainID("s2"), h.Seq+1, h.MAC, 1))
		}},
		{"a gap inside the batch", func(h *store.Head) *store.Batch {
			evs := events(c, h.Seq+1, h.MAC, 2)
			evs[1].Seq++
			return batch(c, evs)
		}},
		{"a head that is not at the last event", func(h *store.Head) *store.Batch {
			b := batch(c, events(c, h.Seq+1, h.MAC, 2))
			b.Head.Seq--
			return b
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Update(ctx, c, func(h *store.Head, _ store.EventReader) (*store.Batch, error) { return tt.batch(h), nil })
			assert.ErrorIs(t, err, store.ErrInvalid)
			got, err := s.Events(ctx, c, 1)
			require.NoError(t, err)
			assert.Len(t, got, len(stored), "nothing is stored")
		})
	}
}

func testUpdateHeadOnly(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := chainID("s1")
	appendEvents(t, s, c, 2)
	var repaired store.Head
	err := s.Update(ctx, c, func(h *store.Head, _ store.EventReader) (*store.Batch, error) {
		repaired = *h
		repaired.State = []byte("repaired")
		return &store.Batch{Head: repaired}, nil
	})
	require.NoError(t, err)
	got, err := s.Head(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, repaired, got, "a batch without events replaces the head")
	evs, err := s.Events(ctx, c, 1)
	require.NoError(t, err)
	assert.Len(t, evs, 2)
}

func testUpdatesAreSerialised(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := chainID("s1")
	const writers, each = 8, 5
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			for range each {
				for {
					err := s.Update(ctx, c, func(h *store.Head, _ store.EventReader) (*store.Batch, error) {
						first, prev := uint64(1), zero
						if h != nil {
							first, prev = h.Seq+1, h.MAC
						}
						evs := events(c, first, prev, 1)
						evs[0].Record = fmt.Sprintf("writer-%d-%d", w, first)
						return batch(c, evs), nil
					})
					if !errors.Is(err, store.ErrConflict) { // a store that checks optimistically
						errs[w] = err
						break
					}
				}
				if errs[w] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	got, err := s.Events(ctx, c, 1)
	require.NoError(t, err)
	require.Len(t, got, writers*each, "no update is lost")
	for i, e := range got {
		assert.Equal(t, uint64(i+1), e.Seq)
		if i > 0 {
			assert.Equal(t, got[i-1].MAC, e.Prev, "every update followed the one before")
		}
	}
	head, err := s.Head(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, uint64(writers*each), head.Seq)
}

func testReadsAreCopies(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := chainID("s1")
	evs := events(c, 1, zero, 1)
	want := evs[0]
	want.Payload = bytes.Clone(want.Payload)
	b := batch(c, evs)
	require.NoError(t, s.Update(ctx, c, func(*store.Head, store.EventReader) (*store.Batch, error) { return b, nil }))
	evs[0].Payload[0] = 'X' // the caller's slices after the update
	b.Head.State[0] = 'X'
	got, err := s.Events(ctx, c, 1)
	require.NoError(t, err)
	got[0].Payload[1] = 'Y' // a returned slice
	got[0].MAC[0] ^= 1
	head, err := s.Head(ctx, c)
	require.NoError(t, err)
	head.State[1] = 'Y'
	again, err := s.Events(ctx, c, 1)
	require.NoError(t, err)
	assertSameEvent(t, want, again[0])
	head, err = s.Head(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, batch(c, events(c, 1, zero, 1)).Head, head)
}

func testLocate(t *testing.T, s store.Store) {
	ctx := t.Context()
	c1, c2 := chainID("s1"), chainID("s2")
	e1 := appendEvents(t, s, c1, 2)
	e2 := appendEvents(t, s, c2, 1)
	// A later event about the record of c1's first event.
	err := s.Update(ctx, c1, func(h *store.Head, _ store.EventReader) (*store.Batch, error) {
		evs := events(c1, h.Seq+1, h.MAC, 1)
		evs[0].Record, evs[0].Kind = e1[0].Record, "withdrawn"
		return batch(c1, evs), nil
	})
	require.NoError(t, err)
	got, err := s.Locate(ctx, e1[0].Record)
	require.NoError(t, err)
	assertSameEvent(t, e1[0], got) // the first event that names the id
	got, err = s.Locate(ctx, e2[0].Record)
	require.NoError(t, err)
	assertSameEvent(t, e2[0], got)
	got, err = s.Locate(ctx, e1[1].Record)
	require.NoError(t, err)
	assertSameEvent(t, e1[1], got)
	_, err = s.Locate(ctx, "no-such-record")
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func testHeads(t *testing.T, s store.Store) {
	ctx := t.Context()
	var want []store.Head
	for i := range 7 {
		c := chainID(fmt.Sprint("subject-", i))
		evs := appendEvents(t, s, c, 1+i%3)
		want = append(want, batch(c, evs).Head)
	}
	slices.SortFunc(want, func(a, b store.Head) int { return strings.Compare(a.Chain, b.Chain) })
	var got []store.Head
	for after := ""; ; {
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

func testScan(t *testing.T, s store.Store) {
	ctx := t.Context()
	var want []store.Event
	for i := range 5 {
		c := chainID(fmt.Sprint("subject-", i))
		want = append(want, appendEvents(t, s, c, 1+i%4)...)
	}
	slices.SortFunc(want, func(a, b store.Event) int {
		if c := strings.Compare(a.Chain, b.Chain); c != 0 {
			return c
		}
		return int(a.Seq) - int(b.Seq)
	})
	for _, limit := range []int{1, 3, 100} {
		var got []store.Event
		chain, seq := "", uint64(0)
		for {
			page, err := s.Scan(ctx, chain, seq, limit)
			require.NoError(t, err)
			require.LessOrEqual(t, len(page), limit)
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			chain, seq = page[len(page)-1].Chain, page[len(page)-1].Seq
		}
		require.Len(t, got, len(want), "limit %d", limit)
		for i := range want {
			assertSameEvent(t, want[i], got[i])
		}
	}
}

func testCheckpoints(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.LastCheckpoint(ctx)
	assert.ErrorIs(t, err, store.ErrNotFound)
	cp := func(seq uint64) store.Checkpoint {
		mac := sha256.Sum256(fmt.Append(nil, seq))
		return store.Checkpoint{Seq: seq, Payload: fmt.Appendf(nil, `{"seq":%d,"bytes":"\u0000\xff"}`, seq), MAC: mac[:]}
	}
	assert.ErrorIs(t, s.AppendCheckpoint(ctx, cp(2)), store.ErrConflict, "the first checkpoint is 1")
	for seq := uint64(1); seq <= 5; seq++ {
		require.NoError(t, s.AppendCheckpoint(ctx, cp(seq)))
	}
	assert.ErrorIs(t, s.AppendCheckpoint(ctx, cp(5)), store.ErrConflict, "a checkpoint is stored once")
	assert.ErrorIs(t, s.AppendCheckpoint(ctx, cp(7)), store.ErrConflict, "checkpoints have no gaps")
	last, err := s.LastCheckpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, cp(5), last)
	page, err := s.Checkpoints(ctx, 1, 2)
	require.NoError(t, err)
	assert.Equal(t, []store.Checkpoint{cp(2), cp(3)}, page)
	page, err = s.Checkpoints(ctx, 5, 10)
	require.NoError(t, err)
	assert.Empty(t, page)
}

func testQuarantine(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := chainID("s1")
	evs := appendEvents(t, s, c, 3)
	head, err := s.Head(ctx, c)
	require.NoError(t, err)
	note := func(e store.Event) store.Quarantined {
		return store.Quarantined{Event: e, At: epoch, By: "operator (portal)", Reason: "inserted by hand"}
	}
	changed := evs[2]
	changed.MAC = bytes.Clone(changed.MAC)
	changed.MAC[0] ^= 1
	assert.ErrorIs(t, s.Quarantine(ctx, note(changed)), store.ErrConflict, "only the event as stored is quarantined")
	missing := evs[2]
	missing.Seq = 9
	assert.ErrorIs(t, s.Quarantine(ctx, note(missing)), store.ErrNotFound)
	got, err := s.Events(ctx, c, 1)
	require.NoError(t, err)
	require.Len(t, got, 3, "a refused quarantine changes nothing")

	require.NoError(t, s.Quarantine(ctx, note(evs[2])))
	got, err = s.Events(ctx, c, 1)
	require.NoError(t, err)
	require.Len(t, got, 2, "the quarantined event left the chain")
	after, err := s.Head(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, head, after, "the head stays")
	_, err = s.Locate(ctx, evs[2].Record)
	assert.ErrorIs(t, err, store.ErrNotFound, "a quarantined event no longer locates its id")
}

func testCancelledContext(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	c := chainID("s1")
	called := false
	err := s.Update(ctx, c, func(*store.Head, store.EventReader) (*store.Batch, error) {
		called = true
		return batch(c, events(c, 1, zero, 1)), nil
	})
	assert.Error(t, err)
	_, err = s.Events(ctx, c, 1)
	assert.Error(t, err)
	got, err := s.Events(t.Context(), c, 1)
	require.NoError(t, err)
	assert.Empty(t, got, "an update with a cancelled context stores nothing (called: %v)", called)
}

// newRegistry returns a registry on s with a manual clock at epoch.
func newRegistry(t *testing.T, s store.Store, log consent.AccessLog) (*consent.Registry, *Clock) {
	t.Helper()
	clock := NewClock(epoch)
	r, err := consent.New(s, consent.Config{Key: Key(), Now: clock.Now, AccessLog: log, Instance: "consenttest"})
	require.NoError(t, err)
	return r, clock
}

func testRegistry(t *testing.T, s store.Store) {
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
	out, err := r.Authorize(ctx, consent.Access{Subject: "subject-1", Purpose: consent.PurposeViewNAW,
		By: consent.Actor{User: "u2", Organisation: "org-a"}, Role: "secretary", Object: "client/naw", Action: consent.ActionRead})
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
		{withdrawnAt.Add(time.Hour), false},
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
	assert.Equal(t, uint64(1), cp.Seq)
	clock.Advance(time.Hour)
	_, err = r.Give(ctx, NewRecord("subject-2", "org-a", consent.PurposeViewNAW, consent.Permit, given))
	require.NoError(t, err)
	next, err := r.Verify(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), next.Seq)
	assert.Equal(t, cp.Digest, next.Prev, "checkpoints are chained")
	assert.NoError(t, r.VerifyAnchor(ctx, cp.Digest))
	assert.NoError(t, r.VerifyAnchor(ctx, next.Digest))
	assert.ErrorIs(t, r.VerifyAnchor(ctx, strings.Repeat("0", 64)), consent.ErrCheckpoint)
}

func testRegistryConcurrent(t *testing.T, s store.Store) {
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

// testRegistryDoubleClick records the same form at once from two
// registries on the store, as two portal instances would when a user clicks
// twice: it is one record, whoever wins.
func testRegistryDoubleClick(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, _ := newRegistry(t, s, nil)
	b, _ := newRegistry(t, s, nil)
	const clicks = 8
	form := NewRecord("subject-1", "org-a", consent.PurposeTakeOverIndication, consent.Permit, epoch.Add(-time.Hour))
	ids := make([]consent.RecordID, clicks)
	errs := make([]error, clicks)
	var wg sync.WaitGroup
	for i := range clicks {
		r := a
		if i%2 == 1 {
			r = b
		}
		wg.Go(func() {
			rec, err := r.Give(ctx, form)
			ids[i], errs[i] = rec.ID, err
		})
	}
	wg.Wait()
	for i := range clicks {
		require.NoError(t, errs[i])
		assert.Equal(t, ids[0], ids[i], "click %d returns the record of the first", i)
	}
	history, err := a.History(ctx, "subject-1", "org-a")
	require.NoError(t, err)
	assert.Len(t, history, 1, "one event for all the clicks")
}

// headStore is a store whose Head calls are counted and whose heads can be
// replaced on the way out, as a store changed behind the registry's back
// would return them.
type headStore struct {
	store.Store
	mu    sync.Mutex
	reads int
	swap  func(h store.Head) store.Head
}

func (s *headStore) Head(ctx context.Context, chain string) (store.Head, error) {
	h, err := s.Store.Head(ctx, chain)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if err == nil && s.swap != nil {
		h = s.swap(h)
	}
	return h, err
}

// counted returns the Head calls since the last call, and sets swap.
func (s *headStore) counted(swap func(h store.Head) store.Head) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.reads
	s.reads, s.swap = 0, swap
	return n
}

// testRegistryDecideEach decides every purpose of a chain in one call: the
// outcomes are those of one DecideUnlogged per purpose, the chain's head is
// read once, nothing is logged, and a head whose seal does not verify or
// that went back behind the registry's back is refused as for one purpose.
func testRegistryDecideEach(t *testing.T, s store.Store) {
	ctx := t.Context()
	hs := &headStore{Store: s}
	var logged []consent.AccessEntry
	r, clock := newRegistry(t, hs, consent.AccessLogFunc(func(_ context.Context, e consent.AccessEntry) error {
		logged = append(logged, e)
		return nil
	}))
	given := epoch.Add(-24 * time.Hour)
	_, err := r.Give(ctx, NewRecord("subject-1", "org-a", consent.PurposeViewNAW, consent.Permit, given))
	require.NoError(t, err)
	_, err = r.Give(ctx, NewRecord("subject-1", "org-a", consent.PurposeConsultIndication, consent.Deny, given))
	require.NoError(t, err)
	old, err := s.Head(ctx, string(consent.ChainOf("subject-1", "org-a")))
	require.NoError(t, err)
	clock.Advance(time.Hour)
	_, err = r.Give(ctx, NewRecord("subject-1", "org-a", consent.PurposeMedicalInformation, consent.Permit, clock.Now().Add(-time.Minute)))
	require.NoError(t, err)
	_, err = r.Withdraw(ctx, consent.Withdrawal{Subject: "subject-1", Organisation: "org-a", Purpose: consent.PurposeViewNAW,
		By: consent.Actor{User: "u1", Organisation: "org-a"}})
	require.NoError(t, err)

	purposes := consent.Purposes()
	for _, tt := range []struct {
		reason string
		at     time.Time
	}{
		{"now", clock.Now()},
		{"before the withdrawal, from the history", clock.Now().Add(-time.Minute)},
		{"before any consent", given.Add(-time.Hour)},
	} {
		t.Run(tt.reason, func(t *testing.T) {
			hs.counted(nil)
			each, err := r.DecideUnloggedEach(ctx, "subject-1", "org-a", purposes, tt.at)
			require.NoError(t, err)
			if tt.at.Equal(clock.Now()) {
				assert.Equal(t, 1, hs.counted(nil), "one read of the head for all purposes")
			}
			require.Len(t, each, len(purposes))
			for i, p := range purposes {
				one, err := r.DecideUnlogged(ctx, "subject-1", "org-a", p, tt.at)
				require.NoError(t, err)
				assert.Equal(t, one, each[i], "purpose %s", p)
			}
		})
	}
	each, err := r.DecideUnloggedEach(ctx, "subject-1", "org-a", purposes, clock.Now())
	require.NoError(t, err)
	assert.Equal(t, []consent.Reason{consent.ReasonWithdrawn, consent.ReasonDenied, consent.ReasonNoConsent, consent.ReasonPermitted},
		[]consent.Reason{each[0].Reason, each[1].Reason, each[2].Reason, each[3].Reason}, "view-naw, consult, take-over, medical")
	assert.Empty(t, logged, "DecideUnloggedEach writes nothing to the access log")

	// A head changed behind the registry's back: its seal does not verify.
	hs.counted(func(h store.Head) store.Head {
		h.State = append(bytes.Clone(h.State), 0)
		return h
	})
	each, err = r.DecideUnloggedEach(ctx, "subject-1", "org-a", purposes, clock.Now())
	assert.ErrorIs(t, err, consent.ErrTampered, "a head whose seal does not verify")
	assert.Nil(t, each)

	// The chain rolled back, head and all: the old head is sealed and
	// verifies, but the registry saw a later one.
	hs.counted(func(store.Head) store.Head { return old })
	each, err = r.DecideUnloggedEach(ctx, "subject-1", "org-a", purposes, clock.Now())
	var terr *consent.TamperError
	require.ErrorAs(t, err, &terr, "a head older than one the registry saw")
	assert.Equal(t, consent.ProblemTruncated, terr.Problems[0].Kind)
	assert.Nil(t, each)
	hs.counted(nil)

	// Authorize goes on logging every decision.
	_, err = r.Authorize(ctx, consent.Access{Subject: "subject-1", Purpose: consent.PurposeMedicalInformation,
		By: consent.Actor{User: "u2", Organisation: "org-a"}, Role: "secretary", Object: "client/medical", Action: consent.ActionRead})
	require.NoError(t, err)
	assert.Len(t, logged, 1)
}

func testSample(t *testing.T, s store.Store) {
	ctx := t.Context()
	r, clock := newRegistry(t, s, nil)
	auditor := consent.Actor{User: "auditor", Organisation: "portal"}
	plan, err := r.PlanSample(ctx, consent.Filter{Organisation: "org-a", Until: epoch.Add(time.Hour)}, 4, auditor)
	require.NoError(t, err)
	var all []consent.RecordID
	for i := range 12 {
		rec, err := r.Give(ctx, NewRecord(consent.Subject(fmt.Sprint("subject-", i)), "org-a", consent.PurposeViewNAW, consent.Permit, epoch.Add(-time.Hour)))
		require.NoError(t, err)
		all = append(all, rec.ID)
		clock.Advance(time.Minute)
	}
	_, err = r.Sample(ctx, plan.ID)
	assert.ErrorIs(t, err, consent.ErrInvalid, "the window has not closed")
	clock.Advance(time.Hour)
	m, err := r.Sample(ctx, plan.ID)
	require.NoError(t, err)
	assert.Equal(t, 12, m.PopulationSize)
	assert.Len(t, m.Selected, 4)
	for _, id := range m.Selected {
		assert.Contains(t, all, id)
	}
	require.NoError(t, r.Redraw(ctx, m), "the same manifest redraws the same sample")

	for _, id := range m.Selected {
		require.NoError(t, r.RequestEvidence(ctx, id, m.Plan.ID, consent.Change{By: auditor}))
	}
	require.NoError(t, r.Redraw(ctx, m), "evidence requests do not change the population")

	altered := m
	altered.Selected = slices.Clone(m.Selected)
	altered.Selected[0], altered.Selected[1] = altered.Selected[1], altered.Selected[0]
	assert.ErrorIs(t, r.Redraw(ctx, altered), consent.ErrSampleMismatch)
}

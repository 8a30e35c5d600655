package consent

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/consent/store"
)

// TestStateMatchesHistory runs random sequences of operations, and checks
// after each that the head's state, built up event by event, is what all
// events give at once (as Verify computes it), and that a decision made
// with the head's state is the one made with every event, at random
// moments from the chain's last statement on.
func TestStateMatchesHistory(t *testing.T) {
	for run := range 25 {
		t.Run(fmt.Sprint(run), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(run), 7))
			ctx := t.Context()
			now := time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)
			s := store.NewMemory()
			r, err := New(s, Config{Key: testKey(), Now: func() time.Time { return now }})
			require.NoError(t, err)
			by := Actor{User: "u1", Organisation: "org-a"}
			purposes := []Purpose{PurposeViewNAW, PurposeConsultIndication}
			var ids []RecordID
			moment := func() time.Time { return now.Add(-time.Duration(rng.IntN(72)) * time.Hour) }
			for op := range 30 {
				now = now.Add(time.Duration(rng.IntN(180)) * time.Minute)
				var err error
				switch rng.IntN(8) {
				case 0, 1, 2:
					rec := Record{Subject: "s1", Organisation: "org-a", Purpose: purposes[rng.IntN(2)], Decision: Permit,
						GivenAt: moment(), PolicyVersion: "v1", Evidence: Evidence{Kind: EvidencePaper, Reference: fmt.Sprint("form ", rng.IntN(4))},
						RecordedBy: by}
					if rng.IntN(4) == 0 {
						rec.Decision = Deny
					}
					if rng.IntN(4) == 0 {
						rec.ValidFrom = rec.GivenAt.Add(time.Duration(rng.IntN(48)) * time.Hour)
					}
					if rng.IntN(4) == 0 {
						rec.ValidUntil = rec.GivenAt.Add(time.Duration(1+rng.IntN(96)) * time.Hour)
						if !rec.ValidFrom.IsZero() && !rec.ValidFrom.Before(rec.ValidUntil) {
							rec.ValidUntil = rec.ValidFrom.Add(time.Hour)
						}
					}
					var got Record
					if got, err = r.Give(ctx, rec); err == nil {
						ids = append(ids, got.ID)
					}
				case 3:
					w := Withdrawal{Subject: "s1", Organisation: "org-a", Purpose: purposes[rng.IntN(2)], By: by}
					if rng.IntN(2) == 0 {
						w.At = moment()
					}
					var id RecordID
					if id, err = r.Withdraw(ctx, w); err == nil {
						ids = append(ids, id)
					}
				case 4:
					if len(ids) > 0 {
						err = r.EnterInError(ctx, ids[rng.IntN(len(ids))], Change{By: by, Reason: "x"})
					}
				case 5:
					if len(ids) > 0 {
						err = r.EvidenceMissing(ctx, ids[rng.IntN(len(ids))], Change{By: by, Reason: "x", At: moment()})
					}
				case 6:
					if len(ids) > 0 {
						err = r.EvidenceProduced(ctx, ids[rng.IntN(len(ids))], Change{By: by, At: moment()})
					}
				case 7:
					if len(ids) > 0 {
						rec := Record{Subject: "s1", Organisation: "org-a", Purpose: purposes[rng.IntN(2)], Decision: Permit,
							GivenAt: moment(), PolicyVersion: "v1", Evidence: Evidence{Kind: EvidencePaper, Reference: "fixed"}, RecordedBy: by}
						var got Record
						if got, err = r.Correct(ctx, ids[rng.IntN(len(ids))], rec, Change{By: by, Reason: "x"}); err == nil {
							ids = append(ids, got.ID)
						}
					}
				}
				if err != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrNotActive) && !errors.Is(err, ErrDenyNotWithdrawable) {
					t.Fatalf("op %d: %v", op, err)
				}
				state, h, err := r.state(ctx, ChainOf("s1", "org-a"))
				require.NoError(t, err)
				full, err := r.history(ctx, ChainOf("s1", "org-a"))
				require.NoError(t, err)
				if h != nil {
					require.Equal(t, string(full.pruned().encodeState()), string(h.State), "op %d: the head's state is what the events give", op)
				}
				require.Equal(t, full.since, state.since)
				for range 5 {
					at := state.since.Add(time.Duration(rng.IntN(100)) * time.Hour)
					for _, p := range purposes {
						a, b := state.decide(p, at), full.decide(p, at)
						require.Equal(t, b.Allowed, a.Allowed, "op %d, %s at %v", op, p, at)
						require.Equal(t, b.Reason, a.Reason, "op %d, %s at %v", op, p, at)
						require.Equal(t, b.RecordID(), a.RecordID(), "op %d, %s at %v", op, p, at)
						require.Equal(t, full.withdrawable(p, at), state.withdrawable(p, at), "op %d, %s at %v", op, p, at)
					}
				}
			}
		})
	}
}

// FuzzDecodeState checks that decoding a head's state never panics, and
// that what it accepts encodes to the same bytes. (A state is read only
// once its seal verifies; the decoder is strict all the same.)
func FuzzDecodeState(f *testing.F) {
	l := fullLedger()
	e := goldenEvent()
	l.apply(e)
	l.apply(&Event{Chain: e.Chain, Seq: 2, Kind: EventWithdrawn, Record: "w", At: e.At.Add(time.Hour), RecordedAt: e.At.Add(time.Hour), By: e.By, Purpose: PurposeMedicalInformation})
	f.Add(l.pruned().encodeState())
	f.Add(newLedger().encodeState())
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := decodeState(b)
		if err != nil {
			return
		}
		if again := l.encodeState(); string(again) != string(b) {
			// Accepted but not canonical: harmless behind a seal, but
			// the reader and writer must agree on what they accept.
			if _, err := decodeState(again); err != nil {
				t.Fatalf("the state read from\n%s\nencodes as\n%s\nwhich does not read back: %v", b, again, err)
			}
		}
	})
}

// FuzzDecodeCheckpoint checks that decoding a stored checkpoint never
// panics, and that every payload it accepts is canonical.
func FuzzDecodeCheckpoint(f *testing.F) {
	cp := &Checkpoint{Seq: 2, Time: time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC), Chains: 1, Events: 3, Prev: "ab", Digest: "cd"}
	f.Add(encodeCheckpoint(cp, map[ChainID]cpHead{"c": {3, []byte{1, 2}}}))
	f.Add(encodeCheckpoint(&Checkpoint{Seq: 1, Time: cp.Time}, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		cp, changed, err := decodeCheckpoint(b)
		if err != nil {
			return
		}
		if again := encodeCheckpoint(cp, changed); string(again) != string(b) {
			t.Fatalf("accepted a non-canonical checkpoint:\n%s\nencodes as\n%s", b, again)
		}
	})
}

// TestHighWater checks the memory of the heads seen: a head behind the
// highest seen, or none after one was seen, is a rollback; the memory stays
// bounded.
func TestHighWater(t *testing.T) {
	var c stateCache
	require.NoError(t, c.rolledBack("a", nil), "nothing seen: no head is fine")
	c.saw("a", 5)
	c.saw("a", 3) // a reader that read before a writer: the mark stays
	tests := []struct {
		name string
		head *store.Head
		ok   bool
	}{
		{"the head seen", &store.Head{Seq: 5}, true},
		{"a later head", &store.Head{Seq: 6}, true},
		{"an earlier head", &store.Head{Seq: 4}, false},
		{"no head", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.rolledBack("a", tt.head)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrTampered)
			var terr *TamperError
			require.ErrorAs(t, err, &terr)
			require.Equal(t, ProblemTruncated, terr.Problems[0].Kind)
			require.Equal(t, uint64(5), terr.Problems[0].Seq)
		})
	}
	require.Error(t, c.advance("a", &store.Head{Seq: 4}))
	require.NoError(t, c.advance("a", &store.Head{Seq: 9}))
	require.ErrorIs(t, c.rolledBack("a", &store.Head{Seq: 8}), ErrTampered, "advance raised the mark")
	for i := range maxHighWater + 10 {
		c.saw(ChainID(fmt.Sprint(i)), 1)
	}
	require.Len(t, c.high, maxHighWater)
	used := maps.Clone(c.high)
	c.raiseFloors(map[ChainID]cpHead{"verified": {seq: 7}, "a": {seq: 10}})
	c.raiseFloors(map[ChainID]cpHead{"verified": {seq: 6}}) // an older checkpoint read later
	require.Equal(t, used, c.high, "the heads of a checkpoint do not push out those in use")
	require.ErrorIs(t, c.rolledBack("verified", &store.Head{Seq: 6}), ErrTampered, "behind a checkpoint's head")
	require.ErrorIs(t, c.rolledBack("verified", nil), ErrTampered, "gone")
	require.NoError(t, c.rolledBack("verified", &store.Head{Seq: 7}))
	require.ErrorIs(t, c.advance("a", &store.Head{Seq: 9}), ErrTampered, "the floor is above the mark")
	require.NoError(t, c.rolledBack("other", nil), "a chain no checkpoint covers")
}

package sqlstore_test

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/consenttest"
	"github.com/zorgkit/zorgkit/consent/sqlstore"
)

// TestTamper changes the tables behind the store's back, as someone with
// access to the database could, and checks that Verify names the event,
// that VerifyAnchor does too against a checkpoint anchored before, and that
// no decision changes: decisions rest on the sealed head. The statements
// are written for SQLite and translated for PostgreSQL.
func TestTamper(t *testing.T) {
	// The chain of s1 at org-a holds five events:
	//	1 given p1, 2 given p2, 3 withdrawal w of view-naw, 4 evidence
	//	requested p2, 5 given p3 (consult-indication)
	// and the chain of s2 one: 1 given q1.
	tests := []struct {
		reason string
		tamper []string // statements; ?1 is s1's chain, ?2 s2's
		// verify is what Verify reports; anchor what VerifyAnchor adds
		// against the checkpoint taken before the tampering.
		verify []problem
		anchor []problem
	}{
		{
			reason: "change a field in the payload",
			tamper: []string{`UPDATE consent_events SET payload = CAST(REPLACE(CAST(payload AS TEXT), '"user":"u1"', '"user":"u9"') AS BLOB) WHERE chain_id = ?1 AND seq = 3`},
			verify: []problem{{consent.ProblemChanged, 3, "w", ""}},
		},
		{
			reason: "change the kind column",
			tamper: []string{`UPDATE consent_events SET kind = 'given' WHERE chain_id = ?1 AND seq = 4`},
			verify: []problem{{consent.ProblemChanged, 4, "p2", ""}},
		},
		{
			reason: "change the time column",
			tamper: []string{`UPDATE consent_events SET recorded_at = recorded_at - 86400000000000 WHERE chain_id = ?1 AND seq = 1`},
			verify: []problem{{consent.ProblemChanged, 1, "p1", ""}},
		},
		{
			reason: "replace a MAC",
			tamper: []string{`UPDATE consent_events SET mac = randomblob(32) WHERE chain_id = ?1 AND seq = 2`},
			verify: []problem{{consent.ProblemChanged, 2, "p2", ""}},
		},
		{
			reason: "delete an event from the middle",
			tamper: []string{`DELETE FROM consent_events WHERE chain_id = ?1 AND seq = 3`},
			verify: []problem{{consent.ProblemRemoved, 3, "", ""}},
		},
		{
			reason: "delete the first event",
			tamper: []string{`DELETE FROM consent_events WHERE chain_id = ?1 AND seq = 1`},
			verify: []problem{{consent.ProblemRemoved, 1, "", ""}},
		},
		{
			reason: "cut the last event off: the head still names it",
			tamper: []string{`DELETE FROM consent_events WHERE chain_id = ?1 AND seq = 5`},
			verify: []problem{{consent.ProblemTruncated, 5, "", ""}},
		},
		{
			reason: "delete an event and renumber the rest to close the gap",
			tamper: []string{
				`DELETE FROM consent_events WHERE chain_id = ?1 AND seq = 3`,
				`UPDATE consent_events SET seq = 3 WHERE chain_id = ?1 AND seq = 4`,
				`UPDATE consent_events SET seq = 4 WHERE chain_id = ?1 AND seq = 5`,
			},
			verify: []problem{{consent.ProblemReordered, 3, "p2", ""}, {consent.ProblemReordered, 4, "p3", ""}, {consent.ProblemTruncated, 5, "", ""}},
		},
		{
			reason: "swap two events",
			tamper: []string{
				`UPDATE consent_events SET seq = 1000 WHERE chain_id = ?1 AND seq = 2`,
				`UPDATE consent_events SET seq = 2 WHERE chain_id = ?1 AND seq = 4`,
				`UPDATE consent_events SET seq = 4 WHERE chain_id = ?1 AND seq = 1000`,
			},
			verify: []problem{{consent.ProblemReordered, 2, "p2", ""}, {consent.ProblemReordered, 4, "p2", ""}},
		},
		{
			reason: "move an event to another chain",
			tamper: []string{`UPDATE consent_events SET chain_id = ?2, seq = 2 WHERE chain_id = ?1 AND seq = 5`},
			verify: []problem{{consent.ProblemTruncated, 5, "", ""}, {consent.ProblemExtra, 2, "p3", "s2"}},
		},
		{
			reason: "duplicate an event at the end",
			tamper: []string{`INSERT INTO consent_events SELECT chain_id, 6, record_id, kind, organisation, purpose, decision, recorded_at, payload, prev_mac, mac FROM consent_events WHERE chain_id = ?1 AND seq = 5`},
			verify: []problem{{consent.ProblemExtra, 6, "p3", ""}},
		},
		{
			reason: "change the state of a head",
			tamper: []string{`UPDATE consent_heads SET state = CAST(REPLACE(CAST(state AS TEXT), '"suspended":true,', '') AS BLOB) WHERE chain_id = ?1`,
				`UPDATE consent_heads SET state = CAST(REPLACE(CAST(state AS TEXT), '"purpose":"view-naw"', '"purpose":"consult-indication"') AS BLOB) WHERE chain_id = ?1`},
			verify: []problem{{consent.ProblemHead, 5, "", ""}},
		},
		{
			reason: "remove a head",
			tamper: []string{`DELETE FROM consent_heads WHERE chain_id = ?1`},
			verify: []problem{{consent.ProblemHead, 5, "", ""}},
		},
		{
			reason: "roll a chain back, head and all",
			tamper: []string{
				`DELETE FROM consent_events WHERE chain_id = ?1 AND seq = 5`,
				`UPDATE consent_heads SET seq = (SELECT seq FROM saved_head), mac = (SELECT mac FROM saved_head), state = (SELECT state FROM saved_head), seal = (SELECT seal FROM saved_head) WHERE chain_id = ?1`,
			},
			verify: []problem{{consent.ProblemTruncated, 5, "", ""}}, // against the last checkpoint
		},
		{
			reason: "remove a chain whole, head and all",
			tamper: []string{`DELETE FROM consent_events WHERE chain_id = ?1`, `DELETE FROM consent_heads WHERE chain_id = ?1`},
			verify: []problem{{consent.ProblemTruncated, 5, "", ""}},
		},
	}
	for _, d := range dialects {
		for _, tt := range tests {
			t.Run(string(d.dialect)+"/"+tt.reason, func(t *testing.T) {
				if d.dialect == sqlstore.PostgreSQL {
					postgresDSN(t)
				}
				testTamper(t, d.dialect, d.open, tt.tamper, tt.verify, tt.anchor)
			})
		}
	}
}

// tamperSQL translates the SQLite of the tamper statements for dialect, with
// the chains as literals (they are hexadecimal).
func tamperSQL(dialect sqlstore.Dialect, stmt string, chain, other consent.ChainID) string {
	stmt = strings.NewReplacer("?1", "'"+string(chain)+"'", "?2", "'"+string(other)+"'").Replace(stmt)
	if dialect == sqlstore.PostgreSQL {
		stmt = strings.NewReplacer(
			"CAST(REPLACE(CAST(payload AS TEXT),", "convert_to(replace(convert_from(payload, 'UTF8'),",
			"CAST(REPLACE(CAST(state AS TEXT),", "convert_to(replace(convert_from(state, 'UTF8'),",
			") AS BLOB)", "), 'UTF8')",
			"randomblob(32)", "sha256('tampered'::bytea)",
		).Replace(stmt)
	}
	return stmt
}

func testTamper(t *testing.T, dialect sqlstore.Dialect, open func(testing.TB) *sql.DB, tamper []string, verify, anchor []problem) {
	ctx := t.Context()
	s, db := newStore(t, dialect, open)
	clock := consenttest.NewClock(t0)
	r, err := consent.New(s, consent.Config{Key: consenttest.Key(), Now: clock.Now})
	require.NoError(t, err)
	f := fixture{chain: consent.ChainOf("s1", "org-a"), other: consent.ChainOf("s2", "org-a"), ids: map[string]consent.RecordID{}}
	give := func(label string, subject consent.Subject, purpose consent.Purpose) {
		rec := consenttest.NewRecord(subject, "org-a", purpose, consent.Permit, clock.Now().Add(-time.Hour))
		rec.Evidence.Reference = label
		rec, err := r.Give(ctx, rec)
		require.NoError(t, err)
		f.ids[label] = rec.ID
		clock.Advance(time.Minute)
	}
	give("p1", "s1", consent.PurposeViewNAW)
	give("p2", "s1", consent.PurposeViewNAW)
	f.ids["w"], err = r.Withdraw(ctx, consent.Withdrawal{Subject: "s1", Organisation: "org-a", Purpose: consent.PurposeViewNAW, By: consent.Actor{User: "u1", Organisation: "org-a"}})
	require.NoError(t, err)
	require.NoError(t, r.RequestEvidence(ctx, f.ids["p2"], "spot check 1", consent.Change{By: consent.Actor{User: "auditor", Organisation: "portal"}}))
	_, err = db.ExecContext(ctx, tamperSQL(dialect, `CREATE TABLE saved_head AS SELECT seq, mac, state, seal FROM consent_heads WHERE chain_id = ?1`, f.chain, f.other))
	require.NoError(t, err)
	give("p3", "s1", consent.PurposeConsultIndication)
	give("q1", "s2", consent.PurposeViewNAW)
	before, err := r.Verify(ctx)
	require.NoError(t, err)
	decisions := func() map[string]string {
		out := map[string]string{}
		for _, s := range []consent.Subject{"s1", "s2"} {
			for _, p := range []consent.Purpose{consent.PurposeViewNAW, consent.PurposeConsultIndication} {
				o, err := r.DecideUnlogged(ctx, s, "org-a", p, clock.Now())
				switch {
				case errors.Is(err, consent.ErrTampered):
					out[string(s)+"/"+string(p)] = "tampered"
				case err != nil:
					t.Fatal(err)
				default:
					out[string(s)+"/"+string(p)] = string(o.Reason)
				}
			}
		}
		return out
	}
	want := decisions()

	// Whoever tampers first switches off the append-only guards.
	guards := []string{"DROP TRIGGER consent_events_no_update", "DROP TRIGGER consent_events_no_delete"}
	if dialect == sqlstore.PostgreSQL {
		guards = []string{"ALTER TABLE consent_events DISABLE TRIGGER USER"}
	}
	for _, stmt := range guards {
		_, err := db.ExecContext(ctx, stmt)
		require.NoError(t, err)
	}
	for _, stmt := range tamper {
		stmt = tamperSQL(dialect, stmt, f.chain, f.other)
		_, err := db.ExecContext(ctx, stmt)
		require.NoError(t, err, stmt)
	}

	_, err = r.Verify(ctx)
	assertProblems(t, err, f.chain, f.other, f.ids, verify)
	err = r.VerifyAnchor(ctx, before.Digest)
	assertProblems(t, err, f.chain, f.other, f.ids, append(verify[:len(verify):len(verify)], anchor...))

	// No decision changes: one rests on a head that verifies, or there is
	// none.
	for key, got := range decisions() {
		if got != "tampered" && !(got == string(consent.ReasonNoConsent) && strings.HasPrefix(key, "s1/")) {
			assert.Equal(t, want[key], got, "the decision of %s", key)
		}
	}
	assert.Equal(t, want["s2/view-naw"], decisions()["s2/view-naw"], "other chains are not affected")
}

// fixture is what testTamper sets up.
type fixture struct {
	chain consent.ChainID // the chain of s1, tampered with
	other consent.ChainID // the chain of s2
	ids   map[string]consent.RecordID
}

// problem is an expected problem of TestTamper.
type problem struct {
	kind   consent.ProblemKind
	seq    uint64
	record string          // label, or "" where the event is gone
	chain  consent.Subject // the subject of the chain; "" for s1
}

// assertProblems checks that err reports exactly the problems, in any
// order, and that its message names the first.
func assertProblems(t *testing.T, err error, chain, other consent.ChainID, ids map[string]consent.RecordID, want []problem) {
	t.Helper()
	if len(want) == 0 {
		assert.NoError(t, err)
		return
	}
	var terr *consent.TamperError
	require.ErrorAs(t, err, &terr)
	assert.True(t, errors.Is(err, consent.ErrTampered))
	type key struct {
		kind   consent.ProblemKind
		seq    uint64
		record consent.RecordID
		chain  consent.ChainID
	}
	var got, wanted []key
	for _, p := range terr.Problems {
		got = append(got, key{p.Kind, p.Seq, p.Record, p.Chain})
	}
	for _, p := range want {
		c := chain
		if p.chain == "s2" {
			c = other
		}
		wanted = append(wanted, key{p.kind, p.seq, ids[p.record], c})
	}
	assert.ElementsMatch(t, wanted, got)
	first := terr.Problems[0]
	assert.Contains(t, err.Error(), first.String(), "the message names the event")
}

// TestRollbackOfAWithdrawal rolls a chain back to before a withdrawal, head
// and all, with the old head's sealed row: the attack that a head alone
// cannot find, since the old head verifies. The registry that made the
// withdrawal, and one that ran Verify after it, refuse to decide or append
// on the chain; a registry started afterwards cannot know, and the
// checkpoint that Verify took after the withdrawal names the missing event.
func TestRollbackOfAWithdrawal(t *testing.T) {
	eachDialect(t, func(t *testing.T, d dialect, s *sqlstore.Store, db *sql.DB, clock *consenttest.Clock, cfg consent.Config) {
		ctx := t.Context()
		r, err := consent.New(s, cfg)
		require.NoError(t, err)
		chain := consent.ChainOf("s1", "org-a")
		_, err = r.Give(ctx, consenttest.NewRecord("s1", "org-a", consent.PurposeViewNAW, consent.Permit, clock.Now().Add(-time.Hour)))
		require.NoError(t, err)
		saveHead(t, d.dialect, db, chain, "saved_head")
		clock.Advance(time.Minute)
		_, err = r.Withdraw(ctx, consent.Withdrawal{Subject: "s1", Organisation: "org-a", Purpose: consent.PurposeViewNAW,
			By: consent.Actor{User: "u1", Organisation: "org-a"}})
		require.NoError(t, err)
		verified, err := consent.New(s, cfg)
		require.NoError(t, err)
		_, err = verified.Verify(ctx)
		require.NoError(t, err)
		o, err := r.DecideUnlogged(ctx, "s1", "org-a", consent.PurposeViewNAW, clock.Now())
		require.NoError(t, err)
		require.Equal(t, consent.ReasonWithdrawn, o.Reason)

		rollBack(t, d.dialect, db, chain, "saved_head")

		_, err = r.DecideUnlogged(ctx, "s1", "org-a", consent.PurposeViewNAW, clock.Now())
		var terr *consent.TamperError
		require.ErrorAs(t, err, &terr, "the registry that made the withdrawal does not decide on the old head")
		assert.Equal(t, consent.ProblemTruncated, terr.Problems[0].Kind)
		assert.Equal(t, uint64(2), terr.Problems[0].Seq)
		_, err = r.DecideUnloggedEach(ctx, "s1", "org-a", consent.Purposes(), clock.Now())
		assert.ErrorIs(t, err, consent.ErrTampered, "nor for several purposes at once")
		_, err = r.Give(ctx, consenttest.NewRecord("s1", "org-a", consent.PurposeConsultIndication, consent.Permit, clock.Now()))
		assert.ErrorIs(t, err, consent.ErrTampered, "nor appends to it")
		_, err = verified.DecideUnlogged(ctx, "s1", "org-a", consent.PurposeViewNAW, clock.Now())
		assert.ErrorIs(t, err, consent.ErrTampered, "nor does the registry that verified the withdrawal")

		fresh, err := consent.New(s, cfg)
		require.NoError(t, err)
		_, err = fresh.DecideUnlogged(ctx, "s1", "org-a", consent.PurposeViewNAW, clock.Now())
		require.ErrorAs(t, err, &terr, "a new process knows the checkpoint's head")
		assert.Equal(t, consent.ProblemTruncated, terr.Problems[0].Kind)
		_, err = fresh.Verify(ctx)
		require.ErrorAs(t, err, &terr, "the checkpoint holds the withdrawal")
		assert.Equal(t, []consent.Problem{{Kind: consent.ProblemTruncated, Chain: chain, Seq: 2}},
			[]consent.Problem{{Kind: terr.Problems[0].Kind, Chain: terr.Problems[0].Chain, Seq: terr.Problems[0].Seq}})

	})
}

// TestRollbackWhileDown rolls two chains back, head and all, while no
// registry runs (the server is down): one behind the last checkpoint's head,
// one to a head after it. A registry started afterwards refuses to decide on
// or append to the first, from the checkpoint alone, without a Verify; the
// second is the window that remains: nothing in the store shows that its
// later events ever existed, so neither a new registry nor Verify finds it.
func TestRollbackWhileDown(t *testing.T) {
	eachDialect(t, func(t *testing.T, d dialect, s *sqlstore.Store, db *sql.DB, clock *consenttest.Clock, cfg consent.Config) {
		ctx := t.Context()
		r, err := consent.New(s, cfg)
		require.NoError(t, err)
		by := consent.Actor{User: "u1", Organisation: "org-a"}
		// s1: permit (1), withdrawal (2), then a checkpoint.
		behind := consent.ChainOf("s1", "org-a")
		_, err = r.Give(ctx, consenttest.NewRecord("s1", "org-a", consent.PurposeViewNAW, consent.Permit, clock.Now().Add(-time.Hour)))
		require.NoError(t, err)
		saveHead(t, d.dialect, db, behind, "saved_behind")
		_, err = r.Withdraw(ctx, consent.Withdrawal{Subject: "s1", Organisation: "org-a", Purpose: consent.PurposeViewNAW, By: by})
		require.NoError(t, err)
		// s2: permit (1), then a checkpoint, then permit (2) and
		// withdrawal (3) of another purpose.
		after := consent.ChainOf("s2", "org-a")
		_, err = r.Give(ctx, consenttest.NewRecord("s2", "org-a", consent.PurposeViewNAW, consent.Permit, clock.Now().Add(-time.Hour)))
		require.NoError(t, err)
		cp, err := r.Verify(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, cp.Chains)
		_, err = r.Give(ctx, consenttest.NewRecord("s2", "org-a", consent.PurposeConsultIndication, consent.Permit, clock.Now().Add(-time.Hour)))
		require.NoError(t, err)
		saveHead(t, d.dialect, db, after, "saved_after")
		clock.Advance(time.Minute)
		_, err = r.Withdraw(ctx, consent.Withdrawal{Subject: "s2", Organisation: "org-a", Purpose: consent.PurposeConsultIndication, By: by})
		require.NoError(t, err)

		// The server is down: r is gone. Both chains go back.
		rollBack(t, d.dialect, db, behind, "saved_behind")
		rollBack(t, d.dialect, db, after, "saved_after")

		fresh, err := consent.New(s, cfg)
		require.NoError(t, err)
		_, err = fresh.DecideUnlogged(ctx, "s1", "org-a", consent.PurposeViewNAW, clock.Now())
		var terr *consent.TamperError
		require.ErrorAs(t, err, &terr, "the withdrawal is in the checkpoint")
		assert.Equal(t, []consent.Problem{{Kind: consent.ProblemTruncated, Chain: behind, Seq: 2}},
			[]consent.Problem{{Kind: terr.Problems[0].Kind, Chain: terr.Problems[0].Chain, Seq: terr.Problems[0].Seq}})
		_, err = fresh.Give(ctx, consenttest.NewRecord("s1", "org-a", consent.PurposeConsultIndication, consent.Permit, clock.Now()))
		assert.ErrorIs(t, err, consent.ErrTampered, "nor appends to it")
		_, err = fresh.Withdraw(ctx, consent.Withdrawal{Subject: "s1", Organisation: "org-a", Purpose: consent.PurposeViewNAW, By: by})
		assert.ErrorIs(t, err, consent.ErrTampered, "nor withdraws on it")

		o, err := fresh.DecideUnlogged(ctx, "s2", "org-a", consent.PurposeConsultIndication, clock.Now())
		require.NoError(t, err, "the window: a head after the checkpoint's")
		assert.Equal(t, consent.ReasonPermitted, o.Reason)
		_, err = fresh.Verify(ctx)
		require.ErrorAs(t, err, &terr)
		assert.Len(t, terr.Problems, 1, "Verify finds the chain behind the checkpoint, not the other")
		assert.Equal(t, behind, terr.Problems[0].Chain)
	})
}

// TestLoadCheckpoints reads the checkpoints at start-up: a row added to
// them behind the registry's back is reported, and the others still
// protect.
func TestLoadCheckpoints(t *testing.T) {
	eachDialect(t, func(t *testing.T, d dialect, s *sqlstore.Store, db *sql.DB, clock *consenttest.Clock, cfg consent.Config) {
		ctx := t.Context()
		r, err := consent.New(s, cfg)
		require.NoError(t, err)
		cp, err := r.LoadCheckpoints(ctx)
		require.NoError(t, err, "an empty store")
		assert.Zero(t, cp.Seq)
		chain := consent.ChainOf("s1", "org-a")
		_, err = r.Give(ctx, consenttest.NewRecord("s1", "org-a", consent.PurposeViewNAW, consent.Permit, clock.Now().Add(-time.Hour)))
		require.NoError(t, err)
		saveHead(t, d.dialect, db, chain, "saved_head")
		_, err = r.Withdraw(ctx, consent.Withdrawal{Subject: "s1", Organisation: "org-a", Purpose: consent.PurposeViewNAW,
			By: consent.Actor{User: "u1", Organisation: "org-a"}})
		require.NoError(t, err)
		first, err := r.Verify(ctx)
		require.NoError(t, err)
		second, err := r.Verify(ctx)
		require.NoError(t, err)
		for _, stmt := range []string{
			`INSERT INTO consent_checkpoints (seq, payload, mac) SELECT 3, payload, randomblob(32) FROM consent_checkpoints WHERE seq = 1`,
			`INSERT INTO consent_checkpoints (seq, payload, mac) SELECT 4, payload, mac FROM consent_checkpoints WHERE seq = 1`, // sealed, elsewhere
		} {
			_, err = db.ExecContext(ctx, tamperSQL(d.dialect, stmt, "", ""))
			require.NoError(t, err)
		}
		rollBack(t, d.dialect, db, chain, "saved_head")

		fresh, err := consent.New(s, cfg)
		require.NoError(t, err)
		cp, err = fresh.LoadCheckpoints(ctx)
		require.ErrorIs(t, err, consent.ErrCheckpoint, "the added rows")
		assert.Contains(t, err.Error(), "checkpoint 3: its MAC does not match")
		assert.Contains(t, err.Error(), "checkpoint 4 holds checkpoint 1")
		assert.Equal(t, second.Digest, cp.Digest, "the last checkpoint that verifies")
		_, err = fresh.DecideUnlogged(ctx, "s1", "org-a", consent.PurposeViewNAW, clock.Now())
		assert.ErrorIs(t, err, consent.ErrTampered, "the checkpoints that verify protect")
		cp, err = fresh.LoadCheckpoints(ctx)
		require.NoError(t, err, "reads only what came since")
		assert.Equal(t, second.Digest, cp.Digest)

		lazy, err := consent.New(s, cfg)
		require.NoError(t, err)
		_, err = lazy.DecideUnlogged(ctx, "s1", "org-a", consent.PurposeViewNAW, clock.Now())
		assert.ErrorIs(t, err, consent.ErrTampered, "the first decision reads the checkpoints")
		assert.NotEqual(t, first.Digest, second.Digest)
	})
}

// TestRepairAfterCut cuts the last event and the head off a chain, with no
// checkpoint to compare with: RepairHeads in the registry that saw the
// chain's head refuses to write a head without the event; one started
// afterwards cannot know, and repairs the chain as it is.
func TestRepairAfterCut(t *testing.T) {
	eachDialect(t, func(t *testing.T, d dialect, s *sqlstore.Store, db *sql.DB, clock *consenttest.Clock, cfg consent.Config) {
		ctx := t.Context()
		r, err := consent.New(s, cfg)
		require.NoError(t, err)
		chain := consent.ChainOf("s1", "org-a")
		_, err = r.Give(ctx, consenttest.NewRecord("s1", "org-a", consent.PurposeViewNAW, consent.Permit, clock.Now().Add(-time.Hour)))
		require.NoError(t, err)
		_, err = r.Withdraw(ctx, consent.Withdrawal{Subject: "s1", Organisation: "org-a", Purpose: consent.PurposeViewNAW,
			By: consent.Actor{User: "u1", Organisation: "org-a"}})
		require.NoError(t, err)

		tamperWith(t, d.dialect, db, chain, `DELETE FROM consent_events WHERE chain_id = ?1 AND seq = 2`,
			`DELETE FROM consent_heads WHERE chain_id = ?1`)
		change := consent.Change{By: consent.Actor{User: "operator", Organisation: "portal"}, Reason: "the head is gone"}
		repaired, err := r.RepairHeads(ctx, change)
		var terr *consent.TamperError
		require.ErrorAs(t, err, &terr)
		assert.Equal(t, consent.ProblemTruncated, terr.Problems[0].Kind)
		assert.Equal(t, uint64(2), terr.Problems[0].Seq)
		assert.Empty(t, repaired)
		var heads int
		require.NoError(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM consent_heads`).Scan(&heads))
		assert.Zero(t, heads, "no head is written without the withdrawal")

		fresh, err := consent.New(s, cfg)
		require.NoError(t, err)
		repaired, err = fresh.RepairHeads(ctx, change)
		require.NoError(t, err)
		assert.Equal(t, []consent.ChainID{chain}, repaired, "a new process cannot know")
	})
}

// TestSampleAfterChainRemoved removes a client's chain whole, events and
// head, after a checkpoint: the record would leave the spot check's
// population unnoticed, so Sample refuses to draw.
func TestSampleAfterChainRemoved(t *testing.T) {
	eachDialect(t, func(t *testing.T, d dialect, s *sqlstore.Store, db *sql.DB, clock *consenttest.Clock, cfg consent.Config) {
		ctx := t.Context()
		r, err := consent.New(s, cfg)
		require.NoError(t, err)
		auditor := consent.Actor{User: "auditor", Organisation: "portal"}
		plan, err := r.PlanSample(ctx, consent.Filter{Organisation: "org-a", Until: t0.Add(time.Hour)}, 2, auditor)
		require.NoError(t, err)
		for _, subject := range []consent.Subject{"s1", "s2", "s3"} {
			_, err := r.Give(ctx, consenttest.NewRecord(subject, "org-a", consent.PurposeViewNAW, consent.Permit, clock.Now().Add(-time.Hour)))
			require.NoError(t, err)
			clock.Advance(time.Minute)
		}
		_, err = r.Verify(ctx)
		require.NoError(t, err)
		clock.Advance(2 * time.Hour)

		chain := consent.ChainOf("s2", "org-a")
		tamperWith(t, d.dialect, db, chain, `DELETE FROM consent_events WHERE chain_id = ?1`, `DELETE FROM consent_heads WHERE chain_id = ?1`)
		_, err = r.Sample(ctx, plan.ID)
		var terr *consent.TamperError
		require.ErrorAs(t, err, &terr, "a population without the removed chain is not drawn from")
		assert.Equal(t, consent.ProblemTruncated, terr.Problems[0].Kind)
		assert.Equal(t, chain, terr.Problems[0].Chain)
	})
}

// TestCutBeforeCheckpoint removes a chain whole, events and head, before
// any checkpoint covers it: the registry that wrote it finds that in Verify
// (and stores no checkpoint without the chain); one started afterwards
// cannot know. Verify while the registry appends finds nothing.
func TestCutBeforeCheckpoint(t *testing.T) {
	eachDialect(t, func(t *testing.T, d dialect, s *sqlstore.Store, db *sql.DB, clock *consenttest.Clock, cfg consent.Config) {
		ctx := t.Context()
		r, err := consent.New(s, cfg)
		require.NoError(t, err)
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := range 5 {
					rec := consenttest.NewRecord(consent.Subject(fmt.Sprint("s", i)), "org-a", consent.PurposeViewNAW, consent.Permit, t0.Add(-time.Hour))
					rec.Evidence.Reference = fmt.Sprintf("form %d-%d", w, i)
					_, err := r.Give(ctx, rec)
					assert.NoError(t, err)
				}
			})
		}
		for range 3 {
			_, err := r.Verify(ctx)
			assert.NoError(t, err, "appends during Verify are no rollback")
		}
		wg.Wait()
		_, err = r.Verify(ctx)
		require.NoError(t, err)
		_, err = r.Give(ctx, consenttest.NewRecord("late", "org-a", consent.PurposeViewNAW, consent.Permit, t0.Add(-time.Hour)))
		require.NoError(t, err)

		chain := consent.ChainOf("late", "org-a")
		tamperWith(t, d.dialect, db, chain, `DELETE FROM consent_events WHERE chain_id = ?1`, `DELETE FROM consent_heads WHERE chain_id = ?1`)
		_, err = r.Verify(ctx)
		var terr *consent.TamperError
		require.ErrorAs(t, err, &terr, "the registry that wrote the chain")
		assert.Equal(t, []consent.Problem{{Kind: consent.ProblemTruncated, Chain: chain, Seq: 1}},
			[]consent.Problem{{Kind: terr.Problems[0].Kind, Chain: terr.Problems[0].Chain, Seq: terr.Problems[0].Seq}})
		assert.Len(t, terr.Problems, 1)

		fresh, err := consent.New(s, cfg)
		require.NoError(t, err)
		_, err = fresh.Verify(ctx)
		assert.NoError(t, err, "a new process cannot know")
	})
}

// saveHead copies the head of a chain into a new table, for rollBack.
func saveHead(t *testing.T, dialect sqlstore.Dialect, db *sql.DB, chain consent.ChainID, table string) {
	t.Helper()
	_, err := db.ExecContext(t.Context(), tamperSQL(dialect, `CREATE TABLE `+table+` AS SELECT seq, mac, state, seal FROM consent_heads WHERE chain_id = ?1`, chain, ""))
	require.NoError(t, err)
}

// rollBack rolls a chain back to the head saveHead saved in table: the
// events after it go, and the head comes back, as a restored backup of the
// chain would.
func rollBack(t *testing.T, dialect sqlstore.Dialect, db *sql.DB, chain consent.ChainID, table string) {
	t.Helper()
	tamperWith(t, dialect, db, chain, `DELETE FROM consent_events WHERE chain_id = ?1 AND seq > (SELECT seq FROM `+table+`)`,
		`UPDATE consent_heads SET seq = (SELECT seq FROM `+table+`), mac = (SELECT mac FROM `+table+`), state = (SELECT state FROM `+table+`), seal = (SELECT seal FROM `+table+`) WHERE chain_id = ?1`)
}

// tamperWith switches off the append-only guards of the events, as whoever
// tampers does first, and runs the statements (SQLite, translated by
// tamperSQL) with ?1 the given chain.
func tamperWith(t *testing.T, dialect sqlstore.Dialect, db *sql.DB, chain consent.ChainID, stmts ...string) {
	t.Helper()
	guards := []string{"DROP TRIGGER IF EXISTS consent_events_no_update", "DROP TRIGGER IF EXISTS consent_events_no_delete"}
	if dialect == sqlstore.PostgreSQL {
		guards = []string{"ALTER TABLE consent_events DISABLE TRIGGER USER"}
	}
	for _, stmt := range guards {
		_, err := db.ExecContext(t.Context(), stmt)
		require.NoError(t, err)
	}
	for _, stmt := range stmts {
		_, err := db.ExecContext(t.Context(), tamperSQL(dialect, stmt, chain, ""))
		require.NoError(t, err, stmt)
	}
}

// eachDialect runs test on a fresh store of every dialect, with a manual
// clock at t0 and a registry configuration on it.
func eachDialect(t *testing.T, test func(t *testing.T, d dialect, s *sqlstore.Store, db *sql.DB, clock *consenttest.Clock, cfg consent.Config)) {
	for _, d := range dialects {
		t.Run(string(d.dialect), func(t *testing.T) {
			if d.dialect == sqlstore.PostgreSQL {
				postgresDSN(t)
			}
			s, db := newStore(t, d.dialect, d.open)
			clock := consenttest.NewClock(t0)
			test(t, d, s, db, clock, consent.Config{Key: consenttest.Key(), Now: clock.Now})
		})
	}
}

package sqlstore_test

import (
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/consenttest"
	"github.com/zorgkit/zorgkit/consent/sqlstore"
)

// TestTamper changes the events table behind the store's back, as someone
// with access to the database could, and checks that Verify or
// VerifyCheckpoint names the event, and that no decision rests on the
// tampered chain. The statements are written for SQLite and translated for
// PostgreSQL.
func TestTamper(t *testing.T) {
	// The chain of s1 at org-a holds five events:
	//	1 given p1, 2 given p2, 3 withdrawal w of view-naw, 4 evidence requested p2, 5 given p3
	tests := []struct {
		reason string
		tamper []string // statements; ?1 is the chain, ?2 the other chain
		// verify is what Verify reports; checkpoint what VerifyCheckpoint
		// adds against a checkpoint taken before the tampering.
		verify     []problem
		checkpoint []problem
	}{
		{
			reason: "change a field in the payload",
			tamper: []string{`UPDATE consent_events SET payload = CAST(REPLACE(CAST(payload AS TEXT), '"user":"u1"', '"user":"u9"') AS BLOB) WHERE chain_id = ?1 AND seq = 3`},
			verify: []problem{{consent.ProblemChanged, 3, "w", ""}},
		},
		{
			reason: "change the decision column that sampling selects on",
			tamper: []string{`UPDATE consent_events SET decision = 'deny' WHERE chain_id = ?1 AND seq = 2`},
			verify: []problem{{consent.ProblemChanged, 2, "p2", ""}},
		},
		{
			reason: "change the time column that sampling selects on",
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
			reason: "delete an event and renumber the rest to close the gap",
			tamper: []string{
				`DELETE FROM consent_events WHERE chain_id = ?1 AND seq = 3`,
				`UPDATE consent_events SET seq = 3 WHERE chain_id = ?1 AND seq = 4`,
				`UPDATE consent_events SET seq = 4 WHERE chain_id = ?1 AND seq = 5`,
			},
			verify:     []problem{{consent.ProblemReordered, 3, "p2", ""}, {consent.ProblemReordered, 4, "p3", ""}},
			checkpoint: []problem{{consent.ProblemTruncated, 5, "", ""}},
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
			// Chain s1 just ends earlier: only the checkpoint shows it.
			verify:     []problem{{consent.ProblemReordered, 2, "p3", "s2"}},
			checkpoint: []problem{{consent.ProblemTruncated, 5, "", ""}},
		},
		{
			reason: "duplicate an event at the end",
			tamper: []string{`INSERT INTO consent_events SELECT chain_id, 6, record_id, kind, organisation, purpose, decision, recorded_at, payload, prev_mac, mac FROM consent_events WHERE chain_id = ?1 AND seq = 5`},
			verify: []problem{{consent.ProblemReordered, 6, "p3", ""}},
		},
		{
			reason:     "cut the last event off: the chain alone cannot tell",
			tamper:     []string{`DELETE FROM consent_events WHERE chain_id = ?1 AND seq = 5`},
			checkpoint: []problem{{consent.ProblemTruncated, 5, "", ""}},
		},
		{
			reason:     "remove a chain whole",
			tamper:     []string{`DELETE FROM consent_events WHERE chain_id = ?1`},
			checkpoint: []problem{{consent.ProblemTruncated, 5, "", ""}},
		},
	}
	for _, d := range dialects {
		for _, tt := range tests {
			t.Run(string(d.dialect)+"/"+tt.reason, func(t *testing.T) {
				testTamper(t, d.dialect, d.open, tt.tamper, tt.verify, tt.checkpoint)
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
			") AS BLOB)", "), 'UTF8')",
			"randomblob(32)", "sha256('tampered'::bytea)",
		).Replace(stmt)
	}
	return stmt
}

func testTamper(t *testing.T, dialect sqlstore.Dialect, open func(testing.TB) *sql.DB, tamper []string, verify, checkpoint []problem) {
	ctx := t.Context()
	s, db := newStore(t, dialect, open)
	clock := consenttest.NewClock(t0)
	r, err := consent.New(s, consent.Config{Key: consenttest.Key(), Now: clock.Now})
	require.NoError(t, err)
	f := fixture{chain: consent.ChainOf("s1", "org-a"), other: consent.ChainOf("s2", "org-a"), ids: map[string]consent.RecordID{}}
	give := func(label string, subject consent.Subject) {
		rec, err := r.Give(ctx, consenttest.NewRecord(subject, "org-a", consent.PurposeViewNAW, consent.Permit, clock.Now().Add(-time.Hour)))
		require.NoError(t, err)
		f.ids[label] = rec.ID
		clock.Advance(time.Minute)
	}
	give("p1", "s1")
	give("p2", "s1")
	f.ids["w"], err = r.Withdraw(ctx, consent.Withdrawal{Subject: "s1", Organisation: "org-a", Purpose: consent.PurposeViewNAW, By: consent.Actor{User: "u1", Organisation: "org-a"}})
	require.NoError(t, err)
	require.NoError(t, r.RequestEvidence(ctx, f.ids["p2"], "spot check 1", consent.Change{By: consent.Actor{User: "auditor", Organisation: "portal"}}))
	give("p3", "s1")
	give("q1", "s2")
	before, err := r.Verify(ctx)
	require.NoError(t, err)

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
	err = r.VerifyCheckpoint(ctx, before)
	assertProblems(t, err, f.chain, f.other, f.ids, append(verify[:len(verify):len(verify)], checkpoint...))

	// Decisions on a chain that Verify blames fail; the others
	// go on.
	for _, subject := range []consent.Subject{"s1", "s2"} {
		blamed := false
		for _, p := range verify {
			blamed = blamed || p.chain == subject || p.chain == "" && subject == "s1"
		}
		out, err := r.DecideUnlogged(ctx, subject, "org-a", consent.PurposeViewNAW, clock.Now())
		if blamed {
			assert.ErrorIs(t, err, consent.ErrTampered, "no decision rests on a tampered chain")
			continue
		}
		require.NoError(t, err, "other chains are not affected")
		if subject == "s2" {
			assert.True(t, out.Allowed)
		}
	}
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
// order, and that its message names each event.
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

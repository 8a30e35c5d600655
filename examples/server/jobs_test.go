package main

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/bsn/bsntest"
)

// Two instances behind one database: a withdrawal on instance one, its
// daily anchor (a checkpoint), and then the withdrawal rolled back with the
// chain's head while both run. Instance two, started before the checkpoint
// and never having read the chain, refuses the chain from its next
// scheduler round on, not only after a restart.
func TestCheckpointsOfAnotherInstance(t *testing.T) {
	one := newTestPortal(t)
	two := startTestPortal(t, one.a.cfg, false)
	two.passwords = one.passwords
	bsn := bsntest.TestPersons()[0].Digits()

	b := one.browser()
	b.login("jdevries")
	_, body := b.post("/clients/lookup", url.Values{"bsn": {bsn}})
	subject := hiddenValue(t, body, "client")
	_, body = b.post("/clients/consent", url.Values{"client": {subject}, "purpose": {"view-naw"}, "decision": {"permit"},
		"given": {one.clock.Now().Format("2006-01-02")}, "reference": {"ZH-TOE-TWEE"}, "evidence": {"paper"}})
	require.Contains(t, body, "De toestemming is vastgelegd")
	_, err := one.a.db.Exec(`CREATE TABLE saved_heads AS SELECT chain_id, seq, mac, state, seal FROM consent_heads`)
	require.NoError(t, err)
	one.clock.Advance(time.Minute)
	_, body = b.post("/clients/withdraw", url.Values{"client": {subject}, "purpose": {"view-naw"}})
	require.Contains(t, body, "De toestemming is ingetrokken")
	var chain string
	require.NoError(t, one.a.db.QueryRow(`SELECT h.chain_id FROM consent_heads h JOIN saved_heads s ON s.chain_id = h.chain_id WHERE h.seq <> s.seq`).Scan(&chain))
	detail, err := one.a.anchorConsent(t.Context())
	require.NoError(t, err)
	require.Equal(t, "anchored", detail)

	// The withdrawal goes, and the head before it comes back.
	for _, stmt := range []string{
		`DROP TRIGGER consent_events_no_delete`,
		`DELETE FROM consent_events WHERE chain_id = $1 AND seq > (SELECT seq FROM saved_heads WHERE chain_id = $1)`,
		`UPDATE consent_heads SET seq = s.seq, mac = s.mac, state = s.state, seal = s.seal FROM saved_heads s WHERE s.chain_id = $1 AND consent_heads.chain_id = $1`,
	} {
		res, err := one.a.db.Exec(stmt, chain)
		require.NoError(t, err, stmt)
		n, err := res.RowsAffected()
		require.NoError(t, err)
		if stmt[0] != 'D' || stmt[1] == 'E' {
			require.Positive(t, n, stmt)
		}
	}

	two.clock.Advance(2 * time.Minute)
	c := two.browser()
	c.login("jdevries")
	lookup := func() (int, string) { return c.post("/clients/lookup", url.Values{"bsn": {bsn}}) }
	status, body := lookup()
	require.Equal(t, http.StatusOK, status, "before its scheduler round, instance two knows no checkpoint that covers the chain")
	require.Contains(t, body, `id="view-view-naw"`, "(the rolled-back permit opens the address: what the round prevents)")

	last := two.a.followConsentCheckpoints(t.Context(), 0)
	assert.Positive(t, last, "the checkpoint of instance one")
	assert.Contains(t, two.out.String(), "consent: checkpoints read")
	status, body = lookup()
	assert.Equal(t, http.StatusServiceUnavailable, status, "the withdrawn consent does not open the data")
	assert.Contains(t, body, "De toestemmingsregistratie van deze cliënt is niet in orde")
	assert.NotContains(t, body, "Almere", "no address")
	assert.Equal(t, last, two.a.followConsentCheckpoints(t.Context(), last), "nothing new")
}

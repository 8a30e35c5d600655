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

	chain := withdrawnAndAnchored(t, one, bsn, "ZH-TOE-TWEE")
	rollBack(t, one.a.db, chain) // while both run

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

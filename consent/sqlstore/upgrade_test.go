package sqlstore_test

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/consenttest"
	"github.com/zorgkit/zorgkit/consent/sqlstore"
)

// TestUpgradeVersion1 loads a chain as a store written before version 2
// holds it (version 1 events, no head), and checks that it keeps verifying
// once RepairHeads has written its head, and that it decides as before.
func TestUpgradeVersion1(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "v1chain.json"))
	require.NoError(t, err)
	var fixture struct {
		Rows []struct {
			ChainID      string `json:"chain_id"`
			Seq          int64  `json:"seq"`
			RecordID     string `json:"record_id"`
			Kind         string `json:"kind"`
			Organisation string `json:"organisation"`
			Purpose      string `json:"purpose"`
			Decision     string `json:"decision"`
			RecordedAt   int64  `json:"recorded_at"`
			Payload      string `json:"payload"`
			PrevMAC      string `json:"prev_mac"`
			MAC          string `json:"mac"`
		} `json:"rows"`
	}
	require.NoError(t, json.Unmarshal(b, &fixture))
	for _, d := range dialects {
		t.Run(string(d.dialect), func(t *testing.T) {
			if d.dialect == sqlstore.PostgreSQL {
				postgresDSN(t)
			}
			ctx := t.Context()
			s, db := newStore(t, d.dialect, d.open)
			for _, row := range fixture.Rows {
				prev, _ := hex.DecodeString(row.PrevMAC)
				mac, _ := hex.DecodeString(row.MAC)
				_, err := db.ExecContext(ctx, sqlstore.Rebind(d.dialect, `INSERT INTO consent_events (chain_id, seq, record_id, kind, organisation, purpose, decision,
					recorded_at, payload, prev_mac, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
					row.ChainID, row.Seq, row.RecordID, row.Kind, row.Organisation, row.Purpose, row.Decision, row.RecordedAt,
					[]byte(row.Payload), prev, mac)
				require.NoError(t, err)
			}
			r, err := consent.New(s, consent.Config{Key: consenttest.Key(), Now: func() time.Time { return t0 }})
			require.NoError(t, err)
			_, err = r.Verify(ctx)
			require.ErrorIs(t, err, consent.ErrTampered, "a chain without a head is reported")
			repaired, err := r.RepairHeads(ctx, consent.Change{By: consent.Actor{User: "operator", Organisation: "portal"}, Reason: "upgrade to version 2"})
			require.NoError(t, err)
			assert.Equal(t, []consent.ChainID{consent.ChainOf("s1", "org-a")}, repaired)
			_, err = r.Verify(ctx)
			require.NoError(t, err, "the version 1 events verify, with their new head")

			for _, tt := range []struct {
				at      time.Time
				allowed bool
			}{
				{time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), true},
				{time.Date(2026, 3, 5, 8, 0, 0, 0, time.UTC), false},
			} {
				out, err := r.DecideUnlogged(ctx, "s1", "org-a", consent.PurposeViewNAW, tt.at)
				require.NoError(t, err)
				assert.Equal(t, tt.allowed, out.Allowed, "at %v", tt.at)
			}
			st, err := r.Status(ctx, "0123456789abcdef0123456789abcdef")
			require.NoError(t, err)
			assert.Equal(t, "map <12>", st.Record.Evidence.Reference, "escapes of version 1 read back")
			// A new event after them is of version 2, and the chain goes on.
			_, err = r.Give(ctx, consenttest.NewRecord("s1", "org-a", consent.PurposeViewNAW, consent.Permit, t0.Add(-time.Hour)))
			require.NoError(t, err)
			_, err = r.Verify(ctx)
			require.NoError(t, err)
		})
	}
}

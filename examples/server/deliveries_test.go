package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDeliveryCompliance(t *testing.T) {
	at := func(s string) time.Time {
		d, err := time.ParseInLocation("2006-01-02 15:04", s, time.Local)
		require.NoError(t, err)
		return d
	}
	contract := at("2020-01-01 00:00")
	end := at("2030-01-01 00:00")
	tests := []struct {
		name       string
		deliveries []string
		now        string
		start      string // contract start, if not 2020
		jan, jul   string
		verdict    string
		count      int
	}{
		{"both windows", []string{"2026-01-15 10:00", "2026-07-31 23:59"}, "2026-12-01 00:00", "", "op tijd", "op tijd", "voldoet", 2},
		{"monthly: every month, both windows covered", []string{"2026-01-05 09:00", "2026-02-05 09:00", "2026-03-05 09:00", "2026-04-05 09:00",
			"2026-05-05 09:00", "2026-06-05 09:00", "2026-07-05 09:00", "2026-08-05 09:00"}, "2026-09-01 00:00", "", "op tijd", "op tijd", "voldoet", 8},
		{"twice a year, but not within a month of the half-year's end", []string{"2026-03-01 10:00", "2026-09-01 10:00"}, "2026-12-01 00:00", "", "te laat", "te laat", "voldoet niet", 2},
		{"one day late is late", []string{"2026-01-15 10:00", "2026-08-01 00:00"}, "2026-12-01 00:00", "", "op tijd", "te laat", "voldoet niet", 2},
		{"the first minute of the window counts", []string{"2026-01-01 00:00", "2026-07-01 00:00"}, "2026-12-01 00:00", "", "op tijd", "op tijd", "voldoet", 2},
		{"a delivery in June does not cover the first half-year", []string{"2026-01-15 10:00", "2026-06-30 23:59"}, "2026-12-01 00:00", "", "op tijd", "ontbreekt", "voldoet niet", 2},
		{"July still open", []string{"2026-01-15 10:00"}, "2026-07-10 00:00", "", "op tijd", "open", "nog open", 1},
		{"July not yet", []string{"2026-01-15 10:00"}, "2026-03-10 00:00", "", "op tijd", "nog niet", "nog open", 1},
		{"nothing at all", nil, "2026-12-01 00:00", "", "ontbreekt", "ontbreekt", "voldoet niet", 0},
		{"contract from March: January not required", []string{"2026-07-20 10:00"}, "2026-12-01 00:00", "2026-03-01 00:00", "niet vereist", "op tijd", "voldoet", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ds []time.Time
			for _, d := range tt.deliveries {
				ds = append(ds, at(d))
			}
			start := contract
			if tt.start != "" {
				start = at(tt.start)
			}
			y := deliveryCompliance(2026, ds, start, end, at(tt.now))
			require.Len(t, y.Windows, 2)
			assert.Equal(t, "2e halfjaar 2025", y.Windows[0].Period)
			assert.Equal(t, tt.jan, y.Windows[0].State, "January")
			assert.Equal(t, tt.jul, y.Windows[1].State, "July")
			assert.Equal(t, tt.verdict, y.Verdict)
			assert.Equal(t, tt.verdict == "voldoet", y.Complies)
			assert.Equal(t, tt.count, y.Count)
		})
	}
	t.Run("no contract", func(t *testing.T) {
		y := deliveryCompliance(2026, nil, time.Time{}, time.Time{}, at("2026-12-01 00:00"))
		assert.Equal(t, "geen aanleverplicht", y.Verdict)
	})
}

// TestDeliveriesPage shows the overview per provider per year, and that a
// test, rejected, empty or cut-off upload is no delivery.
func TestDeliveriesPage(t *testing.T) {
	p := newTestPortal(t)
	ctx := context.Background()
	// Zonnehuis delivered on time in January and July 2026; everything
	// else it sent is no delivery.
	jan := time.Date(2026, 1, 20, 10, 0, 0, 0, time.Local)
	jul := time.Date(2026, 7, 3, 10, 0, 0, 0, time.Local)
	_, err := p.a.db.Exec(`UPDATE uploads SET received_at = $1 WHERE org_id = 'zonnehuis' AND status = 'processed'`, usec(jul))
	require.NoError(t, err)
	for i, st := range []string{"superseded", "rejected", "abandoned", "test", "receiving"} {
		at := jan
		if st != "superseded" {
			at = time.Date(2026, 7, 10+i, 10, 0, 0, 0, time.Local)
		}
		_, err := p.a.db.Exec(`INSERT INTO uploads (id, org_id, user_id, created_at, status, received_at) VALUES ($1, 'zonnehuis', 'x', $2, $3, $2)`,
			"u-"+st, usec(at), st)
		require.NoError(t, err)
	}
	// De Linde only once, in July.
	_, err = p.a.db.Exec(`UPDATE uploads SET received_at = $1 WHERE org_id = 'delinde' AND status = 'processed'`, usec(jul))
	require.NoError(t, err)

	gemeente := p.browser()
	gemeente.login("gemeente")
	_, body := gemeente.get("/deliveries")
	page := text(body)
	assert.Contains(t, page, "Zorggroep Zonnehuis 2026 2 2e halfjaar 2025: op tijd (20 januari 2026) 1e halfjaar 2026: op tijd (3 juli 2026) voldoet")
	assert.Contains(t, page, "Jeugdhulp De Linde 2026 1 2e halfjaar 2025: ontbreekt (uiterlijk 31 januari 2026) 1e halfjaar 2026: op tijd (3 juli 2026) voldoet niet")
	assert.Contains(t, page, "Thuiszorg Noord 2026 0", "a provider without deliveries")
	assert.Contains(t, body, "<caption")

	y, err := p.a.deliveryOverview(ctx, &user{Role: roleAuditor})
	require.NoError(t, err)
	var years []string
	for _, dy := range y.Years {
		years = append(years, dy.Provider+" "+strings.Repeat("|", dy.Count))
	}
	assert.Contains(t, years, "Zorggroep Zonnehuis ||", "two deliveries in 2026: the others are none")
}

package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A provider whose data has not come in yet is told so: no tables of zeros
// that read as data (disclosure.OwnerView reports an unknown contributor).
func TestReportsProviderWithoutRecords(t *testing.T) {
	p := newTestPortal(t)
	now := p.clock.Now()
	_, err := p.a.db.Exec(`UPDATE organisations SET contract_start = $1, contract_end = $2, dpa_registered_at = $1, survey_received_at = $1 WHERE id = 'noord'`, usec(now.AddDate(0, -1, 0)), usec(now.AddDate(1, 0, 0)))
	require.NoError(t, err)
	b := p.browser()
	b.login("noord")
	status, body := b.get("/reports")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `id="empty"`)
	assert.NotContains(t, body, "<table", "no tables of zeros")
}

// A municipality sees its own municipality only, by its gemeentecode. One
// whose code is missing (the column's default, for an organisation added
// by hand) sees nothing, not every municipality's figures: the view fails
// closed.
func TestReportsMunicipalityWithoutCode(t *testing.T) {
	p := newTestPortal(t)
	_, err := p.a.db.Exec(`UPDATE organisations SET cbs_code = '' WHERE id = 'almere'`)
	require.NoError(t, err)
	b := p.browser()
	b.login("gemeente")
	status, body := b.get("/api/reports")
	require.Equal(t, http.StatusOK, status)
	var page reportsPage
	require.NoError(t, json.Unmarshal([]byte(body), &page))
	assert.True(t, page.Empty)
	assert.Empty(t, page.Tables)
	status, body = b.get("/reports")
	require.Equal(t, http.StatusOK, status)
	assert.NotContains(t, body, "<table")
	status, _ = b.get("/reports.csv")
	assert.Equal(t, http.StatusNotFound, status)
}

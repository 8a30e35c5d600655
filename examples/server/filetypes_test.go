package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUploadFileKinds uploads files as providers save them: a CSV with
// the CR line ends of Excel for Mac is read row by row, and a legacy .xls
// is rejected with the library's message to save it as .xlsx or CSV,
// never a server error.
func TestUploadFileKinds(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	p.clock.Advance(time.Minute)
	since := usec(p.clock.Now())

	csv, err := io.ReadAll(demoDataset("mac", 30))
	require.NoError(t, err)
	mac := bytes.ReplaceAll(bytes.ReplaceAll(csv, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r"))
	status, body := b.upload("/uploads", "cbs-mac.csv", bytes.NewReader(mac))
	require.Equal(t, http.StatusOK, status, body)
	var read int
	require.NoError(t, p.a.db.QueryRow(`SELECT rows_read FROM uploads WHERE org_id = 'zonnehuis' AND created_at >= $1 AND status <> 'rejected'`, since).Scan(&read))
	assert.Equal(t, 30, read, "every row of a CR-only file is read")

	xls, err := os.ReadFile("../../pseudonym/testdata/clients-libreoffice.xls")
	require.NoError(t, err)
	status, body = b.upload("/uploads", "cbs.xls", bytes.NewReader(xls))
	require.Equal(t, http.StatusOK, status, body)
	var st, msg string
	require.NoError(t, p.a.db.QueryRow(`SELECT status, error FROM uploads WHERE org_id = 'zonnehuis' AND created_at >= $1 AND status = 'rejected'`, since).Scan(&st, &msg))
	assert.Equal(t, "rejected", st)
	assert.Contains(t, msg, "sla het op als Excel-werkmap (.xlsx) of als CSV")
}

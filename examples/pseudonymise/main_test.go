package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/pseudonym"
	"github.com/zorgkit/zorgkit/pseudonym/pseudonymtest"
)

// writeKeyFile writes a key file of the test key k1 and returns its path and
// the secret as written.
func writeKeyFile(t *testing.T, perm os.FileMode) (path, secret string) {
	t.Helper()
	secret = base64.StdEncoding.EncodeToString(pseudonymtest.Secret("k1"))
	path = filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.WriteFile(path, []byte("# test key\nk1 "+secret+"\n"), perm))
	return path, secret
}

func TestRun(t *testing.T) {
	keys, secret := writeKeyFile(t, 0o600)
	out := filepath.Join(t.TempDir(), "out.csv")
	var stdout, stderr bytes.Buffer
	rejected, err := run(context.Background(), []string{
		"-key-file", keys, "-in", "../../pseudonym/testdata/clients.csv", "-out", out,
		"-domain", "gemeente-almere", "-year", "Geboortedatum", "-pc4", "postcode", "-encrypt", "Opmerking", "-lang", "en",
	}, nil, &stdout, &stderr)
	require.NoError(t, err)
	assert.True(t, rejected, "the test file has invalid rows")
	assert.Empty(t, stdout.String())

	got, err := os.ReadFile(out)
	require.NoError(t, err)
	p, err := pseudonymtest.Key("k1").Pseudonymiser("gemeente-almere")
	require.NoError(t, err)
	first, err := p.Pseudonymise("999993847")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(got), "BSN;Geboortedatum;Postcode;Geslacht;Opmerking\n"+first.String()+";2011;1315;1;\n"))
	for _, s := range []string{"999993847", "9999.92.077", "999996631"} {
		assert.NotContains(t, string(got)+stderr.String(), s)
	}
	assert.Contains(t, stderr.String(), "rows read: 17, written: 13 (of which flagged: 0), rejected: 4\n")
	assert.NotContains(t, stderr.String(), secret[:8], "the key is never printed")
	assert.NotContains(t, stderr.String(), "warning")
	info, err := os.Stat(out)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

func TestRunStdio(t *testing.T) {
	keys, _ := writeKeyFile(t, 0o644)
	var stdout, stderr bytes.Buffer
	in := strings.NewReader("bsn,naam\n999993847,Zoë\n")
	rejected, err := run(context.Background(), []string{"-key-file", keys, "-drop", "naam"}, in, &stdout, &stderr)
	require.NoError(t, err)
	assert.False(t, rejected)
	assert.True(t, strings.HasPrefix(stdout.String(), "bsn\nv1.k1."), stdout.String())
	assert.Contains(t, stderr.String(), "warning: others may read the key file")
	assert.Contains(t, stderr.String(), "rijen gelezen: 1, geschreven: 1", "Dutch by default")
}

// TestRunLayoutAndReports checks the LibreOffice .xlsx of the clients file
// against the youth-care layout and writes the quality reports.
func TestRunLayoutAndReports(t *testing.T) {
	keys, _ := writeKeyFile(t, 0o600)
	dir := t.TempDir()
	out, repCSV, repHTML := filepath.Join(dir, "out.csv"), filepath.Join(dir, "q.csv"), filepath.Join(dir, "q.html")
	var stderr bytes.Buffer
	_, err := run(context.Background(), []string{"-key-file", keys, "-in", "../../pseudonym/testdata/clients-libreoffice.xlsx", "-out", out,
		"-year", "Geboortedatum", "-pc4", "postcode", "-drop", "Opmerking", "-layout", "jeugdhulp", "-numeric-bsn",
		"-report-csv", repCSV, "-report-html", repHTML}, nil, &bytes.Buffer{}, &stderr)
	require.Error(t, err, "the clients file lacks the data set's start date")
	assert.Contains(t, err.Error(), `"Begindatum"`)

	_, err = run(context.Background(), []string{"-key-file", keys, "-in", "../../pseudonym/testdata/clients-libreoffice.xlsx", "-out", out,
		"-year", "Geboortedatum", "-pc4", "postcode", "-drop", "Opmerking", "-numeric-bsn",
		"-report-csv", repCSV, "-report-html", repHTML}, nil, &bytes.Buffer{}, &stderr)
	require.NoError(t, err)
	q, err := os.ReadFile(repCSV)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(q), "regel;kolom;naam;code;gevolg;omschrijving\r\n"))
	page, err := os.ReadFile(repHTML)
	require.NoError(t, err)
	assert.Contains(t, string(page), "<title>clients-libreoffice.xlsx</title>")
	assert.Contains(t, string(page), "xlsx")

	_, err = run(context.Background(), []string{"-key-file", keys, "-in", "../../pseudonym/testdata/clients-libreoffice.xls", "-out", out},
		nil, &bytes.Buffer{}, &stderr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sla het op als Excel-werkmap (.xlsx) of als CSV")
	_, statErr := os.Stat(out)
	assert.True(t, os.IsNotExist(statErr), "no output file is left behind")
}

func TestRunErrors(t *testing.T) {
	keys, secret := writeKeyFile(t, 0o600)
	badKeys := filepath.Join(t.TempDir(), "bad")
	require.NoError(t, os.WriteFile(badKeys, []byte("k1 "+secret[:20]+"\n"), 0o600))
	tests := []struct {
		args   []string
		want   string
		reason string
	}{
		{[]string{}, "see the usage", "no key file"},
		{[]string{"-key-file", keys, "extra"}, "see the usage", "stray argument"},
		{[]string{"-key-file", "/nonexistent"}, "no such file", "key file missing"},
		{[]string{"-key-file", badKeys}, "secret too short", "short secret"},
		{[]string{"-key-file", keys, "-bsn", "#0"}, "a position is #", "bad position"},
		{[]string{"-key-file", keys, "-other", "maybe"}, "use keep, drop or none", "bad -other"},
		{[]string{"-key-file", keys, "-comma", "|"}, "use ; , or tab", "bad -comma"},
		{[]string{"-key-file", keys, "-encoding", "latin-9"}, "use detect", "bad -encoding"},
		{[]string{"-key-file", keys, "-age-on", "31-12-2026"}, "-age-on", "bad -age-on"},
		{[]string{"-key-file", keys, "-bsn", "clientnummer"}, "no column \"clientnummer\"", "column not in the header"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.csv")
			var stderr bytes.Buffer
			args := append(tt.args, "-in", "../../pseudonym/testdata/clients.csv", "-out", out)
			_, err := run(context.Background(), args, nil, &bytes.Buffer{}, &stderr)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error()+stderr.String(), secret[:8])
			_, statErr := os.Stat(out)
			assert.True(t, os.IsNotExist(statErr), "no output file is left behind")
		})
	}
}

func TestProgress(t *testing.T) {
	var w bytes.Buffer
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	p := newProgress(&w, 200e6)
	p.now = func() time.Time { return now }
	p.start, p.last = now, now
	var read countingReader
	read.n.Store(50e6)
	p.read = &read.n

	now = now.Add(500 * time.Millisecond)
	p.update(pseudonym.Counts{Read: 1000})
	assert.Empty(t, w.String(), "nothing in the first second")
	now = now.Add(1500 * time.Millisecond)
	p.update(pseudonym.Counts{Read: 700000, Rejected: 3})
	assert.Equal(t, "\r700000 rows, 3 rejected, 50 MB of 200 MB (25%), 350000 rows/s ", w.String())
	p.done()
	assert.True(t, strings.HasSuffix(w.String(), "\n"))
}

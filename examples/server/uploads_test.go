package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/bsn"
	"github.com/zorgkit/zorgkit/bsn/bsntest"
	"github.com/zorgkit/zorgkit/pseudonym"
)

// stalledUpload starts an upload of a file of size bytes by browser b, sends
// the first sent bytes of it and then stops sending, like a client on a bad
// connection. It returns when the server has stored a chunk; cut ends the
// upload as a client that goes away. The response (an error, or the
// server's answer) arrives on done.
func stalledUpload(t *testing.T, b *browser, size, sent int64) (cut func(), done <-chan error) {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	errc := make(chan error, 1)
	go func() {
		resp, err := b.c.Post(b.p.srv.URL+"/uploads", mw.FormDataContentType(), pr)
		if err == nil {
			resp.Body.Close()
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		errc <- err
	}()
	go func() {
		fw, err := mw.CreateFormFile("file", "cbs.csv")
		if err == nil {
			_, err = io.Copy(fw, io.LimitReader(demoStream(size), sent))
		}
		if err != nil {
			pw.CloseWithError(err)
		}
		// Then nothing more: the client stalls.
	}()
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, b.p.a.db.QueryRow(`SELECT COUNT(*) FROM upload_chunks c JOIN uploads u ON u.id = c.upload_id WHERE u.status = 'receiving'`).Scan(&n))
		return n > 0
	}, 20*time.Second, 10*time.Millisecond, "the server stores chunks while the file arrives")
	return func() { pw.CloseWithError(io.ErrUnexpectedEOF) }, errc
}

// uploadsWithStatus counts the uploads of an organisation in a status.
func uploadsWithStatus(t testing.TB, p *testPortal, org string, status uploadStatus) int {
	t.Helper()
	var n int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM uploads WHERE org_id = $1 AND status = $2`, org, string(status)).Scan(&n))
	return n
}

func chunkCount(t testing.TB, p *testPortal) int {
	t.Helper()
	var n int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM upload_chunks c JOIN uploads u ON u.id = c.upload_id WHERE u.status IN ('receiving', 'abandoned')`).Scan(&n))
	return n
}

// TestStalledUploadBlocksNobody is issue 10, point 5: an upload whose client
// stops sending halfway holds no write lock, so other users log in, look
// clients up and open pages meanwhile. When the client goes away, the half
// upload is abandoned and its chunks are deleted.
func TestStalledUploadBlocksNobody(t *testing.T) {
	p := newTestPortal(t)
	jan := p.browser()
	jan.login("jdevries")
	cut, done := stalledUpload(t, jan, 8<<20, 2<<20)

	// Meanwhile: logins (sessions, codes, throttle counters, last login
	// are writes) and lookups (the access log) of other users.
	for _, name := range []string{"linde", "gemeente", "beheerder"} {
		b := p.browser()
		b.login(name)
		status, _ := b.get("/")
		assert.Equal(t, http.StatusOK, status, name)
		p.clock.Advance(time.Second)
	}
	z := p.browser()
	z.login("zonnehuis-beheer")
	for _, n := range bsntest.TestPersons()[:3] {
		status, body := z.post("/clients/lookup", url.Values{"bsn": {n.Digits()}})
		assert.Equal(t, http.StatusOK, status, text(body))
	}
	assert.Equal(t, 1, uploadsWithStatus(t, p, "zonnehuis", statusReceiving), "the upload is still arriving")

	cut()
	<-done
	require.Eventually(t, func() bool { return uploadsWithStatus(t, p, "zonnehuis", statusAbandoned) == 1 }, 10*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { return chunkCount(t, p) == 0 }, 10*time.Second, 10*time.Millisecond, "nothing of the half file is kept")
	assert.Zero(t, uploadsWithStatus(t, p, "zonnehuis", statusReceiving))
}

// A client that stops sending without going away is cut off after
// -upload-idle, not after the whole upload's time.
func TestStalledUploadTimesOut(t *testing.T) {
	p := newTestPortal(t, func(c *config) { c.UploadIdle = time.Second })
	jan := p.browser()
	jan.login("jdevries")
	cut, done := stalledUpload(t, jan, 8<<20, 1<<20)
	defer cut()
	select {
	case err := <-done:
		assert.ErrorContains(t, err, "408", "the client is told")
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not cut off a client that sent nothing for 20 s")
	}
	require.Eventually(t, func() bool { return uploadsWithStatus(t, p, "zonnehuis", statusAbandoned) == 1 }, 10*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { return chunkCount(t, p) == 0 }, 10*time.Second, 10*time.Millisecond)
}

// A client that never stops sending, but sends a trickle (512 bytes every
// 100 ms, never idle for -upload-idle), is cut off once it averages less
// than -upload-min-rate: it cannot hold an upload and its connection open
// for days. The half upload is abandoned.
func TestSlowDripUploadIsCut(t *testing.T) {
	p := newTestPortal(t, func(c *config) { c.UploadIdle = time.Second; c.UploadMinRate = 32 << 10 })
	jan := p.browser()
	jan.login("jdevries")
	pr, pw := io.Pipe()
	defer pr.Close() // unblocks the writer once the server has answered
	mw := multipart.NewWriter(pw)
	go func() {
		fw, err := mw.CreateFormFile("file", "cbs.csv")
		src := demoStream(8 << 20)
		buf := make([]byte, 512)
		for err == nil {
			time.Sleep(100 * time.Millisecond)
			if _, err = io.ReadFull(src, buf); err == nil {
				_, err = fw.Write(buf)
			}
		}
		pw.CloseWithError(err)
	}()
	start := time.Now()
	resp, err := jan.c.Post(p.srv.URL+"/uploads", mw.FormDataContentType(), pr)
	require.NoError(t, err)
	status, body := readBody(t, resp)
	assert.Equal(t, http.StatusRequestTimeout, status)
	assert.Contains(t, text(body), "te langzaam")
	assert.Less(t, time.Since(start), 15*time.Second, "cut off after about -upload-idle, not at the end of the file")
	require.Eventually(t, func() bool { return uploadsWithStatus(t, p, "zonnehuis", statusAbandoned) == 1 }, 10*time.Second, 10*time.Millisecond)
	assert.Zero(t, chunkCount(t, p))
	assert.Zero(t, uploadsWithStatus(t, p, "zonnehuis", statusReceiving))
}

// An upload whose receiver died (its heartbeat stopped) is abandoned by the
// sweep of any instance once the lease has passed, and never processed.
func TestDeadReceiverIsSweptAfterLease(t *testing.T) {
	p := newTestPortal(t)
	ctx := context.Background()
	before := reportRows(t, p, "zonnehuis")
	now := p.clock.Now()
	_, err := p.a.db.Exec(`INSERT INTO uploads (id, org_id, user_id, created_at, status, heartbeat_at) VALUES ('dead', 'zonnehuis', 'x', $1, 'receiving', $1)`, usec(now))
	require.NoError(t, err)
	_, err = p.a.db.Exec(`INSERT INTO upload_chunks (upload_id, seq, rows, data) VALUES ('dead', 0, 1, 'v1.x;12-17;V;1312;0034;e1.x;45A11;2026-01-01;2026-06-30;ja;8')`)
	require.NoError(t, err)

	_, err = p.a.processUploads(ctx)
	require.NoError(t, err)
	require.NoError(t, p.a.sweep(ctx))
	assert.Equal(t, 1, uploadsWithStatus(t, p, "zonnehuis", statusReceiving), "within the lease the receiver may still be alive")

	p.clock.Advance(p.a.cfg.Lease + time.Second)
	require.NoError(t, p.a.sweep(ctx))
	assert.Equal(t, 1, uploadsWithStatus(t, p, "zonnehuis", statusAbandoned))
	assert.Zero(t, chunkCount(t, p))
	assert.Equal(t, before, reportRows(t, p, "zonnehuis"), "the report is untouched")
}

// reportRows counts the rows of a provider's report.
func reportRows(t testing.TB, p *testPortal, org string) int {
	t.Helper()
	var n int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM report_records WHERE provider_id = $1`, org).Scan(&n))
	return n
}

// TestQualityReportDownloads: the quality report as CSV and as a printable
// page, for the provider, through the API, and for the portal owner who
// approves the test file; never for another organisation, and never with a
// cell's value.
func TestQualityReportDownloads(t *testing.T) {
	p := newTestPortal(t)
	_, err := p.a.db.Exec(`UPDATE organisations SET contract_start = $1, contract_end = $2, dpa_registered_at = $1, survey_received_at = $1 WHERE id = 'noord'`,
		usec(p.clock.Now().AddDate(0, -1, 0)), usec(p.clock.Now().AddDate(1, 0, 0)))
	require.NoError(t, err)
	noord := p.browser()
	noord.login("noord")
	persons := bsntest.TestPersons()
	file := uploadHeader + "\n" +
		cbsRow(persons[0].Digits(), 1) + "\n" +
		cbsRow("123456781", 2) + "\n" + // eleven-proof fails
		strings.Replace(cbsRow(persons[1].Digits(), 3), "1312 AB", "99999", 1) + "\n" // postcode
	status, body := noord.upload("/uploads", "cbs.csv", strings.NewReader(file))
	require.Equal(t, http.StatusOK, status, text(body))
	assert.Contains(t, body, `data-status="test"`)
	assert.Contains(t, body, `report.csv`)
	var id string
	require.NoError(t, p.a.db.QueryRow(`SELECT id FROM uploads WHERE org_id = 'noord'`).Scan(&id))

	for _, path := range []string{"/uploads/" + id + "/report.csv", "/api/uploads/" + id + "/report.csv"} {
		resp, err := noord.c.Get(p.srv.URL + path)
		require.NoError(t, err)
		status, csvText := readBody(t, resp)
		require.Equal(t, http.StatusOK, status, path)
		assert.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
		assert.Contains(t, resp.Header.Get("Content-Disposition"), "attachment")
		assert.True(t, strings.HasPrefix(csvText, "\uFEFFregel;kolom;naam;code;gevolg;omschrijving\r\n"), "a byte-order mark for Excel, then the table")
		assert.Contains(t, csvText, "\r\n3;1;BSN;bsn-checksum;rij afgewezen;")
		assert.Contains(t, csvText, "\r\n4;4;Postcode;postcode;rij afgewezen;")
		assert.NotContains(t, csvText, "123456781", "never a value")
		assert.NotContains(t, csvText, "99999")
	}
	resp, err := noord.c.Get(p.srv.URL + "/uploads/" + id + "/report.html")
	require.NoError(t, err)
	status, page := readBody(t, resp)
	require.Equal(t, http.StatusOK, status)
	// Its style sheet is inline (a file of its own, to save and print): the
	// policy allows that one style, by its hash, and nothing else inline.
	_, rest, _ := strings.Cut(page, "<style>")
	css, _, found := strings.Cut(rest, "</style>")
	require.True(t, found, "an inline style sheet")
	sum := sha256.Sum256([]byte(css))
	csp := resp.Header.Get("Content-Security-Policy")
	assert.Contains(t, csp, "style-src 'self' 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"';")
	assert.Contains(t, csp, "script-src 'self';")
	assert.NotContains(t, csp, "unsafe-inline")
	assert.Contains(t, page, "Thuiszorg Noord", "the title names the provider")
	assert.Contains(t, text(page), "3", "the counts")
	status, english := noord.get("/uploads/" + id + "/report.csv?lang=en")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, english, "row rejected")
	assert.NotContains(t, page, `href="/clients"`, "printable: no navigation")
	assert.NotContains(t, page, "123456781")

	// The owner approves from the same report.
	owner := p.browser()
	owner.login("beheerder")
	_, ownerPage := owner.get("/uploads/" + id)
	assert.Contains(t, ownerPage, `id="approve"`)
	status, ownerCSV := owner.get("/uploads/" + id + "/report.csv")
	require.Equal(t, http.StatusOK, status)
	_, providerCSV := noord.get("/uploads/" + id + "/report.csv")
	assert.Equal(t, providerCSV, ownerCSV, "the same report")

	// Another provider sees nothing of it.
	linde := p.browser()
	linde.login("linde")
	for _, path := range []string{"/uploads/" + id + "/report.csv", "/uploads/" + id + "/report.html", "/api/uploads/" + id + "/report.csv"} {
		status, _ := linde.get(path)
		assert.Equal(t, http.StatusNotFound, status, path)
	}
}

// TestPseudonymDomains: an upload's BSNs become pseudonyms of the receiving
// municipality's domain, which differ from those of client lookup (and of
// any other municipality), so the two cannot be joined.
func TestPseudonymDomains(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	n := bsntest.TestPersons()[0]
	status, body := b.upload("/uploads", "cbs.csv", strings.NewReader(uploadHeader+"\n"+cbsRow(n.Digits(), 1)+"\n"))
	require.Equal(t, http.StatusOK, status, text(body))
	var domain, data string
	require.NoError(t, p.a.db.QueryRow(`SELECT u.domain, c.data FROM uploads u JOIN upload_chunks c ON c.upload_id = u.id WHERE u.status = 'accepted'`).Scan(&domain, &data))
	assert.Equal(t, "gemeente-0034", domain, "Almere's domain")

	pseudonymOf := func(domain string) string {
		ps, err := p.a.keyring.Pseudonyms(domain, n)
		require.NoError(t, err)
		return ps[0].String()
	}
	assert.Equal(t, "client-lookup", p.a.lookupDomain)
	assert.True(t, strings.HasPrefix(data, pseudonymOf("gemeente-0034")+";"))
	var clients int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM clients WHERE pseudonym = $1`, pseudonymOf("client-lookup")).Scan(&clients))
	assert.Equal(t, 1, clients, "client lookup uses its own domain")
	for _, other := range []string{"client-lookup", "gemeente-0995", ""} {
		assert.NotContains(t, data, pseudonymOf(other), other)
	}
}

// Two deliveries before the nightly job: the newer one becomes the report,
// the older one is superseded without being built, and the sweep purges
// both's chunks and the previous report's rows.
func TestNewestDeliveryWins(t *testing.T) {
	p := newTestPortal(t)
	ctx := context.Background()
	b := p.browser()
	b.login("jdevries")
	for _, rows := range []int{30, 50} {
		p.clock.Advance(time.Minute)
		status, body := b.upload("/uploads", "cbs.csv", demoDataset("zonnehuis", rows))
		require.Equal(t, http.StatusOK, status, text(body))
	}
	_, err := p.a.processUploads(ctx)
	require.NoError(t, err)
	require.NoError(t, p.a.sweep(ctx))
	var written int
	require.NoError(t, p.a.db.QueryRow(`SELECT rows_written FROM uploads WHERE org_id = 'zonnehuis' AND status = 'processed'`).Scan(&written))
	assert.Equal(t, 50-1, written, "the newer file, less the row with a typing error in its BSN")
	assert.Equal(t, written, reportRows(t, p, "zonnehuis"))
	assert.Zero(t, uploadsWithStatus(t, p, "zonnehuis", statusAccepted))
	var chunks, stale int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM upload_chunks`).Scan(&chunks))
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM report_rows r JOIN uploads u ON u.id = r.upload_id WHERE u.status <> 'processed'`).Scan(&stale))
	assert.Zero(t, chunks)
	assert.Zero(t, stale)
}

// An accepted delivery whose stored rows do not add up to its receipt is
// never made the report: it is rejected, and the report stays as it was.
func TestIncompleteDeliveryIsRejected(t *testing.T) {
	tests := []struct {
		name, damage string
	}{
		{"a chunk is missing", `DELETE FROM upload_chunks WHERE upload_id = $1 AND seq = 0`},
		{"a row is missing", `UPDATE uploads SET rows_written = rows_written + 1 WHERE id = $1`},
		{"a chunk is unreadable", `UPDATE upload_chunks SET data = 'a;"b' WHERE upload_id = $1 AND seq = 0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestPortal(t)
			ctx := context.Background()
			before, delivered := reportRows(t, p, "zonnehuis"), deliveries(t, p, "zonnehuis")
			b := p.browser()
			b.login("jdevries")
			status, body := b.upload("/uploads", "cbs.csv", demoDataset("x", 40))
			require.Equal(t, http.StatusOK, status, text(body))
			var id string
			require.NoError(t, p.a.db.QueryRow(`SELECT id FROM uploads WHERE status = 'accepted'`).Scan(&id))
			_, err := p.a.db.Exec(tt.damage, id)
			require.NoError(t, err)

			_, err = p.a.processUploads(ctx)
			require.NoError(t, err, "the job goes on with the other providers")
			require.NoError(t, p.a.sweep(ctx))
			assert.Equal(t, before, reportRows(t, p, "zonnehuis"), "the report is untouched")
			var st string
			require.NoError(t, p.a.db.QueryRow(`SELECT status FROM uploads WHERE id = $1`, id).Scan(&st))
			assert.Equal(t, "rejected", st)
			assert.Equal(t, delivered, deliveries(t, p, "zonnehuis"), "a rejected upload is no delivery")
			var rows int
			require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM report_rows WHERE upload_id = $1`, id).Scan(&rows))
			assert.Zero(t, rows, "what was built of it is deleted")
		})
	}
}

// TestDemoFile is the demo's upload flow as a newcomer follows it: the
// upload page offers a generated data set, saved as Excel on Dutch Windows
// saves it (Windows-1252, CRLF); uploaded as it is, it is read as
// Windows-1252, its rows with a wrong BSN or postcode are rejected and the
// rest becomes the provider's report. Outside demo mode there is no such
// file.
func TestDemoFile(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	_, page := b.get("/uploads")
	assert.Contains(t, page, `href="/uploads/demo.csv"`)

	resp, err := b.c.Get(p.srv.URL + "/uploads/demo.csv")
	require.NoError(t, err)
	status, file := readBody(t, resp)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "text/csv; charset=windows-1252", resp.Header.Get("Content-Type"))
	assert.Contains(t, resp.Header.Get("Content-Disposition"), "attachment")
	assert.True(t, strings.HasPrefix(file, "BSN;Geboortedatum;"), "the layout's header")
	assert.Contains(t, file, "Reden be\xebindiging", "ë in Windows-1252")
	assert.False(t, utf8.ValidString(file), "not UTF-8")
	assert.Equal(t, 501, strings.Count(file, "\r\n"), "CRLF after the header and each of 500 rows")
	// People download the file: its numbers are those of the BRP's
	// fictitious test persons (package bsntest), never drawn from all
	// valid BSNs, some of which are real people's.
	persons := bsntest.TestPersons()
	for i, line := range strings.Split(strings.TrimSuffix(file, "\r\n"), "\r\n")[1:] {
		n, err := bsn.Parse(line[:strings.IndexByte(line, ';')])
		if err == nil && !slices.Contains(persons, n) {
			t.Fatalf("row %d: a BSN that is not a test person's", i)
		}
	}

	status, body := b.upload("/uploads", "cbs-jeugdhulp-demo.csv", strings.NewReader(file))
	require.Equal(t, http.StatusOK, status, text(body))
	q := p.acceptedReport("zonnehuis")
	assert.Equal(t, "Windows-1252", q.Encoding)
	// The rows wrong on purpose (see demoDataset): BSN typing errors at
	// rows 20, 171, 322 and 473, postcode 1300 SA at 60, 227 and 394.
	assert.Equal(t, 500, q.Counts.Read)
	assert.Equal(t, 7, q.Counts.Rejected)
	assert.Equal(t, 4, q.ByCode["bsn-checksum"])
	assert.Equal(t, 3, q.ByCode["postcode"])

	_, err = p.a.processUploads(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 493, reportRows(t, p, "zonnehuis"), "the new delivery is the report")

	// Only providers upload, and only the demo has the file.
	owner := p.browser()
	owner.login("beheerder")
	status, _ = owner.get("/uploads/demo.csv")
	assert.Equal(t, http.StatusForbidden, status)
	prod := newTestPortal(t, production)
	pb := prod.browser()
	pb.login("jdevries")
	status, _ = pb.get("/uploads/demo.csv")
	assert.Equal(t, http.StatusNotFound, status, "no such page outside demo mode")
	_, page = pb.get("/uploads")
	assert.NotContains(t, page, "demo.csv")
}

// A BSN in a column the portal keeps as sent (a code list, a product code,
// the municipality's code: a column shifted in a spreadsheet, or pasted
// into the wrong one) is checked by the layout with a warning only, so the
// row is written: the BSN must not be, neither in the stored rows, nor in
// the report rows built from them, nor in the protected report. The cell's
// problem is in the quality report, so nothing changes unreported.
func TestBSNInKeptColumnIsNotStored(t *testing.T) {
	p := newTestPortal(t)
	ctx := context.Background()
	b := p.browser()
	b.login("jdevries")
	persons := bsntest.TestPersons()
	// Gemeentecode, AGB-code, Verwijzer and Productcode: the 5th, 7th, 8th
	// and 9th column.
	cols := []int{4, 6, 7, 8}
	var file strings.Builder
	file.WriteString(uploadHeader + "\n")
	for i, col := range cols {
		f := strings.Split(cbsRow(persons[0].Digits(), i), ";")
		f[col] = dotted(persons[i+1])
		if i%2 == 0 {
			f[col] = persons[i+1].Digits()
		}
		file.WriteString(strings.Join(f, ";") + "\n")
	}
	// The placeholder of an unknown BSN is no one's, and stays.
	file.WriteString(cbsRow("999999999", len(cols)) + "\n")
	status, body := b.upload("/uploads", "cbs.csv", strings.NewReader(file.String()))
	require.Equal(t, http.StatusOK, status, text(body))
	q := p.acceptedReport("zonnehuis")
	assert.Equal(t, len(cols)+1, q.Counts.Written, "the rows are written, with a warning")
	for i, col := range cols {
		assert.True(t, slices.ContainsFunc(q.Problems, func(pr problemJSON) bool { return pr.Line == i+2 && pr.Pos == col+1 }),
			"the cell's problem is reported: line %d, column %d", i+2, col+1)
	}
	var stored strings.Builder
	keep := func(query string) { // every value query returns, into stored
		rows, err := p.a.db.Query(query)
		require.NoError(t, err)
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			stored.WriteString(s)
		}
		require.NoError(t, rows.Err())
	}
	keep(`SELECT c.data FROM upload_chunks c JOIN uploads u ON u.id = c.upload_id WHERE u.org_id = 'zonnehuis' AND u.status = 'accepted'`)
	assert.Contains(t, stored.String(), "\n999999999;", "the placeholder")

	_, err := p.a.processUploads(ctx)
	require.NoError(t, err)
	require.NoError(t, p.a.refreshReports(ctx))
	keep(`SELECT municipality || ';' || category || ';' || product FROM report_rows`)
	keep(`SELECT data FROM report_cache`)
	_, page := b.get("/reports.csv")
	stored.WriteString(page)
	for _, n := range persons[1 : len(cols)+1] {
		for _, form := range bsnForms(n) {
			assert.False(t, strings.Contains(stored.String(), form), "%s is stored", form)
		}
	}
}

// Uploads hold a connection, a heartbeat and, for an .xlsx, the whole file
// in memory: an instance receives at most -max-uploads at once, and an
// organisation has at most maxOrgUploads of them, so that one provider can
// neither take the instance's memory nor every place. A place is free
// again when its upload ends, however it ends.
func TestConcurrentUploadsAreBounded(t *testing.T) {
	p := newTestPortal(t, func(c *config) { c.MaxUploads = 2 })
	receiving := func(n int) func() bool {
		return func() bool { return uploadsWithStatus(t, p, "zonnehuis", statusReceiving) == n }
	}
	jan, beheer, linde := p.browser(), p.browser(), p.browser()
	jan.login("jdevries")
	beheer.login("zonnehuis-beheer")
	linde.login("linde")
	cut1, done1 := stalledUpload(t, jan, 8<<20, 1<<20)
	cut2, done2 := stalledUpload(t, beheer, 8<<20, 1<<20)
	require.Eventually(t, receiving(2), 10*time.Second, 10*time.Millisecond)

	status, body := beheer.upload("/uploads", "cbs.csv", demoDataset("zonnehuis", 20))
	assert.Equal(t, http.StatusTooManyRequests, status, "a third of the same organisation")
	assert.Contains(t, text(body), "al 2 bestanden tegelijk")
	status, body = linde.upload("/uploads", "cbs.csv", demoDataset("delinde", 20))
	assert.Equal(t, http.StatusServiceUnavailable, status, "the instance's places are taken")
	assert.Contains(t, text(body), "veel bestanden tegelijk")
	assert.Zero(t, uploadsWithStatus(t, p, "delinde", statusReceiving), "refused before anything is stored")

	taken := func() int {
		p.a.uploads.mu.Lock()
		defer p.a.uploads.mu.Unlock()
		return p.a.uploads.total
	}
	cut1()
	<-done1
	require.Eventually(t, func() bool { return taken() == 1 }, 10*time.Second, 10*time.Millisecond)
	status, body = linde.upload("/uploads", "cbs.csv", demoDataset("delinde", 20))
	assert.Equal(t, http.StatusOK, status, "a place is free again: %s", text(body))
	cut2()
	<-done2
	require.Eventually(t, func() bool { return taken() == 0 }, 10*time.Second, 10*time.Millisecond)
	status, body = jan.upload("/uploads", "cbs.csv", demoDataset("zonnehuis", 20))
	assert.Equal(t, http.StatusOK, status, text(body))
}

// The quality report lists a bounded number of problems. A file with more
// warnings than that (a code list a provider's software fills wrongly, on
// every row) must not push its rejected rows out of the list: the provider
// needs their lines to correct them, and the counts alone do not say which
// rows were not taken.
func TestRejectedRowsListedBeforeWarnings(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	n := bsntest.TestPersons()[0].Digits()
	var file strings.Builder
	file.WriteString(uploadHeader + "\n")
	warned := pseudonym.DefaultMaxProblems + 10
	for i := range warned {
		f := strings.Split(cbsRow(n, i), ";")
		f[2] = "Q" // Geslacht: not in the code list, a warning
		file.WriteString(strings.Join(f, ";") + "\n")
	}
	for i := range 3 {
		file.WriteString(cbsRow("123456781", warned+i) + "\n") // eleven-proof fails: rejected
	}
	status, body := b.upload("/uploads", "cbs.csv", strings.NewReader(file.String()))
	require.Equal(t, http.StatusOK, status, text(body))
	q := p.acceptedReport("zonnehuis")
	require.Equal(t, 3, q.Counts.Rejected)
	var lines []int
	for _, pr := range q.Problems {
		if pr.Rejected {
			lines = append(lines, pr.Line)
		}
	}
	first := warned + 2 // the header is line 1
	assert.Equal(t, []int{first, first + 1, first + 2}, lines, "every rejected row is listed")
	assert.LessOrEqual(t, len(q.Problems), pseudonym.DefaultMaxProblems, "the list stays bounded")
	assert.Equal(t, warned+3, len(q.Problems)+q.Omitted, "the rest is counted")
	assert.True(t, slices.IsSortedFunc(q.Problems, func(a, b problemJSON) int { return a.Line - b.Line }), "in the file's order")
}

// The newest delivery is the last to arrive whole, also when the clock
// steps back between two (an instance that restarts with its clock behind,
// then corrected): the later file becomes the report, and the Zorgmonitor
// of the new records is protected anew, not read from the cache of the
// old ones (whose version is their count and latest processing time).
func TestNewestDeliveryWinsWhenClockStepsBack(t *testing.T) {
	p := newTestPortal(t)
	ctx := context.Background()
	b := p.browser()
	b.login("jdevries")
	status, body := b.upload("/uploads", "cbs.csv", demoDataset("first", 40))
	require.Equal(t, http.StatusOK, status, text(body))
	_, err := p.a.processUploads(ctx)
	require.NoError(t, err)
	before, err := p.a.reportVersion(ctx)
	require.NoError(t, err)

	p.clock.Advance(-time.Hour)
	status, body = b.upload("/uploads", "cbs.csv", demoDataset("second", 40))
	require.Equal(t, http.StatusOK, status, text(body))
	var second string
	require.NoError(t, p.a.db.QueryRow(`SELECT id FROM uploads WHERE org_id = 'zonnehuis' AND status = 'accepted'`).Scan(&second))
	_, err = p.a.processUploads(ctx)
	require.NoError(t, err)
	var processed string
	require.NoError(t, p.a.db.QueryRow(`SELECT id FROM uploads WHERE org_id = 'zonnehuis' AND status = 'processed'`).Scan(&processed))
	assert.Equal(t, second, processed, "the later file is the report")
	after, err := p.a.reportVersion(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, before, after, "the Zorgmonitor is protected anew")
}

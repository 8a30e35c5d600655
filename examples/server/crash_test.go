package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/consent"
)

// The crash tests run the portal in a second process, the test binary
// started again with crashHelperEnv set, and kill it with SIGKILL: from
// outside while an upload streams in, or from inside at a named step
// (crashPoint) where a kill from outside could not be timed. Then they check
// what the crash left behind, and that the next instance recovers: nothing
// lost, nothing counted twice.

const (
	crashHelperEnv = "ZORGKIT_CRASH_HELPER" // the helper's mode: upload, stall, job, sweep, serve, open, grant, reset, post, outbox, anchor or consent
	crashAtEnv     = "ZORGKIT_CRASH_AT"     // step[#n]: SIGKILL at the n-th time the step is reached
	crashDataEnv   = "ZORGKIT_CRASH_DATA"   // the data directory
	crashSizeEnv   = "ZORGKIT_CRASH_SIZE"   // the size of the file to upload, in bytes
	crashArgEnv    = "ZORGKIT_CRASH_ARG"    // the mode's argument: an organisation (grant), a username (reset), a user, path and form (post), a client (consent)
)

// crashLease is the helper's lease: short, so that the tests need not wait.
const crashLease = time.Second

// crashNewPassword is the password the reset helper sets.
const crashNewPassword = "Paardenbloem-Zeilboot-42"

// crashHelper is the helper process: it opens the portal on the data
// directory and does what mode says, dying at ZORGKIT_CRASH_AT if set. It
// returns the exit code.
func crashHelper(mode string) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "crash helper:", err)
		return 2
	}
	cfg, err := parseConfig([]string{"-data", os.Getenv(crashDataEnv), "-addr", "127.0.0.1:0", "-lease", crashLease.String()}, func(string) string { return "" })
	if err != nil {
		return fail(err)
	}
	// The hook is set before the portal opens: a crash in the middle of
	// the migrations is one of the steps.
	if at := os.Getenv(crashAtEnv); at != "" {
		step, n, _ := strings.Cut(at, "#")
		nth, _ := strconv.Atoi(n)
		var seen atomic.Int32
		crashHook = func(s string) {
			if s == step && int(seen.Add(1)) >= max(nth, 1) {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		}
	}
	a, err := openApp(ctx, cfg, os.Stderr)
	if err != nil {
		return fail(err)
	}
	defer a.Close()
	a.hashParams = cheapParams
	outbox := a.sender
	a.sender = &recorder{}
	if err := a.initAuth(); err != nil {
		return fail(err)
	}
	size, _ := strconv.ParseInt(os.Getenv(crashSizeEnv), 10, 64)
	switch mode {
	case "upload", "stall":
		u, err := a.userBy(ctx, "username", "jdevries")
		if err != nil {
			return fail(fmt.Errorf("user: %w", err))
		}
		var file io.Reader = io.LimitReader(demoStream(size), size)
		if mode == "stall" {
			// Half the file, then nothing: the test kills this process.
			file = io.MultiReader(io.LimitReader(demoStream(size), size/2), blockingReader{})
		}
		if _, err := a.receive(ctx, u, file); err != nil {
			return fail(fmt.Errorf("receive: %w", err))
		}
	case "job":
		if err := a.enqueueJob(ctx, "process:crash-test", a.now()); err != nil {
			return fail(err)
		}
		for {
			ran, err := a.runNextJob(ctx, "helper")
			if err != nil {
				return fail(err)
			}
			if !ran {
				break
			}
		}
	case "anchor":
		a.sender = outbox // the test reads the anchor's mails in the outbox
		if err := a.enqueueJob(ctx, anchorJob+"crash-test", a.now()); err != nil {
			return fail(err)
		}
		if _, err := a.runNextJob(ctx, "helper"); err != nil {
			return fail(err)
		}
	case "consent":
		// A provider's user records a client's consent, and the client
		// withdraws it.
		u, err := a.userBy(ctx, "username", "jdevries")
		if err != nil {
			return fail(fmt.Errorf("user: %w", err))
		}
		subject := consent.Subject(os.Getenv(crashArgEnv))
		if _, err := a.consent.Give(ctx, consent.Record{Subject: subject, Organisation: consent.Organisation(u.OrgID),
			Purpose: consent.PurposeConsultIndication, Decision: consent.Permit, GivenAt: a.now(), PolicyVersion: "portero-toestemming-2017",
			Evidence: consent.Evidence{Kind: consent.EvidencePaper, Reference: "CRASH-1"}, RecordedBy: u.actor()}); err != nil {
			return fail(err)
		}
		if _, err := a.consent.Withdraw(ctx, consent.Withdrawal{Subject: subject, Organisation: consent.Organisation(u.OrgID),
			Purpose: consent.PurposeConsultIndication, By: u.actor(), Reason: "ingetrokken door de cliënt"}); err != nil {
			return fail(err)
		}
	case "sweep":
		if err := a.sweep(ctx); err != nil {
			return fail(err)
		}
	case "open":
		// Opening the portal migrates its database: nothing more to do.
	case "grant":
		// The messages go to the outbox, where the test reads them.
		a.sender = outbox
		if err := a.grantAccess(ctx, os.Getenv(crashArgEnv)); err != nil {
			return fail(err)
		}
	case "reset":
		// The link is issued here, on this process's clock, and redeemed.
		u, err := a.userBy(ctx, "username", os.Getenv(crashArgEnv))
		if err != nil {
			return fail(fmt.Errorf("user: %w", err))
		}
		token, _, err := a.resets.Issue(ctx, u.ID)
		if err != nil {
			return fail(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/password/reset", strings.NewReader(url.Values{
			"token": {token}, "new": {crashNewPassword}, "repeat": {crashNewPassword}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		a.reset(w, req)
		if w.Code != http.StatusOK {
			return fail(fmt.Errorf("reset: status %d", w.Code))
		}
	case "post":
		// A form posted by a logged-in user to one of the handlers below:
		// the argument is "username path form".
		f := strings.SplitN(os.Getenv(crashArgEnv), " ", 3)
		u, err := a.userBy(ctx, "username", f[0])
		if err != nil {
			return fail(fmt.Errorf("user: %w", err))
		}
		a.sender = outbox // the test reads the messages in the outbox
		handler := map[string]http.HandlerFunc{"/admin/users": a.createUser, "/providers": a.registerProvider, "/survey": a.submitSurvey}[f[1]]
		req := httptest.NewRequest(http.MethodPost, f[1], strings.NewReader(f[2]))
		if id, ok := strings.CutPrefix(f[1], "/owner/uploads/"); ok {
			handler = a.approveUpload
			req.SetPathValue("id", strings.TrimSuffix(id, "/approve"))
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		handler(w, req.WithContext(context.WithValue(req.Context(), ctxUser, u)))
		if w.Code >= 300 && w.Code != http.StatusSeeOther {
			return fail(fmt.Errorf("%s: status %d", f[1], w.Code))
		}
	case "outbox":
		// Delivers what is due, through a transport that notes each
		// message it was handed in a file.
		a.transports = map[string]transport{"email": fileTransport(filepath.Join(os.Getenv(crashDataEnv), "delivered"))}
		for {
			more, err := a.deliverNext(ctx)
			if err != nil {
				return fail(err)
			}
			if !more {
				break
			}
		}
	case "serve":
		// Serves until killed: its scheduler sweeps at start.
		if err := a.serve(ctx); err != nil {
			return fail(err)
		}
	default:
		return fail(fmt.Errorf("unknown mode %q", mode))
	}
	return 0
}

// blockingReader never returns: a client that stopped sending.
type blockingReader struct{}

func (blockingReader) Read([]byte) (int, error) { select {} }

// startHelper starts the helper process on p's data directory.
func startHelper(t *testing.T, p *testPortal, mode, crashAt string, size int64) *exec.Cmd {
	t.Helper()
	return startHelperIn(t, p.a.cfg.DataDir, mode, crashAt, strconv.FormatInt(size, 10), "")
}

// startHelperIn starts the helper process on the data directory dir, with
// the mode's argument arg.
func startHelperIn(t *testing.T, dir, mode, crashAt, size, arg string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashHelperEnv+"="+mode, crashAtEnv+"="+crashAt, crashDataEnv+"="+dir,
		crashSizeEnv+"="+size, crashArgEnv+"="+arg)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("helper %s %s stderr:\n%s", mode, crashAt, stderr.String())
		}
	})
	return cmd
}

// runHelper runs the helper to its end: killed at crashAt, or (without
// crashAt) finished successfully.
func runHelper(t *testing.T, p *testPortal, mode, crashAt string, size int64) {
	t.Helper()
	waitHelper(t, startHelper(t, p, mode, crashAt, size), crashAt)
}

// waitHelper waits for the helper: killed at crashAt, or (without crashAt)
// finished successfully.
func waitHelper(t *testing.T, cmd *exec.Cmd, crashAt string) {
	t.Helper()
	err := cmd.Wait()
	if crashAt == "" {
		require.NoError(t, err, "the helper finishes")
		return
	}
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "the helper dies: %v", err)
	ws := exit.Sys().(syscall.WaitStatus)
	require.True(t, ws.Signaled() && ws.Signal() == syscall.SIGKILL, "killed with SIGKILL at %s: %v", crashAt, err)
}

// afterLease moves p's clock past the lease of anything the helper (on the
// real clock) left behind.
func afterLease(p *testPortal) {
	p.clock.mu.Lock()
	p.clock.t = time.Now().Add(time.Minute)
	p.clock.mu.Unlock()
}

func deliveries(t testing.TB, p *testPortal, org string) int {
	t.Helper()
	var n int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM uploads WHERE org_id = $1 AND status IN `+deliveryStatuses, org).Scan(&n))
	return n
}

// crashSize is the size of the files of the crash tests: enough for
// several chunks and several build steps.
const crashSize = 1 << 20

// TestCrashDuringUpload kills the portal at each step of an upload. Until
// the last step committed, the upload is not a delivery, is never
// processed, and is abandoned and purged once its lease has passed; after
// it, the delivery is complete.
func TestCrashDuringUpload(t *testing.T) {
	tests := []struct {
		step     string
		complete bool
	}{
		{"upload.created", false},
		{"upload.chunk#1", false},
		{"upload.chunk#3", false},
		{"upload.finishing", false},
		{"upload.finished", true},
		{"", true}, // no crash
	}
	for _, tt := range tests {
		t.Run(tt.step, func(t *testing.T) {
			t.Parallel()
			p := newTestPortal(t)
			ctx := context.Background()
			report, before := reportRows(t, p, "zonnehuis"), deliveries(t, p, "zonnehuis")
			runHelper(t, p, "upload", tt.step, crashSize)

			_, err := p.a.processUploads(ctx)
			require.NoError(t, err)
			afterLease(p)
			require.NoError(t, p.a.sweep(ctx))
			if !tt.complete {
				assert.Equal(t, before, deliveries(t, p, "zonnehuis"), "no delivery")
				assert.Equal(t, report, reportRows(t, p, "zonnehuis"), "the report is untouched")
				assert.Equal(t, 1, uploadsWithStatus(t, p, "zonnehuis", statusAbandoned))
				assert.Zero(t, uploadsWithStatus(t, p, "zonnehuis", statusReceiving))
				assert.Zero(t, chunkCount(t, p), "its chunks are purged")
				return
			}
			assert.Equal(t, before+1, deliveries(t, p, "zonnehuis"), "one delivery")
			var written int
			require.NoError(t, p.a.db.QueryRow(`SELECT rows_written FROM uploads WHERE org_id = 'zonnehuis' AND status = 'processed'`).Scan(&written))
			assert.Greater(t, written, 5000)
			assert.Equal(t, written, reportRows(t, p, "zonnehuis"), "the report is the new delivery, whole")
		})
	}
}

// TestKilledWhileStreaming kills the portal from outside while a file
// streams in; the next instance abandons the half upload at start, once the
// lease has passed, and purges it.
func TestKilledWhileStreaming(t *testing.T) {
	p := newTestPortal(t)
	cmd := startHelper(t, p, "stall", "", crashSize)
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM upload_chunks c JOIN uploads u ON u.id = c.upload_id WHERE u.status = 'receiving'`).Scan(&n))
		return n >= 2
	}, 30*time.Second, 10*time.Millisecond, "chunks arrive")
	require.NoError(t, cmd.Process.Kill()) // SIGKILL
	cmd.Wait()
	assert.Equal(t, 1, uploadsWithStatus(t, p, "zonnehuis", statusReceiving), "the half upload is left behind")

	time.Sleep(crashLease)
	startHelper(t, p, "serve", "", 0)
	require.Eventually(t, func() bool { return uploadsWithStatus(t, p, "zonnehuis", statusAbandoned) == 1 }, 30*time.Second, 20*time.Millisecond,
		"the next instance abandons it at start")
	require.Eventually(t, func() bool { return chunkCount(t, p) == 0 }, 30*time.Second, 20*time.Millisecond, "and purges its chunks")
}

// TestCrashDuringProcessing kills the nightly job at each of its steps. The
// provider's report is the old delivery until the swap commits and the new
// one whole after it, never empty and never doubled; another instance
// takes the job over after the lease and finishes it.
func TestCrashDuringProcessing(t *testing.T) {
	tests := []struct {
		step    string
		swapped bool
	}{
		{"job.claimed", false},
		{"process.step#1", false},
		{"process.step#2", false},
		{"process.swap", false},
		{"process.swapped", true},
		{"job.finishing", true},
	}
	for _, tt := range tests {
		t.Run(tt.step, func(t *testing.T) {
			t.Parallel()
			p := newTestPortal(t)
			ctx := context.Background()
			old := reportRows(t, p, "zonnehuis")
			require.Positive(t, old)
			jan := p.browser()
			jan.login("jdevries")
			status, body := jan.upload("/uploads", "cbs.csv", io.LimitReader(demoStream(crashSize), crashSize))
			require.Equal(t, 200, status, text(body))
			var id string
			var written, chunks int
			require.NoError(t, p.a.db.QueryRow(`SELECT id, rows_written, chunks FROM uploads WHERE org_id = 'zonnehuis' AND status = 'accepted'`).Scan(&id, &written, &chunks))
			require.Greater(t, chunks, buildBatch, "several build steps")
			deliveriesBefore := deliveries(t, p, "zonnehuis")

			runHelper(t, p, "job", tt.step, 0)
			if tt.swapped {
				assert.Equal(t, written, reportRows(t, p, "zonnehuis"), "the new delivery, whole")
			} else {
				assert.Equal(t, old, reportRows(t, p, "zonnehuis"), "still the old delivery")
			}

			// Another instance takes the job over once the lease has passed.
			ran, err := p.a.runNextJob(ctx, "other")
			require.NoError(t, err)
			assert.False(t, ran, "not while the lease runs")
			afterLease(p)
			ran, err = p.a.runNextJob(ctx, "other")
			require.NoError(t, err)
			require.True(t, ran, "taken over")
			var state string
			require.NoError(t, p.a.db.QueryRow(`SELECT state FROM jobs WHERE id = 'process:crash-test'`).Scan(&state))
			assert.Equal(t, "done", state)
			assert.Equal(t, written, reportRows(t, p, "zonnehuis"), "the new delivery, whole")
			var stored int
			require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM report_rows WHERE upload_id = $1`, id).Scan(&stored))
			assert.Equal(t, written, stored, "no row built twice")
			// Whether each indicator applies is stored with each row, in
			// the same statement: judged for every row, and running care
			// (a quarter of the demo's) does not apply.
			var known, applies int
			require.NoError(t, p.a.db.QueryRow(`SELECT SUM(CASE WHEN applies_known THEN 1 ELSE 0 END), SUM(CASE WHEN goal_applies THEN 1 ELSE 0 END)
				FROM report_rows WHERE upload_id = $1`, id).Scan(&known, &applies))
			assert.Equal(t, written, known)
			assert.Less(t, applies, written)
			assert.Positive(t, applies)
			assert.Equal(t, deliveriesBefore, deliveries(t, p, "zonnehuis"), "processing adds no delivery")
			assert.Equal(t, 1, uploadsWithStatus(t, p, "zonnehuis", statusProcessed))
		})
	}
}

// TestCrashDuringPurge kills the sweep while it deletes the rows of a
// superseded delivery and the chunks of a processed one: the report is
// untouched, and the next sweep finishes.
func TestCrashDuringPurge(t *testing.T) {
	for _, step := range []string{"purge.chunks#1", "purge.rows#1"} {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			p := newTestPortal(t)
			ctx := context.Background()
			jan := p.browser()
			jan.login("jdevries")
			status, body := jan.upload("/uploads", "cbs.csv", io.LimitReader(demoStream(crashSize), crashSize))
			require.Equal(t, 200, status, text(body))
			// Process without sweeping: the old delivery's rows remain.
			_, err := p.a.processUploads(ctx)
			require.NoError(t, err)
			report := reportRows(t, p, "zonnehuis")

			runHelper(t, p, "sweep", step, 0)
			assert.Equal(t, report, reportRows(t, p, "zonnehuis"), "the report is untouched")

			require.NoError(t, p.a.sweep(ctx))
			assert.Equal(t, report, reportRows(t, p, "zonnehuis"))
			var rows, chunks int
			require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM report_rows r JOIN uploads u ON u.id = r.upload_id WHERE u.status <> 'processed'`).Scan(&rows))
			require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM upload_chunks`).Scan(&chunks))
			assert.Zero(t, rows, "the superseded delivery's rows are gone")
			assert.Zero(t, chunks, "processed chunks are purged (retention 0)")
		})
	}
}

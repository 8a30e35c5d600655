package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestShutdownStopsTheRunningJob: at shutdown the running job is cancelled,
// the step it was in rolls back, and its lease is released before serve
// returns (and the database closes); the next instance takes it over at
// once, without the stop counting as a failed attempt.
func TestShutdownStopsTheRunningJob(t *testing.T) {
	p := newTestPortal(t)
	a := p.a
	started := make(chan struct{})
	var stopped atomic.Bool
	a.testJob = func(ctx context.Context, id string) (string, error) {
		// A step: a transaction that is written but not yet committed
		// when shutdown comes.
		tx, err := a.db.BeginTx(ctx, nil)
		if err != nil {
			return "", err
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `INSERT INTO jobs (id, state, run_after) VALUES ('test:half-written', 'done', 0)`); err != nil {
			return "", err
		}
		close(started)
		<-ctx.Done()
		stopped.Store(true)
		return "", ctx.Err()
	}
	require.NoError(t, a.enqueueJob(t.Context(), "test:blocks", time.Unix(0, 0)))

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- a.serve(ctx) }()
	select {
	case <-started:
	case err := <-served:
		t.Fatalf("serve returned before the job started: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the job did not start")
	}
	cancel() // SIGTERM
	select {
	case err := <-served:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return after shutdown")
	}
	assert.True(t, stopped.Load(), "serve returned before the running job had stopped")

	var state, detail string
	var attempts int
	var lease int64
	require.NoError(t, a.db.QueryRow(`SELECT state, attempts, lease_until, detail FROM jobs WHERE id = 'test:blocks'`).Scan(&state, &attempts, &lease, &detail))
	assert.Equal(t, "queued", state, "the lease is released: %s", detail)
	assert.Zero(t, attempts, "a stop at shutdown is no failed attempt")
	assert.Zero(t, lease)
	err := a.db.QueryRow(`SELECT state FROM jobs WHERE id = 'test:half-written'`).Scan(&state)
	assert.ErrorIs(t, err, sql.ErrNoRows, "the step under way rolled back")
	assert.Equal(t, uint64(1), jobRuns(t, a, "test", "stopped"), "the stopped run is in the duration metric")

	// The next instance (or start) takes it over at once and finishes it.
	a.testJob = func(ctx context.Context, id string) (string, error) { return "finished", nil }
	ran, err := a.runNextJob(t.Context(), "next-instance")
	require.NoError(t, err)
	require.True(t, ran)
	require.NoError(t, a.db.QueryRow(`SELECT state, attempts, instance, detail FROM jobs WHERE id = 'test:blocks'`).Scan(&state, &attempts, new(string), &detail))
	assert.Equal(t, "done", state)
	assert.Equal(t, 1, attempts)
	assert.Equal(t, "finished", detail)
	assert.Equal(t, uint64(1), jobRuns(t, a, "test", "done"))
}

// jobRuns returns how many job runs of the kind ended with outcome, from
// the job duration histogram.
func jobRuns(t *testing.T, a *app, kind, outcome string) uint64 {
	t.Helper()
	families, err := a.metrics.registry.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != "zorgkit_job_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["job"] == kind && labels["outcome"] == outcome {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}

// TestShutdownFinishesAJobThatEnds: a job that ends although shutdown
// cancelled it (it was past its last step) is recorded as done, not queued
// again.
func TestShutdownFinishesAJobThatEnds(t *testing.T) {
	p := newTestPortal(t)
	a := p.a
	ctx, cancel := context.WithCancel(t.Context())
	a.testJob = func(jctx context.Context, id string) (string, error) {
		cancel()
		<-jctx.Done()
		return "finished", nil
	}
	require.NoError(t, a.enqueueJob(t.Context(), "test:ends", time.Unix(0, 0)))
	ran, err := a.runNextJob(ctx, "instance")
	require.NoError(t, err)
	require.True(t, ran)
	var state string
	require.NoError(t, a.db.QueryRow(`SELECT state FROM jobs WHERE id = 'test:ends'`).Scan(&state))
	assert.Equal(t, "done", state)
	_, err = a.runNextJob(ctx, "instance")
	assert.True(t, errors.Is(err, context.Canceled), "no new job after shutdown: %v", err)
}

// TestShutdownDuringProcessing stops the nightly processing at shutdown
// while it swaps a delivery in: the swap rolls back (the old delivery stays
// the report), the report rows built before stay built, and the instance
// that takes the job over finishes it without building a row twice.
func TestShutdownDuringProcessing(t *testing.T) {
	p := newTestPortal(t)
	old := reportRows(t, p, "zonnehuis")
	require.Positive(t, old)
	jan := p.browser()
	jan.login("jdevries")
	status, body := jan.upload("/uploads", "cbs.csv", io.LimitReader(demoStream(64<<10), 64<<10))
	require.Equal(t, http.StatusOK, status, text(body))
	var id string
	var written, chunks int
	require.NoError(t, p.a.db.QueryRow(`SELECT id, rows_written, chunks FROM uploads WHERE org_id = 'zonnehuis' AND status = 'accepted'`).Scan(&id, &written, &chunks))
	// The nightly job without its Zorgmonitor refresh, which takes seconds.
	p.a.testJob = func(ctx context.Context, id string) (string, error) { return p.a.processUploads(ctx) }
	require.NoError(t, p.a.enqueueJob(t.Context(), "test:process", time.Unix(0, 0)))

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	crashHook = func(step string) {
		if step == "process.swap" {
			cancel() // SIGTERM, just before the swap commits
		}
	}
	defer func() { crashHook = nil }()
	ran, err := p.a.runNextJob(ctx, "stopping")
	crashHook = nil
	require.NoError(t, err, "stopped and released")
	require.True(t, ran)
	var state string
	var attempts, built int
	require.NoError(t, p.a.db.QueryRow(`SELECT state, attempts FROM jobs WHERE id = 'test:process'`).Scan(&state, &attempts))
	assert.Equal(t, "queued", state)
	assert.Zero(t, attempts)
	assert.Equal(t, old, reportRows(t, p, "zonnehuis"), "the swap rolled back: still the old delivery")
	assert.Equal(t, 1, uploadsWithStatus(t, p, "zonnehuis", statusAccepted))
	require.NoError(t, p.a.db.QueryRow(`SELECT built_chunks FROM uploads WHERE id = $1`, id).Scan(&built))
	assert.Equal(t, chunks, built, "the build steps before it stay committed")

	ran, err = p.a.runNextJob(t.Context(), "next-instance")
	require.NoError(t, err)
	require.True(t, ran, "taken over at once, not after the lease")
	require.NoError(t, p.a.db.QueryRow(`SELECT state, attempts FROM jobs WHERE id = 'test:process'`).Scan(&state, &attempts))
	assert.Equal(t, "done", state)
	assert.Equal(t, 1, attempts)
	assert.Equal(t, written, reportRows(t, p, "zonnehuis"), "the new delivery, whole")
	var stored int
	require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM report_rows WHERE upload_id = $1`, id).Scan(&stored))
	assert.Equal(t, written, stored, "no row built twice")
}

// TestShutdownLetsARequestFinish: a request under way at SIGTERM (here the
// rest of an upload) finishes within the shutdown's grace period instead of
// failing on a cancelled context.
func TestShutdownLetsARequestFinish(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- p.a.serve(ctx) }()
	listening := regexp.MustCompile(`msg=listening url=(\S+)`)
	var base string
	require.Eventually(t, func() bool {
		m := listening.FindStringSubmatch(p.out.String())
		if m != nil {
			base = m[1]
		}
		return m != nil
	}, 10*time.Second, 5*time.Millisecond, "serve listens")

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "cbs.csv")
	require.NoError(t, err)
	_, err = io.Copy(fw, io.LimitReader(demoStream(64<<10), 64<<10))
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	pr, pw := io.Pipe()
	client := &http.Client{Jar: b.c.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	answer := make(chan int, 1)
	go func() {
		resp, err := client.Post(base+"/uploads", mw.FormDataContentType(), pr)
		if err != nil {
			answer <- 0
			return
		}
		resp.Body.Close()
		answer <- resp.StatusCode
	}()
	half := body.Len() / 2
	_, err = pw.Write(body.Bytes()[:half])
	require.NoError(t, err)
	require.Eventually(t, func() bool { return uploadsWithStatus(t, p, "zonnehuis", statusReceiving) == 1 }, 10*time.Second, 5*time.Millisecond)

	cancel() // SIGTERM
	require.Eventually(t, func() bool { return strings.Contains(p.out.String(), "shutting down") }, 10*time.Second, time.Millisecond)
	_, err = pw.Write(body.Bytes()[half:])
	require.NoError(t, err)
	require.NoError(t, pw.Close())
	assert.Equal(t, http.StatusSeeOther, <-answer, "the upload finished: to its page")
	assert.Equal(t, 1, uploadsWithStatus(t, p, "zonnehuis", statusAccepted))
	select {
	case err := <-served:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return after shutdown")
	}
}

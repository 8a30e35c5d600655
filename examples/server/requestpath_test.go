package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/bsn/bsntest"
	"github.com/zorgkit/zorgkit/consent"
)

// BenchmarkRequestPath runs the parts of a client lookup in the process,
// one request at a time and without the network, and reports the process's
// CPU time per operation (cpu-ns/op): on a shared machine a steadier
// figure than the load test's, for comparing builds side by side.
//
//   - healthz: GET /healthz through the portal's handler, the baseline;
//   - session: the route check of a logged-in provider (session, user and
//     organisation) around a handler that does nothing;
//   - decisions: what the client page may offer, the consent decisions for
//     its four purposes;
//   - lookup: POST /clients/lookup of a known BSN through the handler:
//     session, lookup, access log, decisions and page.
func BenchmarkRequestPath(b *testing.B) {
	p := newTestPortal(b)
	c := p.browser()
	c.login("jdevries")
	base, err := url.Parse(p.srv.URL)
	require.NoError(b, err)
	cookies := c.c.Jar.Cookies(base)
	h := p.srv.Config.Handler
	ctx := context.Background()
	u, err := p.a.userBy(ctx, "username", "jdevries")
	require.NoError(b, err)
	n := bsntest.TestPersons()[0]
	subject, found, err := p.a.findClient(ctx, n)
	require.NoError(b, err)
	require.True(b, found)
	serve := func(b *testing.B, method, path string, form url.Values, handler http.Handler) {
		var body *strings.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		} else {
			body = strings.NewReader("")
		}
		r := httptest.NewRequest(method, base.String()+path, body)
		r.RemoteAddr = "127.0.0.1:40000"
		if form != nil {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Origin", base.Scheme+"://"+base.Host)
		}
		for _, ck := range cookies {
			r.AddCookie(ck)
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("%s %s: status %d", method, path, w.Code)
		}
	}
	run := func(name string, op func(b *testing.B)) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				op(b)
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
	run("part=healthz", func(b *testing.B) { serve(b, http.MethodGet, "/healthz", nil, h) })
	noop := p.a.need(fullStage, providers, func(http.ResponseWriter, *http.Request) {})
	run("part=session", func(b *testing.B) { serve(b, http.MethodGet, "/clients", nil, noop) })
	run("part=decisions", func(b *testing.B) {
		if _, err := p.a.clientView(ctx, u, subject, n.Masked()); err != nil {
			b.Fatal(err)
		}
	})
	// A lookup's reads, with a context that can be cancelled as a
	// request's can: finding the client and the page's decisions, without
	// the access-log write (which has a commit and an fsync of its own
	// here, and is shared under load).
	reqCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	run("part=reads", func(b *testing.B) {
		subject, _, err := p.a.findClient(reqCtx, n)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.a.clientView(reqCtx, u, subject, n.Masked()); err != nil {
			b.Fatal(err)
		}
	})
	// One group commit of 16 lookups' access-log entries (about what a
	// commit holds at c16 under load), in one transaction: CPU per commit.
	run("part=log16", func(b *testing.B) {
		es := make([]consent.AccessEntry, 16)
		for i := range es {
			es[i] = consent.AccessEntry{ID: newLogID(p.a.now()), Time: p.a.now(), Instance: p.a.instance, Address: "127.0.0.1",
				User: u.ID, Role: "provider", Organisation: consent.Organisation(u.OrgID), Subject: consent.Subject(subject),
				Object: "client/lookup", Action: consent.ActionExecute, Allowed: true, Reason: "exact-bsn"}
		}
		if err := p.a.accessLog.commit(es); err != nil {
			b.Fatal(err)
		}
	})
	lookup := url.Values{"bsn": {n.Digits()}}
	run("part=lookup", func(b *testing.B) { serve(b, http.MethodPost, "/clients/lookup", lookup, h) })
}

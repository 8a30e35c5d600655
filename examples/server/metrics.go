package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/password/throttle"
)

// metrics are the portal's figures for Prometheus, on /metrics.
//
// Every label value comes from a small fixed set: a route pattern of the
// ServeMux (never the path asked for), a status code, an outcome, a purpose,
// a channel. Nothing that names a person or an organisation (a BSN, a
// pseudonym, a user name, an address) is ever a label: Prometheus keeps
// labels for as long as it keeps the series, outside the portal's
// retention rules, and a label per person would also grow without bound.
type metrics struct {
	registry *prometheus.Registry

	requests        *prometheus.HistogramVec
	logins          *prometheus.CounterVec
	messages        *prometheus.CounterVec
	decisions       *prometheus.CounterVec
	accessLogWrite  prometheus.Histogram
	accessLogBatch  prometheus.Histogram
	accessLogFailed prometheus.Counter
	uploadRows      *prometheus.CounterVec
	jobDuration     *prometheus.HistogramVec
	sqliteWriteWait prometheus.Histogram
}

// latencyBuckets suit a request path whose target p99 is 50 ms.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "zorgkit_http_request_duration_seconds",
			Help:    "Time to answer a request, by the route pattern that served it (\"unmatched\" if none) and the status code.",
			Buckets: latencyBuckets,
		}, []string{"route", "code"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zorgkit_logins_total",
			Help: "Login steps by outcome: success (second factor passed), wrong_password, throttled, code_wrong, refused (account or organisation may not log in).",
		}, []string{"outcome"}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zorgkit_messages_total",
			Help: "Delivery attempts of messages to users by kind (code: a verification code; mail: anything else), channel and outcome (sent, retry, failed, given_up).",
		}, []string{"kind", "channel", "outcome"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zorgkit_consent_decisions_total",
			Help: "Consent decisions for an access (each one in the access log), by purpose and outcome (the decision's reason).",
		}, []string{"purpose", "outcome"}),
		accessLogWrite: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "zorgkit_access_log_write_seconds",
			Help:    "Time from handing an access-log entry over to its commit, as the request waits for it.",
			Buckets: latencyBuckets,
		}),
		accessLogBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "zorgkit_access_log_batch_entries",
			Help:    "Access-log entries per group commit.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128},
		}),
		accessLogFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "zorgkit_access_log_failures_total",
			Help: "Access-log entries that could not be written; each refused its access.",
		}),
		uploadRows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zorgkit_upload_rows_total",
			Help: "Rows of uploaded data sets: read, written (pseudonymised and stored), rejected, flagged.",
		}, []string{"kind"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "zorgkit_job_duration_seconds",
			Help:    "Duration of a job run (process: the nightly processing, anchor: the daily consent anchor) by outcome: done, failed, stopped (by shutdown; another instance goes on) or lease_lost (taken over).",
			Buckets: []float64{.1, .5, 1, 5, 10, 30, 60, 300, 900, 3600},
		}, []string{"job", "outcome"}),
		sqliteWriteWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "zorgkit_sqlite_write_lock_wait_seconds",
			Help:    "Time a SQLite write waited for the process's write lock.",
			Buckets: latencyBuckets,
		}),
	}
	m.registry.MustRegister(m.requests, m.logins, m.messages, m.decisions, m.accessLogWrite, m.accessLogBatch,
		m.accessLogFailed, m.uploadRows, m.jobDuration, m.sqliteWriteWait,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The series that exist from the start, so that a rate is 0, not absent.
	for _, o := range []string{"success", "wrong_password", "throttled", "code_wrong", "refused"} {
		m.logins.WithLabelValues(o)
	}
	for _, k := range []string{"read", "written", "rejected", "flagged"} {
		m.uploadRows.WithLabelValues(k)
	}
	return m
}

// handler serves the metrics; with a token, only to a request that presents
// it as "Authorization: Bearer <token>".
func (m *metrics) handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
	if token == "" {
		return h
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		// Hashing first makes the comparison's time independent of the
		// token's length as well as of its content.
		got := sha256.Sum256([]byte(given))
		if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// request records one answered request. pattern is the ServeMux pattern
// that served it, such as "POST /clients/lookup" or
// "GET /uploads/{id}"; empty when none matched.
func (m *metrics) request(pattern string, code int, d time.Duration) {
	if pattern == "" {
		pattern = "unmatched"
	}
	m.requests.WithLabelValues(pattern, strconv.Itoa(code)).Observe(d.Seconds())
}

// login counts a login step: success, wrong_password, throttled,
// code_wrong or refused.
func (m *metrics) login(outcome string) { m.logins.WithLabelValues(outcome).Inc() }

// codeFailed counts a second login step that failed with err: throttled
// after too many wrong codes, or a wrong (also expired or used) code.
func (m *metrics) codeFailed(err error) {
	if errors.Is(err, throttle.ErrThrottled) {
		m.login("throttled")
		return
	}
	m.login("code_wrong")
}

// decision counts a consent decision the registry logged for an access.
func (m *metrics) decision(purpose consent.Purpose, reason consent.Reason) {
	p := "other"
	if purpose.Valid() {
		p = string(purpose)
	}
	outcome := "other"
	if knownReasons[reason] {
		outcome = string(reason)
	}
	m.decisions.WithLabelValues(p, outcome).Inc()
}

var knownReasons = map[consent.Reason]bool{
	consent.ReasonPermitted: true, consent.ReasonDenied: true, consent.ReasonWithdrawn: true, consent.ReasonExpired: true,
	consent.ReasonNotYetValid: true, consent.ReasonEvidenceMissing: true, consent.ReasonGivenAfterUse: true, consent.ReasonNoConsent: true,
}

// accessLogged records one access-log write as its request saw it.
func (m *metrics) accessLogged(d time.Duration, err error) {
	m.accessLogWrite.Observe(d.Seconds())
	if err != nil {
		m.accessLogFailed.Inc()
	}
}

// accessLogCommit records one group commit of the access log.
func (m *metrics) accessLogCommit(entries int, _ time.Duration, err error) {
	if err == nil {
		m.accessLogBatch.Observe(float64(entries))
	}
}

// upload counts the rows of one received data set.
func (m *metrics) upload(read, written, rejected, flagged int) {
	m.uploadRows.WithLabelValues("read").Add(float64(read))
	m.uploadRows.WithLabelValues("written").Add(float64(written))
	m.uploadRows.WithLabelValues("rejected").Add(float64(rejected))
	m.uploadRows.WithLabelValues("flagged").Add(float64(flagged))
}

// job records one run of the processing job that started at start.
func (m *metrics) job(kind string, start time.Time, outcome string) {
	m.jobDuration.WithLabelValues(kind, outcome).Observe(time.Since(start).Seconds())
}

// watchJobs adds zorgkit_job_last_success_timestamp_seconds, read from the
// jobs table of db at each scrape.
func (m *metrics) watchJobs(db *sql.DB) {
	m.registry.MustRegister(&lastJobSuccess{db: db, desc: prometheus.NewDesc("zorgkit_job_last_success_timestamp_seconds",
		"When the job last finished without error on any instance, in Unix seconds, from the jobs table (0: never; absent when the database does not answer).",
		[]string{"job"}, nil)})
}

// lastJobSuccess reports when the processing job last succeeded. It reads
// the jobs table rather than remembering the runs of its own instance: of
// several instances only one runs each night's job, and an instance that
// was just restarted has run none, so a figure kept in memory would make an
// alert on the job's age ("no success for 26 hours") fire on every instance
// but one, and on all of them after each deployment.
type lastJobSuccess struct {
	desc *prometheus.Desc
	db   *sql.DB
}

// Describe implements prometheus.Collector.
func (c *lastJobSuccess) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector. When the database does not
// answer within a second the figure is left out (the rest of the scrape is
// served, and /healthz reports the database), rather than reported wrong.
func (c *lastJobSuccess) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, kind := range []string{jobProcess, jobAnchor} {
		var finished int64
		if err := c.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(finished_at), 0) FROM jobs WHERE state = 'done' AND id LIKE $1`, kind+":%").Scan(&finished); err != nil {
			return
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(finished)/1e6, kind)
	}
}

// sqliteWrite records how long a SQLite writer waited for the lock.
func (m *metrics) sqliteWrite(wait time.Duration) { m.sqliteWriteWait.Observe(wait.Seconds()) }

// delivery counts one delivery attempt of a message: kind is code (a
// verification code) or mail, channel email or sms, outcome sent, retry (a
// temporary failure), failed (refused for good) or given_up (expired before
// it could be delivered).
func (m *metrics) delivery(subject, channel, outcome string) {
	kind := "mail"
	if subject == subjectCode {
		kind = "code"
	}
	if channel != "email" && channel != "sms" {
		channel = "other"
	}
	m.messages.WithLabelValues(kind, channel, outcome).Inc()
}

// deliveryOutcome is the outcome label of a delivery that ended with err.
func deliveryOutcome(err error) string {
	var perr *permanentError
	switch {
	case err == nil:
		return "sent"
	case errors.As(err, &perr):
		return "failed"
	}
	return "retry"
}

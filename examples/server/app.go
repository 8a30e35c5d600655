package main

import (
	"context"
	"crypto/tls"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/accesslog"
	"github.com/zorgkit/zorgkit/consent/sqlstore"
	"github.com/zorgkit/zorgkit/examples/server/internal/seal"
	"github.com/zorgkit/zorgkit/password"
	"github.com/zorgkit/zorgkit/password/otp"
	"github.com/zorgkit/zorgkit/password/reset"
	"github.com/zorgkit/zorgkit/password/throttle"
	"github.com/zorgkit/zorgkit/pseudonym"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// app is the portal: its configuration, database and the zorgkit pieces it is
// built from. Handlers are methods on it.
type app struct {
	cfg     config
	db      *sql.DB
	dialect dialect
	log     *slog.Logger
	out     io.Writer // the console, for the demo notices
	now     func() time.Time
	keys    secrets
	pages   map[string]*template.Template

	policy   *password.Policy
	hasher   *password.Hasher
	codes    *otp.OutOfBand
	resets   *reset.Issuer
	throttle *throttle.Throttle // account keys: attempts count from the start (auth.go)
	sources  *throttle.Throttle // source addresses: only failures count
	turns    keyTurns           // password checks of one account take turns
	totp     *otp.TOTP
	sender   Sender
	// resetRequests counts the reset requests per address like throttle,
	// but never locks: nothing is guessed there, and a lock would let
	// anybody take a user's way back in (auth.go, forgot).
	resetRequests *throttle.Throttle
	// transports deliver the outbox by channel (email, sms).
	transports map[string]transport
	outboxKick chan struct{} // wakes the outbox worker

	handles      *seal.Sealer // client handles (clienthandle.go)
	keyring      *pseudonym.Keyring
	field        *pseudonym.FieldCipher
	pseudonyms   sync.Pool // of *pseudonym.Pseudonymiser of lookupDomain: one per goroutine at a time
	lookupDomain string    // the pseudonym domain of client lookup (see domains.go)
	rotated      bool      // the keyring holds older keys: clients may be stored under them (findClient)
	consent      *consent.Registry
	instance     string // this process, in the access log
	accessSealer *accesslog.Sealer
	accessLog    *groupCommit[consent.AccessEntry]

	metrics    *metrics
	reports    reportCache     // the protected Zorgmonitor, until the records change
	uploads    uploadGate      // the uploads being received
	kick       chan struct{}   // runs the job scheduler now
	answerTime time.Duration   // least time of a login or reset answer
	hashParams password.Params // argon2id parameters; zero: the defaults
	// testJob runs the jobs whose id starts with testJobPrefix; set by tests.
	testJob func(ctx context.Context, id string) (string, error)

	// sessionCache keeps what the session check read, on SQLite only
	// (sessioncache.go); nil on PostgreSQL.
	sessionCache *sessionCache
}

// newApp opens the database, loads the keys and builds the portal; in demo
// mode it seeds an empty database and prints the demo users' passwords.
func newApp(ctx context.Context, cfg config, out io.Writer) (*app, error) {
	a, err := openApp(ctx, cfg, out)
	if err != nil {
		return nil, err
	}
	if cfg.Demo {
		passwords, err := a.seedDemo(ctx)
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("demo data: %w", err)
		}
		a.printDemoUsers(passwords)
	}
	return a, nil
}

// openApp is newApp without the demo data.
func openApp(ctx context.Context, cfg config, out io.Writer) (*app, error) {
	log := slog.New(slog.NewTextHandler(out, nil))
	keys, err := loadSecrets(cfg.KeyFile, cfg.Demo, out)
	if err != nil {
		return nil, err
	}
	m := newMetrics()
	db, d, err := openDBObserved(ctx, cfg, m.sqliteWrite)
	if err != nil {
		return nil, err
	}
	m.watchJobs(db)
	if err := checkKeyFingerprints(ctx, db, keys, cfg.AcceptKeyChange, time.Now(), log); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", cfg.KeyFile, err)
	}
	a := &app{cfg: cfg, db: db, dialect: d, log: log, out: out, now: time.Now, keys: keys, metrics: m, kick: make(chan struct{}, 1), outboxKick: make(chan struct{}, 1), answerTime: defaultAnswerTime}
	if gen, ok := sessionGeneration(db); ok {
		a.sessionCache = &sessionCache{gen: gen}
	}
	if a.lookupDomain, err = lookupDomain(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("pseudonym domains: %w", err)
	}
	if err := a.init(); err != nil {
		db.Close()
		return nil, err
	}
	if err := a.upgradeConsent(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("consent: %w", err)
	}
	if err := a.loadConsentCheckpoints(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("consent: %w", err)
	}
	if err := a.checkChannels(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

// init builds the zorgkit pieces from the configuration and keys. Tests call
// it again after replacing the clock.
func (a *app) init() error {
	if err := a.initAuth(); err != nil {
		return err
	}
	if a.sender == nil {
		a.sender = &outbox{a: a}
	}
	if a.transports == nil {
		t, err := newTransports(a.cfg, a.out)
		if err != nil {
			return err
		}
		a.transports = t
	}

	handles, err := seal.New(a.keys.Session, clientHandleLabel)
	if err != nil {
		return err
	}
	a.handles = handles

	var ring []*pseudonym.Key
	for _, k := range a.keys.Keyring {
		key, err := pseudonym.NewKey(k.ID, k.Secret)
		if err != nil {
			return fmt.Errorf("keyring: %w", err)
		}
		ring = append(ring, key)
	}
	keyring, err := pseudonym.NewKeyring(ring[0], ring[1:]...)
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	a.keyring = keyring
	a.rotated = len(ring) > 1
	if a.field, err = keyring.FieldCipher(""); err != nil {
		return err
	}
	a.pseudonyms.New = func() any {
		p, err := keyring.Pseudonymiser(a.lookupDomain)
		if err != nil {
			panic(err) // the domains in pseudonym_domains are valid
		}
		return p
	}

	a.accessLog = newGroupCommit(a.db, accessLogBatch, a.writeAccessLog, a.metrics.accessLogCommit)
	a.accessLog.delay = accessLogDelay
	a.accessLog.quickStatements = a.dialect == sqlite
	cstore, err := sqlstore.New(a.db, sqlstore.Dialect(a.dialect))
	if err != nil {
		return err
	}
	a.instance = instanceName()
	if a.accessSealer, err = accesslog.NewSealer(accessLogKey(a.keys.ConsentChain)); err != nil {
		return err
	}
	if a.consent, err = consent.New(consentStore{cstore}, consent.Config{Key: a.keys.ConsentChain, Now: a.clock, Instance: a.instance,
		AccessLog: consent.AccessLogFunc(a.logAccess), Logger: a.log}); err != nil {
		return err
	}
	pages, err := parseTemplates(a.funcs())
	if err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	a.pages = pages
	return nil
}

// clock is the time source handed to the zorgkit pieces; tests move it.
func (a *app) clock() time.Time { return a.now() }

// Close commits the access-log entries still waiting (their requests are
// answered after that) and releases the database.
func (a *app) Close() error {
	if a.accessLog != nil {
		a.accessLog.close()
	}
	return a.db.Close()
}

// serve runs the HTTP server until ctx is cancelled, then shuts down
// gracefully: it stops taking connections and jobs, and waits up to 20
// seconds in all for the running requests (which may finish; those still
// running then are cut off), the mail deliveries under way and the running
// job (which stops at its next step and releases its lease) before it
// returns and the database may be closed.
func (a *app) serve(ctx context.Context) error {
	srv := &http.Server{
		Addr:              a.cfg.Addr,
		Handler:           a.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute, // the upload handler extends its own
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	// The requests' context outlives ctx by the shutdown's grace period:
	// a request under way at SIGTERM may finish (a login, the last part of
	// an upload); those still running at the deadline are cut off.
	reqCtx, cutOff := context.WithCancel(context.WithoutCancel(ctx))
	defer cutOff()
	srv.BaseContext = func(net.Listener) context.Context { return reqCtx }
	if a.cfg.TLSCert != "" {
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	l, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return err
	}
	scheme := "http"
	if a.cfg.TLSCert != "" {
		scheme = "https"
	}
	if a.cfg.DebugAddr != "" {
		if err := a.serveDebug(ctx); err != nil {
			l.Close()
			return err
		}
	}
	a.log.Info("listening", "url", scheme+"://"+l.Addr().String(), "policy", a.cfg.Policy, "database", string(a.dialect))
	// The workers stop with ctx, or when the server fails.
	wctx, stopWorkers := context.WithCancel(ctx)
	defer stopWorkers()
	jobsDone := make(chan struct{})
	go func() {
		defer close(jobsDone)
		a.runJobs(wctx)
	}()
	outboxDone := make(chan struct{})
	go func() {
		defer close(outboxDone)
		a.runOutbox(wctx)
	}()

	errc := make(chan error, 1)
	go func() {
		if a.cfg.TLSCert != "" {
			errc <- srv.ServeTLS(l, a.cfg.TLSCert, a.cfg.TLSKey)
		} else {
			errc <- srv.Serve(l)
		}
	}()
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
		a.log.Info("shutting down")
	}
	stopWorkers() // no new job; the running one stops at its next step
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if serveErr == nil {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			a.log.Warn("requests still running at the shutdown deadline are cut off", "err", err)
			cutOff()
			srv.Close()
			serveErr = err
		}
		if err := <-errc; serveErr == nil && !errors.Is(err, http.ErrServerClosed) {
			serveErr = err
		}
	}
	// The messages under way: the database must still record their
	// outcome, or they go out again after the lease.
	select {
	case <-outboxDone:
	case <-shutdownCtx.Done():
		a.log.Warn("outbox: a delivery was still under way at shutdown; it is sent again after its lease")
	}
	// The running job: its last step must roll back and its lease be
	// released before the database closes.
	select {
	case <-jobsDone:
	case <-shutdownCtx.Done():
		a.log.Warn("jobs: a job was still running at shutdown; another instance takes it over after its lease")
	}
	return serveErr
}

// funcs are the template functions.
func (a *app) funcs() template.FuncMap {
	return pageFuncs()
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// config is the portal's configuration, from flags with environment variables
// as fallback.
type config struct {
	Addr         string        // listen address
	DebugAddr    string        // listen address of the profiles and /metrics; empty: none
	MetricsToken string        // bearer token for /metrics on Addr; empty: /metrics only on DebugAddr
	DataDir      string        // SQLite database, generated demo keys
	DatabaseURL  string        // PostgreSQL DSN; empty means SQLite in DataDir
	KeyFile      string        // secrets; generated in demo mode when missing
	Policy       string        // password policy: portero, almere or nist
	Demo         bool          // seed demo data and generate missing keys
	TLSCert      string        // certificate file; TLS when set with TLSKey
	TLSKey       string        // private key file
	JobsAt       string        // time of day (HH:MM, local) of the nightly job
	RunJobsNow   bool          // run the processing job once at start
	IdleTimeout  time.Duration // session idle timeout
	MaxSession   time.Duration // session absolute lifetime
	MaxUpload    int64         // upload size limit in bytes
}

// parseConfig reads the flags in args; a flag not given takes the value of its
// environment variable, then its default.
func parseConfig(args []string, getenv func(string) string) (config, error) {
	var c config
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&c.Addr, "addr", env("ZORGKIT_ADDR", "localhost:8080"), "listen `address` (ZORGKIT_ADDR)")
	fs.StringVar(&c.DebugAddr, "debug-addr", env("ZORGKIT_DEBUG_ADDR", ""), "listen `address` of /metrics and the Go profiles, such as 127.0.0.1:6060; keep it off the public network; empty: none (ZORGKIT_DEBUG_ADDR)")
	metricsTokenFile := fs.String("metrics-token-file", env("ZORGKIT_METRICS_TOKEN_FILE", ""), "`file` with a bearer token of at least 32 characters: /metrics is then also served on the portal's address, to requests with that token (ZORGKIT_METRICS_TOKEN_FILE)")
	fs.StringVar(&c.DataDir, "data", env("ZORGKIT_DATA", "zorgkit-data"), "data `directory` for the SQLite database and demo keys (ZORGKIT_DATA)")
	fs.StringVar(&c.DatabaseURL, "database-url", env("ZORGKIT_DATABASE_URL", ""), "PostgreSQL `DSN`; empty means SQLite in the data directory (ZORGKIT_DATABASE_URL)")
	fs.StringVar(&c.KeyFile, "key-file", env("ZORGKIT_KEY_FILE", ""), "secrets `file` (JSON); default keys.json in the data directory (ZORGKIT_KEY_FILE)")
	fs.StringVar(&c.Policy, "policy", env("ZORGKIT_POLICY", "portero"), "password `policy`: portero, almere or nist (ZORGKIT_POLICY)")
	fs.BoolVar(&c.Demo, "demo", env("ZORGKIT_DEMO", "true") == "true", "seed demo data and generate missing keys (ZORGKIT_DEMO)")
	fs.StringVar(&c.TLSCert, "tls-cert", env("ZORGKIT_TLS_CERT", ""), "TLS certificate `file` (ZORGKIT_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", env("ZORGKIT_TLS_KEY", ""), "TLS private key `file` (ZORGKIT_TLS_KEY)")
	fs.StringVar(&c.JobsAt, "jobs-at", env("ZORGKIT_JOBS_AT", "02:00"), "`time` of day of the nightly processing job (ZORGKIT_JOBS_AT)")
	fs.BoolVar(&c.RunJobsNow, "run-jobs-now", env("ZORGKIT_RUN_JOBS_NOW", "") == "true", "run the processing job once at start (ZORGKIT_RUN_JOBS_NOW)")
	idle := fs.String("session-idle", env("ZORGKIT_SESSION_IDLE", "30m"), "session idle `timeout` (ZORGKIT_SESSION_IDLE)")
	maxSession := fs.String("session-max", env("ZORGKIT_SESSION_MAX", "12h"), "session absolute `lifetime` (ZORGKIT_SESSION_MAX)")
	fs.Int64Var(&c.MaxUpload, "max-upload", 2<<30, "upload size limit in `bytes`")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if c.IdleTimeout, err = time.ParseDuration(*idle); err != nil {
		return config{}, fmt.Errorf("-session-idle: %w", err)
	}
	if c.MaxSession, err = time.ParseDuration(*maxSession); err != nil {
		return config{}, fmt.Errorf("-session-max: %w", err)
	}
	if _, err := time.Parse("15:04", c.JobsAt); err != nil {
		return config{}, fmt.Errorf("-jobs-at %q: want HH:MM", c.JobsAt)
	}
	switch c.Policy {
	case "portero", "almere", "nist":
	default:
		return config{}, fmt.Errorf("-policy %q: want portero, almere or nist", c.Policy)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return config{}, errors.New("-tls-cert and -tls-key go together: give both or neither")
	}
	if *metricsTokenFile != "" {
		b, err := os.ReadFile(*metricsTokenFile)
		if err != nil {
			return config{}, fmt.Errorf("-metrics-token-file: %w", err)
		}
		c.MetricsToken = strings.TrimSpace(string(b))
		if len(c.MetricsToken) < 32 {
			return config{}, errors.New("-metrics-token-file: the token has fewer than 32 characters; generate a random one, for example with: openssl rand -hex 32")
		}
	}
	if c.KeyFile == "" {
		c.KeyFile = filepath.Join(c.DataDir, "keys.json")
	}
	return c, nil
}

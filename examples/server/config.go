package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/zorgkit/zorgkit/examples/server/internal/realip"
)

// config is the portal's configuration, from flags with environment variables
// as fallback.
type config struct {
	Addr         string        // listen address
	DebugAddr    string        // listen address of the profiles and /metrics; empty: none
	MetricsToken string        // bearer token for /metrics on Addr; empty: /metrics only on DebugAddr
	DataDir      string        // SQLite database, generated demo keys
	DatabaseURL  string        // PostgreSQL DSN; empty means SQLite in DataDir
	DBConns      int           // connections to PostgreSQL this instance keeps open, at most
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
	MaxUploads   int           // uploads this instance receives at once, at most

	Lease           time.Duration // how long a dead instance's upload or job waits to be taken over
	UploadIdle      time.Duration // an upload that sends nothing for this long is abandoned
	UploadMinRate   int64         // an upload that sends fewer bytes per second on average is abandoned
	UploadRetention time.Duration // how long a processed upload's rows are kept

	// BaseURL is the address users reach the portal at, such as
	// https://portaal.example.nl: links in messages are built from it,
	// never from the Host header or the listen address. When it is https,
	// cookies are Secure and every answer carries HSTS, also when TLS ends
	// at a reverse proxy in front.
	BaseURL string
	// TrustedProxies are the reverse proxies whose ProxyHeader names the
	// client's address; a request from any other peer is taken from the
	// peer's own address.
	TrustedProxies []netip.Prefix
	ProxyHeader    string // X-Forwarded-For or Forwarded

	// AcceptKeyChange names keys whose new value is accepted over the
	// fingerprint in the database, once (session, code).
	AcceptKeyChange []string

	SMTP smtpConfig
	SMS  smsConfig
}

// smtpConfig is the mail server that delivers e-mail. Without Addr the demo
// prints messages on the console, and -demo=false refuses to start.
type smtpConfig struct {
	Addr     string        // host:port
	TLS      string        // starttls (default), tls, or none (loopback only)
	CAFile   string        // extra CA certificates (PEM) to trust, for an internal relay
	Username string        // authentication, when set
	Password string        // from ZORGKIT_SMTP_PASSWORD or the password file
	From     string        // sender address, such as "Portaal <noreply@portaal.example.nl>"
	Timeout  time.Duration // per connection and command
}

// smsConfig is the HTTP gateway that delivers SMS. Without URL the demo
// prints SMS messages on the console, and outside demo mode users cannot
// choose SMS.
type smsConfig struct {
	URL     string        // the gateway's send endpoint (https)
	Token   string        // bearer token, from ZORGKIT_SMS_TOKEN or the token file
	From    string        // sender name or number
	Timeout time.Duration // per request
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
	dbConns := fs.String("db-conns", env("ZORGKIT_DB_CONNS", strconv.Itoa(postgresConns)), "`connections` to PostgreSQL each instance keeps open, at most; all instances together must stay under the server's max_connections (ZORGKIT_DB_CONNS)")
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
	fs.IntVar(&c.MaxUploads, "max-uploads", 8, fmt.Sprintf("uploads this instance receives at once, at most (an .xlsx is held in memory, up to 128 MB); an organisation has at most %d of them", maxOrgUploads))
	fs.Int64Var(&c.UploadMinRate, "upload-min-rate", 32<<10, "an upload whose client sends fewer `bytes` per second on average (over the time the server waits for it, after -upload-idle) is abandoned; 0: no floor")

	fs.StringVar(&c.BaseURL, "base-url", env("ZORGKIT_BASE_URL", ""), "public `URL` of the portal, such as https://portaal.example.nl; links in messages use it; required with -demo=false (ZORGKIT_BASE_URL)")
	proxies := fs.String("trusted-proxies", env("ZORGKIT_TRUSTED_PROXIES", ""), "comma-separated `addresses` or CIDR ranges of the reverse proxies whose -proxy-header gives the client address (ZORGKIT_TRUSTED_PROXIES)")
	fs.StringVar(&c.ProxyHeader, "proxy-header", env("ZORGKIT_PROXY_HEADER", "X-Forwarded-For"), "`header` in which the trusted proxies pass the client address: X-Forwarded-For or Forwarded (ZORGKIT_PROXY_HEADER)")
	accept := fs.String("accept-key-change", env("ZORGKIT_ACCEPT_KEY_CHANGE", ""), "comma-separated `keys` (session, code) whose change is accepted at this start; every session or pending code ends (ZORGKIT_ACCEPT_KEY_CHANGE)")

	fs.StringVar(&c.SMTP.Addr, "smtp-addr", env("ZORGKIT_SMTP_ADDR", ""), "mail server `host:port` for e-mail; without it the demo prints messages on the console (ZORGKIT_SMTP_ADDR)")
	fs.StringVar(&c.SMTP.TLS, "smtp-tls", env("ZORGKIT_SMTP_TLS", "starttls"), "`mode`: starttls (required), tls (implicit, port 465) or none (loopback only) (ZORGKIT_SMTP_TLS)")
	fs.StringVar(&c.SMTP.CAFile, "smtp-ca-file", env("ZORGKIT_SMTP_CA_FILE", ""), "PEM `file` of CA certificates to trust for the mail server, besides the system's (ZORGKIT_SMTP_CA_FILE)")
	fs.StringVar(&c.SMTP.Username, "smtp-user", env("ZORGKIT_SMTP_USER", ""), "`username` for SMTP authentication (ZORGKIT_SMTP_USER)")
	smtpPasswordFile := fs.String("smtp-password-file", env("ZORGKIT_SMTP_PASSWORD_FILE", ""), "`file` holding the SMTP password; or set ZORGKIT_SMTP_PASSWORD (ZORGKIT_SMTP_PASSWORD_FILE)")
	fs.StringVar(&c.SMTP.From, "mail-from", env("ZORGKIT_MAIL_FROM", ""), "sender `address` of the portal's e-mail; required with -smtp-addr (ZORGKIT_MAIL_FROM)")
	smtpTimeout := fs.String("smtp-timeout", env("ZORGKIT_SMTP_TIMEOUT", "15s"), "`timeout` of connecting to the mail server and of each command (ZORGKIT_SMTP_TIMEOUT)")
	fs.StringVar(&c.SMS.URL, "sms-url", env("ZORGKIT_SMS_URL", ""), "`URL` of the SMS gateway's send endpoint (ZORGKIT_SMS_URL)")
	smsTokenFile := fs.String("sms-token-file", env("ZORGKIT_SMS_TOKEN_FILE", ""), "`file` holding the SMS gateway's bearer token; or set ZORGKIT_SMS_TOKEN (ZORGKIT_SMS_TOKEN_FILE)")
	fs.StringVar(&c.SMS.From, "sms-from", env("ZORGKIT_SMS_FROM", "Portaal"), "`sender` of SMS messages (ZORGKIT_SMS_FROM)")
	smsTimeout := fs.String("sms-timeout", env("ZORGKIT_SMS_TIMEOUT", "15s"), "`timeout` of a request to the SMS gateway (ZORGKIT_SMS_TIMEOUT)")
	lease := fs.String("lease", env("ZORGKIT_LEASE", "30s"), "`time` after which an upload or job of a dead instance is taken over; the heartbeat renews it every third (ZORGKIT_LEASE)")
	uploadIdle := fs.String("upload-idle", env("ZORGKIT_UPLOAD_IDLE", "1m"), "an upload that sends nothing for this `time` is abandoned (ZORGKIT_UPLOAD_IDLE)")
	retention := fs.String("upload-retention", env("ZORGKIT_UPLOAD_RETENTION", "0s"), "how long the pseudonymised rows of a processed upload are kept; 0 purges them once processed (ZORGKIT_UPLOAD_RETENTION)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if c.DBConns, err = strconv.Atoi(*dbConns); err != nil || c.DBConns < 2 || c.DBConns > 1000 {
		return config{}, fmt.Errorf("-db-conns %q: want a number of connections from 2 to 1000", *dbConns)
	}
	if c.IdleTimeout, err = time.ParseDuration(*idle); err != nil {
		return config{}, fmt.Errorf("-session-idle: %w", err)
	}
	if c.MaxSession, err = time.ParseDuration(*maxSession); err != nil {
		return config{}, fmt.Errorf("-session-max: %w", err)
	}
	for _, d := range []struct {
		flag string
		v    string
		to   *time.Duration
		min  time.Duration
	}{{"-lease", *lease, &c.Lease, time.Second}, {"-upload-idle", *uploadIdle, &c.UploadIdle, time.Second}, {"-upload-retention", *retention, &c.UploadRetention, 0}} {
		if *d.to, err = time.ParseDuration(d.v); err != nil || *d.to < d.min {
			return config{}, fmt.Errorf("%s %q: want a duration of at least %v, such as 30s", d.flag, d.v, d.min)
		}
	}
	if c.MaxUploads < 1 {
		return config{}, fmt.Errorf("-max-uploads %d: want 1 or more", c.MaxUploads)
	}
	if c.UploadMinRate < 0 {
		return config{}, fmt.Errorf("-upload-min-rate %d: want bytes per second, 0 or more", c.UploadMinRate)
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
	if c.BaseURL, err = publicURL(c.BaseURL, c.Addr, c.TLSCert != "", c.Demo); err != nil {
		return config{}, err
	}
	if c.TrustedProxies, err = realip.ParsePrefixes(*proxies); err != nil {
		return config{}, fmt.Errorf("-trusted-proxies: %w", err)
	}
	switch strings.ToLower(c.ProxyHeader) {
	case "x-forwarded-for":
		c.ProxyHeader = realip.XForwardedFor
	case "forwarded":
		c.ProxyHeader = realip.Forwarded
	default:
		return config{}, fmt.Errorf("-proxy-header %q: want X-Forwarded-For or Forwarded", c.ProxyHeader)
	}
	for _, k := range strings.Split(*accept, ",") {
		switch k = strings.TrimSpace(k); k {
		case "":
		case "session", "code":
			c.AcceptKeyChange = append(c.AcceptKeyChange, k)
		default:
			return config{}, fmt.Errorf("-accept-key-change %q: only session and code can change (a new pepper, consent chain or keyring key would make stored data unreadable)", k)
		}
	}
	if c.SMTP.Timeout, err = time.ParseDuration(*smtpTimeout); err != nil || c.SMTP.Timeout <= 0 {
		return config{}, fmt.Errorf("-smtp-timeout %q: want a duration such as 15s", *smtpTimeout)
	}
	if c.SMS.Timeout, err = time.ParseDuration(*smsTimeout); err != nil || c.SMS.Timeout <= 0 {
		return config{}, fmt.Errorf("-sms-timeout %q: want a duration such as 15s", *smsTimeout)
	}
	if c.SMTP.Password, err = secretSetting(getenv, "ZORGKIT_SMTP_PASSWORD", *smtpPasswordFile, "-smtp-password-file"); err != nil {
		return config{}, err
	}
	if c.SMS.Token, err = secretSetting(getenv, "ZORGKIT_SMS_TOKEN", *smsTokenFile, "-sms-token-file"); err != nil {
		return config{}, err
	}
	if err := c.SMTP.check(); err != nil {
		return config{}, err
	}
	if err := c.SMS.check(); err != nil {
		return config{}, err
	}
	if !c.Demo {
		var missing []string
		if c.SMTP.Addr == "" {
			missing = append(missing, "-smtp-addr (ZORGKIT_SMTP_ADDR) and -mail-from (ZORGKIT_MAIL_FROM) for a mail server that delivers login codes and reset links")
		}
		if c.BaseURL == "" {
			missing = append(missing, "-base-url (ZORGKIT_BASE_URL), the address users reach the portal at, for the links in messages")
		}
		if len(missing) > 0 {
			return config{}, fmt.Errorf("-demo=false sends real mail and links: set %s. To try the portal without them, leave -demo on", strings.Join(missing, "; and "))
		}
	}
	return c, nil
}

// publicURL checks the configured base URL and returns it as scheme://host.
// Without one, the demo uses its listen address; outside demo mode it stays
// empty (and parseConfig refuses to start).
func publicURL(raw, addr string, tls, demo bool) (string, error) {
	if raw == "" {
		if !demo {
			return "", nil
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return "", fmt.Errorf("-addr %q: %w", addr, err)
		}
		if ip, err := netip.ParseAddr(host); host == "" || (err == nil && ip.IsUnspecified()) {
			host = "localhost"
		}
		scheme := "http"
		if tls {
			scheme = "https"
		}
		return scheme + "://" + net.JoinHostPort(host, port), nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return "", fmt.Errorf("-base-url %q: want an absolute http or https URL such as https://portaal.example.nl", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") || strings.ContainsAny(u.Host, " \t\r\n") {
		return "", fmt.Errorf("-base-url %q: give only scheme, host and port; the portal serves from the root", raw)
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), nil
}

// secretSetting returns a secret from the environment variable, or else from
// the file (without surrounding white space).
func secretSetting(getenv func(string) string, envName, file, flagName string) (string, error) {
	if v := getenv(envName); v != "" {
		return v, nil
	}
	if file == "" {
		return "", nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flagName, err)
	}
	return strings.TrimSpace(string(b)), nil
}

func (c smtpConfig) check() error {
	if c.Addr == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil || host == "" || port == "" {
		return fmt.Errorf("-smtp-addr %q: want host:port, such as smtp.example.nl:587", c.Addr)
	}
	if c.From == "" {
		return errors.New("-smtp-addr needs -mail-from (ZORGKIT_MAIL_FROM): the sender address of the portal's e-mail")
	}
	switch c.TLS {
	case "starttls", "tls":
	case "none":
		if !isLoopback(host) {
			return fmt.Errorf("-smtp-tls none sends codes and passwords in clear: only allowed to a mail server on this machine (loopback), not %q; use starttls or tls", host)
		}
	default:
		return fmt.Errorf("-smtp-tls %q: want starttls, tls or none", c.TLS)
	}
	if (c.Username == "") != (c.Password == "") {
		return errors.New("-smtp-user and the SMTP password (ZORGKIT_SMTP_PASSWORD or -smtp-password-file) go together: give both or neither")
	}
	return nil
}

func (c smsConfig) check() error {
	if c.URL == "" {
		return nil
	}
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		return fmt.Errorf("-sms-url %q: want an https URL (http only on this machine)", c.URL)
	}
	if c.Token == "" {
		return errors.New("-sms-url needs the gateway's token: set ZORGKIT_SMS_TOKEN or -sms-token-file")
	}
	return nil
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

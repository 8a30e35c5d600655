// Command loadtest compares consent-checked client lookups with /healthz on
// the same running portal, side by side, with wrk on loopback.
//
//	go run ./examples/server/loadtest                                   # embedded SQLite
//	go run ./examples/server/loadtest -database-url start -instances 2  # a throwaway PostgreSQL
//	go run ./examples/server/loadtest -database-url 'postgres://…' -instances 2
//
// It builds the example server, starts it on 127.0.0.1 with a fresh data
// directory (SQLite) or a fresh database it creates next to the one the URL
// names (PostgreSQL; the URL's user needs CREATEDB; "start" first starts a
// throwaway cluster), logs the demo user jdevries in (the password and the
// verification code from the demo console), and then runs, for each
// concurrency, wrk against GET /healthz and POST /clients/lookup
// alternately, for a bounded time each. It prints requests per second,
// latency percentiles, errors and timeouts, the servers' CPU time per
// request, and the ratio of lookups to /healthz: the ratio and the CPU time
// are the figures to compare between runs, since absolute rates depend on
// what else the machine is doing. At the end it checks that the access log
// holds an entry for every answered lookup.
//
// With -instances 2 (PostgreSQL only) two servers share the database and the
// session; two wrk processes, one per instance with half the connections
// each, run at once, and their figures are added (the p99 is the larger).
//
// wrk must be on the PATH (Debian: apt-get install -y wrk). Nothing listens
// outside loopback, and everything it started is stopped and removed at the
// end.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/zorgkit/zorgkit/bsn/bsntest"
)

type options struct {
	conns       []int
	duration    time.Duration
	rounds      int
	threads     int
	timeout     time.Duration
	databaseURL string
	instances   int
	server      string
	keep        bool
	profile     string
	serverArgs  []string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	conns := fs.String("c", "16,64", "comma-separated `connections` to run at, each against both endpoints")
	fs.DurationVar(&o.duration, "d", 15*time.Second, "`duration` of each wrk run")
	fs.IntVar(&o.rounds, "rounds", 1, "`rounds`: how often to repeat the alternation at each concurrency (the order turns each round: healthz first, then lookup first; a summary line gives the ratio of all rounds)")
	fs.IntVar(&o.threads, "t", 2, "wrk `threads` per wrk process")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Second, "wrk's request `timeout`: a slower answer counts as a timeout")
	fs.StringVar(&o.databaseURL, "database-url", "", "PostgreSQL `URL`; a fresh database is created beside it and dropped at the end; \"start\" starts a throwaway cluster on loopback (Debian's postgresql package) for the run (empty: SQLite)")
	fs.IntVar(&o.instances, "instances", 1, "server `instances` sharing the database (more than 1 only with PostgreSQL)")
	fs.StringVar(&o.server, "server", "", "server `binary` to run; empty builds ./examples/server")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (server logs, database)")
	fs.StringVar(&o.profile, "cpuprofile", "", "write a CPU `profile` of the first instance during the first lookup run (needs the server's -debug-addr)")
	extra := fs.String("server-args", "", "extra `arguments` for the server, space-separated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, s := range strings.Split(*conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-c %q: want numbers such as 16,64", *conns)
		}
		o.conns = append(o.conns, n)
	}
	if o.instances < 1 || o.instances > 1 && o.databaseURL == "" {
		return errors.New("-instances above 1 needs -database-url: SQLite is one process's database")
	}
	if o.duration <= 0 || o.duration > 5*time.Minute {
		return errors.New("-d: want a duration up to 5m")
	}
	if *extra != "" {
		o.serverArgs = strings.Fields(*extra)
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk is not on the PATH: install it (Debian: apt-get install -y wrk)")
	}

	tmp, err := os.MkdirTemp("", "zorgkit-loadtest-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(out, "temporary directory:", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	if o.server == "" {
		o.server = filepath.Join(tmp, "server")
		build := exec.CommandContext(ctx, "go", "build", "-o", o.server, "github.com/zorgkit/zorgkit/examples/server")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building the server: %w", err)
		}
	}

	dbURL := ""
	if o.databaseURL == "start" {
		base, stop, err := startPostgres(ctx, tmp)
		if err != nil {
			return err
		}
		defer stop()
		o.databaseURL = base
	}
	if o.databaseURL != "" {
		var drop func()
		dbURL, drop, err = freshPostgres(ctx, o.databaseURL)
		if err != nil {
			return err
		}
		defer drop()
	}

	var servers []*server
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	for i := range o.instances {
		s, err := startServer(ctx, o, tmp, i, dbURL)
		if err != nil {
			return err
		}
		servers = append(servers, s)
	}
	pw := servers[0].password
	if pw == "" {
		return errors.New("the server printed no demo password for jdevries: is the database new?")
	}
	cookie, err := login(ctx, servers[0], "jdevries", pw)
	if err != nil {
		return fmt.Errorf("logging in: %w", err)
	}
	scripts, err := writeScripts(tmp, cookie)
	if err != nil {
		return err
	}

	db := "SQLite"
	if dbURL != "" {
		db = "PostgreSQL"
	}
	fmt.Fprintf(out, "zorgkit load test: %s, %d instance(s), %s, GOMAXPROCS of this machine %d, %s\n",
		db, o.instances, runtime.Version(), runtime.NumCPU(), commit(ctx))
	fmt.Fprintf(out, "load before: %s\n", loadavg())
	fmt.Fprintf(out, "wrk -t%d -d%s --timeout %s; lookup = POST /clients/lookup of a known BSN, logged in as jdevries\n\n",
		o.threads, o.duration, o.timeout)
	fmt.Fprintf(out, "%-8s %-5s %10s %9s %9s %9s %7s %8s %9s  %s\n", "endpoint", "conns", "req/s", "p50", "p99", "max", "errors", "timeouts", "cpu/req", "ratio")
	profiled := o.profile == ""
	var totalLookups int64
	for _, c := range o.conns {
		var sum roundsSum
		for round := range o.rounds {
			var health, lookups result
			// Round by round the order turns (healthz, lookup; lookup,
			// healthz; …), so that a machine getting busier or quieter
			// during the run does not favour one endpoint.
			order := []string{"healthz", "lookup"}
			if round%2 == 1 {
				order = []string{"lookup", "healthz"}
			}
			for _, ep := range order {
				if err := ctx.Err(); err != nil {
					return err
				}
				var stopProfile func() error
				if ep == "lookup" && !profiled {
					profiled = true
					if stopProfile, err = servers[0].startProfile(ctx, o.duration, o.profile); err != nil {
						return err
					}
				}
				cpu0 := cpuTime(servers)
				r, err := runWrk(ctx, o, servers, c, ep, scripts[ep])
				if err != nil {
					return err
				}
				cpu := cpuTime(servers) - cpu0
				if stopProfile != nil {
					if err := stopProfile(); err != nil {
						return err
					}
				}
				ratio := ""
				if ep == "healthz" {
					health = r
				} else {
					lookups = r
					totalLookups += r.requests - r.bad
				}
				if ep == order[1] && health.rps() > 0 {
					ratio = fmt.Sprintf("%.3f × healthz", lookups.rps()/health.rps())
				}
				perReq := "?"
				if cpu >= 0 && r.requests > 0 {
					perReq = fmt.Sprintf("%.0fµs", float64(cpu.Microseconds())/float64(r.requests))
				}
				fmt.Fprintf(out, "%-8s %-5d %10.0f %9s %9s %9s %7d %8d %9s  %s\n", ep, c, r.rps(), ms(r.p50), ms(r.p99), ms(r.max), r.errors(), r.timeouts, perReq, ratio)
			}
			sum.add(health, lookups)
		}
		if o.rounds > 1 {
			fmt.Fprintf(out, "c%d, %d rounds: %s\n", c, o.rounds, sum)
		}
	}
	fmt.Fprintf(out, "\nload after: %s\n", loadavg())
	fmt.Fprintln(out, "cpu/req: the servers' CPU time (user and system) during the run, per request")
	// Every answered lookup must be in the access log.
	logged, err := countAccessLog(ctx, tmp, dbURL)
	if err != nil {
		fmt.Fprintf(out, "access log not counted: %v\n", err)
	} else {
		fmt.Fprintf(out, "access log: %d entries for %d answered lookups\n", logged, totalLookups)
		if logged < totalLookups {
			return fmt.Errorf("the access log has %d entries, fewer than the %d lookups answered", logged, totalLookups)
		}
	}
	for _, s := range servers {
		if sum, count, err := s.metric(ctx, "zorgkit_access_log_batch_entries"); err == nil && count > 0 {
			fmt.Fprintf(out, "instance %d: %.0f access-log entries in %.0f group commits (%.1f per commit)\n", s.index+1, sum, count, sum/count)
		}
	}
	// Where a stall would show: a commit that took long (a slow fsync), or
	// writers queued behind one.
	for _, s := range servers {
		over, count, err := s.slow(ctx, "zorgkit_access_log_write_seconds", "1")
		if err != nil || count == 0 {
			continue
		}
		waits, _, err := s.slow(ctx, "zorgkit_sqlite_write_lock_wait_seconds", "1")
		if err != nil {
			waits = 0 // PostgreSQL: no process write lock
		}
		fmt.Fprintf(out, "instance %d: %.0f of %.0f access-log writes took over 1 s; %.0f SQLite writes waited over 1 s for the write lock\n",
			s.index+1, over, count, waits)
	}
	for _, s := range servers {
		if n := s.errorLines(); n > 0 {
			fmt.Fprintf(out, "instance %d logged %d errors (see its log with -keep)\n", s.index+1, n)
		}
	}
	return nil
}

// server is one running instance of the example server.
type server struct {
	index    int
	cmd      *exec.Cmd
	url      string      // http://127.0.0.1:port
	debug    string      // http://127.0.0.1:port of -debug-addr, if any
	password string      // jdevries's demo password (first instance only)
	codes    chan string // verification codes for jdevries, from the demo console

	mu     sync.Mutex
	errors int
	done   chan struct{}
}

var (
	listeningRE = regexp.MustCompile(`msg=listening url=(http://127\.0\.0\.1:\d+)`)
	debugRE     = regexp.MustCompile(`msg="?debug listening"? url=(http://127\.0\.0\.1:\d+)`)
	passwordRE  = regexp.MustCompile(`^\s*jdevries\s.*password: (\S+)`)
)

// startServer starts instance i on a free loopback port and waits until it
// listens.
func startServer(ctx context.Context, o options, tmp string, i int, dbURL string) (*server, error) {
	data := filepath.Join(tmp, fmt.Sprintf("data%d", i+1))
	args := []string{"-addr", "127.0.0.1:0", "-data", data, "-demo=true", "-key-file", filepath.Join(tmp, "keys.json")}
	if dbURL != "" {
		args = append(args, "-database-url", dbURL)
	}
	args = append(args, o.serverArgs...)
	cmd := exec.Command(o.server, args...)
	cmd.Env = append(os.Environ(), "ZORGKIT_DEBUG_ADDR=127.0.0.1:0")
	logFile, err := os.Create(filepath.Join(tmp, fmt.Sprintf("server%d.log", i+1)))
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the server: %w", err)
	}
	s := &server{index: i, cmd: cmd, done: make(chan struct{}), codes: make(chan string, 8)}
	ready := make(chan struct{})
	go func() {
		defer close(s.done)
		defer logFile.Close()
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		signalled, codeNext := false, false
		for sc.Scan() {
			line := sc.Text()
			logFile.WriteString(line + "\n")
			// The demo prints each message on the console; a code for
			// jdevries is on the line after its header.
			if codeNext {
				if code := codeRE.FindString(line); code != "" {
					select {
					case s.codes <- code:
					default:
					}
				}
			}
			codeNext = strings.Contains(line, "DEMO OUTBOX: Verificatiecode for jdevries ")
			s.mu.Lock()
			if m := passwordRE.FindStringSubmatch(line); m != nil {
				s.password = m[1]
			}
			if m := debugRE.FindStringSubmatch(line); m != nil {
				s.debug = m[1]
			}
			if m := listeningRE.FindStringSubmatch(line); m != nil && !signalled {
				s.url, signalled = m[1], true
				close(ready)
			}
			// wrk drops its connections at the end of a run, cancelling
			// the requests in flight: those are not the server's errors.
			if strings.Contains(line, "level=ERROR") && !strings.Contains(line, "context canceled") {
				s.errors++
			}
			s.mu.Unlock()
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case <-ready:
		s.mu.Lock()
		defer s.mu.Unlock()
		return s, nil
	case <-s.done:
		cmd.Wait()
		return nil, fmt.Errorf("the server stopped before it listened; its output is in %s", logFile.Name())
	case <-time.After(5 * time.Minute):
		s.stop()
		return nil, errors.New("the server did not listen within 5 minutes")
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
}

func (s *server) errorLines() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errors
}

// stop ends the server gracefully, or kills it after 30 seconds.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	_ = s.cmd.Wait()
}

// startProfile collects a CPU profile from the server's debug listener
// while the next wrk run goes on; the returned function waits for it.
func (s *server) startProfile(ctx context.Context, d time.Duration, path string) (func() error, error) {
	if s.debug == "" {
		return nil, errors.New("-cpuprofile: the server has no debug listener (-debug-addr)")
	}
	secs := int(d.Seconds()) - 1
	if secs < 1 {
		secs = 1
	}
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", s.debug, secs), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			errc <- err
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			errc <- fmt.Errorf("profile: %s", resp.Status)
			return
		}
		f, err := os.Create(path)
		if err != nil {
			errc <- err
			return
		}
		_, err = io.Copy(f, resp.Body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		errc <- err
	}()
	return func() error { return <-errc }, nil
}

// metric returns the _sum and _count of a histogram on the server's
// /metrics (on its debug address).
func (s *server) metric(ctx context.Context, name string) (sum, count float64, err error) {
	m, err := s.metrics(ctx)
	if err != nil {
		return 0, 0, err
	}
	return m[name+"_sum"], m[name+"_count"], nil
}

// slow returns how many observations of a histogram on the server's
// /metrics took longer than the bucket le (such as "1"), and how many
// there were.
func (s *server) slow(ctx context.Context, name, le string) (over, count float64, err error) {
	m, err := s.metrics(ctx)
	if err != nil {
		return 0, 0, err
	}
	within, ok := m[name+`_bucket{le="`+le+`"}`]
	if !ok {
		return 0, 0, fmt.Errorf("%s has no bucket %s", name, le)
	}
	return m[name+"_count"] - within, m[name+"_count"], nil
}

// metrics fetches the server's /metrics (on its debug address).
func (s *server) metrics(ctx context.Context) (map[string]float64, error) {
	if s.debug == "" {
		return nil, errors.New("no debug listener")
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.debug+"/metrics", nil)
	body, err := do(http.DefaultClient, req)
	if err != nil {
		return nil, err
	}
	return parseMetrics(body), nil
}

// parseMetrics reads the samples of Prometheus's text format: each series
// as written (name and labels) with its value. Comments and lines it cannot
// read are left out.
func parseMetrics(body string) map[string]float64 {
	m := make(map[string]float64)
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i <= 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		m[line[:i]] = v
	}
	return m
}

var codeRE = regexp.MustCompile(`\b\d{6}\b`)

// login logs username in, with the verification code from the demo
// console, and returns the Cookie header of its session.
func login(ctx context.Context, s *server, username, password string) (string, error) {
	base := s.url
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: time.Minute}
	post := func(path string, form url.Values) (string, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return do(c, req)
	}
	if _, err := post("/login", url.Values{"username": {username}, "password": {password}}); err != nil {
		return "", err
	}
	var code string
	select {
	case code = <-s.codes:
	case <-time.After(time.Minute):
		return "", errors.New("no verification code on the demo console within a minute")
	case <-ctx.Done():
		return "", ctx.Err()
	}
	body, err := post("/login/code", url.Values{"code": {code}})
	if err != nil {
		return "", err
	}
	if !strings.Contains(body, `id="whoami"`) {
		return "", errors.New("the verification code did not log in")
	}
	u, _ := url.Parse(base)
	var parts []string
	for _, ck := range jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.Join(parts, "; "), nil
}

func do(c *http.Client, req *http.Request) (string, error) {
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s %s: %s", req.Method, req.URL.Path, resp.Status)
	}
	return string(b), nil
}

// The wrk scripts print one machine-readable line at the end. A lookup
// that does not answer 200 (a redirect to the login page, a refusal)
// counts as bad: wrk itself counts only statuses from 400 up.
const reportLua = `
local threads = {}
function setup(thread) table.insert(threads, thread) end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + (t:get("bad") or 0) end
  local e = summary.errors
  io.write(string.format("ZORGKIT %d %d %d %d %d %d %d %d %d %d %d\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, bad,
    latency:percentile(50), latency:percentile(99), latency.max))
end
`

func writeScripts(dir, cookie string) (map[string]string, error) {
	var bsns []string
	for _, n := range bsntest.TestPersons() {
		bsns = append(bsns, strconv.Quote(n.Digits()))
	}
	lookup := fmt.Sprintf(`
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = %s
local bsns = {%s}
local i = 0
bad = 0
function request()
  i = i + 1
  return wrk.format(nil, "/clients/lookup", nil, "bsn=" .. bsns[i %% #bsns + 1])
end
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
`, strconv.Quote(cookie), strings.Join(bsns, ", ")) + reportLua
	healthz := `
bad = 0
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
` + reportLua
	scripts := map[string]string{}
	for name, body := range map[string]string{"lookup": lookup, "healthz": healthz} {
		path := filepath.Join(dir, name+".lua")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			return nil, err
		}
		scripts[name] = path
	}
	return scripts, nil
}

// result is what one or more simultaneous wrk runs measured.
// roundsSum adds up the rounds at one concurrency: the ratio of all
// lookups to all /healthz requests (each per second of its own runs) is
// steadier than any one round's, whose two runs may meet a busier and a
// quieter moment of a shared machine.
type roundsSum struct {
	health, lookups result
	ratios          []float64
}

func (s *roundsSum) add(health, lookups result) {
	s.health.requests += health.requests
	s.health.duration += health.duration
	s.lookups.requests += lookups.requests
	s.lookups.duration += lookups.duration
	if health.rps() > 0 {
		s.ratios = append(s.ratios, lookups.rps()/health.rps())
	}
}

func (s roundsSum) String() string {
	if s.health.rps() == 0 || len(s.ratios) == 0 {
		return "no /healthz requests answered"
	}
	r := slices.Clone(s.ratios)
	slices.Sort(r)
	return fmt.Sprintf("healthz %.0f/s, lookups %.0f/s, lookups ÷ healthz %.3f (rounds %.3f–%.3f, median %.3f)",
		s.health.rps(), s.lookups.rps(), s.lookups.rps()/s.health.rps(), r[0], r[len(r)-1], median(r))
}

// median of sorted values.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

type result struct {
	requests, bad                          int64
	duration                               time.Duration
	connect, read, write, status, timeouts int64
	p50, p99, max                          time.Duration
}

func (r result) rps() float64 {
	if r.duration <= 0 {
		return 0
	}
	return float64(r.requests) / r.duration.Seconds()
}

func (r result) errors() int64 { return r.connect + r.read + r.write + r.status + r.bad }

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

// runWrk runs wrk against every server at once, dividing the connections.
func runWrk(ctx context.Context, o options, servers []*server, conns int, endpoint, script string) (result, error) {
	path := "/healthz"
	if endpoint == "lookup" {
		path = "/clients/lookup"
	}
	results := make([]result, len(servers))
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		c := conns / len(servers)
		if i < conns%len(servers) {
			c++
		}
		t := min(o.threads, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, "wrk", "-t", strconv.Itoa(t), "-c", strconv.Itoa(c), "-d", o.duration.String(),
				"--timeout", o.timeout.String(), "-s", script, s.url+path)
			b, err := cmd.CombinedOutput()
			if err != nil {
				errs[i] = fmt.Errorf("wrk: %w\n%s", err, b)
				return
			}
			results[i], errs[i] = parseWrk(string(b))
		}()
	}
	wg.Wait()
	var sum result
	for i, r := range results {
		if errs[i] != nil {
			return result{}, errs[i]
		}
		sum.requests += r.requests
		sum.bad += r.bad
		sum.duration = max(sum.duration, r.duration)
		sum.connect += r.connect
		sum.read += r.read
		sum.write += r.write
		sum.status += r.status
		sum.timeouts += r.timeouts
		sum.p50 = max(sum.p50, r.p50)
		sum.p99 = max(sum.p99, r.p99)
		sum.max = max(sum.max, r.max)
	}
	return sum, nil
}

func parseWrk(out string) (result, error) {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 12 || f[0] != "ZORGKIT" {
			continue
		}
		var v [11]int64
		for i := range v {
			n, err := strconv.ParseFloat(f[i+1], 64)
			if err != nil {
				return result{}, fmt.Errorf("wrk's report %q: %w", line, err)
			}
			v[i] = int64(n)
		}
		us := time.Microsecond
		return result{requests: v[0], duration: time.Duration(v[1]) * us, connect: v[2], read: v[3], write: v[4], status: v[5],
			timeouts: v[6], bad: v[7], p50: time.Duration(v[8]) * us, p99: time.Duration(v[9]) * us, max: time.Duration(v[10]) * us}, nil
	}
	return result{}, fmt.Errorf("no report in wrk's output:\n%s", out)
}

// freshPostgres creates an empty database beside the one base names and
// returns its URL and a function that drops it.
func freshPostgres(ctx context.Context, base string) (string, func(), error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("-database-url: %w", err)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	name := fmt.Sprintf("zorgkit_load_%d", time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("creating a database for the load test: %w", err)
	}
	u.Path = "/" + name
	drop := func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(dctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest: dropping", name+":", err)
		}
		admin.Close()
	}
	return u.String(), drop, nil
}

// startPostgres starts a throwaway PostgreSQL cluster in dir on a free
// loopback port, as .ci/run does (fsync off: the figures are the portal's,
// not the disk's), and returns its URL and a function that stops it.
func startPostgres(ctx context.Context, dir string) (string, func(), error) {
	initdbs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(initdbs) == 0 {
		return "", nil, errors.New("-database-url start: no PostgreSQL found (Debian: apt-get install -y postgresql)")
	}
	sort.Strings(initdbs)
	bin := filepath.Dir(initdbs[len(initdbs)-1])
	data := filepath.Join(dir, "pg")
	if err := os.Mkdir(data, 0o700); err != nil {
		return "", nil, err
	}
	user, asUser := "", func(ctx context.Context, name string, args ...string) *exec.Cmd {
		return exec.CommandContext(ctx, name, args...)
	}
	if os.Geteuid() == 0 { // initdb refuses to run as root
		user = "postgres"
		if err := exec.CommandContext(ctx, "chown", "-R", "postgres:", dir).Run(); err != nil {
			return "", nil, fmt.Errorf("chown %s to postgres: %w", dir, err)
		}
		asUser = func(ctx context.Context, name string, args ...string) *exec.Cmd {
			return exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
		}
	} else if u, err := osUser(); err == nil {
		user = u
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	run := func(cmd *exec.Cmd) error {
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, out)
		}
		return nil
	}
	if err := run(asUser(ctx, filepath.Join(bin, "initdb"), "-D", filepath.Join(data, "data"), "-U", user, "-A", "trust", "--no-sync", "--locale=C.UTF-8", "--encoding=UTF8")); err != nil {
		return "", nil, err
	}
	pgctl := filepath.Join(bin, "pg_ctl")
	if err := run(asUser(ctx, pgctl, "-D", filepath.Join(data, "data"), "-l", filepath.Join(data, "log"), "-w", "-o",
		fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c max_connections=200", port, data), "start")); err != nil {
		return "", nil, err
	}
	stop := func() {
		_ = asUser(context.Background(), pgctl, "-D", filepath.Join(data, "data"), "-m", "fast", "-w", "stop").Run()
	}
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/postgres?sslmode=disable", user, port), stop, nil
}

func osUser() (string, error) {
	u, err := user.Current()
	if err != nil {
		return "", err
	}
	return u.Username, nil
}

// countAccessLog counts the access-log entries of the test's database.
func countAccessLog(ctx context.Context, tmp, dbURL string) (int64, error) {
	driver, dsn := "sqlite", "file:"+filepath.Join(tmp, "data1", "zorgkit.db")+"?mode=ro&_pragma=busy_timeout(10000)"
	if dbURL != "" {
		driver, dsn = "pgx", dbURL
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int64
	err = db.QueryRowContext(ctx, `SELECT COUNT(*) FROM access_log`).Scan(&n)
	return n, err
}

// cpuTime returns the CPU time (user and system) the servers have used so
// far, from /proc (Linux; elsewhere -1). Per request it is a steadier figure
// than the rate on a machine shared with other work: it counts what a
// request costs, not how much of the machine it got.
func cpuTime(servers []*server) time.Duration {
	var total time.Duration
	for _, s := range servers {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
		if err != nil {
			return -1
		}
		// The fields after the command name, which is in parentheses:
		// utime and stime are the 12th and 13th, in clock ticks (100 a
		// second on Linux).
		rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
		f := strings.Fields(rest)
		if len(f) < 13 {
			return -1
		}
		for _, v := range f[11:13] {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return -1
			}
			total += time.Duration(n) * 10 * time.Millisecond
		}
	}
	return total
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return "load average " + strings.Join(f[:3], ", ")
}

func commit(ctx context.Context) string {
	b, err := exec.CommandContext(ctx, "git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return "commit unknown"
	}
	return "commit " + strings.TrimSpace(string(b))
}

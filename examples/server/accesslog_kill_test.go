//go:build linux

package main

import (
	"bufio"
	"context"
	"database/sql"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/bsn/bsntest"
)

// TestAccessLogSurvivesKill runs the portal in a process of its own, has
// clients look up clients at full speed, kills the process with SIGKILL in
// the middle, and then counts the access log: every lookup that was answered
// must be in it. An entry may be there for a lookup whose answer the kill
// cut off; the reverse would mean an answer left before its entry was
// committed.
func TestAccessLogSurvivesKill(t *testing.T) {
	if args := os.Getenv("ZORGKIT_TEST_PORTAL_ARGS"); args != "" {
		// The helper process: the portal, until it is killed.
		err := run(context.Background(), strings.Fields(args), func(string) string { return "" }, os.Stdout)
		t.Fatalf("the portal stopped: %v", err)
	}
	if testing.Short() {
		t.Skip("starts a process")
	}
	tmpl := seededTemplate(t)
	dir := t.TempDir()
	for _, name := range []string{"zorgkit.db", "keys.json"} {
		b, err := os.ReadFile(filepath.Join(tmpl.dir, name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAccessLogSurvivesKill$")
	cmd.Env = append(os.Environ(), "ZORGKIT_TEST_PORTAL_ARGS=-data "+dir+" -addr 127.0.0.1:0")
	// The helper dies with the test process, whatever ends it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	listening := regexp.MustCompile(`msg=listening url=(http://127\.0\.0\.1:\d+)`)
	urls, codes := make(chan string, 1), make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(stdout)
		codeNext := false
		for sc.Scan() {
			line := sc.Text()
			if m := listening.FindStringSubmatch(line); m != nil {
				urls <- m[1]
			}
			if code := codeRE.FindString(line); codeNext && code != "" {
				codes <- code
			}
			codeNext = strings.Contains(line, "DEMO OUTBOX: Verificatiecode for jdevries ")
		}
	}()
	var base string
	select {
	case base = <-urls:
	case <-time.After(time.Minute):
		t.Fatal("the portal did not start")
	}

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.PostForm(base+"/login", url.Values{"username": {"jdevries"}, "password": {tmpl.passwords["jdevries"]}})
	require.NoError(t, err)
	resp.Body.Close()
	var code string
	select {
	case code = <-codes:
	case <-time.After(time.Minute):
		t.Fatal("no verification code on the console")
	}
	resp, err = c.PostForm(base+"/login/code", url.Values{"code": {code}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "zorgkit.db")+"?_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	defer db.Close()
	countLog := func() int {
		var n int
		require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM access_log`).Scan(&n))
		return n
	}
	before := countLog()

	// Lookups from 8 clients, until the kill.
	var answered atomic.Int64
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	persons := bsntest.TestPersons()
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; ctx.Err() == nil; j++ {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/clients/lookup",
					strings.NewReader(url.Values{"bsn": {persons[(i+j)%len(persons)].Digits()}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := c.Do(req)
				if err != nil {
					return // the kill
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					answered.Add(1)
				}
			}
		}()
	}
	for deadline := time.Now().Add(time.Minute); answered.Load() < 40; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("only %d lookups answered in a minute", answered.Load())
		}
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	stop()
	wg.Wait()

	logged := countLog() - before
	t.Logf("%d lookups answered before the kill, %d logged", answered.Load(), logged)
	assert.GreaterOrEqual(t, int64(logged), answered.Load(), "every answered lookup is in the access log")
}

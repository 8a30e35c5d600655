// Package webdriver is a minimal W3C WebDriver client, enough to drive a
// headless Chromium through chromedriver in the example server's browser
// test. It speaks plain HTTP and JSON, so it needs nothing beyond the
// standard library and the Debian packages chromium and chromium-driver.
package webdriver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// ErrNotInstalled means chromedriver or chromium is not on this machine.
var ErrNotInstalled = errors.New("webdriver: chromedriver or chromium not found (apt-get install chromium chromium-driver)")

// elementKey is the W3C name of the element reference in JSON.
const elementKey = "element-6066-11e4-a52e-4f735466cecf"

// Driver is a running chromedriver process.
type Driver struct {
	cmd  *exec.Cmd
	base string
	hc   *http.Client
}

// Start starts chromedriver on a free loopback port and waits until it is
// ready.
func Start(ctx context.Context, chromedriver string) (*Driver, error) {
	if _, err := exec.LookPath(chromedriver); err != nil {
		return nil, ErrNotInstalled
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(chromedriver, "--port="+strconv.Itoa(port), "--allowed-ips=127.0.0.1")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("webdriver: start chromedriver: %w", err)
	}
	d := &Driver{cmd: cmd, base: "http://127.0.0.1:" + strconv.Itoa(port), hc: &http.Client{Timeout: 60 * time.Second}}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var status struct {
			Ready bool `json:"ready"`
		}
		if err := d.do(ctx, http.MethodGet, "/status", nil, &status); err == nil && status.Ready {
			return d, nil
		}
		if time.Now().After(deadline) {
			d.Close()
			return nil, errors.New("webdriver: chromedriver did not become ready in 20s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Close stops chromedriver.
func (d *Driver) Close() error {
	if d.cmd.Process != nil {
		_ = d.cmd.Process.Kill()
	}
	_ = d.cmd.Wait()
	return nil
}

// Session is one browser.
type Session struct {
	d  *Driver
	id string
}

// NewSession starts a headless Chromium from the binary at path.
func (d *Driver) NewSession(ctx context.Context, chromium string) (*Session, error) {
	if _, err := os.Stat(chromium); err != nil {
		return nil, ErrNotInstalled
	}
	caps := map[string]any{
		"capabilities": map[string]any{
			"alwaysMatch": map[string]any{
				"browserName": "chrome",
				"goog:chromeOptions": map[string]any{
					"binary": chromium,
					// No network beyond loopback here: keep Chromium from
					// trying (background networking, updates, sync).
					"args": []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
						"--disable-quic", "--no-first-run", "--disable-background-networking",
						"--disable-component-update", "--disable-sync", "--window-size=1280,900"},
				},
			},
		},
	}
	var resp struct {
		SessionID string `json:"sessionId"`
	}
	if err := d.do(ctx, http.MethodPost, "/session", caps, &resp); err != nil {
		return nil, err
	}
	s := &Session{d: d, id: resp.SessionID}
	// Finding an element waits up to 10 s for it to appear: a click that
	// submits a form returns before the next page has loaded.
	if err := s.cmd(ctx, http.MethodPost, "/timeouts", map[string]int{"implicit": 10_000}, nil); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close ends the browser session.
func (s *Session) Close() error {
	return s.d.do(context.Background(), http.MethodDelete, "/session/"+s.id, nil, nil)
}

// Navigate opens url.
func (s *Session) Navigate(ctx context.Context, url string) error {
	return s.cmd(ctx, http.MethodPost, "/url", map[string]string{"url": url}, nil)
}

// URL returns the current address.
func (s *Session) URL(ctx context.Context) (string, error) {
	var u string
	err := s.cmd(ctx, http.MethodGet, "/url", nil, &u)
	return u, err
}

// Source returns the current page's HTML.
func (s *Session) Source(ctx context.Context) (string, error) {
	var src string
	err := s.cmd(ctx, http.MethodGet, "/source", nil, &src)
	return src, err
}

// Screenshot returns a PNG of the viewport.
func (s *Session) Screenshot(ctx context.Context) ([]byte, error) {
	var b64 string
	if err := s.cmd(ctx, http.MethodGet, "/screenshot", nil, &b64); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(b64)
}

// Element is an element of the current page.
type Element struct {
	s  *Session
	id string
}

// Find returns the first element matching the CSS selector, waiting up to
// 10 seconds for one to appear.
func (s *Session) Find(ctx context.Context, css string) (*Element, error) {
	var ref map[string]string
	if err := s.cmd(ctx, http.MethodPost, "/element", map[string]string{"using": "css selector", "value": css}, &ref); err != nil {
		return nil, fmt.Errorf("find %q: %w", css, err)
	}
	return &Element{s: s, id: ref[elementKey]}, nil
}

// Type types text into the element (for a file input: a path to upload).
func (e *Element) Type(ctx context.Context, text string) error {
	return e.s.cmd(ctx, http.MethodPost, "/element/"+e.id+"/value", map[string]string{"text": text}, nil)
}

// Clear empties an input.
func (e *Element) Clear(ctx context.Context) error {
	return e.s.cmd(ctx, http.MethodPost, "/element/"+e.id+"/clear", map[string]any{}, nil)
}

// Click clicks the element.
func (e *Element) Click(ctx context.Context) error {
	return e.s.cmd(ctx, http.MethodPost, "/element/"+e.id+"/click", map[string]any{}, nil)
}

// ClickAndWait clicks the element and waits up to 10 seconds for the page
// to be replaced, as after submitting a form: without the wait, a Find right
// after the click could see the old page.
func (e *Element) ClickAndWait(ctx context.Context) error {
	page, err := e.s.Find(ctx, "html")
	if err != nil {
		return err
	}
	if err := e.Click(ctx); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var tag string
		err := e.s.cmd(ctx, http.MethodGet, "/element/"+page.id+"/name", nil, &tag)
		if err != nil && strings.Contains(err.Error(), "stale element reference") {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("webdriver: the page did not change within 10s of the click")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Text returns the element's rendered text.
func (e *Element) Text(ctx context.Context) (string, error) {
	var t string
	err := e.s.cmd(ctx, http.MethodGet, "/element/"+e.id+"/text", nil, &t)
	return t, err
}

// Execute runs a script in the page as the body of a function called with
// args, and decodes what it returns into out (nil: ignored). The script runs
// outside the page's Content Security Policy, as an extension's would.
func (s *Session) Execute(ctx context.Context, script string, args []any, out any) error {
	if args == nil {
		args = []any{}
	}
	return s.cmd(ctx, http.MethodPost, "/execute/sync", map[string]any{"script": script, "args": args}, out)
}

// ExecuteAsync runs a script like Execute, with one more argument: the
// callback through which the script returns its result, at most 30 seconds
// later.
func (s *Session) ExecuteAsync(ctx context.Context, script string, args []any, out any) error {
	if args == nil {
		args = []any{}
	}
	return s.cmd(ctx, http.MethodPost, "/execute/async", map[string]any{"script": script, "args": args}, out)
}

// SetViewport makes the page's layout viewport width by height CSS pixels
// (through the DevTools protocol, since a window cannot be made that
// narrow), as a phone or a 400% zoom would; width 0 restores the window's
// own.
func (s *Session) SetViewport(ctx context.Context, width, height int) error {
	if width == 0 {
		return s.devtools(ctx, "Emulation.clearDeviceMetricsOverride", map[string]any{})
	}
	return s.devtools(ctx, "Emulation.setDeviceMetricsOverride",
		map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false})
}

// devtools sends a DevTools protocol command through chromedriver.
func (s *Session) devtools(ctx context.Context, cmd string, params map[string]any) error {
	return s.cmd(ctx, http.MethodPost, "/goog/cdp/execute", map[string]any{"cmd": cmd, "params": params}, nil)
}

// PressKey presses and releases a key on the keyboard, such as Tab, Enter
// or Escape: the W3C codes in the constants below, or a character.
func (s *Session) PressKey(ctx context.Context, key string) error {
	actions := map[string]any{"actions": []any{map[string]any{
		"type": "key", "id": "keyboard",
		"actions": []any{map[string]any{"type": "keyDown", "value": key}, map[string]any{"type": "keyUp", "value": key}},
	}}}
	return s.cmd(ctx, http.MethodPost, "/actions", actions, nil)
}

// Keys for PressKey (W3C WebDriver, "keyboard actions").
const (
	Tab   = "\uE004"
	Enter = "\uE007"
)

// Active returns the element that has the focus.
func (s *Session) Active(ctx context.Context) (*Element, error) {
	var ref map[string]string
	if err := s.cmd(ctx, http.MethodGet, "/element/active", nil, &ref); err != nil {
		return nil, err
	}
	return &Element{s: s, id: ref[elementKey]}, nil
}

// Attribute returns the element's attribute name, or "" without it.
func (e *Element) Attribute(ctx context.Context, name string) (string, error) {
	var v *string
	if err := e.s.cmd(ctx, http.MethodGet, "/element/"+e.id+"/attribute/"+name, nil, &v); err != nil {
		return "", err
	}
	if v == nil {
		return "", nil
	}
	return *v, nil
}

func (s *Session) cmd(ctx context.Context, method, path string, body, out any) error {
	return s.d.do(ctx, method, "/session/"+s.id+path, body, out)
}

// do sends a WebDriver command and decodes the "value" of the answer into
// out.
func (d *Driver) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.hc.Do(req)
	if err != nil {
		return fmt.Errorf("webdriver: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	var env struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&env); err != nil {
		return fmt.Errorf("webdriver: %s %s: decode: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var werr struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(env.Value, &werr)
		return fmt.Errorf("webdriver: %s %s: %s: %s", method, path, werr.Error, werr.Message)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(env.Value, out)
}

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// securityHeaders sets the headers every response carries: no inline script,
// no framing, no MIME sniffing, no referrer leaving the site, no copy in any
// cache (pages show personal data); with hsts, HTTPS only from now on.
func securityHeaders(next http.Handler, hsts bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if hsts {
			h.Set("Strict-Transport-Security", hstsHeader)
		}
		h.Set("Content-Security-Policy", contentSecurityPolicy("'self'"))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// contentSecurityPolicy is the portal's policy, with styleSrc as the
// sources of style sheets: "'self'" for every page but the printable
// quality report (see allowStyleOf).
func contentSecurityPolicy(styleSrc string) string {
	return "default-src 'self'; script-src 'self'; style-src " + styleSrc + "; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// allowStyleOf lets page, a document with its style sheet inline (the
// printable quality report of pseudonym.Report.WriteHTML, a file of its
// own that can be saved and printed), use that style and no other: the
// policy names the style element's content by its hash.
func allowStyleOf(h http.Header, page []byte) {
	_, rest, ok := bytes.Cut(page, []byte("<style>"))
	css, _, closed := bytes.Cut(rest, []byte("</style>"))
	if !ok || !closed {
		return
	}
	sum := sha256.Sum256(css)
	h.Set("Content-Security-Policy", contentSecurityPolicy("'self' 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'"))
}

// maxFormBody bounds what a request other than an upload may send: forms
// and JSON of a few fields. Without it a form body is parsed up to 10 MB
// into memory, by anyone, before the login is even checked.
const maxFormBody = 64 << 10

// limitBodies caps the body of every request but the upload, which sets its
// own limit (-max-upload).
func limitBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !(r.Method == http.MethodPost && r.URL.Path == "/uploads") {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		}
		next.ServeHTTP(w, r)
	})
}

// staticFiles serves the files of fsys under /static/, and nothing else: a
// directory is not found, so never listed. They hold no personal data, so
// they may be cached for an hour.
func staticFiles(fsys fs.FS) http.Handler {
	files := http.StripPrefix("/static/", http.FileServerFS(filesOnly{fsys}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// filesOnly is fsys without its directories.
type filesOnly struct{ fs.FS }

func (f filesOnly) Open(name string) (fs.File, error) {
	file, err := f.FS.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := file.Stat(); err != nil || st.IsDir() {
		file.Close()
		return nil, fs.ErrNotExist
	}
	return file, nil
}

// statusRecorder remembers the status code for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests logs one line per request. It logs the path, never the query
// string or the body: a BSN travels only in POST bodies, and stays there.
func (a *app) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if v := recover(); v != nil {
				a.log.ErrorContext(r.Context(), "panic", "value", v, "stack", string(debug.Stack()))
				http.Error(rec, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			}
			d := time.Since(start)
			a.log.InfoContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path,
				"status", rec.status, "duration", d.Round(time.Microsecond))
			// The ServeMux has set the pattern it matched on r itself.
			a.metrics.request(r.Pattern, rec.status, d)
		}()
		next.ServeHTTP(rec, r)
	})
}

// render executes the named page template with data into a buffer first, so
// that a template error becomes a clean 500 instead of half a page.
func (a *app) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	buf, err := a.renderPage(r, page, data)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	sendPage(w, status, buf)
}

// renderPage executes the named page template with data into a pooled
// buffer, for sendPage (or putPageBuffer, if it is not sent).
func (a *app) renderPage(r *http.Request, page string, data any) (*bytes.Buffer, error) {
	buf := pageBuffers.Get().(*bytes.Buffer)
	d := pageData{Page: data, View: a.viewOf(r)}
	// The client page, on every lookup, is written without the template
	// engine: the same bytes at a fraction of the cost (clientpage.go).
	if page != "clients" || !writeClientsPage(buf, d) {
		if err := a.pages[page].ExecuteTemplate(buf, "layout", d); err != nil {
			putPageBuffer(buf)
			return nil, err
		}
	}
	return buf, nil
}

// sendPage writes a page rendered by renderPage with the status, and
// returns its buffer to the pool.
func sendPage(w http.ResponseWriter, status int, buf *bytes.Buffer) {
	defer putPageBuffer(buf)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// With the length known the page goes out in one piece, not chunked.
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// pageBuffers keeps the buffers pages are rendered into: a page is some
// kilobytes, and growing a new buffer to that size for every request is
// garbage the collector has to chase.
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putPageBuffer(b *bytes.Buffer) {
	if b.Cap() > 1<<20 {
		return // an exceptional page: let it go
	}
	b.Reset()
	pageBuffers.Put(b)
}

// renderJSON writes v as JSON with the status.
func (a *app) renderJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// serverError logs err and answers 500 without details.
func (a *app) serverError(w http.ResponseWriter, r *http.Request, err error) {
	a.log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	http.Error(w, "Er ging iets mis. Probeer het later opnieuw. (Something went wrong. Try again later.)", http.StatusInternalServerError)
}

// pageData is what every template receives: the page's own data, and the
// view of who is looking.
type pageData struct {
	Page any
	View view
}

// view is the part of the session the layout shows.
type view struct {
	User    *user
	Org     *organisation
	Notices []string
	Demo    bool          // demo mode: the outbox stand-in exists
	Menu    []menuItem    // only after the full login
	Session *sessionClock // when the session ends, for the warning before
}

type ctxKey int

const (
	ctxUser ctxKey = iota
	ctxSession
)

// viewOf returns the view of the request's user, if logged in.
// Before the second factor the user is not logged in: the page shows no
// name, organisation or menu.
func (a *app) viewOf(r *http.Request) view {
	u, _ := r.Context().Value(ctxUser).(*user)
	if u == nil || sessionFrom(r.Context()).Stage == stageCode {
		return view{}
	}
	v := view{User: u, Org: u.Org, Notices: u.notices, Demo: a.cfg.Demo}
	if s := sessionFrom(r.Context()); s.Stage == stageFull {
		v.Menu = a.menuFor(u, r.URL.Path)
		next := "/"
		if r.Method == http.MethodGet {
			next = r.URL.RequestURI()
		}
		v.Session = a.sessionClock(s, next)
	}
	return v
}

func userFrom(ctx context.Context) *user {
	u, _ := ctx.Value(ctxUser).(*user)
	return u
}

func sessionFrom(ctx context.Context) session {
	s, _ := ctx.Value(ctxSession).(session)
	return s
}

// parseTemplates parses each page together with the layout.
func parseTemplates(funcs template.FuncMap) (map[string]*template.Template, error) {
	pages, err := templateFS.ReadDir("templates")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, p := range pages {
		name := p.Name()
		if name == "layout.html" || strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html", "templates/"+name)
		if err != nil {
			return nil, err
		}
		out[name[:len(name)-len(".html")]] = t
	}
	if len(out) == 0 {
		return nil, errors.New("no templates")
	}
	return out, nil
}

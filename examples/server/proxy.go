package main

import (
	"context"
	"net/http"
	"net/netip"
	"strings"

	"github.com/zorgkit/zorgkit/examples/server/internal/realip"
)

// Behind a reverse proxy the portal learns two things from configuration,
// never from the request: its public address (-base-url), from which every
// link in a message is built, and which peers are its proxies
// (-trusted-proxies), whose forwarding header names the client. A Host or
// X-Forwarded-Host header changes nothing.

// baseURL is the portal's public address, such as https://portaal.example.nl.
func (a *app) baseURL() string { return a.cfg.BaseURL }

// secureCookies reports whether the browser reaches the portal over HTTPS:
// TLS in this process, or the public URL (TLS ending at a proxy in front).
func (a *app) secureCookies() bool {
	return a.cfg.TLSCert != "" || strings.HasPrefix(a.cfg.BaseURL, "https://")
}

// hstsHeader is the Strict-Transport-Security value of an HTTPS portal: a
// year, for its subdomains too. It is not preloaded: that is the operator's
// decision for the whole domain.
const hstsHeader = "max-age=31536000; includeSubDomains"

type ctxClientAddr struct{}

// withClientAddr works out the client's address once per request, for the
// throttle: the peer's, or the one the trusted proxies name (package
// realip says how, and why from the right).
func (a *app) withClientAddr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := realip.Client(r.RemoteAddr, a.cfg.ProxyHeader, r.Header.Values(a.cfg.ProxyHeader), a.cfg.TrustedProxies)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxClientAddr{}, addr)))
	})
}

// clientIP returns the client's address as withClientAddr found it.
func clientIP(r *http.Request) string {
	addr, ok := r.Context().Value(ctxClientAddr{}).(netip.Addr)
	if !ok {
		addr = realip.Client(r.RemoteAddr, "", nil, nil)
	}
	if !addr.IsValid() {
		return r.RemoteAddr
	}
	return addr.String()
}

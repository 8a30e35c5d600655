package main

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
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
// throttle and the logs.
func (a *app) withClientAddr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := clientAddress(r.RemoteAddr, r.Header.Values(a.cfg.ProxyHeader), a.cfg.ProxyHeader, a.cfg.TrustedProxies)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxClientAddr{}, addr)))
	})
}

// clientIP returns the client's address as withClientAddr found it.
func clientIP(r *http.Request) string {
	if addr, ok := r.Context().Value(ctxClientAddr{}).(string); ok {
		return addr
	}
	return peerAddr(r.RemoteAddr)
}

// peerAddr is the address of the connection's other end.
func peerAddr(remote string) string {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap().String()
	}
	return remote
}

// clientAddress returns the address of the client: the peer's own, unless the
// peer is a trusted proxy. Then it walks the forwarding header from the
// right, the hop the proxy added, past the proxies it trusts, and takes the
// first address it does not trust: everything left of that was written by
// the client and proves nothing. A hop it cannot read (unknown, obfuscated,
// garbage) ends the walk at the last trusted address.
func clientAddress(remote string, values []string, header string, trusted []netip.Prefix) string {
	peer, err := netip.ParseAddrPort(remote)
	if err != nil || !isTrusted(peer.Addr(), trusted) {
		return peerAddr(remote)
	}
	addr := peer.Addr().Unmap()
	hops := forwardedHops(values, header)
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			break
		}
		addr = hop
		if !isTrusted(hop, trusted) {
			break
		}
	}
	return addr.String()
}

func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	ip = ip.Unmap()
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// forwardedHops lists the hops of the header's values, left to right: the
// elements of X-Forwarded-For, or the for= parameters of Forwarded (RFC
// 7239), where an element without one counts as an unreadable hop.
func forwardedHops(values []string, header string) []string {
	var hops []string
	for _, v := range values {
		for _, elem := range strings.Split(v, ",") {
			elem = strings.TrimSpace(elem)
			if header != "Forwarded" {
				hops = append(hops, elem)
				continue
			}
			hop := ""
			for _, pair := range strings.Split(elem, ";") {
				k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "for") {
					hop = strings.Trim(strings.TrimSpace(v), `"`)
				}
			}
			hops = append(hops, hop)
		}
	}
	return hops
}

// parseHop reads one hop: an IPv4 or IPv6 address, perhaps with a port, IPv6
// perhaps in brackets.
func parseHop(s string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(s); err == nil {
		return ip.Unmap(), ip.Zone() == ""
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), ap.Addr().Zone() == ""
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if ip, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && ip.Is6() && ip.Zone() == "" {
			return ip, true
		}
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		if ip, err := netip.ParseAddr(host); err == nil && ip.Zone() == "" {
			return ip.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// Package realip finds the address of the client behind trusted reverse
// proxies, for per-client throttling.
//
// A request's own peer is the client, unless the peer is one of the proxies
// the operator configured. Then the proxy's forwarding header names the
// client: X-Forwarded-For, or Forwarded (RFC 7239). Each proxy appends the
// address it received the request from, so the header is read from the
// right: past the trusted proxies, the first address that is not one of them
// is the client. Everything to the left of it was written by the client (or
// whatever it connected through) and proves nothing; taking the leftmost
// entry, as many frameworks do, lets any client choose its own address. A
// hop that cannot be read (a garbled entry, "unknown", an obfuscated
// identifier) ends the walk at the last trusted address: it is never taken
// as a client address that could be chosen.
package realip

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// The forwarding headers Client reads.
const (
	XForwardedFor = "X-Forwarded-For" // de facto standard: "client, proxy1, proxy2"
	Forwarded     = "Forwarded"       // RFC 7239: "for=client;proto=https, for=proxy1"
)

// ErrPrefix is a trusted proxy that is not an IP address or CIDR range.
var ErrPrefix = errors.New("realip: want an IP address or CIDR range such as 10.0.0.0/8")

// Client returns the client's address: the peer's own (remote is
// http.Request.RemoteAddr), unless the peer is in trusted; then the first
// address from the right of the header's values that is not in trusted.
// header is XForwardedFor or Forwarded. The address is IPv4 where the
// peer or hop is an IPv4-mapped IPv6 address.
func Client(remote string, header string, values []string, trusted []netip.Prefix) netip.Addr {
	peer, ok := parseHop(remote)
	if !ok || !contains(trusted, peer) {
		return peer
	}
	addr := peer
	hops := forwardedHops(header, values)
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			break
		}
		addr = hop
		if !contains(trusted, hop) {
			break
		}
	}
	return addr
}

func contains(trusted []netip.Prefix, ip netip.Addr) bool {
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// forwardedHops lists the hops of the header's values, left to right: the
// elements of X-Forwarded-For, or the for= parameters of Forwarded, where an
// element without one is a hop that cannot be read.
func forwardedHops(header string, values []string) []string {
	var hops []string
	for _, v := range values {
		for _, elem := range strings.Split(v, ",") {
			elem = strings.TrimSpace(elem)
			if header != Forwarded {
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

// parseHop reads one address: IPv4 or IPv6, perhaps with a port, IPv6
// perhaps in brackets. An address with a zone is no client address.
func parseHop(s string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(s); err == nil {
		return ip.Unmap(), ip.Zone() == ""
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), ap.Addr().Zone() == ""
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if ip, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && ip.Is6() {
			return ip.Unmap(), ip.Zone() == ""
		}
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		if ip, err := netip.ParseAddr(host); err == nil {
			return ip.Unmap(), ip.Zone() == ""
		}
	}
	return netip.Addr{}, false
}

// ParsePrefixes parses a comma-separated list of IP addresses and CIDR
// ranges, as an operator writes the trusted proxies.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil || p.Addr().Zone() != "" {
				return nil, fmt.Errorf("%w: %q", ErrPrefix, f)
			}
			if p.Addr().Is4In6() {
				p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
			}
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(f)
		if err != nil || ip.Zone() != "" {
			return nil, fmt.Errorf("%w: %q", ErrPrefix, f)
		}
		ip = ip.Unmap()
		out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return out, nil
}

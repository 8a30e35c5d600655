package realip

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClient(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	tests := []struct {
		name   string
		remote string
		header string
		values []string
		want   string
	}{
		{"direct client", "198.51.100.1:5000", XForwardedFor, nil, "198.51.100.1"},
		{"direct client forging the header", "198.51.100.1:5000", XForwardedFor, []string{"203.0.113.5"}, "198.51.100.1"},
		{"one proxy", "10.0.0.2:443", XForwardedFor, []string{"203.0.113.5"}, "203.0.113.5"},
		{"forged hop left of the real one", "10.0.0.2:443", XForwardedFor, []string{"1.2.3.4, 203.0.113.5"}, "203.0.113.5"},
		{"two proxies", "10.0.0.2:443", XForwardedFor, []string{"203.0.113.5, 10.1.1.1"}, "203.0.113.5"},
		{"several header lines", "10.0.0.2:443", XForwardedFor, []string{"1.2.3.4", "203.0.113.5, 10.1.1.1"}, "203.0.113.5"},
		{"only proxies", "10.0.0.2:443", XForwardedFor, []string{"10.9.9.9, 10.1.1.1"}, "10.9.9.9"},
		{"no header from the proxy", "10.0.0.2:443", XForwardedFor, nil, "10.0.0.2"},
		{"garbage at the right", "10.0.0.2:443", XForwardedFor, []string{"203.0.113.5, garbage"}, "10.0.0.2"},
		{"empty hop at the right", "10.0.0.2:443", XForwardedFor, []string{"203.0.113.5,"}, "10.0.0.2"},
		{"garbage behind a trusted hop", "10.0.0.2:443", XForwardedFor, []string{"garbage, 10.1.1.1"}, "10.1.1.1"},
		{"hop with port", "10.0.0.2:443", XForwardedFor, []string{"203.0.113.5:6000"}, "203.0.113.5"},
		{"IPv6 hop", "10.0.0.2:443", XForwardedFor, []string{"2001:db8::7"}, "2001:db8::7"},
		{"IPv6 hop in brackets", "10.0.0.2:443", XForwardedFor, []string{"[2001:db8::7]"}, "2001:db8::7"},
		{"IPv6 proxy", "[2001:db8:ffff::1]:443", XForwardedFor, []string{"203.0.113.5"}, "203.0.113.5"},
		{"IPv4-mapped peer", "[::ffff:10.0.0.2]:443", XForwardedFor, []string{"203.0.113.5"}, "203.0.113.5"},
		{"IPv4-mapped hop", "10.0.0.2:443", XForwardedFor, []string{"::ffff:203.0.113.5"}, "203.0.113.5"},
		{"zone is no address", "10.0.0.2:443", XForwardedFor, []string{"fe80::1%eth0"}, "10.0.0.2"},
		{"Forwarded", "10.0.0.2:443", Forwarded, []string{`for=1.2.3.4, for="[2001:db8::7]:4711";proto=https`}, "2001:db8::7"},
		{"Forwarded, case of the parameter", "10.0.0.2:443", Forwarded, []string{`For=203.0.113.5`}, "203.0.113.5"},
		{"Forwarded, obfuscated hop", "10.0.0.2:443", Forwarded, []string{`for=203.0.113.5, for=_hidden`}, "10.0.0.2"},
		{"Forwarded, unknown hop", "10.0.0.2:443", Forwarded, []string{`for=203.0.113.5, for=unknown`}, "10.0.0.2"},
		{"Forwarded without for", "10.0.0.2:443", Forwarded, []string{`proto=https`}, "10.0.0.2"},
		{"unreadable peer", "@", XForwardedFor, []string{"203.0.113.5"}, "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Client(tt.remote, tt.header, tt.values, proxies).String())
		})
	}
}

func TestParsePrefixes(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // nil: an error
	}{
		{"empty", "", []string{}},
		{"addresses and ranges", "10.0.0.0/8, 192.168.1.7,::1", []string{"10.0.0.0/8", "192.168.1.7/32", "::1/128"}},
		{"a range written with host bits", "10.1.2.3/8", []string{"10.0.0.0/8"}},
		{"IPv4-mapped", "::ffff:10.0.0.1", []string{"10.0.0.1/32"}},
		{"IPv4-mapped range", "::ffff:10.0.0.0/104", []string{"10.0.0.0/8"}},
		{"a host name", "proxy.example", nil},
		{"a bad range", "10.0.0.0/33", nil},
		{"a zone", "fe80::1%eth0", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePrefixes(tt.in)
			if tt.want == nil {
				assert.ErrorIs(t, err, ErrPrefix)
				return
			}
			require.NoError(t, err)
			s := []string{}
			for _, p := range got {
				s = append(s, p.String())
			}
			assert.Equal(t, tt.want, s)
		})
	}
}

// FuzzClient: whatever the header says, the answer is the peer when the
// peer is no proxy, the proxy's own hop when that is readable, and always
// an address.
func FuzzClient(f *testing.F) {
	for _, s := range []string{"203.0.113.5", "1.2.3.4, 10.1.1.1", "garbage", `for="[2001:db8::7]:4711"`, "", ",,,", "[::1]:80", "for=;for="} {
		f.Add(s, true)
		f.Add(s, false)
	}
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	f.Fuzz(func(t *testing.T, header string, forwarded bool) {
		name := XForwardedFor
		if forwarded {
			name = Forwarded
		}
		if got := Client("198.51.100.1:5000", name, []string{header}, proxies); got.String() != "198.51.100.1" {
			t.Fatalf("untrusted peer: got %v", got)
		}
		if got := Client("10.0.0.2:443", XForwardedFor, []string{header + ", 203.0.113.5"}, proxies); got.String() != "203.0.113.5" {
			t.Fatalf("the proxy's own hop is 203.0.113.5: got %v from %q", got, header)
		}
		if got := Client("10.0.0.2:443", name, []string{header}, proxies); !got.IsValid() {
			t.Fatalf("not an address from %q", header)
		}
	})
}

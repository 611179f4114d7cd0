package reqlog

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientAddress(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		proxies    []netip.Prefix
		want       string
	}{
		{"no proxies configured: the header is ignored", "203.0.113.9:5000", []string{"198.51.100.1"}, nil, "203.0.113.9"},
		{"untrusted peer: the header is ignored", "203.0.113.9:5000", []string{"198.51.100.1"}, proxies, "203.0.113.9"},
		{"trusted proxy: the address it received from", "10.0.0.2:5000", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
		{"a client's forged entry stays to the left", "10.0.0.2:5000", []string{"1.1.1.1, 198.51.100.1"}, proxies, "198.51.100.1"},
		{"chained trusted proxies are skipped", "10.0.0.2:5000", []string{"198.51.100.1, 10.0.0.7", "10.0.0.8"}, proxies, "198.51.100.1"},
		{"IPv6 loopback proxy", "[::1]:5000", []string{"2001:db8::1"}, proxies, "2001:db8::1"},
		{"junk hop: the last vouched-for address", "10.0.0.2:5000", []string{"198.51.100.1, not-an-ip"}, proxies, "10.0.0.2"},
		{"no header from a trusted proxy: the proxy", "10.0.0.2:5000", nil, proxies, "10.0.0.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tc.peer, Header: http.Header{}}
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := ClientAddress(r, tc.proxies); got != tc.want {
				t.Errorf("ClientAddress = %q, want %q", got, tc.want)
			}
		})
	}
}

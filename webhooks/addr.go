package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"linli/apperr"
)

// ErrAddressNotAllowed is the cause when a webhook's host is (or resolves
// to) an address linli does not send to.
var ErrAddressNotAllowed = errors.New("address not allowed")

// cgnat is the shared address space carriers use (RFC 6598): not the
// Internet either.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// thisNetwork is 0.0.0.0/8 ("this network", RFC 1122), of which only
// 0.0.0.0 counts as unspecified.
var thisNetwork = netip.MustParsePrefix("0.0.0.0/8")

// Refused reports whether ip is loopback, link-local, private (RFC 1918,
// fc00::/7, the carriers' shared space), multicast or unspecified: an
// address inside the deployment's own network, where a webhook could
// reach services that trust it (metadata endpoints, the database, admin
// pages). IPv4-mapped IPv6 addresses are judged as IPv4.
func Refused(ip netip.Addr) bool {
	ip = ip.Unmap()
	return !ip.IsValid() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsPrivate() || ip.IsUnspecified() ||
		cgnat.Contains(ip) || thisNetwork.Contains(ip)
}

// MaxURLBytes bounds a webhook's URL.
const MaxURLBytes = 2000

// CheckURL validates a webhook URL at registration: http or https, a
// host, no user information; unless allowPrivate, the host must not be
// (or resolve to) a refused address. Dial time checks again (Dialer), so a
// name that later resolves elsewhere (DNS rebinding) gets nowhere.
func CheckURL(ctx context.Context, raw string, allowPrivate bool, resolver *net.Resolver) (*url.URL, error) {
	if len(raw) > MaxURLBytes {
		return nil, apperr.Invalid("url", "a webhook URL is at most %d bytes", MaxURLBytes)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return nil, apperr.Invalid("url", "a webhook URL is an absolute http or https URL")
	}
	if u.User != nil {
		return nil, apperr.Invalid("url", "a webhook URL carries no user name or password")
	}
	if allowPrivate {
		return u, nil
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		if Refused(ip) {
			return nil, refused(host)
		}
		return u, nil
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return nil, refused(host)
	}
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := resolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return nil, apperr.Invalid("url", "the webhook's host %q does not resolve", host)
	}
	for _, a := range addrs {
		if Refused(a) {
			return nil, refused(host)
		}
	}
	return u, nil
}

func refused(host string) error {
	return &apperr.Error{Code: apperr.AddressNotAllowed, Field: "url", Err: ErrAddressNotAllowed,
		Message: fmt.Sprintf("webhooks may not point at %s: loopback, link-local, private and unspecified addresses are refused", host)}
}

// Dialer is a net.Dialer whose every connection is checked after name
// resolution, on the very address it connects to: a webhook host that
// resolved to a public address at registration and to a private one now
// is refused at connect time.
func Dialer(allowPrivate bool) *net.Dialer {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrAddressNotAllowed, address)
			}
			if Refused(ap.Addr()) {
				return fmt.Errorf("%w: %s", ErrAddressNotAllowed, ap.Addr())
			}
			return nil
		}
	}
	return d
}

// Client is the HTTP client deliveries go through: the checking dialer,
// no proxy from the environment (a proxy would connect for us, past the
// check), no redirects (a redirect could point inside), a timeout.
func Client(allowPrivate bool, timeout time.Duration) *http.Client {
	t := &http.Transport{
		Proxy:                 nil,
		DialContext:           Dialer(allowPrivate).DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: timeout,
		MaxIdleConns:          20,
		IdleConnTimeout:       60 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport:     t,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

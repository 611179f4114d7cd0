package webhooks

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"linli/apperr"
)

func TestRefused(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "127.8.9.10": true, "::1": true, // loopback
		"10.1.2.3": true, "172.16.0.1": true, "172.31.255.255": true, "192.168.1.1": true, "fd00::1": true, // private
		"169.254.169.254": true, "fe80::1": true, // link-local (cloud metadata)
		"0.0.0.0": true, "::": true, "0.1.2.3": true, // unspecified, this network
		"100.64.0.1": true, "224.0.0.1": true, "ff02::1": true, // carriers' shared space, multicast
		"::ffff:127.0.0.1": true, "::ffff:10.0.0.1": true, // IPv4-mapped
		"8.8.8.8": false, "172.32.0.1": false, "203.0.113.9": false, "2001:4860:4860::8888": false, "100.128.0.1": false,
	} {
		if got := Refused(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Refused(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	ctx := context.Background()
	for raw, code := range map[string]apperr.Code{
		"https://203.0.113.9/hook":        "",
		"http://203.0.113.9:8080/x?y=1":   "",
		"ftp://203.0.113.9/":              apperr.ValidationFailed,
		"/relative":                       apperr.ValidationFailed,
		"https://user:pw@203.0.113.9/":    apperr.ValidationFailed,
		"https:opaque":                    apperr.ValidationFailed,
		"http://127.0.0.1:9/":             apperr.AddressNotAllowed,
		"http://[::1]/":                   apperr.AddressNotAllowed,
		"http://169.254.169.254/latest/":  apperr.AddressNotAllowed,
		"http://10.0.0.5/":                apperr.AddressNotAllowed,
		"http://0.0.0.0/":                 apperr.AddressNotAllowed,
		"http://localhost:8080/":          apperr.AddressNotAllowed,
		"http://api.localhost/":           apperr.AddressNotAllowed,
		"http://[::ffff:192.168.0.1]:80/": apperr.AddressNotAllowed,
	} {
		_, err := CheckURL(ctx, raw, false, nil)
		var got apperr.Code
		if e, ok := apperr.As(err); ok {
			got = e.Code
			if e.Field != "url" {
				t.Errorf("%s: field %q, want url", raw, e.Field)
			}
		} else if err != nil {
			t.Fatalf("%s: uncoded error %v", raw, err)
		}
		if got != code {
			t.Errorf("CheckURL(%s): %q, want %q", raw, got, code)
		}
	}
	if _, err := CheckURL(ctx, "http://127.0.0.1:9/", true, nil); err != nil {
		t.Fatalf("allowed private: %v", err)
	}
}

// The dial-time check: whatever a name resolved to at registration, the
// client refuses to connect to a refused address (here the loopback a
// test server listens on), and follows no redirect.
func TestClientRefusesAtDialTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/", http.StatusFound)
	}))
	defer srv.Close()
	_, err := Client(false, 2*time.Second).Get(srv.URL)
	if !errors.Is(err, ErrAddressNotAllowed) {
		t.Fatalf("dial to %s: %v, want ErrAddressNotAllowed", srv.URL, err)
	}
	// A name, resolved by the dialer, is checked on the address it gets.
	_, err = Client(false, 2*time.Second).Get("http://localhost:" + srv.URL[len("http://127.0.0.1:"):])
	if !errors.Is(err, ErrAddressNotAllowed) {
		t.Fatalf("dial to localhost: %v, want ErrAddressNotAllowed", err)
	}
	resp, err := Client(true, 2*time.Second).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("redirect followed: %d", resp.StatusCode)
	}
}

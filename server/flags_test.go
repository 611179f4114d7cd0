package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// -require-phone-verification (and LINLI_REQUIRE_PHONE_VERIFICATION) reach
// the running server: register then asks for a code.
func TestRequirePhoneVerificationFlag(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  string
		want bool
	}{
		{"default", nil, "", false},
		{"flag", []string{"-require-phone-verification"}, "", true},
		{"environment", nil, "1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("LINLI_REQUIRE_PHONE_VERIFICATION", tc.env)
			addr := freePort(t)
			done := make(chan error, 1)
			args := append([]string{"-addr", addr, "-database-url", filepath.Join(t.TempDir(), "linli.db"), "-demo=false", "-log-level", "error"}, tc.args...)
			go func() { done <- run(args) }()
			defer func() {
				_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
				if err := <-done; err != nil {
					t.Errorf("server: %v", err)
				}
			}()
			var got struct {
				Data struct{ PhoneVerificationRequired bool }
			}
			deadline := time.Now().Add(30 * time.Second)
			for {
				resp, err := http.Post("http://"+addr+"/graphql", "application/json", strings.NewReader(`{"query":"{ phoneVerificationRequired }"}`))
				if err == nil {
					err = json.NewDecoder(resp.Body).Decode(&got)
					resp.Body.Close()
					if err == nil {
						break
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("no answer: %v", err)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if got.Data.PhoneVerificationRequired != tc.want {
				t.Errorf("phoneVerificationRequired %v, want %v", got.Data.PhoneVerificationRequired, tc.want)
			}
		})
	}
}

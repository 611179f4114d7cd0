package app

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"linli/trusted"
)

// settingValue is a value other than the default for s, as a flag would
// spell it, and what it parses to.
func settingValue(t *testing.T, s setting) (string, any) {
	t.Helper()
	switch s.flag {
	case "log-level":
		return "warn", "warn"
	case "metrics-token":
		return "a-metrics-token-of-32-characters", "a-metrics-token-of-32-characters"
	case "trusted-documents":
		path := filepath.Join(t.TempDir(), "manifest.json")
		doc := `query Q { __typename }`
		data, _ := json.Marshal(map[string]string{trusted.Hash(doc): doc})
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path, path
	case "data-dir":
		dir := filepath.Join(t.TempDir(), "data")
		return dir, dir
	case "id-key":
		return "an-id-key-of-24-characters", "an-id-key-of-24-characters"
	case "trusted-proxies":
		return "10.0.0.0/8,192.0.2.7", "10.0.0.0/8,192.0.2.7"
	}
	switch p := s.value.(type) {
	case *string:
		return "x-" + s.flag, "x-" + s.flag
	case *bool:
		return fmt.Sprint(!*p), !*p
	case *int:
		return fmt.Sprint(*p + 7), *p + 7
	case *int64:
		return fmt.Sprint(*p + 7), *p + 7
	case *float64:
		return fmt.Sprint(*p + 1.5), *p + 1.5
	case *time.Duration:
		return (*p + 1500*time.Millisecond).String(), *p + 1500*time.Millisecond
	}
	t.Fatalf("setting %s: no test value for %T", s.flag, s.value)
	return "", nil
}

// configured is the value of the setting named flag after configure(args).
func configured(t *testing.T, name string, args []string) any {
	t.Helper()
	cfg, o, err := configure(args)
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(args, " "), err)
	}
	for _, s := range settingsOf(&cfg, &o) {
		if s.flag == name {
			return reflect.ValueOf(s.value).Elem().Interface()
		}
	}
	t.Fatalf("no setting %s", name)
	return nil
}

// TestEverySetting: every row of the settings table is a flag and an
// environment variable that set its field; the flag wins over the variable;
// a variable that does not parse stops the server, naming it.
func TestEverySetting(t *testing.T) {
	cfg, o := defaults()
	list := settingsOf(&cfg, &o)
	flags, envs := map[string]bool{}, map[string]bool{}
	for _, s := range list {
		if flags[s.flag] || envs[s.env] {
			t.Fatalf("setting %s/%s twice", s.flag, s.env)
		}
		flags[s.flag], envs[s.env] = true, true
		t.Run(s.flag, func(t *testing.T) {
			t.Setenv(s.env, "")
			spelt, want := settingValue(t, s)
			if got := configured(t, s.flag, []string{"-" + s.flag + "=" + spelt}); !reflect.DeepEqual(got, want) {
				t.Errorf("-%s=%s set %v, want %v", s.flag, spelt, got, want)
			}
			t.Setenv(s.env, spelt)
			if got := configured(t, s.flag, nil); !reflect.DeepEqual(got, want) {
				t.Errorf("%s=%s set %v, want %v", s.env, spelt, got, want)
			}
			def := reflect.ValueOf(s.value).Elem().Interface()
			if _, isString := def.(string); !isString || def != "" {
				if got := configured(t, s.flag, []string{"-" + s.flag + "=" + fmt.Sprint(def)}); !reflect.DeepEqual(got, def) {
					t.Errorf("-%s=%v under %s=%s set %v: the flag does not win", s.flag, def, s.env, spelt, got)
				}
			}
			if _, isString := def.(string); !isString {
				t.Setenv(s.env, "not-a-value")
				if _, _, err := configure(nil); err == nil || !strings.Contains(err.Error(), s.env) {
					t.Errorf("%s=not-a-value: %v, want an error naming it", s.env, err)
				}
			}
			if s.positive {
				t.Setenv(s.env, "")
				if _, _, err := configure([]string{"-" + s.flag + "=0"}); err == nil || !strings.Contains(err.Error(), s.flag) {
					t.Errorf("-%s=0 was accepted: %v", s.flag, err)
				}
			}
		})
	}
	// The settings the README's table lists, by the names.
	for _, name := range []string{"db-max-conns", "data-dir", "max-body-bytes", "body-timeout", "max-tokens", "max-selections",
		"max-depth", "max-complexity", "list-bound", "max-resolved-fields", "max-string-bytes", "max-page", "request-timeout",
		"ws-init-timeout", "ws-ping-interval", "ws-max-frame-bytes", "max-subscriptions-per-socket",
		"max-connections-per-person", "login-rate"} {
		if !flags[name] {
			t.Errorf("no -%s", name)
		}
	}
}

// TestREADMEListsEverySetting: the README's configuration table has a row
// for every flag, with its variable.
func TestREADMEListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	cfg, o := defaults()
	for _, s := range settingsOf(&cfg, &o) {
		row := fmt.Sprintf("| `-%s` | `%s` |", s.flag, s.env)
		if !strings.Contains(string(readme), row) {
			t.Errorf("README has no row %s", row)
		}
	}
}

// TestParsePrefixes: -trusted-proxies reads addresses (one host each) and
// CIDR ranges.
func TestParsePrefixes(t *testing.T) {
	got, err := parsePrefixes("10.0.0.0/8, 192.0.2.7,::1, 2001:db8::/32")
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, p := range got {
		s = append(s, p.String())
	}
	if strings.Join(s, " ") != "10.0.0.0/8 192.0.2.7/32 ::1/128 2001:db8::/32" {
		t.Errorf("parsed %v", s)
	}
	if _, err := parsePrefixes("10.0.0.0/8,proxy.example"); err == nil {
		t.Error("a host name was accepted")
	}
}

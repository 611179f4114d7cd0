package linlitest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// NodeProject locates node and installs the locked dependencies of the
// node project in dir (relative to the test's package) when any is
// missing (linked from a per-machine install keyed by the lock file,
// nodecache.go; from npm's cache when it holds them: --prefer-offline), for
// tests that drive real npm clients. Without node the test is
// skipped on a developer's machine and fails under CI (the CI variable),
// where a skipped interop suite would be a pass that proves nothing.
func NodeProject(t testing.TB, dir string) (node, abs string) {
	t.Helper()
	// Tests driving node (npm clients, Chromium) are end-to-end: not in
	// the -short loop.
	Slow(t)
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node is required in CI for the tests in %s", dir)
		}
		t.Skip("node not installed")
	}
	abs, _ = filepath.Abs(dir)
	if !nodeInstalled(abs) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		err := linkCachedModules(ctx, abs)
		if err == nil {
			return node, abs
		}
		t.Logf("npm packages of %s not linked from the cache (%v): npm ci in place", dir, err)
		cmd := exec.CommandContext(ctx, "npm", "ci", "--prefer-offline", "--no-audit", "--no-fund")
		cmd.Dir = abs
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	return node, abs
}

// nodeInstalled reports whether every dependency of the project in dir is
// in its node_modules (a checkout from before a dependency was added has
// not).
func nodeInstalled(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return false
	}
	var p struct{ Dependencies map[string]string }
	if json.Unmarshal(b, &p) != nil {
		return false
	}
	for dep := range p.Dependencies {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", dep, "package.json")); err != nil {
			return false
		}
	}
	return true
}

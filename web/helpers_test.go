package web_test

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"linli/linlitest"
)

// The pages' helpers that need no browser (the SHA-256 the kiosk checks
// codes with offline on a plain-http address, nonces, China's day) pass
// their node tests.
func TestPageHelpers(t *testing.T) {
	node, dir := linlitest.NodeProject(t, "src")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "common.test.mjs")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, out)
	}
}

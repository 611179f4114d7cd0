package graph_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"linli/linlitest"
)

// auditTool locates node and installs the audit project's locked
// dependencies when they are missing. Without node the test is skipped on a
// developer's machine and fails under CI.
func auditTool(t *testing.T) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is required in CI for the graphql-http audit")
		}
		t.Skip("node not installed")
	}
	dir, _ = filepath.Abs(filepath.Join("testdata", "audit"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "graphql-http", "package.json")); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	return node, dir
}

type auditLine struct {
	ID, Name, Status, Reason string
	HTTPStatus               int    `json:"httpStatus"`
	ContentType              string `json:"contentType"`
	Body                     string
	Summary                  *struct{ OK, Notice, Warn, Error int } `json:"summary"`
}

// justifiedWarnings are the graphql-http audit warnings linli accepts, by
// audit id, each with its reason in the README (GraphQL over HTTP). None.
var justifiedWarnings = map[string]bool{}

// The graphql-http audit suite (every server audit, from the npm package)
// against linli on a real listener: no errors, and no warnings but the
// justified ones.
func TestGraphQLHTTPAudit(t *testing.T) {
	node, dir := auditTool(t)
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, "audit.mjs")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "LINLI_URL="+e.Server.URL+"/graphql")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("audit: %v\n%s\n%s", err, out, stderr.String())
		}
		var summary *struct{ OK, Notice, Warn, Error int }
		ran := 0
		sc := bufio.NewScanner(bytes.NewReader(out))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var l auditLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatalf("audit printed %q: %v", sc.Text(), err)
			}
			if l.Summary != nil {
				summary = l.Summary
				continue
			}
			ran++
			switch l.Status {
			case "ok":
			case "notice":
				t.Logf("notice %s %s: %s (%d %s %s)", l.ID, l.Name, l.Reason, l.HTTPStatus, l.ContentType, l.Body)
			case "warn":
				if justifiedWarnings[l.ID] {
					t.Logf("warning %s %s (justified in the README): %s", l.ID, l.Name, l.Reason)
					continue
				}
				t.Errorf("warning %s %s: %s (%d %s %s)", l.ID, l.Name, l.Reason, l.HTTPStatus, l.ContentType, l.Body)
			default:
				t.Errorf("%s %s %s: %s (%d %s %s)", l.Status, l.ID, l.Name, l.Reason, l.HTTPStatus, l.ContentType, l.Body)
			}
		}
		if summary == nil || ran == 0 || summary.OK+summary.Notice+summary.Warn+summary.Error != ran {
			t.Fatalf("the audit ran %d audits and printed summary %+v:\n%s\n%s", ran, summary, out, stderr.String())
		}
		t.Logf("graphql-http audit: %d audits, %d ok, %d notices, %d warnings, %d errors",
			ran, summary.OK, summary.Notice, summary.Warn, summary.Error)
	})
}

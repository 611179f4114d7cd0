package httpapi_test

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
	node, dir := linlitest.NodeProject(t, filepath.Join("testdata", "audit"))
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

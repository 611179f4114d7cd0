package web_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"linli/linlitest"
)

// The committed static/ is what src/ builds to (like generated code):
// rebuilding into a scratch directory gives the same files, byte for byte.
func TestBundleIsCurrent(t *testing.T) {
	node, dir := linlitest.NodeProject(t, "src")
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "build.mjs", out)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build.mjs: %v\n%s", err, b)
	}
	built := files(t, out)
	committed := files(t, "static")
	for name, b := range built {
		c, ok := committed[name]
		switch {
		case !ok:
			t.Errorf("static/%s is built but not committed; run `npm run build` in web/src", name)
		case !bytes.Equal(b, c):
			t.Errorf("static/%s differs from what web/src builds; run `npm run build` in web/src", name)
		}
	}
	for name := range committed {
		if _, ok := built[name]; !ok {
			t.Errorf("static/%s is no longer built; run `npm run build` in web/src", name)
		}
	}
}

func files(t *testing.T, root string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		m[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

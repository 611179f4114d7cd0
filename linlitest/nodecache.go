package linlitest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// A fresh clone has no node_modules: NodeProject would run npm ci in each
// node project on every first run (tens of seconds each on a busy box,
// even from npm's own cache). Instead a project's packages are installed
// once per machine under the user's cache directory, keyed by a hash of
// its package.json, package-lock.json and .npmrc (a changed lock installs anew),
// and the project's node_modules is a symbolic link to them. Node
// resolves through the link to the real path, where every dependency
// sits beside the others. A project with scripts (web/src, whose esbuild
// build writes module paths into its output) is installed in place as
// before, as is any project when LINLI_NPM_CACHE=off.

// linkCachedModules makes dir/node_modules a link to the cached install
// of dir's locked packages, installing them there first if needed.
func linkCachedModules(ctx context.Context, dir string) error {
	if os.Getenv("LINLI_NPM_CACHE") == "off" {
		return errors.New("LINLI_NPM_CACHE=off")
	}
	pkg, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return err
	}
	var p struct{ Scripts map[string]string }
	if err := json.Unmarshal(pkg, &p); err != nil {
		return err
	}
	if len(p.Scripts) > 0 {
		return errors.New("the project has scripts: installed in place")
	}
	lock, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return err
	}
	// The project's npm settings go along (a missing file is empty).
	npmrc, _ := os.ReadFile(filepath.Join(dir, ".npmrc"))
	h := sha256.New()
	for _, b := range [][]byte{pkg, lock, npmrc} {
		h.Write(b)
		h.Write([]byte{0})
	}
	key := hex.EncodeToString(h.Sum(nil))[:16]
	base, err := os.UserCacheDir()
	if err != nil {
		return err
	}
	parent := filepath.Join(base, "linli", "node")
	root := filepath.Join(parent, key)
	if !nodeInstalled(root) {
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return err
		}
		// Installed beside and renamed when complete, so a run that died
		// halfway leaves nothing anyone would link to.
		tmp, err := os.MkdirTemp(parent, key+".installing-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		if err := os.Chmod(tmp, 0o755); err != nil {
			return err
		}
		for name, b := range map[string][]byte{"package.json": pkg, "package-lock.json": lock, ".npmrc": npmrc} {
			if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
				return err
			}
		}
		cmd := exec.CommandContext(ctx, "npm", "ci", "--prefer-offline", "--no-audit", "--no-fund")
		cmd.Dir = tmp
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("npm ci: %v\n%s", err, out)
		}
		if err := os.Rename(tmp, root); err != nil && !nodeInstalled(root) {
			return err
		}
	}
	link := filepath.Join(dir, "node_modules")
	if err := os.RemoveAll(link); err != nil {
		return err
	}
	if err := os.Symlink(filepath.Join(root, "node_modules"), link); err != nil {
		return err
	}
	if !nodeInstalled(dir) {
		return errors.New("the linked node_modules lacks a dependency")
	}
	return nil
}

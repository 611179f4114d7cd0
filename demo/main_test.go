package demo_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"linli/demo"
	"linli/ent"
	"linli/linlitest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	linlitest.DropLoaded()
	os.Exit(code)
}

// fillDemo loads the demo year into an empty database.
func fillDemo(ctx context.Context, c *ent.Client) error {
	loaded, err := demo.Load(ctx, c)
	if err == nil && !loaded {
		err = errors.New("Load on an empty database reported loaded=false")
	}
	return err
}

// runDemo runs fn once per backend on a copy of a database holding the
// demo year, loaded once per test process and backend (linlitest.RunLoaded)
// rather than once per test: loading the year is most of this package's
// time. TestLoadContent, TestConcurrentLoadsLoadOnce and
// TestAppLoadDemoLogsWhetherItLoaded still load into empty databases.
func runDemo(t *testing.T, fn func(t *testing.T, e *linlitest.Env)) {
	t.Helper()
	linlitest.RunLoaded(t, "demo", fillDemo, fn)
}

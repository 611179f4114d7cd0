package app

import (
	"context"
	"time"

	"linli/demo"
)

// LoadDemo loads the demo communities into an empty database; on a database
// that already has a community it does nothing.
func (a *App) LoadDemo(ctx context.Context) error {
	start := time.Now()
	loaded, err := demo.Load(ctx, a.DB.Client)
	if err != nil {
		return err
	}
	if !loaded {
		a.Config.Logger.Info("demo data not loaded: the database already has a community")
		return nil
	}
	a.Config.Logger.Info("demo data loaded", "community", demo.Qianjin, "accounts", len(demo.Accounts),
		"took", time.Since(start).Round(time.Millisecond).String())
	return nil
}

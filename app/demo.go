package app

import (
	"context"
	"time"

	"linli/demo"
)

// LoadDemo loads the demo communities into an empty database (on a database
// that already has a community it loads nothing), then gives the demo
// communities' venues activities today (demo.Today).
func (a *App) LoadDemo(ctx context.Context) error {
	start := time.Now()
	loaded, err := demo.Load(ctx, a.DB.Client)
	if err != nil {
		return err
	}
	if !loaded {
		a.Config.Logger.Info("demo data not loaded: the database already has a community")
	} else {
		a.Config.Logger.Info("demo data loaded", "community", demo.Qianjin, "accounts", len(demo.Accounts),
			"took", time.Since(start).Round(time.Millisecond).String())
	}
	// The demo's series make their occurrences over the window now, so a
	// coordinator sees them on first start (the series job keeps them up).
	if _, err := a.Resolver.Recurring.MaterialiseAll(ctx); err != nil {
		return err
	}
	// Whatever day it is, the demo's venues have activities today (the
	// demo communities only: a real community is never touched).
	added, err := demo.Today(ctx, a.DB.Client, time.Now())
	if err != nil {
		return err
	}
	if added > 0 {
		a.Config.Logger.Info("demo activities added for today", "activities", added)
	}
	return nil
}

package app

import "context"

// LoadDemo loads the demo community into an empty database.
func (a *App) LoadDemo(ctx context.Context) error { return nil }

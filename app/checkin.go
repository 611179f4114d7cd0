package app

import (
	"context"
	"time"

	"linli/kiosk"
	"linli/viewer"
)

// closeCheckOutsEvery is how often volunteers who never checked out are
// checked out at the end of their position (and flagged for review).
const closeCheckOutsEvery = time.Minute

// startCheckin starts closing missing check-outs in the background.
func (a *App) startCheckin() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Resolver.Checkin.RunCloser(ctx, closeCheckOutsEvery, a.Config.Logger)
	}()
	a.stopCheckin = func() {
		cancel()
		<-done
	}
}

// authenticateToken resolves a person's or a kiosk's bearer token.
func (a *App) authenticateToken(ctx context.Context, token string) (*viewer.Viewer, error) {
	if kiosk.IsToken(token) {
		return a.Resolver.KioskService.Authenticate(ctx, token)
	}
	return a.Auth.Authenticate(ctx, token)
}

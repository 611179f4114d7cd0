package app

import (
	"context"
	"time"

	"linli/certificate"
	"linli/hours"
	"linli/kiosk"
	"linli/scan"
	"linli/viewer"
)

// closeCheckOutsEvery is how often volunteers who never checked out are
// checked out at the end of their position (and flagged for review).
const closeCheckOutsEvery = time.Minute

// startCheckin builds the door's services (kiosks, scans, hours,
// certificates) and starts closing missing check-outs in the background.
func (a *App) startCheckin() {
	a.Resolver.KioskService = kiosk.New(a.DB.Client, a.Live, kiosk.Options{})
	a.kioskCache.Store(a.Resolver.KioskService)
	a.Resolver.Checkin = scan.New(a.DB.Client, a.Live, a.Resolver.Ledger, scan.Options{})
	a.Resolver.ServiceHours = hours.New(a.DB.Client)
	a.Resolver.Certificates = certificate.New(a.DB.Client, a.Resolver.ServiceHours)
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

package app

import (
	"net/http"
	"strconv"

	"github.com/skip2/go-qrcode"

	"linli/ent"
	"linli/ledger"
	"linli/viewer"
)

// QR sizes, in pixels per side.
const (
	qrDefaultSize = 256
	qrMinSize     = 64
	qrMaxSize     = 1024
)

// qrImage serves GET /qr/{registrationID}: the registration's check-in code
// as a QR code PNG (?size= 64..1024 pixels, default 256), to the same people
// who may read checkInCode: its owner and their community's staff. Anyone
// else, a kiosk included, gets 404, as for a registration that does not
// exist. The image is never cached: codes can be rotated.
func (a *App) qrImage(w http.ResponseWriter, r *http.Request) {
	id, err := a.IDs.Decode(r.PathValue("id"))
	if err != nil {
		writeGraphQLError(w, http.StatusBadRequest, "VALIDATION_FAILED", "not a registration ID")
		return
	}
	size := qrDefaultSize
	if s := r.URL.Query().Get("size"); s != "" {
		if size, err = strconv.Atoi(s); err != nil || size < qrMinSize || size > qrMaxSize {
			writeGraphQLError(w, http.StatusBadRequest, "VALIDATION_FAILED", "size must be between 64 and 1024")
			return
		}
	}
	ctx := r.Context()
	if viewer.FromContext(ctx) == nil {
		writeGraphQLError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "authentication required")
		return
	}
	// Read as the viewer: the privacy rules hide other people's registrations.
	reg, err := a.DB.Client.Registration.Get(ctx, id)
	if err != nil && !ent.IsNotFound(err) {
		writeGraphQLError(w, http.StatusInternalServerError, "INTERNAL", "internal error")
		return
	}
	var code *string
	if reg != nil {
		code = ledger.CheckInCode(ctx, reg)
	}
	if code == nil {
		writeGraphQLError(w, http.StatusNotFound, "NOT_FOUND", "no such registration with a check-in code")
		return
	}
	png, err := qrcode.Encode(*code, qrcode.Medium, size)
	if err != nil {
		writeGraphQLError(w, http.StatusInternalServerError, "INTERNAL", "internal error")
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(png)
}

package notify

import (
	"context"

	"linli/ent"
)

// QuietHoursOf reads people's quiet hours as the notifications keep them
// (their own, else their community's, else the defaults), through client
// (a transaction's, when called inside one). The ledger makes no waitlist
// offer inside them (ledger/offer.go): one rule for both.
func QuietHoursOf(ctx context.Context, client *ent.Client, people []int) (map[int]QuietHours, error) {
	if len(people) == 0 {
		return map[int]QuietHours{}, nil
	}
	_, quiet, err := (&Service{client: client}).prefsOf(ctx, people)
	return quiet, err
}

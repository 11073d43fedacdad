package auth

import (
	"context"
	"fmt"
	"math"
	"time"

	"lectern/models"
)

// DisableStale disables every account with no sign-in or activity for olderThan (an unused
// account is an unwatched door) and returns their ids. The reason, shown at sign-in, tells the
// user to ask an admin; `lectern user enable` (or the admin page) opens it again. Each
// disabling is audited with no actor (the system did it).
func DisableStale(ctx context.Context, store *models.Store, olderThan time.Duration) ([]string, error) {
	return DisableStaleAt(ctx, store, olderThan, time.Now())
}

// DisableStaleAt is DisableStale as seen at time now (tests move the clock).
func DisableStaleAt(ctx context.Context, store *models.Store, olderThan time.Duration, now time.Time) ([]string, error) {
	if olderThan < 24*time.Hour {
		return nil, fmt.Errorf("disable stale accounts: %v is shorter than a day, surely a mistake", olderThan)
	}
	days := int(math.Round(olderThan.Hours() / 24))
	ids, err := store.DisableInactiveUsers(ctx, now.Add(-olderThan), fmtStaleReason(days))
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if err := Record(ctx, store, EventAccountDisabled, "", id, "", map[string]any{"reason": "stale", "days": days}); err != nil {
			return ids, err
		}
	}
	return ids, nil
}

// fmtStaleReason is the disabled reason the sign-in page shows.
func fmtStaleReason(days int) string {
	return fmt.Sprintf("This account was disabled after %d days without use. Ask an administrator to enable it again.", days)
}

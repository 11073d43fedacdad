package models

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// SetWebinarRegions replaces the processing regions a webinar allows (nil: any the policy
// allows). The caller validates the labels (region.Validate); commas cannot occur in them.
func (s *Store) SetWebinarRegions(ctx context.Context, id string, regions []string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE webinars SET regions = ?, updated_at = ? WHERE id = ?`,
		strings.Join(regions, ","), time.Now().Unix(), id)
	if err != nil {
		return fmt.Errorf("set regions of webinar %q: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("webinar %q: %w", id, ErrNotFound)
	}
	return nil
}

func splitRegions(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

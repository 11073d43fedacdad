package models

import (
	"context"
	"fmt"
)

// FillSegment gives a recorded gap (a failed segment: the live captions skipped it because
// the speech engine was behind) the text decoded later from its audio. It reports whether
// such a gap was there; the caller stores the segment afresh when it was not (the gap could
// not be stored at the time).
func (s *Store) FillSegment(ctx context.Context, seg Segment) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE segments SET text = ?, engine = ?, failed = 0
		WHERE webinar_id = ? AND id = ? AND failed = 1`, seg.Text, seg.Engine, seg.Webinar, seg.ID)
	if err != nil {
		return false, fmt.Errorf("fill segment %s: %w", seg.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("fill segment %s: %w", seg.ID, err)
	}
	return n > 0, nil
}

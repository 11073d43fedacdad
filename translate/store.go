package translate

import (
	"context"

	"lectern/captions"
)

// Store keeps translated finals so exports work in every language produced, and a later export
// reuses them. The lead's models package implements it on SQLite; the stage only needs this.
type Store interface {
	// SaveTranslation stores a translated final (same ID and Seq as its source, Lang = target).
	SaveTranslation(ctx context.Context, webinarID string, c captions.Caption) error
	// Translations returns the stored translations into lang of the given source caption IDs,
	// keyed by ID; IDs without one are simply absent.
	Translations(ctx context.Context, webinarID, lang string, ids []string) (map[string]captions.Caption, error)
}

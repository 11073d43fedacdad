package main

import (
	"testing"
	"time"

	"lectern/auth"
	"lectern/models"
)

// The panelists `lectern bench fanout --publishers 3` creates may publish: each token is a live
// API token of a distinct account that is a panelist of the bench's webinar.
func TestBenchPanelistsMayPublish(t *testing.T) {
	ctx, dir := t.Context(), t.TempDir()
	room, _, err := benchWebinar(ctx, "", "", "sqlite", dir)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := benchPanelists(ctx, "sqlite", dir, room, 2)
	if err != nil || len(tokens) != 2 {
		t.Fatalf("tokens %d, err %v; want 2", len(tokens), err)
	}
	err = withStore(ctx, "sqlite", dir, func(st *models.Store) error {
		seen := map[string]bool{}
		for _, tok := range tokens {
			_, u, err := st.APITokenUser(ctx, tok, time.Now())
			if err != nil {
				return err
			}
			role, err := st.MemberRole(ctx, room, u.ID)
			if err != nil || !auth.Can(role, auth.ActPublish) || seen[u.ID] {
				t.Errorf("token of %s: role %q, err %v, seen before %v", u.DisplayName, role, err, seen[u.ID])
			}
			seen[u.ID] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if tokens, err := benchPanelists(ctx, "sqlite", dir, room, 0); err != nil || tokens != nil {
		t.Errorf("0 panelists: %v, %v", tokens, err)
	}
}

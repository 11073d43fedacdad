package api

import (
	"testing"

	"lectern/auth"
	"lectern/models"
)

// A link token's random id may start with any base64url character; with a passcode set it
// must not pass for a token issued after a passcode check (1 in 64 did with a "p" prefix).
func TestLinkTokenNeverPassesForPasscodeToken(t *testing.T) {
	set := models.WebinarSettings{Visibility: models.VisibilityLink, PasscodeHash: "set"}
	for _, id := range []string{"pQ3xVb0_mZk1c2d3", "p-abc", "studioX", "p"} {
		if joinAccepted(set, auth.JoinClaims{ID: id}) {
			t.Errorf("link token id %q passed the passcode", id)
		}
	}
	for _, id := range []string{passcodePrefix + "Q3xVb0_mZk1c2d3", presenterPrefix + "abc"} {
		if !joinAccepted(set, auth.JoinClaims{ID: id}) {
			t.Errorf("token id %q refused", id)
		}
	}
}

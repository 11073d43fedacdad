package auth

import (
	"testing"

	"lectern/models"
)

func TestCan(t *testing.T) {
	// The whole table, spelled out: a change to permissions must change this test too.
	want := map[models.Role]map[Action]bool{
		models.RoleHost:     {ActView: true, ActExport: true, ActPublish: true, ActModerate: true, ActManageSettings: true, ActManageMembers: true, ActDelete: true},
		models.RoleCohost:   {ActView: true, ActExport: true, ActPublish: true, ActModerate: true, ActManageSettings: true},
		models.RolePanelist: {ActView: true, ActExport: true, ActPublish: true},
		models.RoleAttendee: {ActView: true, ActExport: true},
	}
	for _, r := range Roles {
		for _, a := range Actions {
			if got := Can(r, a); got != want[r][a] {
				t.Errorf("Can(%s, %s) = %v, want %v", r, a, got, want[r][a])
			}
		}
	}
	for _, a := range Actions {
		for _, r := range []models.Role{"", "admin", "HOST", "owner"} {
			if Can(r, a) {
				t.Errorf("unknown role %q may %s", r, a)
			}
		}
	}
	for _, r := range Roles {
		if Can(r, "launch_missiles") || Can(r, "") {
			t.Errorf("%s may do an unknown action", r)
		}
	}
	if len(Roles) != 4 || len(Actions) != 7 {
		t.Errorf("Roles/Actions lists out of date: %d roles, %d actions", len(Roles), len(Actions))
	}
}

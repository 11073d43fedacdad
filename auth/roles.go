package auth

import "lectern/models"

// Action is something done to a webinar, checked against the caller's role.
type Action string

const (
	ActView           Action = "view"            // watch, read live captions
	ActExport         Action = "export"          // download the transcript
	ActPublish        Action = "publish"         // send audio/video (WHIP, studio)
	ActModerate       Action = "moderate"        // admit, mute, chat moderation
	ActManageSettings Action = "manage_settings" // title, schedule, visibility, passcode, stream key, registrations
	ActManageMembers  Action = "manage_members"  // give or take roles
	ActDelete         Action = "delete"          // delete the webinar
)

// Actions lists every action, for authorization-matrix tests.
var Actions = []Action{ActView, ActExport, ActPublish, ActModerate, ActManageSettings, ActManageMembers, ActDelete}

// Roles lists every webinar role, for authorization-matrix tests.
var Roles = []models.Role{models.RoleHost, models.RoleCohost, models.RolePanelist, models.RoleAttendee}

// permissions is the one table of who may do what. Changing it changes every check in the
// server, which is the point: the API middleware and its tests read it through Can.
//
// Attendees may export: issue 5 lets an attendee token fetch the transcript of a private
// webinar. Only the host may change roles or delete, so a co-host cannot promote themselves
// or take the webinar away.
var permissions = map[models.Role]map[Action]bool{
	models.RoleHost:     {ActView: true, ActExport: true, ActPublish: true, ActModerate: true, ActManageSettings: true, ActManageMembers: true, ActDelete: true},
	models.RoleCohost:   {ActView: true, ActExport: true, ActPublish: true, ActModerate: true, ActManageSettings: true},
	models.RolePanelist: {ActView: true, ActExport: true, ActPublish: true},
	models.RoleAttendee: {ActView: true, ActExport: true},
}

// Can reports whether role may do action. Unknown roles and actions may do nothing.
// Site admins are not a webinar role: the API treats an admin as the host of every webinar.
func Can(role models.Role, action Action) bool {
	return permissions[role][action]
}

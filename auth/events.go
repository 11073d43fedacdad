package auth

import (
	"context"
	"encoding/json"

	"lectern/models"
)

// Audit event names, stored in the audit log's action column. Detail never holds secrets.
const (
	EventSignIn              = "signin.success"
	EventSignInFailed        = "signin.failure"   // target: the email tried
	EventLockout             = "signin.lockout"   // one address locked out of one account
	EventSignInThrottled     = "signin.throttled" // failures from anywhere slow the account's sign-ins down
	EventSignOut             = "signout"
	EventSSOSignIn           = "sso.signin"
	EventSSOLinked           = "sso.linked"
	EventSSORefused          = "sso.refused"
	EventPasswordChanged     = "password.changed"
	Event2FAEnabled          = "2fa.enabled"
	Event2FADisabled         = "2fa.disabled"
	Event2FAFailed           = "2fa.failure"
	EventRecoveryCodeUsed    = "2fa.recovery_code_used"
	EventRecoveryCodesNew    = "2fa.recovery_codes_regenerated"
	EventTokenCreated        = "token.created"
	EventTokenRevoked        = "token.revoked"
	EventSessionRevoked      = "session.revoked"
	EventUserCreated         = "user.created"
	EventAccountDisabled     = "user.disabled"
	EventAccountEnabled      = "user.enabled"
	EventAdminChanged        = "user.admin_changed"
	EventRoleChanged         = "webinar.role_changed"
	EventStreamKeyRotated    = "webinar.stream_key_rotated"
	EventSettingsChanged     = "webinar.settings_changed"
	EventWebinarDeleted      = "webinar.deleted"
	EventExport              = "webinar.export"
	EventJoinTokenRevoked    = "webinar.join_token_revoked"
	EventRegistrationRevoked = "webinar.registration_revoked"
	EventLinkRotated         = "webinar.link_rotated"
	EventPasscodeFailed      = "webinar.passcode_failure"
)

// Record writes an audit event; detail (may be nil) is marshalled to JSON.
func Record(ctx context.Context, store *models.Store, action, actorID, target, ip string, detail map[string]any) error {
	var raw json.RawMessage
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return err
		}
		raw = b
	}
	return store.Audit(ctx, models.AuditEvent{Action: action, ActorID: actorID, Target: target, IP: ip, Detail: raw})
}

package models

import (
	"context"
	"encoding/json"
	"fmt"
	"lectern/internal/region"
	"strconv"
	"time"
)

// Switch is an account-wide feature switch of the policy: a webinar may use the feature
// (allowed) or nobody may (off).
type Switch string

const (
	SwitchAllowed Switch = "allowed"
	SwitchOff     Switch = "off"
)

// Valid reports whether s is one of the two switch values.
func (s Switch) Valid() bool { return s == SwitchAllowed || s == SwitchOff }

// Policy is what an admin decides once for every webinar of the server (issue 11). A
// webinar's own settings can only be stricter: see Limit.
type Policy struct {
	Chat               Switch   `json:"chat"`
	QA                 Switch   `json:"qa"`
	Recording          Switch   `json:"recording"`
	WaitingRoomDefault bool     `json:"waiting_room_default"` // new webinars start with a waiting room
	PasscodeRequired   bool     `json:"passcode_required"`    // webinars that are not public need a passcode
	MaxDurationMinutes int      `json:"max_duration_minutes"` // 0: no limit
	AllowedRegions     []string `json:"allowed_regions"`      // empty: any region
	RetentionDays      int      `json:"retention_days"`       // 0: kept forever
	Require2FA         bool     `json:"require_2fa"`
}

// DefaultPolicy is the policy of a server whose admins never set one: everything allowed,
// nothing required, nothing deleted.
var DefaultPolicy = Policy{Chat: SwitchAllowed, QA: SwitchAllowed, Recording: SwitchAllowed, AllowedRegions: []string{}}

// Bounds of the numeric policy fields: a day-long webinar, a century of retention.
const (
	MaxDurationMinutesLimit = 24 * 60
	MaxRetentionDays        = 36500
)

// Check says what is wrong with p, in words an admin can act on; nil when it can be saved.
// It drops repeated regions.
func (p *Policy) Check() error {
	for _, f := range []struct {
		name string
		v    Switch
	}{{"chat", p.Chat}, {"qa", p.QA}, {"recording", p.Recording}} {
		if !f.v.Valid() {
			return fmt.Errorf(`%s must be "allowed" or "off"`, f.name)
		}
	}
	if p.MaxDurationMinutes < 0 || p.MaxDurationMinutes > MaxDurationMinutesLimit {
		return fmt.Errorf("max_duration_minutes must be 0 (no limit) to %d", MaxDurationMinutesLimit)
	}
	if p.RetentionDays < 0 || p.RetentionDays > MaxRetentionDays {
		return fmt.Errorf("retention_days must be 0 (keep forever) to %d", MaxRetentionDays)
	}
	if err := region.Validate(p.AllowedRegions); err != nil {
		return fmt.Errorf("allowed_regions: %w", err)
	}
	seen := map[string]bool{}
	regions := []string{}
	for _, r := range p.AllowedRegions {
		if !seen[r] {
			seen[r] = true
			regions = append(regions, r)
		}
	}
	p.AllowedRegions = regions
	return nil
}

// MaxDuration is the duration limit, 0 for none.
func (p Policy) MaxDuration() time.Duration { return time.Duration(p.MaxDurationMinutes) * time.Minute }

// Limit returns a webinar's room settings as the policy lets them apply: a feature the policy
// turns off is off whatever the webinar says (also for webinars set up before the policy).
func (p Policy) Limit(r RoomSettings) RoomSettings {
	if p.Chat == SwitchOff {
		r.Chat = ChatOff
	}
	if p.QA == SwitchOff {
		r.QA = false
	}
	return r
}

// Policy keys in site_settings. require_2fa predates the rest and keeps its key.
const (
	keyChat        = "policy.chat"
	keyQA          = "policy.qa"
	keyRecording   = "policy.recording"
	keyWaitingRoom = "policy.waiting_room_default"
	keyPasscode    = "policy.passcode_required"
	keyMaxDuration = "policy.max_duration_minutes"
	keyRegions     = "policy.allowed_regions"
	keyRetention   = "policy.retention_days"
	keyRequire2FA  = "require_2fa"
)

// Policy returns the account policy, DefaultPolicy for what was never set.
func (s *Store) Policy(ctx context.Context) (Policy, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key, value FROM site_settings WHERE key = ? OR key LIKE 'policy.%'`, keyRequire2FA)
	if err != nil {
		return Policy{}, fmt.Errorf("policy: %w", err)
	}
	defer rows.Close()
	p := DefaultPolicy
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return Policy{}, fmt.Errorf("policy: %w", err)
		}
		if err := p.set(k, v); err != nil {
			return Policy{}, fmt.Errorf("policy %s = %q: %w", k, v, err)
		}
	}
	return p, rows.Err()
}

// set reads one stored value into p.
func (p *Policy) set(key, v string) (err error) {
	switch key {
	case keyChat:
		p.Chat = Switch(v)
	case keyQA:
		p.QA = Switch(v)
	case keyRecording:
		p.Recording = Switch(v)
	case keyWaitingRoom:
		p.WaitingRoomDefault, err = strconv.ParseBool(v)
	case keyPasscode:
		p.PasscodeRequired, err = strconv.ParseBool(v)
	case keyMaxDuration:
		p.MaxDurationMinutes, err = strconv.Atoi(v)
	case keyRegions:
		err = json.Unmarshal([]byte(v), &p.AllowedRegions)
	case keyRetention:
		p.RetentionDays, err = strconv.Atoi(v)
	case keyRequire2FA:
		p.Require2FA, err = strconv.ParseBool(v)
	}
	return err
}

// SavePolicy checks p and stores every field at once: a reader sees the old policy or the
// new one, never a mix.
func (s *Store) SavePolicy(ctx context.Context, p Policy) error {
	if err := p.Check(); err != nil {
		return err
	}
	regions, err := json.Marshal(p.AllowedRegions)
	if err != nil {
		return fmt.Errorf("save policy: %w", err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save policy: %w", err)
	}
	defer tx.Rollback()
	now := time.Now().Unix()
	for _, kv := range [][2]string{
		{keyChat, string(p.Chat)}, {keyQA, string(p.QA)}, {keyRecording, string(p.Recording)},
		{keyWaitingRoom, strconv.FormatBool(p.WaitingRoomDefault)}, {keyPasscode, strconv.FormatBool(p.PasscodeRequired)},
		{keyMaxDuration, strconv.Itoa(p.MaxDurationMinutes)}, {keyRegions, string(regions)},
		{keyRetention, strconv.Itoa(p.RetentionDays)}, {keyRequire2FA, strconv.FormatBool(p.Require2FA)},
	} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO site_settings(key, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, kv[0], kv[1], now); err != nil {
			return fmt.Errorf("save policy %s: %w", kv[0], err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save policy: %w", err)
	}
	return nil
}

package api

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"lectern/models"
)

// judged checks that err is nil or a clear 4xx, which is all a body may cause.
func judged(t *testing.T, err error) {
	t.Helper()
	var he *echo.HTTPError
	if err != nil && (!errors.As(err, &he) || he.Code < 400 || he.Code >= 500) {
		t.Fatalf("not a 4xx: %v", err)
	}
}

// FuzzChatBody feeds arbitrary bodies through the chat handler's decoding and checks, for
// every role and chat setting: a body is refused with a 4xx or is a valid message.
func FuzzChatBody(f *testing.F) {
	for _, s := range []string{`{"text":"hi"}`, `{"text":"hi","to":"hosts","name":"Ana"}`, `{"text":"","to":"x"}`,
		`{"text":"` + strings.Repeat("é", 1001) + `"}`, `{"text":1}`, `[]`, `{"text":"\u0000"}`, `{"txt":"hi"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var in chatRequest
		err := decodeJSON("application/json", strings.NewReader(body), &in)
		judged(t, err)
		if err != nil {
			return
		}
		for _, role := range []models.Role{models.RoleAttendee, models.RolePanelist, models.RoleHost} {
			for _, set := range []models.ChatSetting{models.ChatEveryone, models.ChatHosts, models.ChatOff} {
				err := in.check(chatter{ID: "p", Role: role}, models.RoomSettings{Chat: set})
				judged(t, err)
				if err != nil {
					continue
				}
				n := utf8.RuneCountInString(strings.TrimSpace(in.Text))
				if n == 0 || n > maxChatRunes || (in.To != "" && in.To != "everyone" && in.To != "hosts") {
					t.Fatalf("accepted %+v", in)
				}
				if role == models.RoleAttendee && (set == models.ChatOff || (set == models.ChatHosts && in.To != "hosts")) {
					t.Fatalf("attendee allowed %+v under %s", in, set)
				}
			}
		}
		if named := (chatter{Name: "Guest", guest: true}).named(in.Name); utf8.RuneCountInString(named.Name) > maxNameRunes || strings.TrimSpace(named.Name) == "" {
			t.Fatalf("name %q", named.Name)
		}
	})
}

// FuzzQuestionBody does the same for questions and answers.
func FuzzQuestionBody(f *testing.F) {
	for _, s := range []string{`{"text":"why?"}`, `{"text":"why?","anonymous":true,"name":"Bo"}`,
		`{"anonymous":"yes"}`, `{"text":"   "}`, `null`, `{"text":"yes","public":true}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var q questionRequest
		if err := decodeJSON("application/json", strings.NewReader(body), &q); err == nil {
			judged(t, checkText(q.Text))
		} else {
			judged(t, err)
		}
		var a answerRequest
		if err := decodeJSON("application/json", strings.NewReader(body), &a); err == nil {
			err := checkText(a.Text)
			judged(t, err)
			if n := utf8.RuneCountInString(strings.TrimSpace(a.Text)); err == nil && (n == 0 || n > maxQuestionRunes) {
				t.Fatalf("accepted %+v", a)
			}
		} else {
			judged(t, err)
		}
	})
}

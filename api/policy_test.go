package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"lectern/models"
	"lectern/record"
)

// policyEnv is a public webinar with its host, an admin and one admitted attendee.
type policyEnv struct {
	s        *authServer
	w        models.Webinar
	host     creds
	admin    creds
	attendee joined
	n        int // for unique names
}

func newPolicyEnv(t *testing.T) *policyEnv {
	t.Helper()
	s, w, host := roomSetup(t, func(d *Deps) { d.Recorder = testRecorder(t, d) })
	a := s.user(t, "admin@school.example", true)
	e := &policyEnv{s: s, w: w, host: host, admin: creds{session: s.session(t, a)}}
	e.attendee = joinAs(t, s, w.ID, "Ana", creds{}, 201)
	return e
}

func testRecorder(t *testing.T, d *Deps) *record.Manager {
	t.Helper()
	m, err := record.NewManager(t.TempDir(), d.Broadcast, prometheus.NewRegistry(), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (e *policyEnv) putPolicy(t *testing.T, body string) reply {
	t.Helper()
	return e.s.call(t, e.admin, "PUT", "/api/admin/policy", js, body)
}

func (e *policyEnv) mustPutPolicy(t *testing.T, body string) {
	t.Helper()
	if r := e.putPolicy(t, body); r.status != 200 {
		t.Fatalf("policy %s: %d %s", body, r.status, r.body)
	}
}

func (e *policyEnv) base() string { return "/api/webinars/" + e.w.ID }

// Each policy field changes what the API allows: the same request succeeds under the default
// policy and is refused, with the policy's reason, under the restrictive one. A webinar cannot
// ask for more than the policy allows.
func TestPolicyChangesWhatTheAPIAllows(t *testing.T) {
	for _, tc := range []struct {
		name    string
		policy  string
		try     func(t *testing.T, e *policyEnv) reply
		okCode  int
		refused int
		reason  string
	}{
		{"attendee chat, chat off", `{"chat":"off"}`, func(t *testing.T, e *policyEnv) reply {
			return e.s.call(t, creds{bearer: e.attendee.Token}, "POST", e.base()+"/chat", js, `{"text":"hi"}`)
		}, 201, 403, policyNoChat},
		{"host chat, chat off", `{"chat":"off"}`, func(t *testing.T, e *policyEnv) reply {
			return e.s.call(t, e.host, "POST", e.base()+"/chat", js, `{"text":"welcome"}`)
		}, 201, 403, policyNoChat},
		{"webinar chat to everyone, chat off", `{"chat":"off"}`, func(t *testing.T, e *policyEnv) reply {
			return e.s.call(t, e.host, "PATCH", e.base(), js, `{"chat":"everyone"}`)
		}, 200, 403, policyNoChat},
		{"webinar chat to hosts, chat off", `{"chat":"off"}`, func(t *testing.T, e *policyEnv) reply {
			return e.s.call(t, e.host, "PATCH", e.base(), js, `{"chat":"hosts"}`)
		}, 200, 403, policyNoChat},
		{"question, qa off", `{"qa":"off"}`, func(t *testing.T, e *policyEnv) reply {
			return e.s.call(t, creds{bearer: e.attendee.Token}, "POST", e.base()+"/questions", js, `{"text":"why?"}`)
		}, 201, 403, policyNoQA},
		{"webinar qa on, qa off", `{"qa":"off"}`, func(t *testing.T, e *policyEnv) reply {
			return e.s.call(t, e.host, "PATCH", e.base(), js, `{"qa":true}`)
		}, 200, 403, policyNoQA},
		{"start recording, recording off", `{"recording":"off"}`, func(t *testing.T, e *policyEnv) reply {
			r := e.s.call(t, e.host, "POST", e.base()+"/recording", js, `{"on":true}`)
			e.s.call(t, e.host, "POST", e.base()+"/recording", js, `{"on":false}`)
			return r
		}, 200, 403, policyNoRecording},
		{"new link webinar without passcode, passcode required", `{"passcode_required":true}`, func(t *testing.T, e *policyEnv) reply {
			return e.s.call(t, e.host, "POST", "/api/webinars", js, `{"title":"Class","visibility":"link"}`)
		}, 201, 403, policyPasscode},
		{"making a webinar link-only without passcode, passcode required", `{"passcode_required":true}`, func(t *testing.T, e *policyEnv) reply {
			r := e.s.call(t, e.host, "PATCH", e.base(), js, `{"visibility":"link"}`)
			e.s.call(t, e.host, "PATCH", e.base(), js, `{"visibility":"public"}`)
			return r
		}, 200, 403, policyPasscode},
		{"removing a registration webinar's passcode, passcode required", `{"passcode_required":true}`, func(t *testing.T, e *policyEnv) reply {
			e.s.call(t, e.host, "PATCH", e.base(), js, `{"visibility":"registration","passcode":"s3cret"}`) // allowed either way
			r := e.s.call(t, e.host, "PATCH", e.base(), js, `{"passcode":""}`)
			e.s.call(t, e.host, "PATCH", e.base(), js, `{"visibility":"public"}`)
			return r
		}, 200, 403, policyPasscode},
		{"join without waiting, waiting room default", `{"waiting_room_default":true}`, func(t *testing.T, e *policyEnv) reply {
			r := e.s.call(t, e.host, "POST", "/api/webinars", js, `{"title":"Class"}`)
			var w struct{ ID string }
			r.json(t, &w)
			e.n++
			j := e.s.postJSON(t, creds{}, "/api/webinars/"+w.ID+"/join", map[string]string{"name": fmt.Sprint("P", e.n)})
			var st struct{ State string }
			j.json(t, &st)
			if st.State == "waiting" {
				j.status = 403 // held: what the policy asks of new webinars
				j.body = `{"error":"waiting"}`
			}
			return j
		}, 201, 403, "waiting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newPolicyEnv(t)
			if r := tc.try(t, e); r.status != tc.okCode {
				t.Fatalf("under the default policy: %d %s, want %d", r.status, r.body, tc.okCode)
			}
			e.mustPutPolicy(t, tc.policy)
			r := tc.try(t, e)
			if r.status != tc.refused || !strings.Contains(errorOf(r), tc.reason) {
				t.Fatalf("under %s: %d %s, want %d with %q", tc.policy, r.status, r.body, tc.refused, tc.reason)
			}
			e.mustPutPolicy(t, `{"chat":"allowed","qa":"allowed","recording":"allowed","waiting_room_default":false,"passcode_required":false}`)
			if r := tc.try(t, e); r.status != tc.okCode {
				t.Fatalf("allowed again: %d %s, want %d", r.status, r.body, tc.okCode)
			}
		})
	}
}

// What the policy allows stays allowed: the strictest webinar choices and the compliant ones
// pass under the strict policy.
func TestPolicyLetsStricterWebinarsThrough(t *testing.T) {
	e := newPolicyEnv(t)
	e.mustPutPolicy(t, `{"chat":"off","qa":"off","passcode_required":true}`)
	for _, body := range []string{`{"chat":"off"}`, `{"qa":false}`, `{"title":"Renamed"}`, `{"visibility":"link","passcode":"s3cret"}`, `{"locked":false}`} {
		if r := e.s.call(t, e.host, "PATCH", e.base(), js, body); r.status != 200 {
			t.Errorf("PATCH %s: %d %s", body, r.status, r.body)
		}
	}
	if r := e.s.call(t, e.host, "POST", "/api/webinars", js, `{"title":"Open class"}`); r.status != 201 {
		t.Errorf("public webinar without passcode: %d %s", r.status, r.body)
	}
	if r := e.s.call(t, e.host, "POST", "/api/webinars", js, `{"title":"Class","visibility":"registration","passcode":"s3cret"}`); r.status != 201 {
		t.Errorf("registration webinar with passcode: %d %s", r.status, r.body)
	}
}

// A webinar set up before the policy changed gets the policy's limits as it applies, and its
// own choice back when the policy allows again.
func TestPolicyLimitsOlderWebinars(t *testing.T) {
	e := newPolicyEnv(t)
	view := func() (chat string, qa bool) {
		var v struct {
			Chat string `json:"chat"`
			QA   bool   `json:"qa"`
		}
		e.s.call(t, e.host, "GET", e.base(), "", "").json(t, &v)
		return v.Chat, v.QA
	}
	if c, q := view(); c != "everyone" || !q {
		t.Fatalf("before: chat %q qa %v", c, q)
	}
	e.mustPutPolicy(t, `{"chat":"off","qa":"off"}`)
	if c, q := view(); c != "off" || q {
		t.Fatalf("under the policy: chat %q qa %v, want off, false", c, q)
	}
	e.mustPutPolicy(t, `{"chat":"allowed","qa":"allowed"}`)
	if c, q := view(); c != "everyone" || !q {
		t.Fatalf("allowed again: chat %q qa %v, want the webinar's own everyone, true", c, q)
	}
}

// Hosts and co-hosts read whether they may record and why not; attendees and anonymous
// viewers are not told.
func TestRecordingAllowedInWebinarView(t *testing.T) {
	e := newPolicyEnv(t)
	type view struct {
		Allowed *bool   `json:"recording_allowed"`
		Blocked *string `json:"recording_blocked"`
	}
	var v view
	e.s.call(t, e.host, "GET", e.base(), "", "").json(t, &v)
	if v.Allowed == nil || !*v.Allowed || v.Blocked == nil || *v.Blocked != "" {
		t.Fatalf("host, default policy: %+v", v)
	}
	e.mustPutPolicy(t, `{"recording":"off"}`)
	v = view{}
	e.s.call(t, e.host, "GET", e.base(), "", "").json(t, &v)
	if v.Allowed == nil || *v.Allowed || v.Blocked == nil || *v.Blocked != policyNoRecording {
		t.Fatalf("host, recording off: allowed %v blocked %v", v.Allowed, v.Blocked)
	}
	for _, c := range []creds{{bearer: e.attendee.Token}, {}} {
		r := e.s.call(t, c, "GET", e.base(), "", "")
		if r.status != 200 || strings.Contains(r.body, "recording_allowed") || strings.Contains(r.body, "recording_blocked") {
			t.Errorf("%+v sees %d %s", c, r.status, r.body)
		}
	}
}

// Everyone's channel hears a recording start and stop; turning recording off in the policy
// stops a running one at once.
func TestRecordingEventAndPolicyStop(t *testing.T) {
	e := newPolicyEnv(t)
	ch := openChannel(t, e.s, e.w.ID, e.attendee.Token, "")
	if r := e.s.call(t, e.host, "POST", e.base()+"/recording", js, `{"on":true}`); r.status != 200 {
		t.Fatalf("start: %d %s", r.status, r.body)
	}
	if ev := nextOfType(t, ch, "recording"); ev.data["on"] != true {
		t.Fatalf("heard %+v, want recording on", ev)
	}
	e.mustPutPolicy(t, `{"recording":"off"}`)
	if ev := nextOfType(t, ch, "recording"); ev.data["on"] != false {
		t.Fatalf("heard %+v, want recording off", ev)
	}
	if _, ok := e.s.api.Recorder.Active(e.w.ID); ok {
		t.Fatal("recording still runs after the policy turned recording off")
	}
	recs, err := e.s.store.Recordings(t.Context(), e.w.ID)
	if err != nil || len(recs) != 1 {
		t.Fatalf("recordings %+v %v, want the stopped one kept", recs, err)
	}
}

// nextOfType reads the channel up to the next event of type typ, skipping others.
func nextOfType(t *testing.T, ch *channelClient, typ string) chanEvent {
	t.Helper()
	for {
		if ev := ch.mustNext(t); ev.typ == typ {
			return ev
		}
	}
}

// GET returns exactly the contract's fields; PUT replaces the fields given; bad input is a
// clear 400 and changes nothing.
func TestPolicyPutAndGet(t *testing.T) {
	e := newPolicyEnv(t)
	var got map[string]any
	e.s.call(t, e.admin, "GET", "/api/admin/policy", "", "").json(t, &got)
	keys := []string{}
	for k := range got {
		keys = append(keys, k)
	}
	want := []string{"allowed_regions", "chat", "max_duration_minutes", "passcode_required", "qa", "recording",
		"require_2fa", "retention_days", "waiting_room_default"}
	if !sameSet(keys, want) {
		t.Fatalf("GET fields %v, want %v", keys, want)
	}
	full := `{"chat":"off","qa":"off","recording":"off","waiting_room_default":true,"passcode_required":true,` +
		`"max_duration_minutes":40,"allowed_regions":["eu-west-1","local"],"retention_days":30,"require_2fa":false}`
	e.mustPutPolicy(t, full)
	r := e.s.call(t, e.admin, "GET", "/api/admin/policy", "", "")
	if !jsonEqual(t, r.body, full) {
		t.Fatalf("GET after PUT %s, want %s", r.body, full)
	}
	e.mustPutPolicy(t, `{"retention_days":7}`) // the others stay
	r = e.s.call(t, e.admin, "GET", "/api/admin/policy", "", "")
	if !jsonEqual(t, r.body, strings.Replace(full, `"retention_days":30`, `"retention_days":7`, 1)) {
		t.Fatalf("partial PUT changed more: %s", r.body)
	}
	before := r.body
	for _, tc := range []struct{ body, want string }{
		{`{"chat":"maybe"}`, "chat"},
		{`{"qa":true}`, "invalid JSON"},
		{`{"recording":""}`, "recording"},
		{`{"max_duration_minutes":-5}`, "max_duration_minutes"},
		{`{"max_duration_minutes":100000}`, "max_duration_minutes"},
		{`{"max_duration_minutes":"40"}`, "invalid JSON"},
		{`{"retention_days":-1}`, "retention_days"},
		{`{"allowed_regions":["eu west"]}`, "allowed_regions"},
		{`{"allowed_regions":"eu"}`, "invalid JSON"},
		{`{"regions":["eu"]}`, "unknown field"},
		{`{"chat":"off"} {}`, "one object"},
	} {
		r := e.putPolicy(t, tc.body)
		if r.status != 400 || !strings.Contains(errorOf(r), tc.want) {
			t.Errorf("PUT %s: %d %s, want 400 about %s", tc.body, r.status, r.body, tc.want)
		}
	}
	if r := e.s.call(t, e.admin, "GET", "/api/admin/policy", "", ""); r.body != before {
		t.Fatalf("refused PUTs changed the policy: %s, was %s", r.body, before)
	}
	if r := e.s.call(t, e.host, "PUT", "/api/admin/policy", js, `{"chat":"allowed"}`); r.status != 403 {
		t.Fatalf("host PUT: %d", r.status)
	}
}

// errorOf is the message of a JSON error reply, "" if it is none.
func errorOf(r reply) string {
	var e struct{ Error string }
	if json.Unmarshal([]byte(r.body), &e) != nil {
		return ""
	}
	return e.Error
}

func sameSet(a, b []string) bool {
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return len(a) == len(b)
}

func jsonEqual(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

// FuzzPolicyBody: whatever an admin sends, PUT's decoding and check never panic, and a body
// they accept stores a policy that reads back the same.
func FuzzPolicyBody(f *testing.F) {
	for _, seed := range []string{
		`{"chat":"off","qa":"allowed","recording":"off","waiting_room_default":true,"passcode_required":false,"max_duration_minutes":40,"allowed_regions":["eu","eu"],"retention_days":30,"require_2fa":true}`,
		`{"allowed_regions":null}`, `{"max_duration_minutes":1e3}`, `{}`, `{"chat":"\u0000"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p := models.DefaultPolicy
		if err := decodeJSON("application/json", bytes.NewReader(body), &p); err != nil {
			return
		}
		if err := p.Check(); err != nil {
			return
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var back models.Policy
		if err := json.Unmarshal(b, &back); err != nil || back.Check() != nil {
			t.Fatalf("%s does not read back: %v", b, err)
		}
	})
}

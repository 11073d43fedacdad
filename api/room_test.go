package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"lectern/models"
	"lectern/room"
)

// chanEvent is one event read from the live channel.
type chanEvent struct {
	id, typ string
	data    map[string]any
}

// channelClient is a minimal SSE client of GET .../channel.
type channelClient struct {
	res *http.Response
	r   *bufio.Reader
}

func openChannel(t *testing.T, s *authServer, webinar, bearer, lastID string) *channelClient {
	t.Helper()
	// Bounded: a test waiting for an event that never comes fails instead of hanging.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/api/webinars/"+webinar+"/channel", nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("channel: %d %s", res.StatusCode, b)
	}
	return &channelClient{res: res, r: bufio.NewReader(res.Body)}
}

// next reads one event; io.EOF when the server closed the stream.
func (c *channelClient) next() (chanEvent, error) {
	var ev chanEvent
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return chanEvent{}, err
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.typ = line[7:]
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(line[6:]), &ev.data); err != nil {
				return chanEvent{}, err
			}
		case line == "" && ev.typ != "":
			return ev, nil
		}
	}
}

// mustNext reads the next event other than the participant count (which comes debounced, at
// times the tests do not fix) and the stage's updates.
func (c *channelClient) mustNext(t *testing.T) chanEvent {
	t.Helper()
	for {
		if ev := c.mustNextStage(t); ev.typ != "stage" {
			return ev
		}
	}
}

// mustNextStage is mustNext with the stage's updates, which the other tests skip: they come
// whenever the active speaker changes.
func (c *channelClient) mustNextStage(t *testing.T) chanEvent {
	t.Helper()
	for {
		ev, err := c.next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.typ != "count" {
			return ev
		}
	}
}

type joined struct {
	Token         string `json:"token"`
	ParticipantID string `json:"participant_id"`
	State         string `json:"state"`
}

func joinAs(t *testing.T, s *authServer, webinar, name string, c creds, want int) joined {
	t.Helper()
	r := s.postJSON(t, c, "/api/webinars/"+webinar+"/join", map[string]string{"name": name})
	if r.status != want {
		t.Fatalf("join %s: %d %s, want %d", name, r.status, r.body, want)
	}
	var j joined
	if want < 300 {
		r.json(t, &j)
	}
	return j
}

// roomSetup is a public webinar with its host signed in.
func roomSetup(t testing.TB, edit func(*Deps)) (*authServer, models.Webinar, creds) {
	t.Helper()
	s := newAuthServer(t, edit)
	h := s.user(t, "host@school.example", false)
	w := s.webinar(t, h, models.VisibilityPublic, "")
	return s, w, creds{session: s.session(t, h)}
}

func patchRoom(t *testing.T, s *authServer, host creds, w models.Webinar, body string) {
	t.Helper()
	if r := s.call(t, host, "PATCH", "/api/webinars/"+w.ID, js, body); r.status != 200 {
		t.Fatalf("patch %s: %d %s", body, r.status, r.body)
	}
}

func whepStatus(t *testing.T, s *authServer, w models.Webinar, bearer string) reply {
	t.Helper()
	return s.call(t, creds{bearer: bearer}, "POST", "/whep/"+w.ID, "application/sdp", validOffer(t, webrtc.RTPTransceiverDirectionRecvonly))
}

// A waiting attendee can watch nothing until admitted, hears it on the channel, and then can;
// a denied one never can, and its token does not join again.
func TestWaitingRoomAdmitAndDeny(t *testing.T) {
	s, w, host := roomSetup(t, nil)
	patchRoom(t, s, host, w, `{"waiting_room": true}`)
	ana := joinAs(t, s, w.ID, "Ana", creds{}, 201)
	bob := joinAs(t, s, w.ID, "Bob", creds{}, 201)
	if ana.State != "waiting" || bob.State != "waiting" {
		t.Fatalf("states %q %q, want waiting", ana.State, bob.State)
	}
	for _, path := range []string{"/whep/" + w.ID, "/api/webinars/" + w.ID + "/captions"} {
		var r reply
		if strings.HasPrefix(path, "/whep") {
			r = whepStatus(t, s, w, ana.Token)
		} else {
			r = s.call(t, creds{bearer: ana.Token}, "GET", path, "", "")
		}
		if r.status != 403 || !strings.Contains(r.body, "waiting for the host to admit you") {
			t.Fatalf("%s while waiting: %d %s", path, r.status, r.body)
		}
	}
	var list []map[string]any
	r := s.call(t, host, "GET", "/api/webinars/"+w.ID+"/participants", "", "")
	r.json(t, &list)
	if len(list) != 2 || list[0]["name"] != "Ana" || list[0]["state"] != "waiting" {
		t.Fatalf("participants %v", list)
	}
	ch := openChannel(t, s, w.ID, ana.Token, "")
	if r := s.call(t, host, "POST", "/api/webinars/"+w.ID+"/participants/"+ana.ParticipantID+"/admit", "", ""); r.status != 200 {
		t.Fatalf("admit: %d %s", r.status, r.body)
	}
	if ev := ch.mustNext(t); ev.typ != "participant" || ev.data["state"] != "admitted" || ev.data["id"] != ana.ParticipantID {
		t.Fatalf("ana heard %+v", ev)
	}
	if r := whepStatus(t, s, w, ana.Token); r.status != 201 {
		t.Fatalf("whep after admit: %d %s", r.status, r.body)
	}
	if r := s.call(t, host, "POST", "/api/webinars/"+w.ID+"/participants/"+bob.ParticipantID+"/deny", "", ""); r.status != 200 {
		t.Fatalf("deny: %d %s", r.status, r.body)
	}
	if r := whepStatus(t, s, w, bob.Token); r.status != 403 {
		t.Fatalf("whep after deny: %d %s", r.status, r.body)
	}
	joinAs(t, s, w.ID, "Bob", creds{bearer: bob.Token}, 403)
	if r := s.call(t, host, "POST", "/api/webinars/"+w.ID+"/participants/"+bob.ParticipantID+"/admit", "", ""); r.status != 409 {
		t.Fatalf("admit after deny: %d %s", r.status, r.body)
	}
}

// A locked webinar takes nobody new, with a clear message; unlocking lets them in.
func TestLockedWebinarRefusesJoins(t *testing.T) {
	s, w, host := roomSetup(t, nil)
	patchRoom(t, s, host, w, `{"locked": true}`)
	r := s.postJSON(t, creds{}, "/api/webinars/"+w.ID+"/join", map[string]string{"name": "Ana"})
	if r.status != 403 || !strings.Contains(r.body, "locked") {
		t.Fatalf("join while locked: %d %s", r.status, r.body)
	}
	ps, _ := s.store.Participants(context.Background(), w.ID)
	if len(ps) != 0 {
		t.Fatalf("a refused join stored %v", ps)
	}
	patchRoom(t, s, host, w, `{"locked": false}`)
	if j := joinAs(t, s, w.ID, "Ana", creds{}, 201); j.State != "admitted" {
		t.Fatalf("state %q", j.State)
	}
}

// recvViewer is a real pion viewer connected over loopback with token.
func recvViewer(t *testing.T, s *authServer, w models.Webinar, token string) *webrtc.PeerConnection {
	t.Helper()
	pc, _ := whepViewer(t, s, w, token)
	return pc
}

// whepViewer offers a recvonly audio + video pion peer to WHEP with token and applies the
// answer; it returns the peer and its session's Location.
func whepViewer(t *testing.T, s *authServer, w models.Webinar, token string) (*webrtc.PeerConnection, string) {
	t.Helper()
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	r := s.call(t, creds{bearer: token}, "POST", "/whep/"+w.ID, "application/sdp", pc.LocalDescription().SDP)
	if r.status != 201 {
		t.Fatalf("whep: %d %s", r.status, r.body)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: r.body}); err != nil {
		t.Fatal(err)
	}
	return pc, r.header.Get("Location")
}

// Removing a participant closes its real WHEP session, caption stream and channel within a
// second (the contract's bound), and its token joins no more.
func TestRemoveClosesEverything(t *testing.T) {
	s, w, host := roomSetup(t, nil)
	ana := joinAs(t, s, w.ID, "Ana", creds{}, 201)
	other := joinAs(t, s, w.ID, "Other", creds{}, 201)
	recvViewer(t, s, w, ana.Token)
	recvViewer(t, s, w, other.Token)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{}}
	capReq, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/api/webinars/"+w.ID+"/captions?t="+ana.Token, nil)
	capRes, err := client.Do(capReq)
	if err != nil || capRes.StatusCode != 200 {
		t.Fatalf("captions: %v %v", capRes, err)
	}
	defer capRes.Body.Close()
	ch := openChannel(t, s, w.ID, ana.Token, "")
	for s.api.Broadcast.Viewers(w.ID) != 2 {
		time.Sleep(10 * time.Millisecond)
	}

	start := time.Now()
	if r := s.call(t, host, "POST", "/api/webinars/"+w.ID+"/participants/"+ana.ParticipantID+"/remove", "", ""); r.status != 200 {
		t.Fatalf("remove: %d %s", r.status, r.body)
	}
	if ev := ch.mustNext(t); ev.data["state"] != "removed" {
		t.Fatalf("ana heard %+v", ev)
	}
	for {
		ev, err := ch.next()
		if err != nil {
			break // closed, as it must be
		}
		if ev.typ != "count" { // a count published before the close may still arrive
			t.Fatalf("channel still open after remove: %+v", ev)
		}
	}
	if _, err := io.Copy(io.Discard, capRes.Body); err != nil {
		t.Fatalf("caption stream: %v", err)
	}
	for s.api.Broadcast.Viewers(w.ID) != 1 {
		if time.Since(start) > time.Second {
			t.Fatalf("%d viewers a second after remove, want 1", s.api.Broadcast.Viewers(w.ID))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("closing took %v", d)
	}
	joinAs(t, s, w.ID, "Ana", creds{bearer: ana.Token}, 403)
	if r := whepStatus(t, s, w, ana.Token); r.status != 403 {
		t.Fatalf("whep after remove: %d", r.status)
	}
	if r := s.call(t, creds{bearer: ana.Token}, "GET", "/api/webinars/"+w.ID+"/channel", "", ""); r.status != 403 {
		t.Fatalf("channel after remove: %d", r.status)
	}
}

// A client that reconnects with Last-Event-ID gets every event it missed, in order.
func TestChannelResumeLosesNothing(t *testing.T) {
	s, w, host := roomSetup(t, nil)
	ch := openChannelSession(t, s, w.ID, host.session, "")
	joinAs(t, s, w.ID, "P0", creds{}, 201)
	first := ch.mustNext(t)
	ch.res.Body.Close()
	for i := 1; i <= 5; i++ {
		joinAs(t, s, w.ID, fmt.Sprintf("P%d", i), creds{}, 201)
	}
	again := openChannelSession(t, s, w.ID, host.session, first.id)
	for i := 1; i <= 5; i++ {
		if ev := again.mustNext(t); ev.data["name"] != fmt.Sprintf("P%d", i) {
			t.Fatalf("event %d after resume: %+v", i, ev)
		}
	}
}

func openChannelSession(t *testing.T, s *authServer, webinar, session, lastID string) *channelClient {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+"/api/webinars/"+webinar+"/channel", nil)
	req.AddCookie(&http.Cookie{Name: "lectern_session", Value: session})
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != http.StatusOK {
		t.Fatalf("channel: %d", res.StatusCode)
	}
	return &channelClient{res: res, r: bufio.NewReader(res.Body)}
}

// A channel client that stops reading is dropped (its stream ends short) while the others get
// every event.
func TestStalledChannelClientDropped(t *testing.T) {
	mgr := room.NewManager(quietLogger(), 0, 4)
	s, w, host := roomSetup(t, func(d *Deps) { d.Room = mgr })
	stalled := openChannelSession(t, s, w.ID, host.session, "")
	live := openChannelSession(t, s, w.ID, host.session, "")
	big := map[string]string{"pad": strings.Repeat("x", 64<<10)} // fills the stalled client's socket buffers quickly
	const n = 400                                                // 25 MiB: more than loopback socket buffers hold for the stalled client
	for i := 1; i <= n; i++ {
		mgr.Publish(w.ID, room.Audience{Hosts: true}, "big", big)
		// The live client reads each event before the next is sent, as a client that keeps up.
		if ev := live.mustNext(t); ev.id != fmt.Sprint(i) {
			t.Fatalf("live got id %s, want %d", ev.id, i)
		}
	}
	got := 0
	for {
		if _, err := stalled.next(); err != nil {
			break
		}
		got++
	}
	if got >= n {
		t.Fatalf("stalled client got all %d events: never dropped", got)
	}
}

// FuzzJoinBody: any body gets a JSON answer, never a 5xx, and only a 201 stores a participant.
func FuzzJoinBody(f *testing.F) {
	for _, b := range []string{`{"name":"Ana"}`, `{"name":""}`, `{"name":"a\nb"}`, `{"passcode":"1"}`, `{"name":1}`, `[]`, `{`, `{"name":"Ana","extra":1}`} {
		f.Add(b)
	}
	s, w, _ := roomSetup(f, nil)
	f.Fuzz(func(t *testing.T, body string) {
		before, _ := s.store.Participants(context.Background(), w.ID)
		r := s.call(t, creds{}, "POST", "/api/webinars/"+w.ID+"/join", js, body)
		if r.status >= 500 {
			t.Fatalf("%q: %d %s", body, r.status, r.body)
		}
		var out map[string]any
		if err := json.Unmarshal([]byte(r.body), &out); err != nil {
			t.Fatalf("%q: %d not JSON: %s", body, r.status, r.body)
		}
		after, _ := s.store.Participants(context.Background(), w.ID)
		if grew := len(after) != len(before); grew != (r.status == 201) {
			t.Fatalf("%q: %d, participants %d -> %d", body, r.status, len(before), len(after))
		}
	})
}

// Ending the webinar disconnects every viewer and tells every channel "ended"; only the host
// may end it.
func TestEndWebinar(t *testing.T) {
	s, w, host := roomSetup(t, nil)
	ana := joinAs(t, s, w.ID, "Ana", creds{}, 201)
	recvViewer(t, s, w, ana.Token)
	recvViewer(t, s, w, "") // an anonymous viewer of the public webinar
	ch := openChannel(t, s, w.ID, ana.Token, "")
	for s.api.Broadcast.Viewers(w.ID) != 2 {
		time.Sleep(10 * time.Millisecond)
	}
	if r := s.call(t, creds{bearer: ana.Token}, "POST", "/api/webinars/"+w.ID+"/end", "", ""); r.status != 403 {
		t.Fatalf("attendee ends: %d %s", r.status, r.body)
	}
	if r := s.call(t, host, "POST", "/api/webinars/"+w.ID+"/end", "", ""); r.status != 204 {
		t.Fatalf("end: %d %s", r.status, r.body)
	}
	if ev := ch.mustNext(t); ev.typ != "ended" || ev.data["message"] != "webinar ended" {
		t.Fatalf("heard %+v, want ended", ev)
	}
	if _, err := ch.next(); err == nil {
		t.Fatal("channel still open after end")
	}
	if n := s.api.Broadcast.Viewers(w.ID); n != 0 {
		t.Fatalf("%d viewers after end", n)
	}
	if r := s.call(t, creds{bearer: ana.Token}, "GET", "/api/webinars/"+w.ID+"/channel", "", ""); r.status != 410 {
		t.Fatalf("channel after end: %d", r.status)
	}
}

// Attendees hear how many are in the room (admitted and connected: see roomenforce_test.go),
// not who.
func TestAttendeesHearOnlyTheCount(t *testing.T) {
	s, w, _ := roomSetup(t, nil)
	ana := joinAs(t, s, w.ID, "Ana", creds{}, 201)
	ch := openChannel(t, s, w.ID, ana.Token, "")
	bob := joinAs(t, s, w.ID, "Bob", creds{}, 201)
	openChannel(t, s, w.ID, bob.Token, "")
	for {
		ev, err := ch.next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.typ != "count" {
			t.Fatalf("ana heard %+v, want only counts", ev)
		}
		if ev.data["count"] == float64(2) {
			return
		}
	}
}

// Chat sent over the REST API reaches the other participants' live channel: chat and the
// channel meet at the room manager (issue 9).
func TestChatReachesTheChannel(t *testing.T) {
	s, w, _ := roomSetup(t, nil)
	ana := joinAs(t, s, w.ID, "Ana", creds{}, 201)
	ch := openChannel(t, s, w.ID, ana.Token, "")
	bob := joinAs(t, s, w.ID, "Bob", creds{}, 201)
	if r := s.call(t, creds{bearer: bob.Token}, "POST", "/api/webinars/"+w.ID+"/chat", "application/json",
		`{"text":"Hello from Bob","to":"everyone"}`); r.status != 201 {
		t.Fatalf("chat: %d %s", r.status, r.body)
	}
	for {
		ev := ch.mustNext(t)
		if ev.typ == "count" {
			continue
		}
		// The sender is the participant Bob joined as, under the name he joined with.
		if ev.typ != "chat" || ev.data["text"] != "Hello from Bob" || ev.data["name"] != "Bob" {
			t.Fatalf("ana's channel got %+v, want Bob's chat", ev)
		}
		return
	}
}

// The live channel ends like a caption stream when the server stops: a shutdown event with a
// reconnect delay, so graceful shutdown does not wait on channel clients (issue 8, item 1).
func TestChannelShutdown(t *testing.T) {
	s, w, _ := roomSetup(t, nil)
	ana := joinAs(t, s, w.ID, "Ana", creds{}, 201)
	ch := openChannel(t, s, w.ID, ana.Token, "")
	s.api.BeginShutdown()
	for {
		ev, err := ch.next()
		if err != nil {
			t.Fatalf("channel ended without the shutdown event: %v", err)
		}
		if ev.typ == "shutdown" {
			if ev.data["reason"] != "server shutting down" {
				t.Fatalf("shutdown event %+v", ev)
			}
			return
		}
	}
}

// Live channels count against the per-address cap on long-lived streams, as caption streams
// do (issue 8, item 13).
func TestChannelCountsAgainstStreamCap(t *testing.T) {
	s, w, _ := roomSetup(t, func(d *Deps) { d.StreamsPerAddr = 2 })
	ana := joinAs(t, s, w.ID, "Ana", creds{}, 201)
	openChannel(t, s, w.ID, ana.Token, "")
	openChannel(t, s, w.ID, ana.Token, "")
	req, _ := http.NewRequest("GET", s.URL+"/api/webinars/"+w.ID+"/channel", nil)
	req.Header.Set("Authorization", "Bearer "+ana.Token)
	res, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("third stream from one address: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
}

// A participant in the waiting room cannot chat until admitted.
func TestWaitingParticipantCannotChat(t *testing.T) {
	s, w, host := roomSetup(t, nil)
	patchRoom(t, s, host, w, `{"waiting_room":true}`)
	cleo := joinAs(t, s, w.ID, "Cleo", creds{}, 201)
	if cleo.State != "waiting" {
		t.Fatalf("cleo is %q, want waiting", cleo.State)
	}
	if r := s.call(t, creds{bearer: cleo.Token}, "POST", "/api/webinars/"+w.ID+"/chat", "application/json",
		`{"text":"let me in","to":"everyone"}`); r.status != 403 {
		t.Fatalf("waiting participant's chat: %d %s, want 403", r.status, r.body)
	}
}

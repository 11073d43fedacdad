package api

import (
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// fakeTimers is the duration limit's clock in tests: timers fire when the test moves the
// testClock forward with Advance, in the order they are due; a timer due at once runs at
// once, on its own goroutine, as with time.AfterFunc.
type fakeTimers struct {
	clock   *testClock
	mu      sync.Mutex
	pending []*fakeTimer
}

type fakeTimer struct {
	at   time.Time
	f    func()
	done bool // fired or stopped
}

func (ft *fakeTimers) AfterFunc(d time.Duration, f func()) func() bool {
	if d <= 0 {
		go f()
		return func() bool { return false }
	}
	ft.mu.Lock()
	defer ft.mu.Unlock()
	tm := &fakeTimer{at: ft.clock.Now().Add(d), f: f}
	ft.pending = append(ft.pending, tm)
	return func() bool {
		ft.mu.Lock()
		defer ft.mu.Unlock()
		was := !tm.done
		tm.done = true
		return was
	}
}

// Advance moves the clock by d and runs every timer due by then.
func (ft *fakeTimers) Advance(d time.Duration) {
	ft.clock.Add(d)
	now := ft.clock.Now()
	ft.mu.Lock()
	var due []*fakeTimer
	for _, tm := range ft.pending {
		if !tm.done && !tm.at.After(now) {
			tm.done = true
			due = append(due, tm)
		}
	}
	ft.mu.Unlock()
	sort.SliceStable(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, tm := range due {
		tm.f()
	}
}

// durationSetup is a public webinar whose policy limits webinars to minutes, an attendee
// listening on the live channel, and the fake clock.
func durationSetup(t *testing.T, minutes int) (*policyEnv, *fakeTimers, *channelClient) {
	t.Helper()
	ft := &fakeTimers{}
	s, w, host := roomSetup(t, func(d *Deps) { d.AfterFunc = ft.AfterFunc })
	ft.clock = s.clock
	a := s.user(t, "admin@school.example", true)
	e := &policyEnv{s: s, w: w, host: host, admin: creds{session: s.session(t, a)}}
	e.attendee = joinAs(t, s, w.ID, "Ana", creds{}, 201)
	e.mustPutPolicy(t, `{"max_duration_minutes":`+strconv.Itoa(minutes)+`}`)
	return e, ft, openChannel(t, s, w.ID, e.attendee.Token, "")
}

// goLive publishes with the stream key: a negotiated presenter session, live at once.
func goLive(t *testing.T, e *policyEnv) {
	t.Helper()
	if r := e.s.call(t, creds{bearer: e.w.StreamKey}, "POST", "/whip/"+e.w.ID, "application/sdp",
		validOffer(t, webrtc.RTPTransceiverDirectionSendonly)); r.status != 201 {
		t.Fatalf("whip: %d %s", r.status, r.body)
	}
}

// expectNothingYet proves no event but the marker's arrives first: the host chats a marker and
// it must be the next event (other than counts) on the channel.
func expectNothingYet(t *testing.T, e *policyEnv, ch *channelClient, when string) {
	t.Helper()
	if r := e.s.call(t, e.host, "POST", e.base()+"/chat", js, `{"text":"marker `+when+`"}`); r.status != 201 {
		t.Fatalf("marker: %d %s", r.status, r.body)
	}
	if ev := ch.mustNext(t); ev.typ != "chat" || ev.data["text"] != "marker "+when {
		t.Fatalf("%s: heard %s %v before the marker", when, ev.typ, ev.data)
	}
}

// Warnings at −5 and −1 minutes, then the end for everyone, all on the injected clock and
// counted from the presenter going live.
func TestDurationLimitWarnsThenEnds(t *testing.T) {
	e, ft, ch := durationSetup(t, 10)
	ft.Advance(30 * time.Minute) // no count before anyone is live
	expectNothingYet(t, e, ch, "before live")
	start := e.s.clock.Now()
	goLive(t, e)
	end := start.Add(10 * time.Minute).UTC().Format(time.RFC3339)

	ft.Advance(5*time.Minute - time.Second)
	expectNothingYet(t, e, ch, "at 4:59")
	ft.Advance(time.Second)
	if ev := ch.mustNext(t); ev.typ != "ending" || ev.data["minutes_left"] != 5.0 || ev.data["ends_at"] != end {
		t.Fatalf("at 5:00 heard %s %v, want ending 5 minutes, ends at %s", ev.typ, ev.data, end)
	}
	goLive(t, e) // a presenter reconnecting does not restart the count
	ft.Advance(4 * time.Minute)
	if ev := ch.mustNext(t); ev.typ != "ending" || ev.data["minutes_left"] != 1.0 || ev.data["ends_at"] != end {
		t.Fatalf("at 9:00 heard %s %v, want ending 1 minute", ev.typ, ev.data)
	}
	ft.Advance(time.Minute - time.Second)
	expectNothingYet(t, e, ch, "at 9:59")
	if !e.s.api.Broadcast.Live(e.w.ID) {
		t.Fatal("presenter gone before the limit")
	}
	ft.Advance(time.Second)
	if ev := ch.mustNext(t); ev.typ != "ended" {
		t.Fatalf("at 10:00 heard %s %v, want ended", ev.typ, ev.data)
	}
	if _, err := ch.next(); err == nil {
		t.Fatal("channel still open after the limit")
	}
	if e.s.api.Broadcast.Live(e.w.ID) {
		t.Fatal("presenter still live after the limit")
	}
	if n := len(e.s.api.limits.runs); n != 0 {
		t.Fatalf("%d counts left after the end", n)
	}
}

// The host ending the webinar early stops its count: no warning or end fires later.
func TestDurationCountStopsWithTheWebinar(t *testing.T) {
	e, ft, _ := durationSetup(t, 10)
	goLive(t, e)
	if n := len(e.s.api.limits.runs); n != 1 {
		t.Fatalf("%d counts while live, want 1", n)
	}
	if r := e.s.call(t, e.host, "POST", e.base()+"/end", "", ""); r.status != 204 {
		t.Fatalf("end: %d %s", r.status, r.body)
	}
	if n := len(e.s.api.limits.runs); n != 0 {
		t.Fatalf("%d counts after the host ended it", n)
	}
	if cs, err := e.s.store.Counts(t.Context()); err != nil || len(cs) != 0 {
		t.Fatalf("stored counts after the host ended it: %v %v", cs, err)
	}
	ft.mu.Lock()
	for _, tm := range ft.pending {
		if !tm.done {
			t.Errorf("a timer due at %v is still armed", tm.at)
		}
	}
	ft.mu.Unlock()
}

// A limit set while a webinar is live counts from then; removing it stops the count; a shorter
// limit that has already passed ends the webinar at once.
func TestDurationLimitChangedWhileLive(t *testing.T) {
	e, ft, ch := durationSetup(t, 0)
	goLive(t, e)
	ft.Advance(time.Hour)
	e.mustPutPolicy(t, `{"max_duration_minutes":30}`)
	ft.Advance(25 * time.Minute)
	if ev := ch.mustNext(t); ev.typ != "ending" || ev.data["minutes_left"] != 5.0 {
		t.Fatalf("heard %s %v, want ending 5 minutes after 25 of a 30-minute limit set while live", ev.typ, ev.data)
	}
	e.mustPutPolicy(t, `{"max_duration_minutes":0}`)
	ft.Advance(time.Hour)
	expectNothingYet(t, e, ch, "limit removed")
	e.mustPutPolicy(t, `{"max_duration_minutes":40}`) // counts from now
	e.mustPutPolicy(t, `{"max_duration_minutes":1}`)  // 1 minute from that same start: the warning is due now
	if ev := ch.mustNext(t); ev.typ != "ending" || ev.data["minutes_left"] != 1.0 {
		t.Fatalf("heard %s %v, want ending 1 minute", ev.typ, ev.data)
	}
	e.mustPutPolicy(t, `{"max_duration_minutes":30}`) // the same count, longer
	ft.Advance(3 * time.Minute)
	expectNothingYet(t, e, ch, "3 minutes into a 30-minute count")
	e.mustPutPolicy(t, `{"max_duration_minutes":2}`) // the new limit has passed already
	if ev := ch.mustNext(t); ev.typ != "ended" {
		t.Fatalf("heard %s %v, want ended", ev.typ, ev.data)
	}
}

// The contract: with max_duration_minutes = 1, a live webinar ends within 70 s of going live,
// and the presenter's real WHIP session and a viewer's real WHEP session are closed. The
// minute passes on the injected clock.
func TestDurationLimitClosesRealSessions(t *testing.T) {
	e, ft, ch := durationSetup(t, 1)
	viewer := recvViewer(t, e.s, e.w, e.attendee.Token)
	start := time.Now()
	pub, track := whipPublisher(t, e)
	waitFor(t, 20*time.Second, "presenter connected", func() bool { return connected(pub.ConnectionState()) })
	waitFor(t, 20*time.Second, "viewer connected", func() bool { return connected(viewer.ConnectionState()) })
	stop := make(chan struct{})
	defer close(stop)
	go sendAudio(track, stop)

	if ev := ch.mustNext(t); ev.typ != "ending" || ev.data["minutes_left"] != 1.0 {
		t.Fatalf("heard %s %v, want ending 1 minute at going live", ev.typ, ev.data)
	}
	ft.Advance(time.Minute)
	if ev := ch.mustNext(t); ev.typ != "ended" {
		t.Fatalf("heard %s %v, want ended", ev.typ, ev.data)
	}
	if e.s.api.Broadcast.Live(e.w.ID) || e.s.api.Broadcast.Viewers(e.w.ID) != 0 {
		t.Fatalf("after the limit: live %v, %d viewers", e.s.api.Broadcast.Live(e.w.ID), e.s.api.Broadcast.Viewers(e.w.ID))
	}
	waitFor(t, 70*time.Second-time.Since(start), "presenter gone", func() bool { return gone(pub.ConnectionState()) })
	waitFor(t, 70*time.Second-time.Since(start), "viewer gone", func() bool { return gone(viewer.ConnectionState()) })
	t.Logf("both sessions closed %v after going live (real time; the minute passed on the fake clock)", time.Since(start))
}

func connected(st webrtc.PeerConnectionState) bool { return st == webrtc.PeerConnectionStateConnected }

// gone: the peer saw its session end.
func gone(st webrtc.PeerConnectionState) bool {
	return st == webrtc.PeerConnectionStateClosed || st == webrtc.PeerConnectionStateFailed ||
		st == webrtc.PeerConnectionStateDisconnected
}

// whipPublisher is a real pion presenter sending audio over WHIP with the stream key.
func whipPublisher(t *testing.T, e *policyEnv) (*webrtc.PeerConnection, *webrtc.TrackLocalStaticRTP) {
	t.Helper()
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "pub")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
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
	r := e.s.call(t, creds{bearer: e.w.StreamKey}, "POST", "/whip/"+e.w.ID, "application/sdp", pc.LocalDescription().SDP)
	if r.status != 201 {
		t.Fatalf("whip: %d %s", r.status, r.body)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: r.body}); err != nil {
		t.Fatal(err)
	}
	return pc, track
}

// sendAudio writes Opus-sized packets every 20 ms until stop.
func sendAudio(track *webrtc.TrackLocalStaticRTP, stop <-chan struct{}) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for seq := uint16(0); ; seq++ {
		select {
		case <-stop:
			return
		case <-tick.C:
			_ = track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 960}, Payload: make([]byte, 80)})
		}
	}
}

// A restarted server goes on with the stored count: the warnings and the end come when they
// would have, not a full limit after the restart.
func TestDurationCountSurvivesRestart(t *testing.T) {
	e, ft, ch := durationSetup(t, 10)
	start := e.s.clock.Now()
	goLive(t, e)
	ft.Advance(3 * time.Minute)
	e.s.api.closeLimits() // the old process is gone: its timers never fire

	ft2 := &fakeTimers{clock: e.s.clock}
	d := e.s.api.Deps
	d.AfterFunc = ft2.AfterFunc
	restarted := New(d)
	if err := restarted.ResumeDurationLimits(t.Context()); err != nil {
		t.Fatal(err)
	}
	ft2.Advance(2*time.Minute - time.Second)
	expectNothingYet(t, e, ch, "4:59 after going live, restarted")
	ft2.Advance(time.Second)
	end := start.Add(10 * time.Minute).UTC().Format(time.RFC3339)
	if ev := ch.mustNext(t); ev.typ != "ending" || ev.data["minutes_left"] != 5.0 || ev.data["ends_at"] != end {
		t.Fatalf("5 minutes after going live heard %s %v, want ending 5 minutes, ends at %s", ev.typ, ev.data, end)
	}
	ft2.Advance(4 * time.Minute)
	if ev := ch.mustNext(t); ev.typ != "ending" || ev.data["minutes_left"] != 1.0 {
		t.Fatalf("heard %s %v, want ending 1 minute", ev.typ, ev.data)
	}
	ft2.Advance(time.Minute)
	if ev := ch.mustNext(t); ev.typ != "ended" {
		t.Fatalf("heard %s %v, want ended", ev.typ, ev.data)
	}
	if cs, err := e.s.store.Counts(t.Context()); err != nil || len(cs) != 0 {
		t.Fatalf("stored counts after the end: %v %v", cs, err)
	}
}

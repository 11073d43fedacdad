package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"lectern/cluster"
	"lectern/models"
	"lectern/room"
)

// An edge shows the origin's stage, never its own: its room holds only the pull, which must
// not reach the watch pages as a "stage" event (the cluster relays every node's events to
// all) nor in GET .../stage, which answers with the origin's latest listing instead. A stage
// control sent to the edge is carried out on the origin.
func TestEdgeShowsTheOriginsStage(t *testing.T) {
	rig := newClusterRig(t, 2)
	id, key := rig.webinar.ID, rig.webinar.StreamKey
	onEdge := rig.nodes[1].api.Room
	sub, err := onEdge.Subscribe(id, room.Participant{ID: "p1", Webinar: id, State: room.StateAdmitted}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	api := peerAPI(t)
	publish(t, api, rig.url(0)+"/whip/"+id, key, 0)
	v := watch(t, api, rig.url(1)+"/whep/"+id, "")
	waitFor(t, 30*time.Second, "the edge viewer to receive media", func() bool { return v.has(0, 25) })
	time.Sleep(3 * stageGather) // a stage event of the edge's own would be out by now
	for {
		select {
		case ev := <-sub.C:
			if ev.Type == "stage" {
				t.Fatalf("the edge sent a stage event of its own: %s", ev.Data)
			}
			continue
		default:
		}
		break
	}

	getStage := func(node int) stageView {
		t.Helper()
		res, err := http.Get(rig.url(node) + "/api/webinars/" + id + "/stage")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		var sv stageView
		if res.StatusCode != http.StatusOK || json.Unmarshal(body, &sv) != nil {
			t.Fatalf("GET stage on node %d: %d %s", node, res.StatusCode, body)
		}
		return sv
	}
	if sv := getStage(0); len(sv.Members) != 1 || sv.Members[0].Member != "stream-key" {
		t.Fatalf("origin's stage %+v, want the stream key's presenter", sv)
	}
	if sv := getStage(1); len(sv.Members) != 0 {
		t.Fatalf("edge's stage before any origin event %+v, want none (not its pull)", sv)
	}
	// The origin's stage event, as the cluster bus delivers it, is what the edge shows.
	originView, _ := json.Marshal(rig.nodes[0].api.stageView(id))
	onEdge.Apply(room.Op{Kind: room.OpPublish, Webinar: id, Audience: room.Audience{Everyone: true}, Type: "stage", Data: originView})
	if sv := getStage(1); len(sv.Members) != 1 || sv.Members[0].Member != "stream-key" || sv.Members[0].Slot != 0 {
		t.Fatalf("edge's stage %+v, want the origin's", sv)
	}

	// A host's mute sent to the edge goes to the origin, where the presenter publishes.
	ctx := context.Background()
	host, err := rig.store.CreateUser(ctx, models.NewUser{Email: "edgehost@school.example", PasswordHash: passwordHash(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := rig.store.SetMember(ctx, id, host.ID, models.RoleHost); err != nil {
		t.Fatal(err)
	}
	_, token, err := rig.store.CreateAPIToken(ctx, host.ID, "console")
	if err != nil {
		t.Fatal(err)
	}
	mute := func(node int) (int, map[string]string) {
		req, _ := http.NewRequest(http.MethodPut, rig.url(node)+"/api/webinars/"+id+"/stage/stream-key", strings.NewReader(`{"audio":"muted"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]string
		_ = json.NewDecoder(res.Body).Decode(&body)
		return res.StatusCode, body
	}
	if code, body := mute(1); code != http.StatusAccepted || body["origin"] != rig.url(0) {
		t.Fatalf("mute on the edge: %d %v, want 202 naming the origin", code, body)
	}
	waitFor(t, 5*time.Second, "the origin to mute the presenter", func() bool {
		return rig.nodes[0].bc.MuteOf(id, "stream-key").Audio
	})
	if code, body := mute(0); code != http.StatusOK || body["audio"] != "muted" {
		t.Fatalf("mute on the origin: %d %v", code, body)
	}
}

// SendStage delivers c to every other node's handler, as the bus does.
func (d fakeDir) SendStage(c cluster.StageCommand) {
	d.c.mu.Lock()
	var to []func(cluster.StageCommand)
	for id, f := range d.c.ends {
		if id != d.id {
			to = append(to, f)
		}
	}
	d.c.mu.Unlock()
	for _, f := range to {
		go f(c)
	}
}

func (d fakeDir) OnStage(f func(cluster.StageCommand)) error {
	d.c.mu.Lock()
	defer d.c.mu.Unlock()
	if d.c.ends == nil {
		d.c.ends = map[string]func(cluster.StageCommand){}
	}
	d.c.ends[d.id] = f
	return nil
}

// A host demoting a panelist through a node other than the origin takes them off the stage
// on the origin, where they publish.
func TestDemoteOnAnotherNodeEndsTheStageSession(t *testing.T) {
	rig := newClusterRig(t, 2)
	id := rig.webinar.ID
	ctx := context.Background()
	token := func(email string, role models.Role) string {
		u, err := rig.store.CreateUser(ctx, models.NewUser{Email: email, PasswordHash: passwordHash(t)})
		if err != nil {
			t.Fatal(err)
		}
		if err := rig.store.SetMember(ctx, id, u.ID, role); err != nil {
			t.Fatal(err)
		}
		_, tok, err := rig.store.CreateAPIToken(ctx, u.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	hostToken := token("host@school.example", models.RoleHost)
	panelistToken := token("guest@school.example", models.RolePanelist)
	publish(t, peerAPI(t), rig.url(0)+"/whip/"+id, panelistToken, 0)
	onStage := func() int { return len(rig.nodes[0].bc.Stage(id)) }
	waitFor(t, 10*time.Second, "the panelist on the origin's stage", func() bool { return onStage() == 1 })

	req, _ := http.NewRequest(http.MethodPut, rig.url(1)+"/api/webinars/"+id+"/members",
		strings.NewReader(`{"email":"guest@school.example","role":"attendee"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+hostToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("demote on node b: %d", res.StatusCode)
	}
	demoted := time.Now()
	waitFor(t, 10*time.Second, "the demoted panelist off the origin's stage", func() bool { return onStage() == 0 })
	t.Logf("off the origin's stage %v after the demotion on the other node", time.Since(demoted).Round(time.Millisecond))
}

package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"lectern/auth"
	"lectern/broadcast"
	"lectern/cluster"
	"lectern/models"
	"lectern/room"
)

// Host controls of the stage (issue 10): the stage listing, mutes, taking
// someone off the stage.
//
// A stage member is named, in routes and events, by their account's user id (a host,
// co-host or panelist member), a participant id (an attendee promoted to panelist, publishing
// with their participant token) or "stream-key" (the host's OBS). On the live channel that
// member is the participant "u.<user id>", the participant id, or "key".

func (s *Server) stageRoutes() {
	e := s.echo
	e.POST("/api/webinars/:id/publish-token", s.publishToken)
	e.GET("/api/webinars/:id/stage", s.getStage)
	e.PUT("/api/webinars/:id/stage/:member", s.putStage)
	e.DELETE("/api/webinars/:id/stage/:member", s.deleteStage)
	s.Broadcast.OnStage(newStageNotifier(s).changed)
}

// stageTarget is a stage member resolved from a route's {member}.
type stageTarget struct {
	member string // as in the route
	key    string // broadcast.Publisher.Key
	pid    string // the member's participant id on the live channel
}

// stageTargetOf resolves member in webinar w: a member who may publish, a panelist
// participant, or the stream key. Anyone else is a 404: they cannot be on the stage.
func (s *Server) stageTargetOf(ctx context.Context, w models.Webinar, member string) (stageTarget, error) {
	if member == broadcast.StreamKeyPublisher {
		return stageTarget{member: member, key: member, pid: "key"}, nil
	}
	role, err := s.Store.MemberRole(ctx, w.ID, member)
	if err == nil && auth.Can(role, auth.ActPublish) {
		return stageTarget{member: member, key: memberStageKey(member), pid: "u." + member}, nil
	}
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return stageTarget{}, err
	}
	p, err := s.Store.Participant(ctx, w.ID, member)
	if err == nil && p.Role != models.RoleAttendee && p.State == room.StateAdmitted {
		return stageTarget{member: member, key: participantStageKey(member), pid: member}, nil
	}
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return stageTarget{}, err
	}
	for _, m := range s.Broadcast.Stage(w.ID) { // an admin publishing: host of every webinar, no member row
		if m.Key == memberStageKey(member) {
			return stageTarget{member: member, key: m.Key, pid: "u." + member}, nil
		}
	}
	return stageTarget{}, echo.NewHTTPError(http.StatusNotFound, "no such stage member: a panelist, co-host or host of this webinar (or \"stream-key\")")
}

func participantStageKey(pid string) string { return "participant:" + pid }

// stageMemberID turns a Publisher.Key back into the id routes and pages use.
func stageMemberID(key string) string {
	if id, ok := strings.CutPrefix(key, "member:"); ok {
		return id
	}
	if id, ok := strings.CutPrefix(key, "participant:"); ok {
		return id
	}
	return broadcast.StreamKeyPublisher
}

// stageMember is one presenter in GET .../stage and the "stage" channel event. slot says
// which slot m-lines carry them (the k-th audio m-line and the (k+3)-th video m-line of a
// WHEP offer with several, see broadcast/stage.go).
type stageMember struct {
	Member string `json:"member"`
	Name   string `json:"name"`
	Slot   int    `json:"slot"`
	Active bool   `json:"active"` // on the main tracks: the active speaker or the spotlight
	Pinned bool   `json:"pinned"` // a host pinned the spotlight on them
	Audio  string `json:"audio"`  // "on" or "muted" (by the server)
	Video  string `json:"video"`
}

type stageView struct {
	Members []stageMember `json:"members"`
}

func onOrMuted(muted bool) string {
	if muted {
		return "muted"
	}
	return "on"
}

func (s *Server) stageView(webinar string) stageView {
	out := stageView{Members: []stageMember{}}
	for _, m := range s.Broadcast.Stage(webinar) {
		out.Members = append(out.Members, stageMember{Member: stageMemberID(m.Key), Name: m.Name, Slot: m.Slot,
			Active: m.Active, Pinned: m.Pinned, Audio: onOrMuted(m.Mute.Audio), Video: onOrMuted(m.Mute.Video)})
	}
	return out
}

// getStage is GET .../stage: who is on stage, in which slot, muted or not, who is large. Anyone
// who may watch the webinar's media may read it (the watch page lays out its tiles with it).
func (s *Server) getStage(c echo.Context) error {
	w, err := s.Store.Webinar(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.allowMedia(c, w); err != nil {
		return err
	}
	if !s.stageIsHere(c.Request().Context(), w.ID) {
		if data, ok := s.Room.Latest(w.ID, "stage"); ok {
			return c.JSONBlob(http.StatusOK, data)
		}
		return c.JSON(http.StatusOK, stageView{Members: []stageMember{}})
	}
	return c.JSON(http.StatusOK, s.stageView(w.ID))
}

// forwardStage sends a stage control made on a node that does not hold the stage to the one
// that does (cmd over the cluster bus) and answers 202, reporting whether it did: the
// presenters publish to the origin, and only there does muting, spotlighting or ending their
// session act. The member's page hears the result as usual ("stage-control"), on any node.
// A lone server (no bus) always holds its stage.
func (s *Server) forwardStage(c echo.Context, cmd cluster.StageCommand) (bool, error) {
	ctx := c.Request().Context()
	if s.stageCmds == nil || s.stageIsHere(ctx, cmd.Webinar) {
		return false, nil
	}
	s.stageCmds.SendStage(cmd)
	url := ""
	if origin, ok, err := s.edges.dir.Origin(ctx, cmd.Webinar); err == nil && ok {
		url = origin.URL
	}
	return true, c.JSON(http.StatusAccepted, map[string]string{"member": cmd.Member, "origin": url})
}

// stageIsHere reports whether this node holds the webinar's stage: its presenters publish
// here, or nobody publishes anywhere. An edge's room holds only its pull; the origin's stage
// reaches it as "stage" events, which it must neither contradict nor send on.
func (s *Server) stageIsHere(ctx context.Context, webinar string) bool {
	for _, m := range s.Broadcast.Stage(webinar) {
		if m.Key == broadcast.RelayPublisher {
			return false
		}
	}
	origin, ok, err := s.edges.dir.Origin(ctx, webinar)
	return err != nil || !ok || origin.ID == s.edges.dir.Self().ID
}

// stageNotifier tells the room the stage changed: one "stage" event with the whole listing,
// at most one per stageGather, so a burst (a presenter joining also moves the active speaker)
// makes one event.
type stageNotifier struct {
	s       *Server
	mu      sync.Mutex
	pending map[string]bool
}

const stageGather = 100 * time.Millisecond

func newStageNotifier(s *Server) *stageNotifier {
	return &stageNotifier{s: s, pending: map[string]bool{}}
}

func (n *stageNotifier) changed(webinar string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.pending[webinar] {
		return
	}
	n.pending[webinar] = true
	time.AfterFunc(stageGather, func() {
		n.mu.Lock()
		delete(n.pending, webinar)
		n.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if n.s.stageIsHere(ctx, webinar) {
			n.s.Room.Publish(webinar, room.Audience{Everyone: true}, "stage", n.s.stageView(webinar))
		}
	})
}

// stageRequest is PUT .../stage/{member}'s body; either field may be left out.
type stageRequest struct {
	Audio string `json:"audio"`
	Video string `json:"video"`
}

func validSwitch(v string) bool { return v == "" || v == "on" || v == "muted" }

// stageControl is the "stage-control" channel event, sent to the stage member only: the
// server's mute as it now is, whether a host set it, and what a host asks them to turn on.
type stageControl struct {
	Member  string   `json:"member"`
	Audio   string   `json:"audio"`
	Video   string   `json:"video"`
	ByHost  bool     `json:"by_host"`
	Ask     []string `json:"ask,omitempty"`     // "audio", "video": a host asks them to unmute
	Removed bool     `json:"removed,omitempty"` // a host took them off the stage
}

// putStage is PUT .../stage/{member} {"audio": "muted"|"on", "video": "muted"|"on"}.
//   - A host or co-host mutes anyone on stage: the server stops forwarding at once. A host's
//     "on" for someone else does not unmute them: it asks (the member decides).
//   - A stage member sets their own mute either way (the studio page's microphone and camera
//     toggles), including turning on what a host muted.
func (s *Server) putStage(c echo.Context) error {
	ctx := c.Request().Context()
	caller, err := s.participant(c, c.Param("id"))
	if err != nil {
		return err
	}
	var in stageRequest
	if err := decodeJSON(c.Request().Header.Get(echo.HeaderContentType), c.Request().Body, &in); err != nil {
		return err
	}
	if !validSwitch(in.Audio) || !validSwitch(in.Video) || in.Audio == "" && in.Video == "" {
		return echo.NewHTTPError(http.StatusBadRequest, `send "audio" and/or "video", each "muted" or "on"`)
	}
	w, err := s.Store.Webinar(ctx, caller.Webinar)
	if err != nil {
		return err
	}
	t, err := s.stageTargetOf(ctx, w, c.Param("member"))
	if err != nil {
		return err
	}
	self := caller.ID == t.pid
	if !self && !caller.Moderates() {
		return echo.NewHTTPError(http.StatusForbidden, "only the host and co-hosts mute others on stage")
	}
	if fwd, err := s.forwardStage(c, cluster.StageCommand{Op: cluster.StageMute, Webinar: w.ID, Key: t.key,
		Member: t.member, Participant: t.pid, Audio: in.Audio, Video: in.Video, Self: self}); fwd {
		return err
	}
	return c.JSON(http.StatusOK, s.muteStage(w.ID, t, self, in))
}

// muteStage sets t's server mute as in asks and tells them: a host's "on" for someone else
// only asks them to turn it on.
func (s *Server) muteStage(webinar string, t stageTarget, self bool, in stageRequest) stageControl {
	m := s.Broadcast.MuteOf(webinar, t.key)
	var ask []string
	apply := func(v string, muted *bool, medium string) {
		switch {
		case v == "muted":
			*muted = true
		case v == "on" && self:
			*muted = false
		case v == "on" && *muted:
			ask = append(ask, medium)
		}
	}
	apply(in.Audio, &m.Audio, "audio")
	apply(in.Video, &m.Video, "video")
	changed := s.Broadcast.SetMute(webinar, t.key, m)
	ev := stageControl{Member: t.member, Audio: onOrMuted(m.Audio), Video: onOrMuted(m.Video), ByHost: !self, Ask: ask}
	if changed || len(ask) > 0 {
		s.Room.Publish(webinar, room.Audience{Participant: t.pid}, "stage-control", ev)
	}
	return ev
}

// deleteStage is DELETE .../stage/{member} (host, co-host): their publishing session ends now
// and their page hears it ("stage-control" with removed); they stay a panelist and may go on
// stage again (demote them to keep them off).
func (s *Server) deleteStage(c echo.Context) error {
	caller, err := s.moderator(c)
	if err != nil {
		return err
	}
	w, err := s.Store.Webinar(c.Request().Context(), caller.Webinar)
	if err != nil {
		return err
	}
	t, err := s.stageTargetOf(c.Request().Context(), w, c.Param("member"))
	if err != nil {
		return err
	}
	if fwd, err := s.forwardStage(c, cluster.StageCommand{Op: cluster.StageEnd, Webinar: w.ID, Key: t.key,
		Member: t.member, Participant: t.pid}); fwd {
		return err
	}
	if !s.endStage(w.ID, t) {
		return echo.NewHTTPError(http.StatusNotFound, "this member is not on stage")
	}
	return c.NoContent(http.StatusNoContent)
}

// endStage ends t's publishing session, if any, and tells them. A session not on this node
// may be on the webinar's origin: the other nodes are asked to end it too (demoting someone
// must take them off stage whichever node the host's request reached).
func (s *Server) endStage(webinar string, t stageTarget) bool {
	if s.endStageHere(webinar, t) {
		return true
	}
	if s.stageCmds != nil {
		s.stageCmds.SendStage(cluster.StageCommand{Op: cluster.StageEnd, Webinar: webinar, Key: t.key, Member: t.member, Participant: t.pid})
	}
	return false
}

func (s *Server) endStageHere(webinar string, t stageTarget) bool {
	if !s.Broadcast.EndStage(webinar, t.key) {
		return false
	}
	s.Room.Publish(webinar, room.Audience{Participant: t.pid}, "stage-control", stageControl{Member: t.member, ByHost: true, Removed: true})
	return true
}

// followClusterStage carries out the stage controls other nodes send to the node holding the
// stage (forwardStage, endStage). Only the node where the stage is acts.
func (s *Server) followClusterStage(sc cluster.StageCommander) {
	if sc == nil {
		return
	}
	s.stageCmds = sc
	err := sc.OnStage(func(c cluster.StageCommand) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		t := stageTarget{member: c.Member, key: c.Key, pid: c.Participant}
		switch {
		case c.Op == cluster.StageEnd:
			if s.endStageHere(c.Webinar, t) {
				s.Logger.Info("stage session ended at another node's request", "webinar", c.Webinar, "member", c.Member)
			}
		case !s.stageIsHere(ctx, c.Webinar):
		case c.Op == cluster.StageMute && validSwitch(c.Audio) && validSwitch(c.Video):
			s.muteStage(c.Webinar, t, c.Self, stageRequest{Audio: c.Audio, Video: c.Video})
		case c.Op == cluster.StageSpotlight:
			s.Broadcast.SetSpotlight(c.Webinar, c.Key)
		}
	})
	if err != nil {
		s.Logger.Error("stage controls from other nodes not followed", "err", err)
	}
}

// leaveStageUnlessPublisher ends a member's publishing session when their new role may not
// publish (PUT .../members demoted or removed them).
func (s *Server) leaveStageUnlessPublisher(webinar, userID string, role models.Role) {
	if role == "" || !auth.Can(role, auth.ActPublish) {
		s.endStage(webinar, stageTarget{member: userID, key: memberStageKey(userID), pid: "u." + userID})
	}
}

// leaveStageParticipant ends a participant's publishing session (demoted, removed, left).
func (s *Server) leaveStageParticipant(webinar, pid string) {
	s.endStage(webinar, stageTarget{member: pid, key: participantStageKey(pid), pid: pid})
}

// ownsStageSession lets a WHIP DELETE through only from the credential that made the session
// (same stage identity) or a host or co-host: another panelist's token cannot end it.
func (s *Server) ownsStageSession(c echo.Context, w models.Webinar, session string) error {
	var owner string
	for _, m := range s.Broadcast.Stage(w.ID) {
		if m.Session == session {
			owner = m.Key
		}
	}
	if owner == "" {
		return nil // no such session: End answers 404
	}
	who := s.publisherOf(c, w)
	if who.Key == "" {
		who.Key = broadcast.StreamKeyPublisher
	}
	if who.Key == owner {
		return nil
	}
	if a, err := s.accessToWebinar(c, w); err != nil || a.can(auth.ActModerate) {
		return err
	}
	return echo.NewHTTPError(http.StatusForbidden, "this session was started with another credential: only that credential or a host ends it")
}

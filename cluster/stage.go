package cluster

import (
	"encoding/json"

	"github.com/nats-io/nats.go"
)

const subjStage = "lectern.stage"

// StageCommand is a stage control made on a node where the member does not publish, for the
// node where they do (the webinar's origin): the host's console may reach any node behind a
// load balancer, and only the origin holds the presenters' sessions.
type StageCommand struct {
	Op          StageOp `json:"op"`
	Webinar     string  `json:"webinar"`
	Key         string  `json:"key"`         // broadcast.Publisher.Key of the session
	Member      string  `json:"member"`      // as the stage routes name them
	Participant string  `json:"participant"` // their participant id on the live channel
	// Mute: "muted", "on" or "" (unchanged) for each medium, and whether the member asked it
	// for themselves (a host's "on" only asks them).
	Audio string `json:"audio,omitempty"`
	Video string `json:"video,omitempty"`
	Self  bool   `json:"self,omitempty"`
}

// StageOp is what a StageCommand does.
type StageOp string

// The stage operations.
const (
	StageEnd       StageOp = "end"       // end the member's publishing session
	StageMute      StageOp = "mute"      // set their server mute (Audio, Video, Self)
	StageSpotlight StageOp = "spotlight" // pin the large tile on them ("" Key unpins)
)

func (c StageCommand) valid() bool {
	switch c.Op {
	case StageEnd, StageMute:
		return c.Webinar != "" && c.Key != ""
	case StageSpotlight:
		return c.Webinar != ""
	}
	return false
}

// StageCommander carries StageCommands between nodes (Bus). A lone server needs none: every
// session is its own.
type StageCommander interface {
	// SendStage sends c to the other nodes.
	SendStage(c StageCommand)
	// OnStage makes apply run for every valid StageCommand another node sends. Call it once.
	OnStage(apply func(StageCommand)) error
}

// SendStage implements StageCommander.
func (b *Bus) SendStage(c StageCommand) { b.send(subjStage, "stage", c) }

// OnStage implements StageCommander.
func (b *Bus) OnStage(apply func(StageCommand)) error {
	_, err := b.nc.Subscribe(subjStage, func(msg *nats.Msg) {
		var c StageCommand
		if err := json.Unmarshal(msg.Data, &c); err != nil || !c.valid() {
			b.log.Warn("stage command from another node refused", "err", err)
			return
		}
		b.m.received.WithLabelValues("stage").Inc()
		apply(c)
	})
	return err
}

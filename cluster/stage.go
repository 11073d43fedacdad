package cluster

import (
	"encoding/json"

	"github.com/nats-io/nats.go"
)

const subjStageEnd = "lectern.stage.end"

// StageEnd asks the node where a stage member publishes to end that session: a host demoted
// or removed them on one node, and their WHIP session runs on the webinar's origin.
type StageEnd struct {
	Webinar     string `json:"webinar"`
	Key         string `json:"key"`         // broadcast.Publisher.Key of the session
	Member      string `json:"member"`      // as the stage routes name them
	Participant string `json:"participant"` // their participant id on the live channel
}

// StageEnder carries StageEnd between nodes (Bus). A lone server needs none: the session is
// always its own.
type StageEnder interface {
	// EndStage sends c to the other nodes.
	EndStage(c StageEnd)
	// OnStageEnd makes end run for every StageEnd another node sends. Call it once.
	OnStageEnd(end func(StageEnd)) error
}

// EndStage implements StageEnder.
func (b *Bus) EndStage(c StageEnd) { b.send(subjStageEnd, "stage", c) }

// OnStageEnd implements StageEnder.
func (b *Bus) OnStageEnd(end func(StageEnd)) error {
	_, err := b.nc.Subscribe(subjStageEnd, func(msg *nats.Msg) {
		var c StageEnd
		if err := json.Unmarshal(msg.Data, &c); err != nil || c.Webinar == "" || c.Key == "" {
			b.log.Warn("stage command from another node refused", "err", err)
			return
		}
		b.m.received.WithLabelValues("stage").Inc()
		end(c)
	})
	return err
}

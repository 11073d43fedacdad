package cluster

import (
	"encoding/json"

	"github.com/nats-io/nats.go"

	"lectern/room"
)

const subjRoom = "lectern.room"

// RelayRoom joins a node's live channels to the cluster's: every change made here (a chat
// message, a participant admitted, the webinar ended) is sent to the other nodes, and theirs
// are applied here, so a message sent on one node reaches channel clients on every node with
// its audience kept. Call it once, before m is used.
func (b *Bus) RelayRoom(m *room.Manager) (stop func(), err error) {
	sub, err := b.nc.Subscribe(subjRoom, func(msg *nats.Msg) {
		var op room.Op
		if err := json.Unmarshal(msg.Data, &op); err != nil {
			b.log.Warn("room event from another node not decoded", "err", err)
			return
		}
		b.m.received.WithLabelValues("room").Inc()
		m.Apply(op)
	})
	if err != nil {
		return nil, err
	}
	m.SetRelay(func(op room.Op) { b.send(subjRoom, "room", op) })
	return func() { sub.Unsubscribe() }, nil //nolint:errcheck // the connection may be closing
}

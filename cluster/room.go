package cluster

import (
	"github.com/nats-io/nats.go"
)

const subjRoom = "lectern.room"

// SendRoom publishes an encoded change of the live channel (room.Op as JSON) to the other
// nodes. It never blocks: without a connection the client buffers it for a while.
func (b *Bus) SendRoom(data []byte) {
	if err := b.nc.Publish(subjRoom, data); err != nil {
		b.log.Warn("room event not sent", "err", err)
		return
	}
	b.m.sent.WithLabelValues("room").Inc()
}

// OnRoom delivers the other nodes' live-channel changes to apply, one at a time and in the
// order each node sent them, until stop is called.
func (b *Bus) OnRoom(apply func(data []byte)) (stop func(), err error) {
	sub, err := b.nc.Subscribe(subjRoom, func(msg *nats.Msg) {
		b.m.received.WithLabelValues("room").Inc()
		apply(msg.Data)
	})
	if err != nil {
		return nil, err
	}
	return func() { sub.Unsubscribe() }, nil //nolint:errcheck // the connection may be closing
}

package room

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Op is one change of a Manager that the other nodes of a cluster apply to theirs, so a chat
// message sent on one node reaches channel clients on every node (cluster.Bus carries it).
// Counts are not ops: each node sums the cluster's count itself.
type Op struct {
	Kind        OpKind          `json:"kind"`
	Webinar     string          `json:"webinar"`
	Audience    Audience        `json:"audience,omitzero"`
	Type        string          `json:"type,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
	Participant *Participant    `json:"participant,omitempty"` // update; disconnect (ID only)
}

// OpKind is which Manager method an Op repeats.
type OpKind string

// The kinds of Op.
const (
	OpPublish    OpKind = "publish"
	OpUpdate     OpKind = "update"
	OpDisconnect OpKind = "disconnect"
	OpEnd        OpKind = "end"
	OpReopen     OpKind = "reopen"
)

// SetRelay makes every later Publish, Update, Disconnect, End and Reopen also call send, which
// must not block (it hands the op to the cluster bus). Call it once, before the Manager is used.
func (m *Manager) SetRelay(send func(Op)) { m.relay = send }

func (m *Manager) send(op Op) {
	if m.relay != nil {
		m.relay(op)
	}
}

// Apply makes another node's change here, without sending it on. An op of unknown kind or
// without a webinar is ignored (a newer node's).
func (m *Manager) Apply(op Op) {
	if op.Webinar == "" {
		return
	}
	switch op.Kind {
	case OpPublish:
		// The event becomes an SSE frame as is: one line of JSON, a type without line breaks.
		var data bytes.Buffer
		if op.Type == "" || strings.ContainsAny(op.Type, "\r\n") || json.Compact(&data, op.Data) != nil {
			m.log.Warn("room: relayed event refused", "webinar", op.Webinar, "type", op.Type)
			return
		}
		m.mu.Lock()
		m.publishLocked(op.Webinar, op.Audience, op.Type, data.Bytes(), op.Audience.includes)
		m.mu.Unlock()
	case OpUpdate:
		if op.Participant != nil {
			m.update(op.Webinar, *op.Participant)
		}
	case OpDisconnect:
		if op.Participant != nil {
			m.disconnect(op.Webinar, op.Participant.ID)
		}
	case OpEnd:
		m.end(op.Webinar)
	case OpReopen:
		m.reopen(op.Webinar)
	}
}

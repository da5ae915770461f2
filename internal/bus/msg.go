package bus

import (
	"time"

	"github.com/nats-io/nats.go"
)

// Msg is a message to publish or one read from a stream. Seq and Time (the server's arrival timestamp) are set
// on messages read from a stream and ignored on publish. Header may be nil on a message read from a stream
// that was published without headers; Data and Header of a read message are owned by the receiver.
type Msg struct {
	Subject string
	Header  Header
	Data    []byte
	Seq     uint64
	Time    time.Time
}

// PubAck is the server's acknowledgement of a stored message. Duplicate means the Nats-Msg-Id was already
// stored within the duplicate window; Seq is then the original message's sequence.
type PubAck struct {
	Seq       uint64
	Duplicate bool
}

// natsMsg converts m for publishing; its header is a copy, never nil, so callers' maps are not modified.
func (m Msg) natsMsg() *nats.Msg {
	nm := nats.NewMsg(m.Subject)
	for k, v := range m.Header {
		nm.Header[k] = append([]string(nil), v...)
	}
	nm.Data = m.Data
	return nm
}

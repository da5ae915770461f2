package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Delivery is a message delivered by Consume, to be settled exactly once with Ack, Nak or Term.
type Delivery struct {
	Msg
	NumDelivered uint64 // 1 on first delivery
	NumPending   uint64 // messages left for the consumer after this one
	jm           jetstream.Msg
}

func newDelivery(jm jetstream.Msg) (*Delivery, error) {
	meta, err := jm.Metadata()
	if err != nil {
		return nil, err
	}
	return &Delivery{Msg: fromJS(jm, meta), NumDelivered: meta.NumDelivered, NumPending: meta.NumPending, jm: jm}, nil
}

// Ack acknowledges the message and waits for the server to confirm it (double ack): after a nil return the
// message will not be redelivered because of a lost ack.
func (d *Delivery) Ack(ctx context.Context) error {
	if err := d.jm.DoubleAck(ctx); err != nil {
		return fmt.Errorf("bus: ack %s seq %d: %w", d.Subject, d.Seq, err)
	}
	return nil
}

// Nak asks for redelivery after delay (0: at once; prefer a delay to avoid hot loops).
func (d *Delivery) Nak(delay time.Duration) error {
	var err error
	if delay > 0 {
		err = d.jm.NakWithDelay(delay)
	} else {
		err = d.jm.Nak()
	}
	if err != nil {
		return fmt.Errorf("bus: nak %s seq %d: %w", d.Subject, d.Seq, err)
	}
	return nil
}

// InProgress resets the message's AckWait timer; call it during long handling.
func (d *Delivery) InProgress() error {
	if err := d.jm.InProgress(); err != nil {
		return fmt.Errorf("bus: in progress %s seq %d: %w", d.Subject, d.Seq, err)
	}
	return nil
}

// Term stops redelivery of the message for good (the server emits a MSG_TERMINATED advisory with reason).
func (d *Delivery) Term(reason string) error {
	if err := d.jm.TermWithReason(reason); err != nil {
		return fmt.Errorf("bus: term %s seq %d: %w", d.Subject, d.Seq, err)
	}
	return nil
}

// ConsumerLag returns the durable's pending (not yet delivered) and ack-pending message counts.
func (c *Conn) ConsumerLag(ctx context.Context, stream, durable string) (pending, ackPending uint64, err error) {
	cons, err := c.js.Consumer(ctx, stream, durable)
	if err != nil {
		return 0, 0, fmt.Errorf("bus: consumer lag %s/%s: %w", stream, durable, mapErr(err))
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("bus: consumer lag %s/%s: %w", stream, durable, mapErr(err))
	}
	return info.NumPending, uint64(info.NumAckPending), nil
}

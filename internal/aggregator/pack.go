package aggregator

// outMsg is one output message of a commit, before headers are added: a subject, the Usagepipe-Kind of its
// content and the payload (JSON lines).
type outMsg struct {
	subject string
	kind    string
	data    []byte
}

// packer groups JSON lines by subject into messages of at most maxBytes each (a single larger line gets a message
// of its own). Messages of one subject keep the order of their lines, so a reader of one subject sees lines in
// the order the fold emitted them whatever the commit boundaries were; subjects are ordered by first appearance.
// The zero value is not usable; use newPacker. Not safe for concurrent use.
type packer struct {
	maxBytes int
	order    []string
	open     map[string][]outMsg
}

func newPacker(maxBytes int) *packer {
	return &packer{maxBytes: maxBytes, open: make(map[string][]outMsg)}
}

// add appends one line (without its newline) to the subject's current message, starting a new one when full.
func (pk *packer) add(subject, kind string, line []byte) {
	msgs, seen := pk.open[subject]
	if !seen {
		pk.order = append(pk.order, subject)
	}
	n := len(msgs)
	if n == 0 || len(msgs[n-1].data)+len(line)+1 > pk.maxBytes {
		msgs = append(msgs, outMsg{subject: subject, kind: kind})
		n++
	}
	last := &msgs[n-1]
	last.data = append(append(last.data, line...), '\n')
	pk.open[subject] = msgs
}

// drain appends every packed message to dst, subject by subject in order of first appearance, and empties pk.
func (pk *packer) drain(dst []outMsg) []outMsg {
	for _, s := range pk.order {
		dst = append(dst, pk.open[s]...)
		delete(pk.open, s)
	}
	pk.order = pk.order[:0]
	return dst
}

// splitParts cuts msgs into consecutive parts of at most maxMsgs messages and about maxBytes payload bytes each
// (a part holds at least one message). No messages gives one empty part: a commit always records progress.
func splitParts(msgs []outMsg, maxMsgs, maxBytes int) [][]outMsg {
	parts := [][]outMsg{}
	start, size := 0, 0
	for i, m := range msgs {
		if i > start && (i-start >= maxMsgs || size+len(m.data) > maxBytes) {
			parts = append(parts, msgs[start:i])
			start, size = i, 0
		}
		size += len(m.data)
	}
	return append(parts, msgs[start:])
}

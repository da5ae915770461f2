package ingest

import "sync"

// fairSlots is a counting semaphore of capacity slots shared among producers, that answers at once (no
// queue). A producer may hold at most its share, (capacity − reserve) / the producers holding slots (itself
// counted), and at least one; with several producers configured, reserve slots (an eighth) stay free while
// the others hold their shares, so a producer that holds none always finds one. One producer that sends
// without pause can therefore not keep another out: it is held to its share as soon as the other holds a
// slot, and the reserve lets the other in. Safe for concurrent use.
type fairSlots struct {
	mu       sync.Mutex
	capacity int
	reserve  int
	held     []int // by producer
	total    int   // sum of held
	holders  int   // producers with held > 0
}

func newFairSlots(capacity, producers int) *fairSlots {
	f := &fairSlots{capacity: capacity, held: make([]int, producers)}
	if producers > 1 {
		f.reserve = capacity / 8
	}
	return f
}

// acquire takes a slot for producer, or reports false when the slots are all taken or producer holds its
// share.
func (f *fairSlots) acquire(producer int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	holders := f.holders
	if f.held[producer] == 0 {
		holders++
	}
	share := max(1, (f.capacity-f.reserve)/holders)
	if f.total >= f.capacity || f.held[producer] >= share {
		return false
	}
	if f.held[producer] == 0 {
		f.holders++
	}
	f.held[producer]++
	f.total++
	return true
}

// release gives back a slot producer acquired.
func (f *fairSlots) release(producer int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held[producer]--
	f.total--
	if f.held[producer] == 0 {
		f.holders--
	}
}

// perProducer caps the requests each producer has in progress at once, from authentication to the answer
// (the body's reading included). Safe for concurrent use.
type perProducer struct {
	mu    sync.Mutex
	limit int
	n     []int
}

func newPerProducer(limit, producers int) *perProducer {
	return &perProducer{limit: limit, n: make([]int, producers)}
}

// acquire counts a request of producer in, or reports false when it has limit in progress.
func (p *perProducer) acquire(producer int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n[producer] >= p.limit {
		return false
	}
	p.n[producer]++
	return true
}

func (p *perProducer) release(producer int) {
	p.mu.Lock()
	p.n[producer]--
	p.mu.Unlock()
}

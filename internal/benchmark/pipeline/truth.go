package pipeline

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/usagepipe/usagepipe/internal/reconcile"
)

// truthKey packs what Connect bills one quantity for: the period start in Unix seconds << 24 |
// subscription << 4 | item. All products share the period, and a
// subscription belongs to one product.
type truthKey uint64

func newTruthKey(periodStart int64, sub int32, item uint8) truthKey {
	return truthKey(uint64(periodStart)<<24 | uint64(sub)<<4 | uint64(item))
}

// period is the start of the key's period in Unix seconds.
func (k truthKey) period() int64 { return int64(k >> 24) }

// keyTruth is one key's stored quantity, its quantity in accepted files, and its followed events.
type keyTruth struct {
	stored   int64   // hundredths of every event ingest stored (answered accepted or duplicate)
	accepted int64   // hundredths in accepted Connect files
	probes   []probe // followed events not yet in an accepted file, in the order they were stored
}

// probe is a followed event: it is in an accepted file once the key's accepted quantity reaches need (the
// key's stored quantity once it was stored; quantities are positive, so files fill a key in store order).
type probe struct {
	need   int64
	stored int64 // when ingest answered, Unix nanoseconds
	late   bool
}

// truth is the ground truth of a run and the end-to-end latency of a sample of its events (the probes):
// from the later of an event's acceptance by ingest and its period's close, until Connect accepted a file
// that contains it. Safe for concurrent use.
type truth struct {
	period, lateness time.Duration

	mu         sync.Mutex
	keys       map[truthKey]*keyTruth
	seen       []uint64 // bitset of stored event numbers
	probeEvery uint64   // 0: no probes
	open       int      // probes not yet contained
	onTime     []time.Duration
	late       []time.Duration
	unknown    int // accepted records of keys no event was stored for
}

func newTruth(period, lateness time.Duration) *truth {
	return &truth{period: period, lateness: lateness, keys: map[truthKey]*keyTruth{}}
}

// keyOf is the truth key of a send.
func (t *truth) keyOf(s *send) truthKey {
	return newTruthKey(periodStart(time.Unix(0, s.time), t.period), s.sub, s.item)
}

// periodStart is the start, in Unix seconds, of the fixed period (aligned to the epoch) containing at.
func periodStart(at time.Time, period time.Duration) int64 {
	secs := int64(period / time.Second)
	u := at.Unix()
	return u - ((u%secs)+secs)%secs
}

// closeOf is when the period of k closes: its end plus the lateness.
func (t *truth) closeOf(k truthKey) time.Time {
	start := time.Unix(k.period(), 0)
	return start.Add(t.period + t.lateness)
}

// follow makes every probeEvery-th event stored from now on a probe; stopFollowing ends that.
func (t *truth) follow(probeEvery uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.probeEvery = max(probeEvery, 1)
}

func (t *truth) stopFollowing() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.probeEvery = 0
}

// stored takes the sends of a request that ingest answered with accepted or duplicate for each of them:
// every event not seen before is added to its key.
func (t *truth) stored(sends []send, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range sends {
		s := &sends[i]
		if t.markSeen(s.seq) {
			continue
		}
		k := t.keyOf(s)
		kt := t.keys[k]
		if kt == nil {
			kt = &keyTruth{}
			t.keys[k] = kt
		}
		kt.stored += s.cents
		if t.probeEvery > 0 && s.seq%t.probeEvery == 0 {
			kt.probes = append(kt.probes, probe{need: kt.stored, stored: at.UnixNano(), late: s.late})
			t.open++
		}
	}
}

// markSeen marks event seq and reports whether it was marked before.
func (t *truth) markSeen(seq uint64) bool {
	w, bit := seq/64, uint64(1)<<(seq%64)
	for uint64(len(t.seen)) <= w {
		t.seen = append(t.seen, 0)
	}
	was := t.seen[w]&bit != 0
	t.seen[w] |= bit
	return was
}

// contained takes an accepted record of k: its probes now covered get their latency.
func (t *truth) contained(k truthKey, cents int64, acceptedAt time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	kt := t.keys[k]
	if kt == nil {
		t.unknown++
		return
	}
	kt.accepted += cents
	closeAt := t.closeOf(k).UnixNano()
	n := 0
	for _, p := range kt.probes {
		if p.need > kt.accepted {
			break
		}
		d := time.Duration(acceptedAt.UnixNano() - max(p.stored, closeAt))
		if p.late {
			t.late = append(t.late, d)
		} else {
			t.onTime = append(t.onTime, d)
		}
		n++
	}
	kt.probes = kt.probes[n:]
	t.open -= n
}

// e2e is the end-to-end figures so far.
type e2e struct {
	onTime, late latencies
	open         int // probes not yet contained
	unknown      int
}

func (t *truth) figures() e2e {
	t.mu.Lock()
	defer t.mu.Unlock()
	return e2e{onTime: summarise(t.onTime), late: summarise(t.late), open: t.open, unknown: t.unknown}
}

// latencies returns the end-to-end latency of every probe: those contained, and those still open with
// the latency they have at now (a lower bound of what they will have); open counts the latter.
func (t *truth) latencies(now time.Time) (onTime, late []time.Duration, open int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	onTime, late = slices.Clone(t.onTime), slices.Clone(t.late)
	for k, kt := range t.keys {
		closeAt := t.closeOf(k).UnixNano()
		for _, p := range kt.probes {
			d := time.Duration(now.UnixNano() - max(p.stored, closeAt))
			if p.late {
				late = append(late, d)
			} else {
				onTime = append(onTime, d)
			}
			open++
		}
	}
	return onTime, late, open
}

// differences counts the keys of the periods starting in [from, to] (Unix seconds) whose accepted quantity is not the stored one.
func (t *truth) differences(from, to int64) (keys, differ int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, kt := range t.keys {
		if p := k.period(); p < from || p > to {
			continue
		}
		keys++
		if kt.accepted != kt.stored {
			differ++
		}
	}
	return keys, differ
}

// keyOfRecord maps a Connect key (reconcile.Key) back to a truth key.
func (t *truth) keyOfRecord(k reconcile.Key, subscriptions int) (truthKey, error) {
	sub, err := parseSubscription(k.Asset, subscriptions)
	if err != nil {
		return 0, err
	}
	item := -1
	for i, it := range items {
		if it.mpn == k.Item {
			item = i
		}
	}
	if item < 0 {
		return 0, fmt.Errorf("record of unknown item %q", k.Item)
	}
	start, err := time.Parse("20060102T150405Z", k.Period)
	if err != nil {
		return 0, fmt.Errorf("record period %q: %w", k.Period, err)
	}
	return newTruthKey(start.Unix(), sub, uint8(item)), nil
}

// parseSubscription is the inverse of subscriptionID, for the subscriptions of a run.
func parseSubscription(asset string, subscriptions int) (int32, error) {
	parts := strings.Split(strings.TrimPrefix(asset, "AS-"), "-")
	s := 0
	for _, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || len(parts) != 3 {
			return 0, fmt.Errorf("asset %q is not a bench subscription", asset)
		}
		s = s*10_000 + v
	}
	if s >= subscriptions || subscriptionID(s) != asset {
		return 0, fmt.Errorf("asset %q is not a bench subscription", asset)
	}
	return int32(s), nil
}

package pipeline

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// soakChunk is the length of one soak phase: one progress line each.
const soakChunk = time.Minute

// soakFigures are what the soak measured.
type soakFigures struct {
	rate          float64
	from, to      time.Time
	events        int
	ingest        latencies
	sendLag       latencies
	failures      int
	statuses      map[int]int
	rejected      int
	backlog       time.Duration // the largest sample
	start, end    []usage       // RSS and CPU of every process at the soak's start and end
	settledAt     time.Time     // when every probe was contained (zero: it was not)
	openAt        time.Time     // probes still open are counted at their age then (the settle deadline)
	probeEvery    uint64
	keys, differs int // keys of the soak's periods, and those whose accepted quantity differs from the stored one
}

// soak offers SoakShare of the sustained rate for the soak duration, in phases of a minute with a progress
// line each, following a uniform sample of its events (probes) until they are in accepted files.
func (r *run) soak(ctx context.Context, sustained float64) (*soakFigures, error) {
	c := r.cfg
	rate := math.Round(sustained * c.SoakShare)
	s := &soakFigures{rate: rate, statuses: map[int]int{}}
	s.probeEvery = uint64(max(1, rate*c.Soak.Seconds()/float64(c.MaxProbes)))
	r.log.Printf("soak: %.0f events/s (%.0f %% of %.0f) for %v; following every %d-th event to its accepted file",
		rate, 100*c.SoakShare, sustained, c.Soak, s.probeEvery)
	r.truth.follow(s.probeEvery)
	s.start, s.from = r.sys.usages(), time.Now()
	var lat, lag []time.Duration
	for done := time.Duration(0); done < c.Soak && ctx.Err() == nil; {
		d := min(soakChunk, c.Soak-done)
		before := r.sys.usages()
		ph := r.load.run(ctx, rate, d)
		done += d
		lat, lag = append(lat, ph.latency...), append(lag, ph.sendLag...)
		s.add(ph)
		r.log.Printf("soak %v/%v: %s", done.Round(time.Second), c.Soak, r.soakLine(ph, before))
	}
	r.truth.stopFollowing()
	s.end, s.to = r.sys.usages(), time.Now()
	s.ingest, s.sendLag = summarise(lat), summarise(lag)
	s.backlog = maxLag(r.watch.between(s.from, s.to))
	return s, ctx.Err()
}

func (s *soakFigures) add(ph *phase) {
	s.events += ph.events
	s.failures += ph.failures
	s.rejected += ph.rejected
	for k, v := range ph.statuses {
		s.statuses[k] += v
	}
}

// soakLine describes one soak phase: ingest latency, backlog, end-to-end so far, Connect, memory.
func (r *run) soakLine(ph *phase, before []usage) string {
	l, e := summarise(ph.latency), r.truth.figures()
	now := time.Now()
	st := r.conn.state()
	after := r.sys.usages()
	var mem []string
	for _, u := range after {
		mem = append(mem, fmt.Sprintf("%s %.0f", u.name, mib(u.rss)))
	}
	return fmt.Sprintf("%.0f events/s sent, ingest p50 %.1f ms p99 %.1f ms, %d failed, backlog max %.1f s, "+
		"%d files accepted, %d followed events; RSS MiB %s; %s", float64(ph.events)/ph.elapsed.Seconds(), ms(l.p50),
		ms(l.p99), ph.failures, maxLag(r.watch.between(now.Add(-ph.elapsed), now)).Seconds(),
		st.statuses[usageapi.FileStatusAccepted], e.open, strings.Join(mem, ", "), cpuShares(before, after, ph.elapsed))
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// settle waits until every probe of the soak is in an accepted file. Connect's acceptances are waited for
// until the settle timeout after the close of the soak's last period; the records of files accepted by then
// are read even after it (at most maxReading more), since reading is the bench's own work and the
// acceptance time comes from the file. Probes still open are counted at their age at the deadline.
func (r *run) settle(ctx context.Context, s *soakFigures) {
	lastClose := r.truth.closeOf(newTruthKey(periodStart(s.to, r.cfg.Period), 0, 0))
	deadline := lastClose.Add(r.cfg.SettleTimeout)
	s.openAt = deadline
	r.log.Printf("waiting for the soak's events to be in accepted files: its last period closes at %s; at most until %s. "+
		"Connect's records are read once the last period has closed", lastClose.Format(time.TimeOnly), deadline.Format(time.TimeOnly))
	if !sleepUntil(ctx, lastClose) {
		return
	}
	r.conn.startReading()
	for lastLine := time.Now(); r.settling(s, deadline); {
		if time.Since(lastLine) >= 15*time.Second {
			lastLine = time.Now()
			st := r.conn.state()
			r.log.Printf("settling: %d followed events not yet in an accepted file; records of %d of %d accepted files read",
				r.truth.figures().open, st.accepted, st.accepted+st.unread)
		}
		if !sleepUntil(ctx, time.Now().Add(250*time.Millisecond)) {
			return
		}
	}
	s.keys, s.differs = r.truth.differences(periodStart(s.from, r.cfg.Period), periodStart(s.to, r.cfg.Period))
}

// maxReading bounds how long the records of files accepted before the settle deadline are read after it.
const maxReading = 10 * time.Minute

// settling reports whether settle goes on waiting: some probe is open, and either the deadline has not
// passed or accepted files are still unread (for maxReading after it at most). When every probe is in,
// it notes when.
func (r *run) settling(s *soakFigures, deadline time.Time) bool {
	now := time.Now()
	if r.truth.figures().open == 0 {
		s.settledAt, s.openAt = now, now
		return false
	}
	if now.Before(deadline) {
		return true
	}
	return r.conn.state().unread > 0 && now.Before(deadline.Add(maxReading))
}

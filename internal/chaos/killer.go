package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/usagepipe/usagepipe/internal/childproc"
)

// Restart delays after a kill.
const (
	workerDownMin = 200 * time.Millisecond
	workerDownMax = 1500 * time.Millisecond
	natsDownMin   = time.Second
	natsDownMax   = 2 * time.Second
)

// killer SIGKILLs a random worker every few seconds and restarts it, and kills one NATS node once (the
// meta leader of a cluster when known, see natsVictim). Its choices
// come from the seed; each kind of worker gets its turn once per round, in a random order.
type killer struct {
	sys    *system
	rng    *rand.Rand
	every  time.Duration
	natsAt time.Time // when to kill a NATS node (zero: never)
	until  time.Time // no kill starts after this
	logf   func(format string, args ...any)

	kills  int            // SIGKILLs done; read after run returns
	byKind map[string]int // the same per process kind
	round  []string
}

func newKiller(sys *system, seed uint64, every time.Duration, natsAt, until time.Time, logf func(string, ...any)) *killer {
	return &killer{sys: sys, rng: rand.New(rand.NewPCG(seed, 0x6b696c6c6572)), every: every, natsAt: natsAt,
		until: until, logf: logf, byKind: map[string]int{}}
}

// run kills until k.until or ctx ends; it returns with every process it killed started again.
func (k *killer) run(ctx context.Context) {
	if k.every < 0 {
		return
	}
	for {
		next := time.Now().Add(time.Duration(float64(k.every) * (0.5 + k.rng.Float64())))
		if !k.natsAt.IsZero() && k.natsAt.Before(next) {
			if !sleepUntil(ctx, k.natsAt) {
				return
			}
			k.killNATS(ctx)
			k.natsAt = time.Time{}
			continue
		}
		if next.After(k.until) || !sleepUntil(ctx, next) {
			return
		}
		k.killWorker(ctx)
	}
}

// nextKind returns the next worker kind of the current round, starting a new shuffled round when needed.
func (k *killer) nextKind() string {
	if len(k.round) == 0 {
		k.round = []string{kindIngest, kindAggregator, kindSubmitter}
		k.rng.Shuffle(len(k.round), func(i, j int) { k.round[i], k.round[j] = k.round[j], k.round[i] })
	}
	kind := k.round[0]
	k.round = k.round[1:]
	return kind
}

func (k *killer) killWorker(ctx context.Context) {
	ps := k.sys.workers[k.nextKind()]
	p := ps[k.rng.IntN(len(ps))]
	down := workerDownMin + time.Duration(k.rng.Int64N(int64(workerDownMax-workerDownMin)))
	if !p.Kill() {
		k.logf("kill %s: not running (restarting after a crash)", p.Name())
		return
	}
	k.count(p)
	k.logf("killed %s (down %v)", p.Name(), down.Round(time.Millisecond))
	sleepUntil(ctx, time.Now().Add(down))
	if err := p.Start(); err != nil {
		k.logf("restart %s: %v", p.Name(), err)
	}
}

func (k *killer) count(p *childproc.Proc) {
	k.kills++
	k.byKind[p.Kind()]++
}

// natsVictim picks the NATS node to kill: the JetStream meta leader when the nodes' logs tell it (losing it
// forces an election while ingest publishes and aggregators commit: the harder case), else a random one. It
// says why in the returned text.
func (k *killer) natsVictim() (int, string) {
	random := k.rng.IntN(len(k.sys.nats)) // drawn always: the rest of the schedule stays the seed's
	if len(k.sys.nats) == 1 {
		return 0, "the only node"
	}
	if leader := k.sys.metaLeader(); leader >= 0 {
		return leader, "the JetStream meta leader, by the nodes' logs"
	}
	return random, "not the known leader: no running node names one, picked at random"
}

func (k *killer) killNATS(ctx context.Context) {
	i, why := k.natsVictim()
	p, addr := k.sys.nats[i], k.sys.natsAddrs[i]
	down := natsDownMin + time.Duration(k.rng.Int64N(int64(natsDownMax-natsDownMin)))
	if !p.Kill() {
		k.logf("kill %s: not running", p.Name())
		return
	}
	k.count(p)
	k.logf("killed %s, %s (down %v)", p.Name(), why, down.Round(time.Millisecond))
	sleepUntil(ctx, time.Now().Add(down))
	if err := p.Start(); err != nil {
		k.logf("restart %s: %v", p.Name(), err)
		return
	}
	if err := childproc.WaitListening(ctx, addr, readyTimeout); err != nil {
		k.logf("restart %s: %v", p.Name(), fmt.Errorf("not listening: %w", err))
	}
}

// sleepUntil sleeps until t; it reports false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	select {
	case <-time.After(time.Until(t)):
		return true
	case <-ctx.Done():
		return false
	}
}

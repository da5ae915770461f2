package ingest

import (
	"context"
	"os"
	"strconv"
	"time"

	"github.com/usagepipe/usagepipe/internal/svcstatus"
)

// DefaultMemberID names an ingest process in its status heartbeat: hostname-pid.
func DefaultMemberID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "ingest"
	}
	return host + "-" + strconv.Itoa(os.Getpid())
}

// RunHeartbeat writes the service's status heartbeat (internal/svcstatus) until ctx ends: its accepted,
// duplicate and rejected events since it started, and their rates over the last minute.
func (s *Service) RunHeartbeat(ctx context.Context, conn svcstatus.Opener, member, opsAddr string) {
	var rates svcstatus.Rates
	svcstatus.Run(ctx, conn, svcstatus.Heartbeat{Kind: svcstatus.KindIngest, Member: member, OpsAddr: opsAddr},
		func(hb *svcstatus.Heartbeat) {
			t := &s.metrics.totals
			in := &svcstatus.Ingest{Accepted: t[0].Load(), Duplicates: t[1].Load(), Rejected: t[2].Load()}
			r := rates.Observe(time.Now(), in.Accepted, in.Duplicates, in.Rejected)
			in.AcceptedPS, in.DuplicatePS, in.RejectedPS = r[0], r[1], r[2]
			hb.Ingest = in
		}, s.log)
}

package devstack

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/eventgen"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// ExampleEvent is a valid event of the first meter of the catalogs (first product, first subscription, first
// item) with the given id and time: what the printed curl sends and what tests send.
func (c Catalogs) ExampleEvent(id string, t time.Time) events.Event {
	e := eventgen.New(eventgen.Options{Seed: 1}).Event(meters(c)[0], t)
	e.ID, e.Source = id, "/curl"
	return e
}

// Curl returns a ready-to-paste shell command that posts one valid event to ingestURL. The id and time are
// computed by the shell when it runs, so the command can be pasted again and again.
func (c Catalogs) Curl(ingestURL string) string {
	const idMark, timeMark = "@ID@", "@TIME@"
	b, _ := json.Marshal(c.ExampleEvent(idMark, time.Time{}))
	body := strings.Replace(string(b), `"0001-01-01T00:00:00Z"`, `"`+timeMark+`"`, 1)
	body = strings.Replace(body, idMark, `curl-'"$(date +%s)-$RANDOM"'`, 1)
	body = strings.Replace(body, timeMark, `'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'`, 1)
	return "curl -sS " + ingestURL + "/v1/events -H 'Content-Type: application/cloudevents+json' -d '" + body + "'"
}

// PrintWhere writes where everything is: endpoints, the log, a curl to send an event and one to list the
// usage files, and how long a period takes to become a file.
func (s *Stack) PrintWhere(w io.Writer) {
	u, state := s.urls, "new"
	if s.resumed {
		state = "resumed"
	}
	fmt.Fprintf(w, "usagepipe dev: JetStream, Connect emulator, ingest, aggregator and submitter in one process\n")
	fmt.Fprintf(w, "  data       %s (%s, %d partitions)\n", s.data, state, s.opts.Partitions)
	fmt.Fprintf(w, "  ingest     %s/v1/events   (health /healthz, ready /readyz, metrics /metrics)\n", u.Ingest)
	fmt.Fprintf(w, "  otlp       %s/v1/logs and /v1/metrics   (OTLP/HTTP, protobuf or JSON: OTEL_EXPORTER_OTLP_ENDPOINT=%s)\n", u.Ingest, u.Ingest)
	fmt.Fprintf(w, "  emulator   %s   (API key %s; health %s/healthz, ready /readyz)\n", u.Connect, s.shownKey(), u.Emulator)
	fmt.Fprintf(w, "  ops        %s/{healthz,readyz,metrics}/{%s,%s,%s}   (Prometheus; each worker's health and readiness)\n",
		u.Metrics, ServiceIngest, ServiceAggregator, ServiceSubmitter)
	fmt.Fprintf(w, "  nats       %s\n", u.NATS)
	fmt.Fprintf(w, "  operator   %s/api/v1/   (explain, usage, status: %s)\n", u.Operator, s.operatorAccess())
	fmt.Fprintf(w, "  console    %s   (the web console: overview, periods, files, explain, dead letters, parked; %s)\n",
		u.Console, s.operatorAccess())
	if s.logPath != "" {
		fmt.Fprintf(w, "  logs       %s (JSON)\n", s.logPath)
	}
	fmt.Fprintf(w, "  periods    %s\n", s.periodsText())
	if s.sim != nil {
		fmt.Fprintf(w, "  simulator  %d meters, one request every %s, with duplicates and late events\n", len(s.sim.meters), s.sim.every)
	}
	curl := s.opts.Catalogs.Curl(u.Ingest)
	if len(s.opts.IngestAPIKeys) > 0 {
		curl += ` -H "Authorization: Bearer $KEY"   # KEY: one of --ingest-api-keys, bound to /curl`
	}
	fmt.Fprintf(w, "\nSend an event:\n  %s\n", curl)
	fmt.Fprintf(w, "List the usage files in the emulator:\n  curl -sS -H 'Authorization: ApiKey %s' '%s/usage/files'\n",
		s.shownKey(), u.Connect)
	fmt.Fprintf(w, "Ask what happened (README, \"Answers\"):\n  curl -sS '%s/api/v1/status'   or   usagepipe status --nats-url %s\n\n",
		u.Operator, u.NATS)
}

// operatorAccess says who may call the operator API.
func (s *Stack) operatorAccess() string {
	if s.opts.OperatorKeys.Len() > 0 {
		return "operator keys of " + strings.Join(s.opts.OperatorKeys.Names(), ", ") + "; no key needed from loopback"
	}
	return "no key needed from loopback"
}

// shownKey is the Connect API key as printed: the public dev key itself, any other key only by name (it is a
// secret the user chose).
func (s *Stack) shownKey() string {
	if s.opts.ConnectAPIKey == DefaultConnectAPIKey {
		return DefaultConnectAPIKey
	}
	return "<your --connect-api-key>"
}

// periodsText describes the first product's periods and when they become files.
func (s *Stack) periodsText() string {
	p := &s.opts.Catalogs.Pipeline.Products[0]
	if p.Period.Kind != events.PeriodFixed {
		return fmt.Sprintf("%s (%s lateness)", p.Period.Kind, p.AllowedLateness)
	}
	return fmt.Sprintf("fixed %s, closed %s after their end; a usage file reaches the emulator shortly after",
		p.Period.Every, p.AllowedLateness)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/lineage"
	"github.com/usagepipe/usagepipe/internal/opsapi"
)

// explainFlags are explain's own flags.
type explainFlags struct {
	source, id, subject, at, record, file string
	withEvents, early                     bool

	time time.Time // --time, read by check
}

func (x *explainFlags) declare(fs *config.FlagSet) {
	fs.StringVar(&x.source, "source", "", "the event's CloudEvents source")
	fs.StringVar(&x.id, "id", "", "the event's CloudEvents id")
	fs.StringVar(&x.subject, "subject", "", "the event's subject (subscription): searches its partition only")
	fs.StringVar(&x.at, "time", "", "the event's time (RFC 3339): searches from it minus ingest's future skew")
	fs.StringVar(&x.record, "record", "", "explain a record: its record id (40 hex) or Connect record id (UR-…)")
	fs.StringVar(&x.file, "file", "", "explain a usage file: its Connect file id (UF-…) or ledger key (file.…): its history and records")
	fs.BoolVar(&x.withEvents, "events", false, "with --file: read the events of each record too")
	fs.BoolVar(&x.early, "early", false, "also search the 5 minutes before --time when a copy was found after it (producers whose clock runs ahead)")
}

func (x *explainFlags) check() error {
	var errs []error
	var err error
	if x.time, err = parseTime(x.at); err != nil {
		errs = append(errs, fmt.Errorf("--time: %w", err))
	}
	if countSet(x.source != "" || x.id != "", x.record != "", x.file != "") != 1 {
		errs = append(errs, errors.New("give either --source and --id, or --record, or --file"))
	}
	return errors.Join(errs...)
}

// explain explains what the flags name.
func (x *explainFlags) explain(ctx context.Context, env *readEnv, svc opsapi.Services) error {
	var a texter
	var err error
	switch {
	case x.record != "":
		a, err = svc.Lineage.ExplainRecord(ctx, lineage.RecordQuery{ID: x.record, Subject: x.subject, Time: x.time})
	case x.file != "":
		a, err = svc.Lineage.ExplainFile(ctx, lineage.FileQuery{ID: x.file, Events: x.withEvents})
	default:
		a, err = svc.Lineage.ExplainEvent(ctx, lineage.EventQuery{Source: x.source, ID: x.id, Subject: x.subject, Time: x.time, Early: x.early})
	}
	if err != nil {
		return err
	}
	return env.show(a)
}

// runExplain explains an event (--source, --id), a record (--record) or a usage file (--file).
func runExplain(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	x := &explainFlags{}
	return runRead(ctx, readCommand{name: "explain", flags: x.declare, check: x.check, work: withServices(x.explain)},
		args, getenv, stdout)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

func countSet(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/usagepipe/usagepipe/internal/lineage"
	"github.com/usagepipe/usagepipe/internal/opsapi"
)

// runExplain explains an event (--source, --id), a record (--record) or a usage file (--file).
func runExplain(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := newOperatorFlags("explain", getenv, stdout)
	var source, id, subject, at, record, file string
	var withEvents, early bool
	f.set.StringVar(&source, "source", "", "the event's CloudEvents source")
	f.set.StringVar(&id, "id", "", "the event's CloudEvents id")
	f.set.StringVar(&subject, "subject", "", "the event's subject (subscription): searches its partition only")
	f.set.StringVar(&at, "time", "", "the event's time (RFC 3339): searches from it minus ingest's future skew")
	f.set.StringVar(&record, "record", "", "explain a record: its record id (40 hex) or Connect record id (UR-…)")
	f.set.StringVar(&file, "file", "", "explain a Connect usage file (UF-…): its records")
	f.set.BoolVar(&withEvents, "events", false, "with --file: read the events of each record too")
	f.set.BoolVar(&early, "early", false, "also search the 5 minutes before --time when a copy was found after it (producers whose clock runs ahead)")
	if err := f.set.Parse(args); err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	t, err := parseTime(at)
	if err != nil {
		return fmt.Errorf("explain: --time: %w", err)
	}
	modes := countSet(source != "" || id != "", record != "", file != "")
	if modes != 1 {
		return errors.New("explain: give either --source and --id, or --record, or --file")
	}
	return f.withServices(ctx, func(ctx context.Context, svc opsapi.Services) error {
		var a texter
		var err error
		switch {
		case record != "":
			a, err = svc.Lineage.ExplainRecord(ctx, lineage.RecordQuery{ID: record, Subject: subject, Time: t})
		case file != "":
			a, err = svc.Lineage.ExplainFile(ctx, lineage.FileQuery{ID: file, Events: withEvents})
		default:
			a, err = svc.Lineage.ExplainEvent(ctx, lineage.EventQuery{Source: source, ID: id, Subject: subject, Time: t, Early: early})
		}
		if err != nil {
			return fmt.Errorf("explain: %w", err)
		}
		return f.print(stdout, a)
	})
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

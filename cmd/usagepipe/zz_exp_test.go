package main

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/natsembed"
	"github.com/usagepipe/usagepipe/pkg/events"
)

func TestExpReaders(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv, err := natsembed.Start(natsembed.Options{StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	conn, err := bus.Connect(ctx, bus.Config{URL: srv.URL(), Name: "x", Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Provision(ctx, bus.Topology{Partitions: 16})
	b := &aggBench{conn: conn, out: os.Stdout, events: 1000000, subs: 10000, perRequest: 500, partitions: 16, url: srv.URL()}
	if err := b.fill(ctx); err != nil {
		t.Fatal(err)
	}
	b.rawConsume(ctx)
	var packets [][]byte
	start, cpu := time.Now(), processCPU()
	var mu sync.Mutex
	var wg sync.WaitGroup
	n := 0
	for p := 0; p < 16; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn.Read(ctx, bus.StreamEvents, bus.ReadOptions{Filters: []string{"usage.events." + strconv.Itoa(p)}}, func(m bus.Msg) error {
				mu.Lock()
				n++
				mu.Unlock()
				return nil
			})
		}()
	}
	wg.Wait()
	t.Logf("16 filtered readers: %d msgs in %v, cpu %v", n, time.Since(start), processCPU()-cpu)
	start, cpu = time.Now(), processCPU()
	n = 0
	filters := []string{}
	for p := 0; p < 16; p++ {
		filters = append(filters, "usage.events."+strconv.Itoa(p))
	}
	conn.Read(ctx, bus.StreamEvents, bus.ReadOptions{Filters: filters}, func(m bus.Msg) error {
		n++
		packets = append(packets, m.Data)
		return nil
	})
	t.Logf("1 multi-filter reader: %d msgs in %v, cpu %v", n, time.Since(start), processCPU()-cpu)
	start, cpu = time.Now(), processCPU()
	ne := 0
	for _, p := range packets {
		evs, err := events.DecodePacket(p)
		if err != nil {
			t.Fatal(err)
		}
		ne += len(evs)
	}
	t.Logf("decode: %d events in %v, cpu %v", ne, time.Since(start), processCPU()-cpu)
	start, cpu = time.Now(), processCPU()
	ne = 0
	var evs []events.Event
	for _, p := range packets {
		s := string(p)
		evs = evs[:0]
		for len(s) > 0 {
			i := strings.IndexByte(s, '\n')
			line := s[:i]
			s = s[i+1:]
			e, rej := events.DecodeEventString(line)
			if rej != nil {
				t.Fatal(rej)
			}
			evs = append(evs, e)
		}
		ne += len(evs)
	}
	t.Logf("decode string: %d events in %v, cpu %v", ne, time.Since(start), processCPU()-cpu)
}

package ingest_test

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/eventgen"
	"github.com/usagepipe/usagepipe/internal/ingest"
)

// BenchmarkPostBatch500 measures one POST of 500 new events over loopback HTTP into an embedded JetStream,
// answered once stored. Run with -cpuprofile to see where ingest spends its time.
func BenchmarkPostBatch500(b *testing.B) {
	s := startStack(b, ingest.Config{Partitions: 16})
	body, stamps := stampedBatch(b, 500)
	client := &http.Client{}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	iter := 0
	for b.Loop() {
		iter++
		stamp(body, stamps, iter) // new ids each iteration, so every event is new
		req, _ := http.NewRequest(http.MethodPost, s.http.URL+"/v1/events", bytes.NewReader(body))
		req.Header.Set("Content-Type", ingest.MediaBatch)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.ReportMetric(float64(500*iter)/b.Elapsed().Seconds(), "events/s")
}

// stampedBatch returns a batch body whose event ids start with 8 placeholder digits, and their offsets: n
// events of the test catalog's UNITS over 300 subscriptions, one second apart.
func stampedBatch(b *testing.B, n int) ([]byte, []int) {
	p, _ := loadCatalog(b).Product("PRD-TEST-0001")
	ms := make([]eventgen.Meter, 300)
	for i := range ms {
		ms[i] = eventgen.Meter{Product: p, Item: &p.Items[0], Subject: asset(i)}
	}
	now := time.Now()
	gen := eventgen.New(eventgen.Options{Seed: 1, IDPrefix: "00000000-"})
	body := gen.Bodies(ms, 1, n, func(i int) time.Time { return now.Add(-time.Duration(i) * time.Second) })[0]
	var offsets []int
	for i, rest := 0, body; ; {
		j := bytes.Index(rest, []byte(`"id":"`))
		if j < 0 {
			return body, offsets
		}
		i += j + len(`"id":"`)
		offsets = append(offsets, i)
		rest = body[i:]
	}
}

func stamp(body []byte, offsets []int, iter int) {
	digits := fmt.Sprintf("%08d", iter)
	for _, o := range offsets {
		copy(body[o:o+8], digits)
	}
}

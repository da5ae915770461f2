package ingest_test

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

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

// stampedBatch returns a batch body whose event ids start with 8 placeholder digits, and their offsets.
func stampedBatch(b *testing.B, n int) ([]byte, []int) {
	var batch []ev
	for i := range n {
		e := goodEvent(fmt.Sprintf("00000000-%04d", i), asset(i%300))
		e.Time = time.Now().Add(-time.Duration(i) * time.Second).UTC().Format(time.RFC3339Nano)
		batch = append(batch, e)
	}
	body := mustJSON(b, batch)
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

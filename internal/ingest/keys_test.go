package ingest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/usagepipe/usagepipe/internal/ingest"
	"github.com/usagepipe/usagepipe/internal/natsembed/natsembedtest"
	"github.com/usagepipe/usagepipe/internal/telemetry"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// TestNoOpenIngestByAccident: a Service without keys is refused unless anonymous requests are allowed, and
// an anonymous one says so in its log at start; keys and anonymous together are refused too.
func TestNoOpenIngestByAccident(t *testing.T) {
	s := startStack(t, ingest.Config{Partitions: 2, APIKeys: []ingest.APIKey{{Key: "k"}}})
	newService := func(cfg ingest.Config) (*syncBuffer, error) {
		var log syncBuffer
		tel, err := telemetry.Setup(testContext(t), telemetry.Options{Service: "ingest", LogOutput: &log})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tel.Shutdown() })
		_, err = ingest.New(cfg, s.conn, loadCatalog(t), tel)
		return &log, err
	}
	if _, err := newService(ingest.Config{Partitions: 2}); !errors.Is(err, ingest.ErrNoAPIKeys) {
		t.Errorf("no keys: want ErrNoAPIKeys, have %v", err)
	}
	if _, err := newService(ingest.Config{Partitions: 2, AllowAnonymous: true, APIKeys: []ingest.APIKey{{Key: "k"}}}); err == nil {
		t.Error("keys and AllowAnonymous together were accepted")
	}
	log, err := newService(ingest.Config{Partitions: 2, AllowAnonymous: true})
	if err != nil {
		t.Fatalf("anonymous: %v", err)
	}
	if !hasLogLine(log.String(), "WARN", ingest.AnonymousWarning) {
		t.Errorf("an anonymous service logged no warning:\n%s", log.String())
	}
	if log, _ := newService(ingest.Config{Partitions: 2, APIKeys: []ingest.APIKey{{Key: "k"}}}); strings.Contains(log.String(), "WARN") {
		t.Errorf("a service with a key warned:\n%s", log.String())
	}
}

// hasLogLine reports whether the JSON log holds a line of level with msg.
func hasLogLine(log, level, msg string) bool {
	for _, line := range strings.Split(log, "\n") {
		var rec struct{ Level, Msg string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Level == level && rec.Msg == msg {
			return true
		}
	}
	return false
}

// TestRunRefusesNoKeysUnlessAnonymous: the command refuses to start (and -validate to pass) without keys,
// unless --allow-anonymous (or USAGEPIPE_ALLOW_ANONYMOUS) is given, which -validate and the start warn about.
func TestRunRefusesNoKeysUnlessAnonymous(t *testing.T) {
	run := func(args []string, env map[string]string) (string, error) {
		var out syncBuffer
		err := ingest.Run(testContext(t), args, func(k string) string { return env[k] }, &out)
		return out.String(), err
	}
	validate := []string{"-validate", "--catalog", catalogPath}
	if _, err := run(validate, nil); !errors.Is(err, ingest.ErrNoAPIKeys) {
		t.Errorf("-validate without keys: want ErrNoAPIKeys, have %v", err)
	}
	if _, err := run([]string{"--catalog", catalogPath}, nil); !errors.Is(err, ingest.ErrNoAPIKeys) {
		t.Errorf("start without keys: want ErrNoAPIKeys, have %v", err)
	}
	out, err := run(append(validate, "--allow-anonymous"), nil)
	if err != nil || !strings.Contains(out, "warning: "+ingest.AnonymousWarning) {
		t.Errorf("-validate --allow-anonymous: want ok with a warning, have %v:\n%s", err, out)
	}
	if _, err := run(append(validate, "--allow-anonymous"), map[string]string{"USAGEPIPE_API_KEYS": "k"}); err == nil {
		t.Error("-validate with keys and --allow-anonymous passed")
	}

	nats := natsembedtest.Start(t)
	env := map[string]string{"USAGEPIPE_NATS_URL": nats.URL(), "USAGEPIPE_ALLOW_ANONYMOUS": "true", "USAGEPIPE_PARTITIONS": "2"}
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	var log syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- ingest.Run(ctx, []string{"--http-addr", "127.0.0.1:0", "--catalog", catalogPath}, func(k string) string { return env[k] }, &log)
	}()
	base := "http://" + listenAddr(t, &log, done)
	if r, err := postTo(testContext(t), base, ingest.MediaCloudEvent, mustJSON(t, goodEvent("anon-1", asset(1)))); err != nil || r.code != http.StatusOK {
		t.Fatalf("anonymous post: %v %d %s", err, r.code, r.raw)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !hasLogLine(log.String(), "WARN", ingest.AnonymousWarning) {
		t.Errorf("an anonymous start logged no warning:\n%s", log.String())
	}
}

// TestAKeyCannotClaimAnotherKeysEvents: key B sending an event with key A's source and id first is rejected
// as forbidden_source and nothing is stored or remembered, so A's own event with that key is then accepted
// (not a duplicate) and stored once. A's keys and prefixes appear in no answer.
func TestAKeyCannotClaimAnotherKeysEvents(t *testing.T) {
	s := startStack(t, ingest.Config{Partitions: 2, APIKeys: []ingest.APIKey{
		{Key: "key-of-a", Sources: []string{"/meters/a/"}}, {Key: "key-of-b", Sources: []string{"/meters/b/", "urn:b:"}},
	}})
	event := func(source, id, quantity string) ev {
		e := goodEvent(id, asset(1))
		e.Source, e.Data["quantity"] = source, quantity
		return e
	}
	asA, asB := []string{"Authorization", "Bearer key-of-a"}, []string{"Authorization", "Bearer key-of-b"}

	r := s.post(t, ingest.MediaBatch, mustJSON(t, []ev{event("/meters/a/1", "e-1", "99"), event("/meters/b/1", "e-1", "2")}), asB...)
	if want := []string{"rejected:forbidden_source", "accepted"}; r.code != http.StatusMultiStatus || !slices.Equal(want, r.statuses()) {
		t.Fatalf("key B: want 207 %v, have %d %v: %s", want, r.code, r.statuses(), r.raw)
	}
	if res := r.body.Results[0]; res.Field != "source" || strings.Contains(r.raw, "key-of") || strings.Contains(r.raw, "/meters/a/\"") {
		t.Errorf("rejection %+v (answer %s): want field source, no key and none of A's prefixes", res, r.raw)
	}
	r = s.post(t, ingest.MediaCloudEvent, mustJSON(t, event("/meters/a/1", "e-1", "1.25")), asA...)
	if want := []string{"accepted"}; r.code != http.StatusOK || !slices.Equal(want, r.statuses()) {
		t.Fatalf("key A after B's claim: want 200 %v, have %d %v: %s", want, r.code, r.statuses(), r.raw)
	}
	if r := s.post(t, ingest.MediaCloudEvent, mustJSON(t, event("urn:b:x", "e-2", "1")), asB...); r.code != http.StatusOK {
		t.Errorf("key B writing under its second prefix: %d %s", r.code, r.raw)
	}
	stored := map[events.Key]string{}
	for _, p := range s.readStored(t) {
		for _, e := range p.events {
			if _, twice := stored[e.Key()]; twice {
				t.Errorf("%v stored twice", e.Key())
			}
			stored[e.Key()] = e.Data.Quantity.String()
		}
	}
	want := map[events.Key]string{{Source: "/meters/a/1", ID: "e-1"}: "1.25", {Source: "/meters/b/1", ID: "e-1"}: "2", {Source: "urn:b:x", ID: "e-2"}: "1"}
	if !mapsEqual(want, stored) {
		t.Errorf("stored %v, want %v", stored, want)
	}
}

func mapsEqual[K, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestHolesInEventsAreRejectedPerEvent: each of these events is rejected with its own reason code, and its
// good neighbour is stored: a NUL in id, a newline in source, an attribute name that is not UTF-8, and a
// blank subject for a product found by a parameter.
func TestHolesInEventsAreRejectedPerEvent(t *testing.T) {
	s := startStack(t, ingest.Config{Partitions: 2})
	good := string(mustJSON(t, goodEvent("good", asset(1))))
	edit := func(old, new string) string { return strings.Replace(good, old, new, 1) }
	for _, tt := range []struct {
		name, event string
		reason      events.Reason
		field       string
	}{
		{"NUL in id", edit(`"id":"good"`, `"id":"bad\u0000"`), events.ReasonControlCharacter, "id"},
		{"newline in source", edit(`"source":"test/producer"`, `"source":"test/producer\n"`), events.ReasonControlCharacter, "source"},
		{"attribute name not UTF-8", edit(`"quantity":"1.25"`, "\"quantity\":\"1.25\",\"attributes\":{\"us\xffer\":\"u-1\"}"), events.ReasonBadAttribute, "data.attributes"},
		{"tab in a parameter subject", edit(`"subject":"AS-0001-0000-0001"`, `"subject":" \t "`), events.ReasonControlCharacter, "subject"},
		{"space-only parameter subject", edit(`"subject":"AS-0001-0000-0001"`, `"subject":"   "`), events.ReasonBadSubject, "subject"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bad := strings.Replace(tt.event, `"id":"good"`, `"id":"hole"`, 1)
			if strings.Contains(tt.name, "parameter") {
				bad = strings.Replace(bad, "PRD-TEST-0001", "PRD-TEST-PARAM", 1)
			}
			body := []byte("[" + bad + "," + edit(`"id":"good"`, `"id":"next-to-`+tt.name+`"`) + "]")
			r := s.post(t, ingest.MediaBatch, body)
			if r.code != http.StatusMultiStatus || len(r.body.Results) != 2 {
				t.Fatalf("want 207 with 2 results, have %d: %s", r.code, r.raw)
			}
			if res := r.body.Results[0]; res.Reason != tt.reason || res.Field != tt.field {
				t.Errorf("hole: %+v, want %s on %s", res, tt.reason, tt.field)
			}
			if res := r.body.Results[1]; res.Status != events.StatusAccepted {
				t.Errorf("its neighbour: %+v", res)
			}
		})
	}
	for k := range storedKeys(s.readStored(t)) {
		if !strings.HasPrefix(k.ID, "next-to-") {
			t.Errorf("a rejected event was stored: %v", k)
		}
	}
}

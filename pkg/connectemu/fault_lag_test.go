package connectemu

import (
	"errors"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// TestListLag: a file created under a list lag is missing from the next N lists, found by id meanwhile,
// and listed afterwards; the lag combines with a commit-drop of the same request.
func TestListLag(t *testing.T) {
	s := newTestServer(t, Options{})
	faults, err := ParseFaults("list-lag:2")
	if err != nil || faults[0] != (Fault{Kind: FaultListLag, Lists: 2, Times: 1}) {
		t.Fatalf("ParseFaults(list-lag:2) = %+v, %v", faults, err)
	}
	if err := s.SetFaults("files.create", faults...); err != nil {
		t.Fatal(err)
	}
	id := s.createFile(t, "lagging")
	listed := func() int {
		t.Helper()
		return len(decode[[]usageapi.File](t, s.do(t, "GET", "/public/v1/usage/files?eq(external_id,lagging)", "", nil), 200))
	}
	for i := range 2 {
		if n := listed(); n != 0 {
			t.Fatalf("list %d during the lag: %d files", i, n)
		}
		decode[usageapi.FileDetail](t, s.do(t, "GET", "/public/v1/usage/files/"+id, "", nil), 200)
	}
	if n := listed(); n != 1 {
		t.Fatalf("after the lag: %d files", n)
	}
	if n := len(decode[[]usageapi.File](t, s.do(t, "GET", "/public/v1/usage/files", "", nil), 200)); n != 1 {
		t.Fatalf("unfiltered list after the lag: %d files", n)
	}
}

func TestListLagSpecs(t *testing.T) {
	if f, err := ParseFaults("list-lag:300ms*2"); err != nil || f[0] != (Fault{Kind: FaultListLag, Delay: 300 * time.Millisecond, Times: 2}) {
		t.Fatalf("list-lag:300ms*2 = %+v, %v", f, err)
	}
	for _, bad := range []string{"list-lag", "list-lag:0", "list-lag:-1s", "list-lag:x"} {
		if _, err := ParseFaults(bad); !errors.Is(err, ErrFaultSpec) {
			t.Errorf("%q: %v, want ErrFaultSpec", bad, err)
		}
	}
	em := New(Options{})
	if err := em.SetFaults("files.get", Fault{Kind: FaultListLag, Lists: 1}); !errors.Is(err, ErrFaultSpec) {
		t.Fatalf("list-lag on files.get: %v, want ErrFaultSpec", err)
	}
}

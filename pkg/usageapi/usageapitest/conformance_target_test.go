package usageapitest_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"github.com/usagepipe/usagepipe/pkg/usageapi/usageapitest"
	"github.com/usagepipe/usagepipe/pkg/usagefile"
)

// The conformance suite drives a Connect Usage API through the client only. It always runs against the
// emulator (in-process, over real HTTP), and against a real Connect when CONNECT_API_URL and
// CONNECT_API_KEY are set, with the fixture named by:
//
//	CONNECT_PRODUCT_ID, CONNECT_CONTRACT_ID   where usage files are created
//	CONNECT_ITEM_MPN, CONNECT_ITEM_PRECISION  an item of the product (precision default decimal(4))
//	CONNECT_ASSET_ID                          an asset of the product in the contract's marketplace
//	CONNECT_PROVIDER_API_KEY                  optional: a provider token; without it, steps that need
//	                                          provider powers (accept, reject, close, …) are skipped
//	CONNECT_ALLOW_SUBMIT=1                    optional: allow steps to submit files (which reaches the
//	                                          contract's provider); without it they stop before submitting
//
// Steps that need the emulator's own powers (fault injection) only run against the emulator, and so do the
// assertions on behaviour Connect does not document (the emulator's choices): against a real Connect they
// are logged as not checked. Usage files of a run cover the previous calendar month, and every file a step
// creates is deleted at its end if it is still draft, invalid or ready.

// Keys of the emulator target: vendor and provider tokens are distinct, so the suite proves it uses the
// right one for each step.
const (
	vendorKey   = "SU-100-000-001:vendor-secret"
	providerKey = "SU-200-000-002:provider-secret"
)

// target is one Connect the suite runs against.
type target struct {
	name     string
	baseURL  string
	vendor   *usageapi.Client
	provider *usageapi.Client     // nil: provider steps are skipped
	provKey  string               // the provider's API key, for steps that read an answer's raw JSON
	emu      *connectemu.Emulator // nil against a real Connect: emulator-only steps are skipped
	fx       fixture
	run      string          // unique prefix of this run's external ids and record ids
	period   usageapi.Period // of every file: the previous calendar month
}

// fixture names what the catalog of a target offers for valid records.
type fixture struct {
	product, contract string
	itemMPN           string
	precision         events.Precision
	assetID           string
	schema            events.Schema
}

// targets returns the constructors of every target to run; the real one only when configured.
func targets() map[string]func(t *testing.T) *target {
	out := map[string]func(t *testing.T) *target{"emulator": emulatorTarget}
	if os.Getenv("CONNECT_API_URL") != "" && os.Getenv("CONNECT_API_KEY") != "" {
		out["connect"] = connectTarget
	}
	return out
}

// fastRetry keeps the suite quick: faults are retried within milliseconds (429 still waits Retry-After),
// and the emulator's list lags are short. realRetry leaves a real Connect's list lag at the default.
var (
	fastRetry = usageapi.RetryPolicy{InitialInterval: 5 * time.Millisecond, MaxInterval: 50 * time.Millisecond, MaxElapsedTime: 30 * time.Second, ListLag: 200 * time.Millisecond}
	realRetry = usageapi.RetryPolicy{InitialInterval: 5 * time.Millisecond, MaxInterval: 50 * time.Millisecond, MaxElapsedTime: 30 * time.Second}
)

func emulatorTarget(t *testing.T) *target {
	s := usageapitest.NewServer(t, connectemu.Options{APIKeys: []string{vendorKey}, ProviderAPIKeys: []string{providerKey}},
		usageapi.WithRetry(fastRetry))
	return &target{
		name: "emulator", baseURL: s.URL, emu: s.Emulator,
		vendor: s.Client, provider: newClient(t, s.URL, providerKey), provKey: providerKey,
		fx: fixture{
			product: "PRD-000-000-001", contract: "CRD-00000-00000-00001", itemMPN: "CPU_HOURS",
			precision: events.PrecisionDecimal4, assetID: "AS-0000-0000-0001", schema: events.SchemaQT,
		},
		run: runPrefix(), period: lastMonth(time.Now()),
	}
}

func connectTarget(t *testing.T) *target {
	env := func(name string) string {
		v := os.Getenv(name)
		if v == "" {
			t.Skipf("real Connect: %s is not set", name)
		}
		return v
	}
	precision := events.PrecisionDecimal4
	if p := os.Getenv("CONNECT_ITEM_PRECISION"); p != "" {
		var err error
		if precision, err = events.ParsePrecision(p); err != nil {
			t.Fatal(err)
		}
	}
	base := os.Getenv("CONNECT_API_URL")
	tg := &target{
		name: "connect", baseURL: base, vendor: newClientWith(t, base, os.Getenv("CONNECT_API_KEY"), realRetry),
		fx: fixture{
			product: env("CONNECT_PRODUCT_ID"), contract: env("CONNECT_CONTRACT_ID"), itemMPN: env("CONNECT_ITEM_MPN"),
			precision: precision, assetID: env("CONNECT_ASSET_ID"), schema: events.SchemaQT,
		},
		run: runPrefix(), period: lastMonth(time.Now()),
	}
	if k := os.Getenv("CONNECT_PROVIDER_API_KEY"); k != "" {
		tg.provider, tg.provKey = newClientWith(t, base, k, realRetry), k
	}
	return tg
}

func newClient(t *testing.T, base, key string) *usageapi.Client {
	t.Helper()
	return newClientWith(t, base, key, fastRetry)
}

func newClientWith(t *testing.T, base, key string, policy usageapi.RetryPolicy) *usageapi.Client {
	t.Helper()
	c, err := usageapi.New(base, key, usageapi.WithRetry(policy))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func runPrefix() string { return fmt.Sprintf("conf-%d-", time.Now().UnixNano()) }

// lastMonth is the calendar month (UTC) before the one of now.
func lastMonth(now time.Time) usageapi.Period {
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	from, to := first.AddDate(0, -1, 0), first.AddDate(0, 0, -1)
	return usageapi.Period{From: dateOf(from), To: dateOf(to)}
}

func dateOf(t time.Time) usageapi.Date {
	return usageapi.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

// day returns midnight (UTC) of day n (from 0) of the target's period; n stays below 28.
func (tg *target) day(n int) time.Time {
	from := tg.period.From
	return time.Date(from.Year, from.Month, from.Day+n%28, 0, 0, 0, 0, time.UTC)
}

// allowSubmit skips the rest of a step that would submit a file to a real provider without the opt-in.
func (tg *target) allowSubmit(t *testing.T) {
	t.Helper()
	if tg.emu == nil && os.Getenv("CONNECT_ALLOW_SUBMIT") != "1" {
		t.Skip("real Connect: submitting reaches the contract's provider; set CONNECT_ALLOW_SUBMIT=1 to allow it")
	}
}

// emulated reports whether the target is the emulator; against a real Connect it logs that an assertion on
// undocumented behaviour (what) is not checked.
func (tg *target) emulated(t *testing.T, what string) bool {
	t.Helper()
	if tg.emu == nil {
		t.Logf("real Connect: not checked (undocumented, the emulator's choice): %s", what)
	}
	return tg.emu != nil
}

// discardAtEnd deletes the file at the end of the step if it can still be deleted (draft, invalid or
// ready), so a run against a real Connect leaves nothing behind that it could remove.
func (tg *target) discardAtEnd(t *testing.T, id string) {
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		f, err := tg.vendor.GetFile(c, id)
		if err != nil {
			t.Logf("cleanup: read %s: %v", id, err)
			return
		}
		switch f.Status {
		case usageapi.FileStatusDraft, usageapi.FileStatusInvalid, usageapi.FileStatusReady:
			if _, err := tg.vendor.DeleteFile(c, id); err != nil {
				t.Logf("cleanup: delete %s: %v", id, err)
			}
		}
	})
}

// needProvider skips a step that needs provider powers when the target has none.
func (tg *target) needProvider(t *testing.T) *usageapi.Client {
	t.Helper()
	if tg.provider == nil {
		t.Skip("no provider API key (CONNECT_PROVIDER_API_KEY)")
	}
	return tg.provider
}

// needEmulator skips a step that needs the emulator's own powers.
func (tg *target) needEmulator(t *testing.T) *connectemu.Emulator {
	t.Helper()
	if tg.emu == nil {
		t.Skip("emulator only")
	}
	return tg.emu
}

// ctx is the context of one step: a generous safety net, never an assertion on speed.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	t.Cleanup(cancel)
	return c
}

// newFile finds or creates the draft file of a step, with a unique external id.
func (tg *target) newFile(t *testing.T, name string) *usageapi.FileDetail {
	t.Helper()
	f, created, err := tg.vendor.FindOrCreateFile(ctx(t), tg.createRequest(name))
	if err != nil {
		t.Fatalf("FindOrCreateFile(%s): %v", name, err)
	}
	tg.discardAtEnd(t, f.ID)
	if !created || f.Status != usageapi.FileStatusDraft {
		t.Fatalf("FindOrCreateFile(%s): created %v, status %s; want a new draft", name, created, f.Status)
	}
	return f
}

func (tg *target) createRequest(name string) usageapi.CreateFileRequest {
	period := tg.period
	return usageapi.CreateFileRequest{
		Name: "conformance " + name, Description: "usagepipe conformance suite", ExternalID: tg.run + name,
		Product: &usageapi.IDRef{ID: tg.fx.product}, Contract: &usageapi.IDRef{ID: tg.fx.contract},
		Period: &period,
	}
}

// waitFile waits until the file's processing (or the provider) is done and returns it. Against the
// emulator it first lets the background work settle, so the first read is final.
func (tg *target) waitFile(t *testing.T, id string, until func(usageapi.FileStatus) bool) *usageapi.FileDetail {
	t.Helper()
	c := ctx(t)
	poll := backoff.NewExponentialBackOff(backoff.WithInitialInterval(time.Second), backoff.WithMaxInterval(10*time.Second), backoff.WithMaxElapsedTime(0))
	if tg.emu != nil {
		if err := tg.emu.Settle(c); err != nil {
			t.Fatal(err)
		}
		poll = backoff.NewExponentialBackOff(backoff.WithInitialInterval(time.Millisecond), backoff.WithMaxElapsedTime(0))
	}
	f, err := tg.vendor.WaitFile(c, id, until, poll)
	if err != nil {
		t.Fatalf("WaitFile(%s): %v", id, err)
	}
	return f
}

// upload uploads a workbook and waits for its processing; it returns the processed file.
func (tg *target) upload(t *testing.T, id string, workbook []byte) *usageapi.FileDetail {
	t.Helper()
	if _, err := tg.vendor.UploadFile(ctx(t), id, id+".xlsx", bytes.NewReader(workbook)); err != nil {
		t.Fatalf("UploadFile(%s): %v", id, err)
	}
	return tg.waitFile(t, id, usageapi.ProcessingDone)
}

// readyFile creates a file and uploads n valid records; it returns the ready file.
func (tg *target) readyFile(t *testing.T, name string, n int) *usageapi.FileDetail {
	t.Helper()
	f := tg.newFile(t, name)
	f = tg.upload(t, f.ID, tg.validWorkbook(t, name, n))
	wantStatus(t, f, usageapi.FileStatusReady)
	return f
}

// validRecord is record i of a valid workbook: quantity i+0.25 (exact at any decimal precision ≥ 2).
func (tg *target) validRecord(name string, i int) usagefile.Record {
	q := events.MustDecimal(fmt.Sprintf("%d.25", i+1))
	if tg.fx.precision < events.PrecisionDecimal2 {
		q = events.MustDecimal(fmt.Sprint(i + 1))
	}
	start := tg.day(i)
	return usagefile.Record{
		RecordID: fmt.Sprintf("%s%s-%04d", tg.run, name, i), ItemSearchCriteria: usagefile.ItemByMPN,
		ItemSearchValue: tg.fx.itemMPN, Quantity: q, StartTimeUTC: start, EndTimeUTC: start.Add(24*time.Hour - time.Second),
		AssetSearchCriteria: usagefile.AssetByID, AssetSearchValue: tg.fx.assetID, Precision: tg.fx.precision,
	}
}

// validWorkbook writes n valid records with usagefile's writer.
func (tg *target) validWorkbook(t *testing.T, name string, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	records := func(yield func(usagefile.Record) bool) {
		for i := range n {
			if !yield(tg.validRecord(name, i)) {
				return
			}
		}
	}
	if err := usagefile.Write(&buf, usagefile.WriteOptions{Schema: tg.fx.schema}, records); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// filesWithExternalID lists the live (not deleted) files with an external id.
func (tg *target) filesWithExternalID(t *testing.T, externalID string) []usageapi.File {
	t.Helper()
	files, err := tg.vendor.Files(usageapi.Eq("external_id", externalID)).Collect(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(files, func(f usageapi.File) bool { return f.Status == usageapi.FileStatusDeleted })
}

func wantStatus(t *testing.T, f *usageapi.FileDetail, want usageapi.FileStatus) {
	t.Helper()
	if f.Status != want {
		t.Fatalf("file %s: status %s, want %s (error_detail %q)", f.ID, f.Status, want, f.ErrorDetail)
	}
}

// wantAPIError checks that err is an API error with the status (and, against the emulator, any code).
func wantAPIError(t *testing.T, what string, err error, status int) {
	t.Helper()
	if got := usageapi.StatusOf(err); got != status {
		t.Fatalf("%s: got %v (status %d), want status %d", what, err, got, status)
	}
}

// recordsOf lists the records of a file through the API.
func (tg *target) recordsOf(t *testing.T, c *usageapi.Client, fileID string) []usageapi.Record {
	t.Helper()
	recs, err := c.Records(usageapi.Eq("usagefile.id", fileID)).Collect(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// readWorkbook parses a downloaded workbook.
func readWorkbook(t *testing.T, b []byte) *usagefile.Workbook {
	t.Helper()
	wb, err := usagefile.Read(bytes.NewReader(b), usagefile.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return wb
}

// TestCreateAnswerShapes drives find-or-create against both shapes of the create answer: the spec's flat
// usage.UsageFileCreate and the nested detail shape servers have also sent.
func TestCreateAnswerShapes(t *testing.T) {
	for _, nested := range []bool{false, true} {
		s := usageapitest.NewServer(t, connectemu.Options{NestedCreateAnswer: nested}, usageapi.WithRetry(fastRetry))
		req := usageapi.CreateFileRequest{ExternalID: "shape", Product: &usageapi.IDRef{ID: "PRD-000-000-001"}, Contract: &usageapi.IDRef{ID: "CRD-00000-00000-00001"}}
		made, err := s.Client.CreateFile(t.Context(), req)
		if err != nil || made.ID == "" || made.ProductID != "PRD-000-000-001" || made.DistributionContract != "CRD-00000-00000-00001" || made.Vendor == "" {
			t.Errorf("nested %v: CreateFile = %+v, %v", nested, made, err)
		}
	}
}

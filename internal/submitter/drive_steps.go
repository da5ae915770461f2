package submitter

import (
	"bytes"
	"context"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// Reading a file again while Connect processes its upload, one read per step.
const (
	processingPollFirst = 20 * time.Millisecond
	processingPollGrow  = 1.3
	processingPollMax   = time.Second
	// followFirst is the first wait before reading a pending file again; it doubles up to FollowMaxInterval.
	followFirst = 100 * time.Millisecond
)

// advance runs the one operation the entry's state calls for and moves the entry (in memory) to the
// state it leads to. Every operation observes the Connect file first or gets it back, so an operation that
// already happened (its outcome unrecorded) is recognised, not repeated.
func (d *driver) advance(ctx context.Context, e *ledger.Entry) error {
	e.NextAt = time.Time{}
	err := d.operate(ctx, e)
	if e.FileID != "" && usageapi.IsNotFound(err) {
		err = d.fileGone(ctx, e, err)
	}
	return filterIgnored(err)
}

// operate runs the operation of the entry's state.
func (d *driver) operate(ctx context.Context, e *ledger.Entry) error {
	if e.Excluding != nil {
		return d.publishExclusion(ctx, e)
	}
	switch e.State {
	case ledger.StatePlanned:
		return d.create(ctx, e)
	case ledger.StateCreated, ledger.StateRepairing:
		return d.upload(ctx, e)
	case ledger.StateUploaded:
		return d.waitProcessed(ctx, e)
	case ledger.StateReady:
		return d.submit(ctx, e)
	case ledger.StateInvalid:
		return d.repair(ctx, e)
	case ledger.StateSubmitted:
		return d.follow(ctx, e)
	}
	return permanent("no operation for state "+string(e.State), nil)
}

// create finds the file by its external id or creates it; a supplement only once its gate is open. After a
// find-or-create of unknown outcome, the file is looked up again in the next steps before another, which
// waits out the list lag (drive_lookup.go).
func (d *driver) create(ctx context.Context, e *ledger.Entry) error {
	if e.Revision > 0 {
		switch v, err := d.gate(ctx, e); {
		case err != nil:
			return err
		case v == gateWait:
			e.Polls++
			e.NextAt = d.now().Add(followDelay(e.Polls, d.followMax)).UTC()
			return nil
		}
	}
	if e.Relists > 1 {
		return d.relist(ctx, e)
	}
	f, err := d.findOrCreate(ctx, e, e.Relists == 1)
	if err != nil {
		return err
	}
	return d.observe(e, f)
}

// upload uploads the file's workbook when the file waits for one: a new draft, or the invalid upload being
// repaired. Records the workbook cannot hold are dead-lettered first.
func (d *driver) upload(ctx context.Context, e *ledger.Entry) error {
	f, err := d.connect.GetFile(ctx, e.FileID)
	if err != nil {
		return err
	}
	if !needsUpload(e, f) {
		return d.observe(e, f)
	}
	part, err := d.partSources(ctx, e)
	if err != nil {
		return err
	}
	wb, err := buildWorkbook(&e.Spec, part)
	if err != nil {
		return err
	}
	if len(wb.unwritable) > 0 {
		return d.recordExclusion(e, part, wb.unwritable, reasonUnwritable)
	}
	f, err = d.connect.UploadFile(ctx, e.FileID, e.Key+".xlsx", bytes.NewReader(wb.data))
	if err != nil {
		return err
	}
	e.Uploads, e.Reupload = e.Uploads+1, nil
	return d.observe(e, f)
}

// needsUpload: a draft always; an invalid file while the entry repairs that very upload; the file an operator
// asked to report again, as it was then (reuploading).
func needsUpload(e *ledger.Entry, f *usageapi.FileDetail) bool {
	return f.Status == usageapi.FileStatusDraft ||
		f.Status == usageapi.FileStatusInvalid && e.State == ledger.StateRepairing && uploadedAt(f).Equal(e.InvalidUploadAt) ||
		reuploading(e, f)
}

// reuploading reports whether f is the file an operator asked to report again (ledger.Reupload), as it was
// then: it is uploaded again, not observed as parked.
func reuploading(e *ledger.Entry, f *usageapi.FileDetail) bool {
	return e.Reupload != nil && e.State == ledger.StateCreated && string(f.Status) == e.Reupload.Status &&
		f.StatusAt().Equal(e.Reupload.At)
}

// waitProcessed reads the file once. While Connect is still processing the upload, the entry is looked at
// again a little later (processingDelay), through NextAt: waiting holds no worker.
func (d *driver) waitProcessed(ctx context.Context, e *ledger.Entry) error {
	f, err := d.connect.GetFile(ctx, e.FileID)
	if err != nil {
		return err
	}
	if err := d.observe(e, f); err != nil || e.State != ledger.StateUploaded {
		return err
	}
	e.Polls++
	e.NextAt = d.now().Add(processingDelay(e.Polls)).UTC()
	return nil
}

// processingDelay is the wait before reading a processing file again after polls reads: 20 ms growing by
// 1.3 per read, up to 1 s.
func processingDelay(polls int) time.Duration {
	d := float64(processingPollFirst)
	for i := 1; i < polls && d < float64(processingPollMax); i++ {
		d *= processingPollGrow
	}
	return min(time.Duration(d), processingPollMax)
}

// submit submits the file to the provider if it is still ready (a submit whose answer was lost may have
// moved it on already), and, for a supplement, if its base has not been parked meanwhile.
func (d *driver) submit(ctx context.Context, e *ledger.Entry) error {
	f, err := d.connect.GetFile(ctx, e.FileID)
	if err == nil && f.Status == usageapi.FileStatusReady {
		if err = d.baseStillWell(ctx, e); err == nil {
			f, err = d.connect.SubmitFile(ctx, e.FileID)
		}
	}
	if err != nil {
		return err
	}
	return d.observe(e, f)
}

// follow reads a pending file; while it stays pending the reads are spaced out up to FollowMaxInterval.
func (d *driver) follow(ctx context.Context, e *ledger.Entry) error {
	f, err := d.connect.GetFile(ctx, e.FileID)
	if err != nil {
		return err
	}
	if err := d.observe(e, f); err != nil || e.State != ledger.StateSubmitted {
		return err
	}
	e.Polls++
	e.NextAt = d.now().Add(followDelay(e.Polls, d.followMax)).UTC()
	return nil
}

func followDelay(polls int, maxDelay time.Duration) time.Duration {
	d := followFirst
	for i := 1; i < polls && d < maxDelay; i++ {
		d *= 2
	}
	return min(d, maxDelay)
}

func uploadedAt(f *usageapi.FileDetail) time.Time {
	if f.Events == nil || f.Events.Uploaded == nil {
		return time.Time{}
	}
	return f.Events.Uploaded.At.UTC()
}

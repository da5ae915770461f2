package connectemu

import (
	"bytes"
	"fmt"
	"maps"
	"slices"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"github.com/xuri/excelize/v2"
)

// Chunks ("part usage files") split an accepted file by hub: each hub billing some of its assets gets one
// chunk with those records. A chunk is created draft, becomes ready in the background (its workbook can
// then be downloaded), and closing it (with an external billing id) closes its records; once every chunk
// of a file is closed, the file is closed too.

// createChunksLocked creates the draft chunks of a just-accepted file and schedules their generation.
func (e *Emulator) createChunksLocked(f *fileState) {
	byHub := map[string][]*recordState{}
	for _, r := range e.st.recordsOf(f.ID) {
		byHub[r.Hub] = append(byHub[r.Hub], r)
	}
	t := e.now()
	for _, hub := range slices.Sorted(maps.Keys(byHub)) {
		c := &chunkState{
			ID: e.newIDLocked(prefixChunk, t), FileID: f.ID, Hub: e.hubRef(f, hub),
			Status: usageapi.ChunkStatusDraft, Events: usageapi.Events{Created: event(t, nil)},
		}
		for _, r := range byHub[hub] {
			r.Chunk = c.ID
		}
		e.st.addChunk(c)
		e.scheduleChunkLocked(c)
	}
}

// hubRef names a hub from the catalog.
func (e *Emulator) hubRef(f *fileState, id string) usageapi.Hub {
	if m, ok := e.st.catalog.marketplace(f.Marketplace.ID); ok {
		for _, h := range m.Hubs {
			if h.ID == id {
				return usageapi.Hub{ID: h.ID, Name: h.Name}
			}
		}
	}
	return usageapi.Hub{ID: id}
}

// scheduleChunkLocked makes a draft chunk ready after the processing delay.
func (e *Emulator) scheduleChunkLocked(c *chunkState) {
	id, gen := c.ID, c.Generation
	e.scheduleLocked(e.opts.ProcessingDelay, func() {
		e.mu.Lock()
		if c := e.st.chunkByID[id]; c != nil && c.Generation == gen && c.Status == usageapi.ChunkStatusDraft {
			c.Status = usageapi.ChunkStatusReady
			c.Outdated = false
		}
		e.mu.Unlock()
		e.logBackground("persist", id, e.persist())
	})
}

// chunkForLocked returns a chunk and its file, or 404.
func (e *Emulator) chunkForLocked(id string) (*chunkState, *fileState, error) {
	c := e.st.chunkByID[id]
	if c == nil {
		return nil, nil, notFound("Usage file chunk", id)
	}
	return c, e.st.fileByID[c.FileID], nil
}

// closeChunkLocked closes a ready chunk and its records; the file closes with its last chunk.
func (e *Emulator) closeChunkLocked(id string, req usageapi.CloseChunkRequest, by *usageapi.User) (*chunkState, error) {
	c, f, err := e.chunkForLocked(id)
	if err != nil {
		return nil, err
	}
	if c.Status != usageapi.ChunkStatusReady {
		return nil, illegal("Usage file chunk", id, c.Status, "close")
	}
	if req.ExternalBillingID == "" {
		return nil, invalid("external_billing_id: This field is required.")
	}
	t := e.now()
	for _, r := range e.st.recordsOf(f.ID) {
		if r.Chunk == c.ID && (r.Status == usageapi.RecordStatusApproved || r.Status == usageapi.RecordStatusClosed) {
			closeRecord(r, req.ExternalBillingID, req.ExternalBillingNote, t, by)
		}
	}
	c.Status = usageapi.ChunkStatusClosed
	c.Events.Closed = event(t, by)
	e.closeIfAllClosedLocked(f, by)
	return c, nil
}

// regenerateChunkLocked rebuilds a chunk that is not closed: it goes back to draft and becomes ready again.
func (e *Emulator) regenerateChunkLocked(id string) (*chunkState, error) {
	c, _, err := e.chunkForLocked(id)
	if err != nil {
		return nil, err
	}
	if c.Status == usageapi.ChunkStatusClosed {
		return nil, illegal("Usage file chunk", id, c.Status, "regenerate")
	}
	c.Generation++
	c.Status, c.ErrorDetail, c.Outdated = usageapi.ChunkStatusDraft, "", false
	e.scheduleChunkLocked(c)
	return c, nil
}

// chunkStats counts a chunk's records like a file's stats.
func (e *Emulator) chunkStats(c *chunkState, f *fileState) usageapi.Stats {
	var s usageapi.Stats
	for _, r := range e.st.recordsOf(f.ID) {
		if r.Chunk != c.ID {
			continue
		}
		s.Uploaded++
		s.Validated++
		switch r.Status {
		case usageapi.RecordStatusApproved:
			s.Accepted++
		case usageapi.RecordStatusClosed:
			s.Accepted++
			s.Closed++
		}
		if r.ExternalBillingID != "" {
			s.Billed++
		}
	}
	return s
}

// renderChunk renders a chunk.
func (e *Emulator) renderChunk(c *chunkState, f *fileState) usageapi.Chunk {
	hub, market, provider := c.Hub, f.Marketplace, f.Provider
	stats := e.chunkStats(c, f)
	events := c.Events
	out := usageapi.Chunk{
		ID: c.ID, ExternalID: c.ExternalID, Status: c.Status, Outdated: c.Outdated, UsageFile: f.ref(),
		Binding: &usageapi.Binding{Hub: &hub, ExternalID: c.ExternalID}, Marketplace: &market,
		Provider: &provider, Events: &events, Stats: &stats,
	}
	if c.ErrorDetail != "" {
		out.Error = &usageapi.ErrorDetail{Detail: c.ErrorDetail}
	}
	return out
}

// chunkColumns are the columns of a chunk workbook's records sheet (the format is not documented).
var chunkColumns = []string{"usage_record_id", "record_id", "asset_id", "asset_external_id", "asset_recon_id",
	"item_id", "item_mpn", "item_name", "item_unit", "item_type", "quantity", "amount", "tier",
	"start_time_utc", "end_time_utc", "status", "external_billing_id", "external_billing_note"}

// chunkWorkbookLocked writes the records of a chunk as an xlsx.
func (e *Emulator) chunkWorkbookLocked(c *chunkState) ([]byte, error) {
	rows := [][]any{anyRow(chunkColumns)}
	for _, r := range e.st.recordsOf(c.FileID) {
		if r.Chunk != c.ID {
			continue
		}
		tier := ""
		if r.Tier != nil {
			tier = fmt.Sprint(*r.Tier)
		}
		rows = append(rows, []any{r.ID, r.RecordID, r.Asset.ID, r.Asset.ExternalID, r.AssetReconID,
			r.Item.ID, r.Item.MPN, r.Item.Name, r.Item.Unit, r.Item.Type, r.Usage, r.Amount, tier,
			r.Start.Format(timeLayout), r.End.Format(timeLayout), string(r.Status), r.ExternalBillingID, r.ExternalBillingNote})
	}
	return tableWorkbook("records", rows)
}

// timeLayout is the workbook time format, Connect's YYYY-MM-DD hh:mm:ss.
const timeLayout = "2006-01-02 15:04:05"

func anyRow(cells []string) []any {
	out := make([]any, len(cells))
	for i, c := range cells {
		out[i] = c
	}
	return out
}

// tableWorkbook writes rows as the only sheet of an xlsx, every cell as text.
func tableWorkbook(sheet string, rows [][]any) ([]byte, error) {
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &row); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

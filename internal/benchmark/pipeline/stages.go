package pipeline

import (
	"fmt"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// fileStages is where an accepted base file (revision 0: a period's closed records) spent its time, as
// Connect's lifecycle events give it: each stage's time since its period's close (end + lateness). Their
// spread shows what the on-time end-to-end latency is made of: planning (created), building and uploading
// (uploaded: the emulator reads the workbook before answering), processing and following (submitted), and
// the provider's acceptance (accepted).
type fileStages struct {
	period                                 int64 // its period's start, Unix seconds
	created, uploaded, submitted, accepted time.Duration
}

// stagesOf reads file's stages; false for a file that is not a base file usagepipe named, or lacks an event.
func stagesOf(file usageapi.File, t *truth) (fileStages, bool) {
	id, ok := ledger.ParseExternalID(file.ExternalID)
	ev := file.Events
	if !ok || id.Revision != 0 || ev == nil || ev.Created == nil || ev.Uploaded == nil || ev.Submitted == nil || ev.Accepted == nil {
		return fileStages{}, false
	}
	start := id.PeriodStart.Unix()
	closeAt := t.closeOf(newTruthKey(start, 0, 0))
	return fileStages{period: start, created: ev.Created.At.Sub(closeAt), uploaded: ev.Uploaded.At.Sub(closeAt),
		submitted: ev.Submitted.At.Sub(closeAt), accepted: ev.Accepted.At.Sub(closeAt)}, true
}

// stagesLine summarises the stages of the files whose period starts in [from, to]: per stage, the median and
// the largest time since the close, in seconds.
func stagesLine(all []fileStages, from, to int64) string {
	var created, uploaded, submitted, accepted []time.Duration
	for _, s := range all {
		if s.period >= from && s.period <= to {
			created, uploaded = append(created, s.created), append(uploaded, s.uploaded)
			submitted, accepted = append(submitted, s.submitted), append(accepted, s.accepted)
		}
	}
	if len(created) == 0 {
		return "stages of the soak's base files: none accepted"
	}
	parts := make([]string, 0, 4)
	for _, st := range []struct {
		name string
		ds   []time.Duration
	}{{"created", created}, {"uploaded", uploaded}, {"submitted", submitted}, {"accepted", accepted}} {
		l := summarise(st.ds)
		parts = append(parts, fmt.Sprintf("%s %.1f / %.1f s", st.name, l.p50.Seconds(), l.max.Seconds()))
	}
	return fmt.Sprintf("stages of the soak's %d base files, since their period's close (median / max): %s",
		len(created), strings.Join(parts, ", "))
}

package connectemu

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// ID prefixes and the number of 4-digit groups after the creation month. Connect's documented formats are
// UF-YYYY-MM-NNNN-NNNN (files) and UR-YYYY-MM-NNNN-NNNN-NNNN-NNNN (records); for chunks only the UFC prefix
// is known, and reconciliations and rules have no documented format: the emulator uses the same shape.
const (
	prefixFile  = "UF"
	prefixRec   = "UR"
	prefixChunk = "UFC"
	prefixRecon = "URC"
	prefixRule  = "UIR"
)

var idGroups = map[string]int{prefixFile: 2, prefixRec: 4, prefixChunk: 2, prefixRecon: 2, prefixRule: 2}

// newIDLocked returns an unused id PREFIX-YYYY-MM-NNNN-… for an object created at t. Must hold e.mu.
func (e *Emulator) newIDLocked(prefix string, t time.Time) string {
	for {
		var b strings.Builder
		fmt.Fprintf(&b, "%s-%04d-%02d", prefix, t.Year(), int(t.Month()))
		for range idGroups[prefix] {
			fmt.Fprintf(&b, "-%04d", rand.IntN(10000))
		}
		if id := b.String(); !e.st.idTaken(id) {
			return id
		}
	}
}

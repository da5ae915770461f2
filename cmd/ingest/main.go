// Command ingest is usagepipe's ingest service: producers POST CloudEvents usage events, and each accepted
// event is durably stored in JetStream before the answer. Flags fall back to USAGEPIPE_* variables; run
// "ingest -h" for the list and "ingest -validate" to check a configuration.
package main

import (
	"github.com/usagepipe/usagepipe/internal/ingest"
	"github.com/usagepipe/usagepipe/internal/startup"
)

func main() { startup.Main(ingest.Run) }

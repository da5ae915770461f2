// Command submitter is the usagepipe submitter worker: it turns closed usage periods into usage files in
// CloudBlue Connect and follows them until the provider decides. Flags and USAGEPIPE_* variables are
// described by -h; the work is internal/submitter's.
package main

import (
	"github.com/usagepipe/usagepipe/internal/startup"
	"github.com/usagepipe/usagepipe/internal/submitter"
)

func main() { startup.Main(submitter.Run) }

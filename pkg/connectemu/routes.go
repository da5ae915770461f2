package connectemu

import (
	"net/http"
	"path"
	"slices"
)

// route is one operation of the API: its name (used by fault injection and logs), method and path under
// the prefix, the role it needs, and its handler.
type route struct {
	name    string
	method  string
	pattern string
	role    role
	serve   apiHandler
}

// apiHandler serves one authenticated request; a returned error is written as the error answer.
type apiHandler func(w http.ResponseWriter, r *http.Request, c caller) error

// routes is every operation of the emulated API, in the spec's order.
func (e *Emulator) routes() []route {
	return []route{
		{"files.list", "GET", "/usage/files", roleAny, e.listFiles},
		{routeFilesCreate, "POST", "/usage/files", roleVendor, e.createFile},
		{"files.get", "GET", "/usage/files/{id}", roleAny, e.getFile},
		{"files.update", "PUT", "/usage/files/{id}", roleVendor, e.updateFile},
		{"files.upload", "POST", "/usage/files/{id}/upload", roleVendor, e.uploadFile},
		{"files.submit", "POST", "/usage/files/{id}/submit", roleVendor, e.fileAction(opSubmit)},
		{"files.accept", "POST", "/usage/files/{id}/accept", roleProvider, e.fileAction(opAccept)},
		{"files.reject", "POST", "/usage/files/{id}/reject", roleProvider, e.fileAction(opReject)},
		{"files.close", "POST", "/usage/files/{id}/close", roleProvider, e.fileAction(opClose)},
		{"files.delete", "POST", "/usage/files/{id}/delete", roleVendor, e.fileAction(opDelete)},
		{"files.approve-all", "PUT", "/usage/files/{id}/approve-all", roleProvider, e.fileAction(opApproveAll)},
		{"files.reprocess", "POST", "/usage/files/{id}/reprocess", roleProvider, e.fileAction(opReprocess)},
		{"files.reconciliation", "POST", "/usage/files/{id}/reconciliation", roleProvider, e.uploadFileReconciliation},
		{"files.categories", "GET", "/usage/files/{id}/categories", roleAny, e.listCategories},
		{"products.template", "GET", "/usage/products/{id}/template", roleAny, e.getTemplate},
		{"records.list", "GET", "/usage/records", roleAny, e.listRecords},
		{"records.close-records", "POST", "/usage/records/close-records", roleProvider, e.closeRecords},
		{"records.get", "GET", "/usage/records/{id}", roleAny, e.getRecord},
		{"records.update", "PUT", "/usage/records/{id}", roleProvider, e.updateRecord},
		{"records.close", "POST", "/usage/records/{id}/close", roleProvider, e.closeRecordHTTP},
		{"chunks.list", "GET", "/usage/chunks", roleAny, e.listChunks},
		{"chunks.get", "GET", "/usage/chunks/{id}", roleAny, e.getChunk},
		{"chunks.update", "PUT", "/usage/chunks/{id}", roleProvider, e.updateChunk},
		{"chunks.close", "POST", "/usage/chunks/{id}/close", roleProvider, e.closeChunkHTTP},
		{"chunks.download", "GET", "/usage/chunks/{id}/download", roleAny, e.downloadChunk},
		{"chunks.regenerate", "POST", "/usage/chunks/{id}/regenerate", roleProvider, e.regenerateChunk},
		{"reconciliations.list", "GET", "/usage/reconciliations", roleAny, e.listRecons},
		{"reconciliations.create", "POST", "/usage/reconciliations", roleProvider, e.createRecon},
		{"reconciliations.get", "GET", "/usage/reconciliations/{id}", roleAny, e.getRecon},
		{"reconciliations.processedfile", "GET", "/usage/reconciliations/{id}/processedfile", roleAny, e.reconFile(true)},
		{"reconciliations.uploadedfile", "GET", "/usage/reconciliations/{id}/uploadedfile", roleAny, e.reconFile(false)},
		{"aggregates.list", "GET", "/usage/aggregates", roleAny, e.listAggregates},
		{"assets.aggregates", "GET", "/assets/{asset}/usage/aggregates", roleAny, e.listAggregates},
		{"rules.list", "GET", "/products/{product}/usage/rules", roleAny, e.listRules},
		{"rules.create", "POST", "/products/{product}/usage/rules", roleProvider, e.createRule},
		{"rules.get", "GET", "/products/{product}/usage/rules/{id}", roleAny, e.getRule},
		{"rules.update", "PUT", "/products/{product}/usage/rules/{id}", roleProvider, e.updateRule},
		{"rules.delete", "DELETE", "/products/{product}/usage/rules/{id}", roleProvider, e.deleteRule},
		{"emulator.assets", "POST", "/emulator/assets", roleProvider, e.addAssets}, // the emulator's own (http_assets.go)
	}
}

// Route names the emulator's code refers to: the signed download links (no API key needed), and the
// create of usage files (the only route a list lag applies to).
const (
	routeDownloads   = "downloads"
	routeFilesCreate = "files.create"
)

// Routes returns the operation names fault injection accepts, besides "*".
func Routes() []string {
	var names []string
	for _, r := range (&Emulator{}).routes() {
		names = append(names, r.name)
	}
	return append(names, routeDownloads)
}

func knownRoute(name string) bool { return slices.Contains(Routes(), name) }

// Handler returns the emulated API: every operation under Options.PathPrefix, and the signed download links
// the detail fields point at under /usage-collector/. Paths are accepted with or without a trailing slash.
func (e *Emulator) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range e.routes() {
		mux.HandleFunc(rt.method+" "+e.opts.PathPrefix+rt.pattern, e.withFaults(rt.name, e.serveAPI(rt)))
	}
	mux.HandleFunc("GET "+downloadPrefix+"{path...}", e.withFaults(routeDownloads, e.serveDownload))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, newAPIError(http.StatusNotFound, CodeNotFound, "No route %s %s.", r.Method, r.URL.Path))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := cleanPath(r.URL.Path); p != r.URL.Path {
			r2 := r.Clone(r.Context())
			r2.URL.Path, r2.URL.RawPath = p, ""
			r = r2
		}
		mux.ServeHTTP(w, r)
	})
}

// cleanPath removes double and trailing slashes (legacy SDKs send both).
func cleanPath(p string) string { return path.Clean("/" + p) }

// serveAPI authenticates a request, checks its role and serves it.
func (e *Emulator) serveAPI(rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := e.authenticate(r)
		if err == nil {
			err = c.allowed(rt.role)
		}
		if err == nil {
			err = rt.serve(w, r, c)
		}
		if err != nil {
			writeError(w, err)
		}
		e.logger.Debug("emulator request", "route", rt.name, "method", r.Method, "path", r.URL.Path, "err", err)
	}
}

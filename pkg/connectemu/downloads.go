package connectemu

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// Download links. Connect's usage_file_uri and processed_file_uri are signed blob-storage URLs fetched
// without the API key; the emulator serves them itself under downloadPrefix, signed with an HMAC of the
// path (the state's secret), so they survive a restart of a persisted emulator.
const downloadPrefix = "/usage-collector/"

// Workbook kinds a link can point at.
const (
	kindUploaded       = "uploaded"
	kindProcessed      = "processed"
	kindReconciliation = "reconciliation"
	kindTemplate       = "template"
)

// signedURL returns the absolute, signed link to a workbook of a file (or, for kindTemplate, of a product).
func (e *Emulator) signedURL(base, productID, fileID, kind string) string {
	p := downloadPrefix + productID + "/" + fileID + "/" + kind + "/" + fileID + "-" + strings.ToUpper(kind) + ".xlsx"
	if kind == kindTemplate {
		p = downloadPrefix + productID + "/" + kindTemplate + "/" + productID + "-TEMPLATE.xlsx"
	}
	return base + p + "?" + url.Values{"sig": {e.sign(p)}}.Encode()
}

func (e *Emulator) sign(p string) string {
	m := hmac.New(sha256.New, e.st.secret)
	m.Write([]byte(p))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// serveDownload serves a signed link: 403 on a bad signature, 404 when the workbook does not exist (yet).
func (e *Emulator) serveDownload(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	ok := hmac.Equal([]byte(e.sign(r.URL.Path)), []byte(r.URL.Query().Get("sig")))
	b, err := e.downloadLocked(strings.Split(strings.TrimPrefix(r.URL.Path, downloadPrefix), "/"))
	e.mu.Unlock()
	switch {
	case !ok:
		writeError(w, newAPIError(http.StatusForbidden, CodeForbidden, "Signature does not match."))
	case err != nil:
		writeError(w, err)
	default:
		writeWorkbook(w, b)
	}
}

// downloadLocked finds the workbook of a link path: product/file/kind/name or product/template/name.
func (e *Emulator) downloadLocked(parts []string) ([]byte, error) {
	if len(parts) == 3 && parts[1] == kindTemplate {
		p, ok := e.st.catalog.product(parts[0])
		if !ok {
			return nil, notFound("Product", parts[0])
		}
		return templateWorkbook(p)
	}
	if len(parts) != 4 {
		return nil, notFound("Download", strings.Join(parts, "/"))
	}
	f := e.st.fileByID[parts[1]]
	if f == nil {
		return nil, notFound("Usage file", parts[1])
	}
	key := map[string]string{kindUploaded: f.Upload, kindProcessed: f.Processed, kindReconciliation: f.Recon}[parts[2]]
	if b := e.st.blobs[key]; key != "" && b != nil {
		return b, nil
	}
	return nil, notFound("Workbook", parts[2]+" of "+f.ID)
}

// writeWorkbook answers an xlsx.
func writeWorkbook(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", usageapi.XLSXContentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

package usageapi

import (
	"context"
	"io"
)

// Reconciliations lists reconciliations (GET /usage/reconciliations; provider). Filterable
// fields: usagefile.id, partusagefile.id, partusagefile.provider.id, binding.hub.id.
func (c *Client) Reconciliations(terms ...Term) List[Reconciliation] {
	return newList[Reconciliation](c, "ListReconciliations", "/usage/reconciliations", terms)
}

// GetReconciliation returns a reconciliation (GET /usage/reconciliations/{id}).
func (c *Client) GetReconciliation(ctx context.Context, id string) (*Reconciliation, error) {
	return callJSON[Reconciliation](ctx, c, "GetReconciliation", "GET", pathOf("usage", "reconciliations", id), nil)
}

// CreateReconciliation uploads a reconciliation workbook (POST /usage/reconciliations, multipart
// recon_file and upload_note; answered 201). One attempt: it creates an object.
func (c *Client) CreateReconciliation(ctx context.Context, filename string, workbook io.Reader, note string) (*Reconciliation, error) {
	var fields map[string]string
	if note != "" {
		fields = map[string]string{FieldUploadNote: note}
	}
	r, err := multipartRequest("CreateReconciliation", "/usage/reconciliations", FieldReconFile, filename, workbook, fields)
	if err != nil {
		return nil, err
	}
	var out Reconciliation
	if _, err := c.do(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ReconciliationProcessedFile returns the processed workbook of a reconciliation
// (GET /usage/reconciliations/{id}/processedfile).
func (c *Client) ReconciliationProcessedFile(ctx context.Context, id string) ([]byte, error) {
	return c.getBytes(ctx, "ReconciliationProcessedFile", pathOf("usage", "reconciliations", id, "processedfile"))
}

// ReconciliationUploadedFile returns the uploaded workbook of a reconciliation
// (GET /usage/reconciliations/{id}/uploadedfile).
func (c *Client) ReconciliationUploadedFile(ctx context.Context, id string) ([]byte, error) {
	return c.getBytes(ctx, "ReconciliationUploadedFile", pathOf("usage", "reconciliations", id, "uploadedfile"))
}

// getBytes GETs a binary answer of the API (with retries).
func (c *Client) getBytes(ctx context.Context, op, path string) ([]byte, error) {
	resp, err := c.call(ctx, &request{op: op, method: "GET", path: path, accept: XLSXContentType, binary: true}, nil)
	if err != nil {
		return nil, err
	}
	return resp.body, nil
}

package usageapi

import (
	"context"
	"errors"
	"io"
)

// Files lists usage files (GET /usage/files). Filterable fields include external_id, status,
// product.id, contract.id, created.at (ge, gt, le, lt only), schema, environment; see the spec.
// Orderable: id, created.at, status, schema, environment and the *.name fields (not external_id).
// Without an Ordering term, All pages ordered by created.at then id (both orderable, id unique), so
// files created while the pages are read come last instead of shifting the offsets.
func (c *Client) Files(terms ...Term) List[File] {
	return newList[File](c, "ListFiles", "/usage/files", terms).orderedBy("created.at", "id")
}

// GetFile returns a usage file with its detail-only fields (GET /usage/files/{id}).
func (c *Client) GetFile(ctx context.Context, id string) (*FileDetail, error) {
	return callJSON[FileDetail](ctx, c, "GetFile", "GET", pathOf("usage", "files", id), nil)
}

// CreateFile creates a usage file (POST /usage/files) in one attempt: it is not idempotent, and
// a lost answer may hide a created file. A failure that may have created the file wraps
// ErrAmbiguousCreate. Use FindOrCreateFile unless you handle that yourself.
func (c *Client) CreateFile(ctx context.Context, req CreateFileRequest) (*FileCreated, error) {
	if err := notSent(ctx, "CreateFile"); err != nil {
		return nil, err
	}
	made, err := onceJSON[FileCreated](ctx, c, "CreateFile", "POST", "/usage/files", req)
	return made, ambiguousCreate(err)
}

// UpdateFile changes the description, note, period, currency or external id of a file
// (PUT /usage/files/{id}); retried, as a PUT of the same values is idempotent.
func (c *Client) UpdateFile(ctx context.Context, id string, req UpdateFileRequest) (*FileUpdate, error) {
	return callJSON[FileUpdate](ctx, c, "UpdateFile", "PUT", pathOf("usage", "files", id), req)
}

// ApproveAllRecords approves every record of a file (PUT /usage/files/{id}/approve-all; provider).
// Retried: a PUT, and approving approved records changes nothing.
func (c *Client) ApproveAllRecords(ctx context.Context, id string) (*FileDetail, error) {
	return callJSON[FileDetail](ctx, c, "ApproveAllRecords", "PUT", pathOf("usage", "files", id, "approve-all"), emptyBody)
}

// ReprocessFile reprocesses a processed file after the provider closed records by hand
// (POST /usage/files/{id}/reprocess). One attempt: Connect does not refuse a repeat, so a retry
// could start a second processing.
func (c *Client) ReprocessFile(ctx context.Context, id string) (*FileDetail, error) {
	return onceJSON[FileDetail](ctx, c, "ReprocessFile", "POST", pathOf("usage", "files", id, "reprocess"), emptyBody)
}

// UploadReconciliation uploads a provider's reconciliation workbook for a file
// (POST /usage/files/{id}/reconciliation, field recon_file). One attempt: it is not idempotent.
func (c *Client) UploadReconciliation(ctx context.Context, id, filename string, workbook io.Reader) (*FileDetail, error) {
	r, err := multipartRequest("UploadReconciliation", pathOf("usage", "files", id, "reconciliation"),
		FieldReconFile, filename, workbook, nil)
	if err != nil {
		return nil, err
	}
	var out FileDetail
	if _, err := c.do(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Categories lists the record categories of a file (GET /usage/files/{id}/categories).
func (c *Client) Categories(fileID string, terms ...Term) List[Category] {
	return newList[Category](c, "ListCategories", pathOf("usage", "files", fileID, "categories"), terms)
}

// ErrNoTemplateLink is returned when the template answer carries no link.
var ErrNoTemplateLink = errors.New("usageapi: no template link")

// ProductTemplateLink returns the link to the product's usage workbook template
// (GET /usage/products/{id}/template). Fetch it with Download.
func (c *Client) ProductTemplateLink(ctx context.Context, productID string) (string, error) {
	t, err := callJSON[TemplateLink](ctx, c, "ProductTemplateLink", "GET", pathOf("usage", "products", productID, "template"), nil)
	if err != nil {
		return "", err
	}
	if t.TemplateLink == "" {
		return "", ErrNoTemplateLink
	}
	return t.TemplateLink, nil
}

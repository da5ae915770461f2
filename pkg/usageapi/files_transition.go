package usageapi

import (
	"context"
	"slices"
)

// The state-transition POSTs of a usage file (submit, accept, reject, close, delete) are retried:
// Connect refuses a transition from a status the file has already left (400), so a repeat can
// never apply twice. When a retry is refused that way, the first attempt may have succeeded with
// its answer lost, so the file is read back; if it has reached the target status the call succeeds.

// SubmitFile submits a ready file to the provider (POST /usage/files/{id}/submit, body {}).
// Reached once the file is pending (or already accepted, rejected or closed by the provider).
func (c *Client) SubmitFile(ctx context.Context, id string) (*FileDetail, error) {
	return c.transition(ctx, "SubmitFile", id, "submit", emptyBody,
		FileStatusPending, FileStatusAccepted, FileStatusRejected, FileStatusClosed)
}

// AcceptFile accepts a pending file (POST /usage/files/{id}/accept; provider).
func (c *Client) AcceptFile(ctx context.Context, id, note string) (*FileDetail, error) {
	return c.transition(ctx, "AcceptFile", id, "accept", AcceptFileRequest{AcceptanceNote: note},
		FileStatusAccepted, FileStatusClosed)
}

// RejectFile rejects a pending file with a note (POST /usage/files/{id}/reject; provider).
func (c *Client) RejectFile(ctx context.Context, id, note string) (*FileDetail, error) {
	return c.transition(ctx, "RejectFile", id, "reject", RejectFileRequest{RejectionNote: note},
		FileStatusRejected)
}

// CloseFile closes an accepted file (POST /usage/files/{id}/close; provider).
func (c *Client) CloseFile(ctx context.Context, id string) (*FileDetail, error) {
	return c.transition(ctx, "CloseFile", id, "close", emptyBody, FileStatusClosed)
}

// DeleteFile deletes a draft, invalid or ready file (POST /usage/files/{id}/delete; an action,
// not HTTP DELETE). A file that reads back as deleted or not found counts as deleted.
func (c *Client) DeleteFile(ctx context.Context, id string) (*FileDetail, error) {
	return c.transition(ctx, "DeleteFile", id, "delete", emptyBody, FileStatusDeleted)
}

func (c *Client) transition(ctx context.Context, op, id, action string, body any, reached ...FileStatus) (*FileDetail, error) {
	r, err := newRequest(op, "POST", pathOf("usage", "files", id, action), body)
	if err != nil {
		return nil, err
	}
	return callConfirmed(ctx, c, r, func(ctx context.Context) (*FileDetail, bool, error) {
		f, err := c.GetFile(ctx, id)
		if IsNotFound(err) && slices.Contains(reached, FileStatusDeleted) {
			return &FileDetail{File: File{ID: id, Status: FileStatusDeleted}}, true, nil
		}
		if err != nil {
			return nil, false, err
		}
		return f, slices.Contains(reached, f.Status), nil
	})
}

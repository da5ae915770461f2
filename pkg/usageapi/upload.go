package usageapi

import (
	"context"
	"io"
	"time"
)

// UploadFile uploads the usage workbook of a file (POST /usage/files/{id}/upload, multipart field
// usage_file) and returns the file as Connect answers (usually uploading or processing).
//
// An upload is retried only when Connect refused it (429) or when the file shows it did not take
// effect: before uploading, the file is read; after an ambiguous failure (timeout, reset, 5xx,
// lost answer) it is read again, and if its status or its events.uploaded time moved on, the
// upload happened and the call returns the file as it now is. Otherwise the same bytes are sent
// again, which at worst replaces the workbook by itself.
func (c *Client) UploadFile(ctx context.Context, id, filename string, workbook io.Reader) (*FileDetail, error) {
	r, err := multipartRequest("UploadFile", pathOf("usage", "files", id, "upload"), FieldUsageFile, filename, workbook, nil)
	if err != nil {
		return nil, err
	}
	before, err := c.GetFile(ctx, id)
	if err != nil {
		return nil, err
	}
	inner, check := withinRetry(ctx), false
	return retry(ctx, c, "UploadFile", func(int) (*FileDetail, error) {
		if check {
			now, err := c.GetFile(inner, id)
			if err != nil {
				return nil, err
			}
			if uploadTookEffect(before, now) {
				c.log.InfoContext(ctx, "usageapi: upload had taken effect despite the failure", "file", id, "status", now.Status)
				return now, nil
			}
			check = false
		}
		var out FileDetail
		if _, err := c.do(ctx, r, &out); err != nil {
			check = ambiguous(err)
			return nil, err
		}
		return &out, nil
	})
}

// uploadTookEffect compares the file before an upload with the file after an ambiguous failure.
func uploadTookEffect(before, now *FileDetail) bool {
	return now.Status.Processing() || now.Status != before.Status || !uploadedAt(now).Equal(uploadedAt(before))
}

func uploadedAt(f *FileDetail) time.Time {
	if f.Events == nil || f.Events.Uploaded == nil {
		return time.Time{}
	}
	return f.Events.Uploaded.At
}

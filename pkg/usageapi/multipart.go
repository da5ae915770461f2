package usageapi

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/textproto"
	"slices"
)

// multipartRequest builds a multipart/form-data POST with one workbook part (field) and text
// fields. The body is buffered, so every attempt sends the same bytes.
func multipartRequest(op, path, field, filename string, workbook io.Reader, fields map[string]string) (*request, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": field, "filename": filename}))
	h.Set("Content-Type", XLSXContentType)
	part, err := w.CreatePart(h)
	if err == nil {
		_, err = io.Copy(part, workbook)
	}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		if err == nil {
			err = w.WriteField(k, fields[k])
		}
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("usageapi: %s: building upload: %w", op, err)
	}
	return &request{op: op, method: "POST", path: path, body: buf.Bytes(), contentType: w.FormDataContentType()}, nil
}

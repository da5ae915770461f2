package usageapi

import "context"

// Chunks lists usage file chunks (GET /usage/chunks; provider). Filterable fields: id, status,
// usagefile.id, provider.id, binding.hub.id.
func (c *Client) Chunks(terms ...Term) List[Chunk] {
	return newList[Chunk](c, "ListChunks", "/usage/chunks", terms)
}

// GetChunk returns a chunk (GET /usage/chunks/{id}).
func (c *Client) GetChunk(ctx context.Context, id string) (*Chunk, error) {
	return callJSON[Chunk](ctx, c, "GetChunk", "GET", pathOf("usage", "chunks", id), nil)
}

// UpdateChunk sets the external id of a chunk (PUT /usage/chunks/{id}); retried (idempotent).
func (c *Client) UpdateChunk(ctx context.Context, id, externalID string) (*Chunk, error) {
	return callJSON[Chunk](ctx, c, "UpdateChunk", "PUT", pathOf("usage", "chunks", id), UpdateChunkRequest{ExternalID: externalID})
}

// CloseChunk closes a ready chunk with its external billing id (POST /usage/chunks/{id}/close),
// which closes its records and, with the last chunk, the usage file. Retried like CloseRecord:
// if a retry is refused, the chunk is read back and the call succeeds if it is closed.
func (c *Client) CloseChunk(ctx context.Context, id string, req CloseChunkRequest) (*Chunk, error) {
	r, err := newRequest("CloseChunk", "POST", pathOf("usage", "chunks", id, "close"), req)
	if err != nil {
		return nil, err
	}
	return callConfirmed(ctx, c, r, func(ctx context.Context) (*Chunk, bool, error) {
		ch, err := c.GetChunk(ctx, id)
		if err != nil {
			return nil, false, err
		}
		return ch, ch.Status == ChunkStatusClosed, nil
	})
}

// RegenerateChunk regenerates the data file of a chunk (POST /usage/chunks/{id}/regenerate).
// One attempt: Connect does not refuse a repeat, so a retry could regenerate twice.
func (c *Client) RegenerateChunk(ctx context.Context, id string) (*Chunk, error) {
	return onceJSON[Chunk](ctx, c, "RegenerateChunk", "POST", pathOf("usage", "chunks", id, "regenerate"), emptyBody)
}

// DownloadChunk returns the xlsx data file of a chunk (GET /usage/chunks/{id}/download).
func (c *Client) DownloadChunk(ctx context.Context, id string) ([]byte, error) {
	return c.getBytes(ctx, "DownloadChunk", pathOf("usage", "chunks", id, "download"))
}

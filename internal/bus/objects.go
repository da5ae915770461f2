package bus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// PutObject stores data under name in an object store bucket (chunked, so larger than max_payload is fine),
// replacing any previous object of that name.
func (c *Conn) PutObject(ctx context.Context, bucket, name string, data []byte) error {
	obs, err := c.objectStore(ctx, bucket)
	if err != nil {
		return err
	}
	if _, err := obs.PutBytes(ctx, name, data); err != nil {
		return fmt.Errorf("bus: put object %s/%s: %w", bucket, name, mapErr(err))
	}
	return nil
}

// GetObject returns the object's bytes (digest-checked), or ErrNotFound.
func (c *Conn) GetObject(ctx context.Context, bucket, name string) ([]byte, error) {
	obs, err := c.objectStore(ctx, bucket)
	if err != nil {
		return nil, err
	}
	data, err := obs.GetBytes(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("bus: get object %s/%s: %w", bucket, name, mapErr(err))
	}
	return data, nil
}

// DeleteObject deletes the object; ErrNotFound if there is none.
func (c *Conn) DeleteObject(ctx context.Context, bucket, name string) error {
	obs, err := c.objectStore(ctx, bucket)
	if err != nil {
		return err
	}
	if err := obs.Delete(ctx, name); err != nil {
		return fmt.Errorf("bus: delete object %s/%s: %w", bucket, name, mapErr(err))
	}
	return nil
}

// ListObjects returns the sorted names of live objects starting with prefix.
func (c *Conn) ListObjects(ctx context.Context, bucket, prefix string) ([]string, error) {
	obs, err := c.objectStore(ctx, bucket)
	if err != nil {
		return nil, err
	}
	infos, err := obs.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bus: list objects %s: %w", bucket, mapErr(err))
	}
	var names []string
	for _, info := range infos {
		if !info.Deleted && strings.HasPrefix(info.Name, prefix) {
			names = append(names, info.Name)
		}
	}
	slices.Sort(names)
	return names, nil
}

func (c *Conn) objectStore(ctx context.Context, bucket string) (jetstream.ObjectStore, error) {
	c.mu.Lock()
	obs, ok := c.objects[bucket]
	c.mu.Unlock()
	if ok {
		return obs, nil
	}
	obs, err := c.js.ObjectStore(ctx, bucket)
	if err != nil {
		if errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, jetstream.ErrBucketNotFound) {
			err = fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return nil, fmt.Errorf("bus: object store %s: %w", bucket, err)
	}
	c.mu.Lock()
	c.objects[bucket] = obs
	c.mu.Unlock()
	return obs, nil
}

package submitter

import "sync"

// planCache hands the records read while planning a part to the part's first upload, which would
// otherwise read them back from the stream at once. It keeps the parts of the latest few plans; a part
// missing from it (another process planned it, a restart, a repair) is read back as usual, and what it
// returns is checked against the ledger like what the stream returns.
type planCache struct {
	mu    sync.Mutex
	parts map[string][]source
	order []string
}

// planCacheParts bounds the cache: at most this many parts (each at most MaxRecordsPerFile records).
const planCacheParts = 4

func (c *planCache) put(key string, records []source) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.parts == nil {
		c.parts = map[string][]source{}
	}
	if _, ok := c.parts[key]; !ok {
		c.order = append(c.order, key)
	}
	c.parts[key] = records
	for len(c.order) > planCacheParts {
		delete(c.parts, c.order[0])
		c.order = c.order[1:]
	}
}

// take returns and forgets the records of key.
func (c *planCache) take(key string) ([]source, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	records, ok := c.parts[key]
	delete(c.parts, key)
	return records, ok
}

package usageapi

import (
	"context"
	"fmt"
	"net/url"
)

// Download fetches a signed link that Connect hands out: a file's usage_file_uri,
// processed_file_uri or reconciliation_file_uri, or a product's template link. A relative link is
// resolved against the base URL. The link carries its own short-lived credential, so no
// Authorization header is sent (the API key must not travel to a storage host), and the link's
// query is left out of errors, logs and spans. Retried like any GET; an expired link answers 403.
func (c *Client) Download(ctx context.Context, link string) ([]byte, error) {
	u, redacted, err := c.resolveLink(link)
	if err != nil {
		return nil, err
	}
	r := &request{op: "Download", method: "GET", path: redacted, signedURL: u, accept: "*/*", binary: true}
	resp, err := c.call(ctx, r, nil)
	if err != nil {
		return nil, err
	}
	return resp.body, nil
}

// resolveLink returns the absolute link and its printable form (no user info, no query).
func (c *Client) resolveLink(link string) (full, redacted string, err error) {
	base, _ := url.Parse(c.base + "/")
	ref, err := url.Parse(link)
	if err != nil || link == "" {
		return "", "", fmt.Errorf("usageapi: Download: bad link (%d bytes)", len(link))
	}
	u := base.ResolveReference(ref)
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", "", fmt.Errorf("usageapi: Download: link scheme %q is not http(s)", u.Scheme)
	}
	printable := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	return u.String(), printable.String(), nil
}

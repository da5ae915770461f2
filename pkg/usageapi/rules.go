package usageapi

import "context"

// Rules lists the usage rules of a product (GET /products/{id}/usage/rules; provider).
// Filterable fields: id, action, scope, status, rule, item.id, item.name.
func (c *Client) Rules(productID string, terms ...Term) List[Rule] {
	return newList[Rule](c, "ListRules", rulesPath(productID), terms)
}

func rulesPath(productID string, id ...string) string {
	return pathOf(append([]string{"products", productID, "usage", "rules"}, id...)...)
}

// GetRule returns a usage rule (GET /products/{product}/usage/rules/{id}).
func (c *Client) GetRule(ctx context.Context, productID, id string) (*Rule, error) {
	return callJSON[Rule](ctx, c, "GetRule", "GET", rulesPath(productID, id), nil)
}

// CreateRule creates a usage rule (POST /products/{product}/usage/rules; answered 201).
// One attempt: it creates an object.
func (c *Client) CreateRule(ctx context.Context, productID string, req RuleRequest) (*Rule, error) {
	return onceJSON[Rule](ctx, c, "CreateRule", "POST", rulesPath(productID), req)
}

// UpdateRule changes a usage rule (PUT /products/{product}/usage/rules/{id}); retried (a PUT).
func (c *Client) UpdateRule(ctx context.Context, productID, id string, req RuleRequest) (*Rule, error) {
	return callJSON[Rule](ctx, c, "UpdateRule", "PUT", rulesPath(productID, id), req)
}

// DeleteRule deletes a usage rule (DELETE /products/{product}/usage/rules/{id}; answered 204).
// Retried; a 404 on a retry means an earlier attempt deleted it, and counts as success.
func (c *Client) DeleteRule(ctx context.Context, productID, id string) error {
	r := &request{op: "DeleteRule", method: "DELETE", path: rulesPath(productID, id)}
	_, err := retry(ctx, c, r.op, func(n int) (*response, error) {
		resp, err := c.do(ctx, r, nil)
		if n > 1 && IsNotFound(err) {
			return resp, nil
		}
		return resp, err
	})
	return err
}

package usageapi

// Aggregates lists usage aggregates per asset and item (GET /usage/aggregates). Filterable
// fields: asset.id, asset.external_uid, item.id, item.local_id, item.type (ItemType).
func (c *Client) Aggregates(terms ...Term) List[Aggregate] {
	return newList[Aggregate](c, "ListAggregates", "/usage/aggregates", terms)
}

// AssetAggregates lists the usage aggregates of one asset (GET /assets/{id}/usage/aggregates).
func (c *Client) AssetAggregates(assetID string, terms ...Term) List[Aggregate] {
	return newList[Aggregate](c, "ListAssetAggregates", pathOf("assets", assetID, "usage", "aggregates"), terms)
}

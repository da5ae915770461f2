package connectemu

import (
	"fmt"
	"strings"
)

// catalogIndex finds a catalog's assets and items by what records search them with, in constant time: the
// assets of a product by id and by each parameter value, the items of a product by MPN, local id and id.
// Where several match, it keeps the one a scan of the catalog in order would find first. It indexes one
// catalog, which is never mutated (the store replaces its catalog instead), so an index never goes stale:
// the store builds one for each catalog when processing first needs it.
type catalogIndex struct {
	assets map[searchKey]*CatalogAsset // criteria "asset.id" or "parameter.<id>"
	items  map[searchKey]*CatalogItem  // criteria "item.mpn", "item.local_id" or "item.global_id"
}

// searchKey is a product's object with value under criteria.
type searchKey struct{ product, criteria, value string }

func newCatalogIndex(c *Catalog) *catalogIndex {
	x := &catalogIndex{assets: make(map[searchKey]*CatalogAsset, len(c.Assets)), items: map[searchKey]*CatalogItem{}}
	for i := range c.Assets {
		a := &c.Assets[i]
		x.addAsset(searchKey{a.Product, assetByID, a.ID}, a)
		for param, value := range a.Params {
			x.addAsset(searchKey{a.Product, assetByParamPrefix + param, value}, a)
		}
	}
	products := map[string]bool{}
	for i := range c.Products {
		p := &c.Products[i]
		if products[p.ID] {
			continue // product() finds the first
		}
		products[p.ID] = true
		for j := range p.Items {
			it := &p.Items[j]
			x.addItem(searchKey{p.ID, "item.mpn", it.MPN}, it)
			x.addItem(searchKey{p.ID, "item.local_id", it.LocalID}, it)
			x.addItem(searchKey{p.ID, "item.global_id", it.ID}, it)
		}
	}
	return x
}

func (x *catalogIndex) addAsset(k searchKey, a *CatalogAsset) {
	if _, ok := x.assets[k]; !ok && k.value != "" {
		x.assets[k] = a
	}
}

func (x *catalogIndex) addItem(k searchKey, it *CatalogItem) {
	if _, ok := x.items[k]; !ok && k.value != "" {
		x.items[k] = it
	}
}

// Asset search criteria.
const (
	assetByID          = "asset.id"
	assetByParamPrefix = "parameter."
)

// asset finds an asset of product by asset_search_criteria (asset.id or parameter.<id>) and value.
func (x *catalogIndex) asset(product, criteria, value string) (*CatalogAsset, error) {
	if err := checkAssetCriteria(criteria); err != nil {
		return nil, err
	}
	if a := x.assets[searchKey{product, criteria, value}]; a != nil {
		return a, nil
	}
	return nil, fmt.Errorf("asset not found: no asset of product %s has %s %q", product, criteria, value)
}

// checkAssetCriteria refuses asset_search_criteria other than asset.id and parameter.<id>.
func checkAssetCriteria(criteria string) error {
	if criteria == assetByID || (strings.HasPrefix(criteria, assetByParamPrefix) && len(criteria) > len(assetByParamPrefix)) {
		return nil
	}
	return fmt.Errorf("asset_search_criteria %q is not asset.id or parameter.<id>", criteria)
}

// item finds an item of p by a record's item_search_criteria and item_search_value.
func (x *catalogIndex) item(p *CatalogProduct, criteria, value string) (*CatalogItem, error) {
	switch criteria {
	case "item.mpn", "item.local_id", "item.global_id":
	default:
		return nil, fmt.Errorf("item_search_criteria %q is not item.mpn, item.local_id or item.global_id", criteria)
	}
	if it := x.items[searchKey{p.ID, criteria, value}]; it != nil {
		return it, nil
	}
	return nil, fmt.Errorf("item not found: no item of product %s has %s %q", p.ID, criteria, value)
}

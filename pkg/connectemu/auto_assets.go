package connectemu

import (
	"fmt"
	"hash/fnv"
	"strings"
)

// assetFinder finds an asset of a product by asset_search_criteria and value.
type assetFinder func(product, criteria, value string) (*CatalogAsset, error)

// autoAssets finds assets in the catalog indexed by cat and, for a value it does not know, makes one up (Options.AutoAssets):
// asset.id values become assets with that id, parameter.<id> values assets AS-… (derived from the value)
// with that parameter. The made-up assets are kept in v.newAssets and added to the catalog with the file.
func (v *validation) autoAssets(cat *catalogIndex, marketplace string) assetFinder {
	made := map[string]*CatalogAsset{}
	return func(product, criteria, value string) (*CatalogAsset, error) {
		a, err := cat.asset(product, criteria, value)
		if err == nil || value == "" {
			return a, err
		}
		key := product + "\x00" + criteria + "\x00" + value
		if a := made[key]; a != nil {
			return a, nil
		}
		a = &CatalogAsset{ID: value, Product: product, Marketplace: marketplace}
		switch {
		case criteria == "asset.id":
		case strings.HasPrefix(criteria, "parameter."):
			a.ID = derivedAssetID(product + "/" + criteria + "/" + value)
			a.Params = map[string]string{strings.TrimPrefix(criteria, "parameter."): value}
		default:
			return nil, err
		}
		made[key] = a
		v.newAssets = append(v.newAssets, *a)
		return a, nil
	}
}

// derivedAssetID is a stable asset id for a made-up asset.
func derivedAssetID(s string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	n := h.Sum64() % 1_0000_0000_0000
	return fmt.Sprintf("AS-%04d-%04d-%04d", n/1_0000_0000, n/1_0000%1_0000, n%1_0000)
}

package reconcile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// AssetMap maps, per product, Connect asset ids to the vendor's subscription ids. A Connect usage record
// names its asset (id, external id, external uid) but not the parameter value a file found it by
// (asset_search parameter.<id>), so for such products the mapping comes from Connect's assets as the vendor
// reads them (GET /public/v1/assets?eq(product.id,<product>): each asset with its params).
type AssetMap map[string]map[string]string

// ErrAssetMap is wrapped by the errors of ParseAssetMap and LoadAssetMap.
var ErrAssetMap = errors.New("reconcile: bad asset map")

// connectAsset is the part of a Connect asset (Subscriptions API) an AssetMap reads.
type connectAsset struct {
	ID      string `json:"id"`
	Product struct {
		ID string `json:"id"`
	} `json:"product"`
	Params []struct {
		ID    string `json:"id"`
		Value string `json:"value"`
	} `json:"params"`
}

// LoadAssetMap reads a JSON array of Connect assets (the pages of the assets list, concatenated into one
// array) and maps the assets of cat's parameter-searched products by that parameter.
func LoadAssetMap(path string, cat *events.Catalog) (AssetMap, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAssetMap, err)
	}
	return ParseAssetMap(b, cat)
}

// ParseAssetMap is LoadAssetMap of the file's content. Assets of products cat does not search by a
// parameter are ignored; two assets of one product with the same value are an error (a record of either
// could not be told apart).
func ParseAssetMap(data []byte, cat *events.Catalog) (AssetMap, error) {
	var assets []connectAsset
	if err := json.Unmarshal(data, &assets); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAssetMap, err)
	}
	m, owner := AssetMap{}, map[[2]string]string{}
	for _, a := range assets {
		param, ok := searchParameter(cat, a.Product.ID)
		if !ok {
			continue
		}
		value, ok := a.param(param)
		if !ok {
			continue // not a subscription of ours: its records are unmapped
		}
		if other, dup := owner[[2]string{a.Product.ID, value}]; dup && other != a.ID {
			return nil, fmt.Errorf("%w: assets %s and %s of product %s both have %s=%s", ErrAssetMap, other, a.ID, a.Product.ID, param, value)
		}
		owner[[2]string{a.Product.ID, value}] = a.ID
		if m[a.Product.ID] == nil {
			m[a.Product.ID] = map[string]string{}
		}
		m[a.Product.ID][a.ID] = value
	}
	return m, nil
}

func (a connectAsset) param(id string) (string, bool) {
	for _, p := range a.Params {
		if p.ID == id && p.Value != "" {
			return p.Value, true
		}
	}
	return "", false
}

// searchParameter returns the parameter id by which product id's records find their asset, false for
// products that find them by asset.id (or that cat does not know).
func searchParameter(cat *events.Catalog, id string) (string, bool) {
	p, ok := cat.Product(id)
	if !ok || p.AssetSearch == "" || p.AssetSearch == events.DefaultAssetSearch {
		return "", false
	}
	return strings.CutPrefix(p.AssetSearch, "parameter.")
}

// covers reports whether m maps the assets of product id.
func (m AssetMap) covers(id string) bool { return len(m[id]) > 0 }

package connectemu

import (
	"fmt"
	"strings"
	"testing"
)

// scanAsset is what the index must find: the first asset of the catalog, in order, that matches.
func scanAsset(c *Catalog, product, criteria, value string) (*CatalogAsset, error) {
	if err := checkAssetCriteria(criteria); err != nil {
		return nil, err
	}
	for i := range c.Assets {
		a := &c.Assets[i]
		v := a.ID
		if criteria != assetByID {
			v = a.Params[strings.TrimPrefix(criteria, assetByParamPrefix)]
		}
		if a.Product == product && value != "" && v == value {
			return a, nil
		}
	}
	return nil, fmt.Errorf("asset not found: no asset of product %s has %s %q", product, criteria, value)
}

// scanItem is what the index must find: the first item of the product that matches.
func scanItem(p *CatalogProduct, criteria, value string) (*CatalogItem, error) {
	key := map[string]func(*CatalogItem) string{
		"item.mpn":       func(it *CatalogItem) string { return it.MPN },
		"item.local_id":  func(it *CatalogItem) string { return it.LocalID },
		"item.global_id": func(it *CatalogItem) string { return it.ID },
	}[criteria]
	if key == nil {
		return nil, fmt.Errorf("item_search_criteria %q is not item.mpn, item.local_id or item.global_id", criteria)
	}
	for i := range p.Items {
		if value != "" && key(&p.Items[i]) == value {
			return &p.Items[i], nil
		}
	}
	return nil, fmt.Errorf("item not found: no item of product %s has %s %q", p.ID, criteria, value)
}

func TestCatalogIndexFindsWhatAScanFinds(t *testing.T) {
	c := SampleCatalog().Merged(&Catalog{Assets: []CatalogAsset{
		{ID: "AS-DUP-1", Product: "PRD-000-000-001", Params: map[string]string{"subscription_id": "shared", "other": "x"}},
		{ID: "AS-DUP-2", Product: "PRD-000-000-001", Params: map[string]string{"subscription_id": "shared", "other": ""}},
		{ID: "AS-DUP-3", Product: "PRD-000-000-002", Params: map[string]string{"subscription_id": "shared"}},
	}})
	x := newCatalogIndex(c)
	products := []string{"PRD-000-000-001", "PRD-000-000-002", "PRD-404"}
	criteria := []string{"asset.id", "parameter.subscription_id", "parameter.other", "parameter.", "asset.uid", ""}
	values := []string{"AS-0000-0000-0001", "AS-0000-0000-0004", "AS-DUP-2", "sub-0002", "sub-1001", "shared", "x", "", "nope"}
	for _, p := range products {
		for _, cr := range criteria {
			for _, v := range values {
				got, gerr := x.asset(p, cr, v)
				want, werr := scanAsset(c, p, cr, v)
				if got != want || fmt.Sprint(gerr) != fmt.Sprint(werr) {
					t.Errorf("asset(%s, %q, %q) = %v, %v; a scan finds %v, %v", p, cr, v, got, gerr, want, werr)
				}
			}
		}
	}
	for i := range c.Products {
		p := &c.Products[i]
		for _, cr := range []string{"item.mpn", "item.local_id", "item.global_id", "item.name", ""} {
			for _, v := range []string{"CPU_HOURS", "storage_gb", "PRD-000-000-001-0003", "SEATS", "seats", "", "nope"} {
				got, gerr := x.item(p, cr, v)
				want, werr := scanItem(p, cr, v)
				if got != want || fmt.Sprint(gerr) != fmt.Sprint(werr) {
					t.Errorf("item(%s, %q, %q) = %v, %v; a scan finds %v, %v", p.ID, cr, v, got, gerr, want, werr)
				}
			}
		}
	}
}

func TestMergeByIDReplacesInPlaceAndAppendsInOrder(t *testing.T) {
	id := func(s string) string { return s[:1] }
	got := mergeByID([]string{"a1", "b1", "a2"}, []string{"b2", "c1", "a3", "c2"}, id)
	want := []string{"a3", "b2", "a2", "c2"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("merge: %v, want %v", got, want)
	}
}

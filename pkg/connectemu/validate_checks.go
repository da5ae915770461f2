package connectemu

import (
	"fmt"
	"strings"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usagefile"
)

// The checks of one uploaded row against the catalog and its file. Each finding explains one cell: the
// processed workbook writes it as a comment on that cell and, joined, in the row's error column.

// cellError is the explanation of one invalid cell.
func cellError(column, format string, args ...any) usagefile.CellError {
	return usagefile.CellError{Column: column, Text: fmt.Sprintf(format, args...)}
}

// errorText is the error column of a row: "column: text; …".
func errorText(cells []usagefile.CellError) string {
	texts := make([]string, len(cells))
	for i, c := range cells {
		texts[i] = c.Text
		if c.Column != "" {
			texts[i] = c.Column + ": " + c.Text
		}
	}
	return strings.Join(texts, "; ")
}

// problemCell is a reader problem as the explanation of its cell.
func problemCell(p usagefile.Problem) usagefile.CellError {
	s := p.Err.Error()
	if p.Value != "" {
		s += fmt.Sprintf(" %q", p.Value)
	}
	return usagefile.CellError{Column: p.Column, Text: s}
}

// resolveItemAsset finds the record's item and asset in the catalog.
func resolveItemAsset(assets assetFinder, items *catalogIndex, product *CatalogProduct, f *fileState, rec *usagefile.ReadRecord) (*CatalogItem, *CatalogAsset, []usagefile.CellError) {
	var cells []usagefile.CellError
	var item *CatalogItem
	var asset *CatalogAsset
	var err error
	if rec.ItemSearchCriteria != "" && rec.ItemSearchValue != "" {
		if item, err = items.item(product, rec.ItemSearchCriteria, rec.ItemSearchValue); err != nil {
			cells = append(cells, cellError(usagefile.ColItemSearchValue, "%v", err))
		}
	}
	if rec.AssetSearchCriteria != "" && rec.AssetSearchValue != "" {
		asset, err = assets(product.ID, rec.AssetSearchCriteria, rec.AssetSearchValue)
		switch {
		case err != nil:
			cells = append(cells, cellError(usagefile.ColAssetSearchValue, "%v", err))
		case asset.Marketplace != "" && asset.Marketplace != f.Marketplace.ID:
			cells = append(cells, cellError(usagefile.ColAssetSearchValue, "asset %s belongs to marketplace %s, not %s", asset.ID, asset.Marketplace, f.Marketplace.ID))
			asset = nil
		}
	}
	return item, asset, cells
}

// checkPrecision reports a quantity with more decimals than the item's precision, an amount with more than
// events.AmountPrecision, and an item_precision column that contradicts the item.
func checkPrecision(item *CatalogItem, rec *usagefile.ReadRecord) []usagefile.CellError {
	var cells []usagefile.CellError
	places := precisionScale(item.Precision)
	if rec.ItemPrecision != "" && !strings.EqualFold(rec.ItemPrecision, item.Precision) {
		cells = append(cells, cellError(usagefile.ColItemPrecision, "%q but item %s has precision %s", rec.ItemPrecision, item.ID, item.Precision))
	}
	if rec.Quantity.Scale() > places {
		cells = append(cells, cellError(usagefile.ColQuantity, "%s has more decimals than the item precision %s", rec.Quantity, item.Precision))
	}
	if rec.Amount != nil && rec.Amount.Scale() > events.AmountPrecision {
		cells = append(cells, cellError(usagefile.ColAmount, "%s has more than %d decimals", rec.Amount, events.AmountPrecision))
	}
	return cells
}

package usagefile

// Sheet names.
const (
	SheetRecords       = "records"
	SheetRecordsLegacy = "usage_records" // written by Connect's legacy SDKs
	SheetCategories    = "categories"
	SheetGeneral       = "general" // processed workbooks only
)

// Record sheet column names, as Connect's template spells them.
const (
	ColRecordID            = "record_id"
	ColRecordIDLegacy      = "usage_record_id"
	ColRecordNote          = "record_note"
	ColItemSearchCriteria  = "item_search_criteria"
	ColItemSearchValue     = "item_search_value"
	ColAmount              = "amount"
	ColQuantity            = "quantity"
	ColStartTime           = "start_time_utc"
	ColEndTime             = "end_time_utc"
	ColAssetSearchCriteria = "asset_search_criteria"
	ColAssetSearchValue    = "asset_search_value"
	ColItemName            = "item_name"
	ColItemMPN             = "item_mpn"
	ColItemUnit            = "item_unit"
	ColItemPrecision       = "item_precision"
	ColCategoryID          = "category_id"
	ColAssetReconID        = "asset_recon_id"
	ColTier                = "tier"

	// Columns a processed workbook adds to its records sheet.
	ColStatus = "status"
	ColError  = "error"
)

// recordColumns is the order the writer uses, the same for every schema.
var recordColumns = []string{
	ColRecordID, ColRecordNote, ColItemSearchCriteria, ColItemSearchValue,
	ColAmount, ColQuantity, ColStartTime, ColEndTime,
	ColAssetSearchCriteria, ColAssetSearchValue,
	ColItemName, ColItemMPN, ColItemUnit, ColItemPrecision,
	ColCategoryID, ColAssetReconID, ColTier,
}

// RequiredColumns must be in every records sheet's header, whatever the schema, and non-empty in every row.
var RequiredColumns = []string{
	ColRecordID, ColItemSearchCriteria, ColItemSearchValue, ColQuantity,
	ColStartTime, ColEndTime, ColAssetSearchCriteria, ColAssetSearchValue,
}

// Category sheet columns.
const (
	ColCategoryName        = "category_name"
	ColCategoryDescription = "category_description"
)

// General sheet columns (processed workbooks).
const (
	ColAttributeID    = "attribute_id"
	ColAttributeValue = "attribute_value"
)

// TimeLayout is how start_time_utc and end_time_utc are written: Connect's
// `YYYY-MM-DD hh:mm:ss`, in UTC.
const TimeLayout = "2006-01-02 15:04:05"

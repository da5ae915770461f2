package connectemu

import (
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// createFileLocked creates a draft usage file. Vendor, provider, marketplace and environment come from the
// contract, the schema from the product, the currency (unless given) from the marketplace. The external_id
// is not unique: that is why clients find-or-create by it.
func (e *Emulator) createFileLocked(req usageapi.CreateFileRequest, by *usageapi.User) (*fileState, error) {
	if err := checkLengths(map[string]fieldLen{
		"name": {req.Name, 100}, "description": {req.Description, 200}, "note": {req.Note, 200},
		"external_id": {req.ExternalID, 200}, "currency": {req.Currency, 20},
	}); err != nil {
		return nil, err
	}
	cat := e.st.catalog
	product, contract, err := resolveProductContract(cat, req.Product, req.Contract)
	if err != nil {
		return nil, err
	}
	market, _ := cat.marketplace(contract.Marketplace)
	schema, _ := schemaOf(product.Schema)
	t := e.now()
	f := &fileState{
		ID: e.newIDLocked(prefixFile, t), Name: req.Name, Description: req.Description, Note: req.Note,
		ExternalID: req.ExternalID, Status: usageapi.FileStatusDraft, Schema: schema,
		Environment: environmentOf(contract), Currency: req.Currency,
		Vendor:      usageapi.Account{ID: cat.Vendor.ID, Name: cat.Vendor.Name},
		Provider:    usageapi.Account{ID: contract.Provider.ID, Name: contract.Provider.Name},
		Marketplace: usageapi.Marketplace{ID: market.ID, Name: market.Name},
		Contract:    usageapi.Contract{ID: contract.ID, Name: contract.Name},
		Product:     usageapi.Product{ID: product.ID, Name: product.Name, Icon: product.Icon},
		Events:      usageapi.Events{Created: event(t, by)},
	}
	if req.Period != nil {
		f.Period = *req.Period
	}
	if err := checkPeriod(f.Period); err != nil {
		return nil, err
	}
	if f.Currency == "" {
		f.Currency = market.Currency
	}
	if f.Name == "" {
		f.Name = defaultName(f.Period)
	}
	e.st.addFile(f)
	return f, nil
}

func resolveProductContract(cat *Catalog, p, k *usageapi.IDRef) (*CatalogProduct, *CatalogContract, error) {
	if p == nil || p.ID == "" {
		return nil, nil, invalid("product: This field is required.")
	}
	if k == nil || k.ID == "" {
		return nil, nil, invalid("contract: This field is required.")
	}
	product, ok := cat.product(p.ID)
	if !ok {
		return nil, nil, invalid("product: Product %s does not exist.", p.ID)
	}
	contract, ok := cat.contract(k.ID)
	if !ok {
		return nil, nil, invalid("contract: Contract %s does not exist.", k.ID)
	}
	return product, contract, nil
}

func environmentOf(k *CatalogContract) usageapi.Environment {
	if k.Environment == "" {
		return usageapi.EnvironmentProduction
	}
	return usageapi.Environment(k.Environment)
}

// checkPeriod rejects a period whose end is before its start.
func checkPeriod(p usageapi.Period) error {
	if !p.From.IsZero() && !p.To.IsZero() && p.To.Time().Before(p.From.Time()) {
		return invalid("period: to (%s) is before from (%s).", p.To, p.From)
	}
	return nil
}

// defaultName is what the portal names a file: its period, "MM/DD/YYYY - MM/DD/YYYY".
func defaultName(p usageapi.Period) string {
	if p.From.IsZero() || p.To.IsZero() {
		return ""
	}
	f := func(d usageapi.Date) string { return fmt.Sprintf("%02d/%02d/%04d", int(d.Month), d.Day, d.Year) }
	return f(p.From) + " - " + f(p.To)
}

// fieldLen is a field's value and its maximum length in characters.
type fieldLen struct {
	value string
	max   int
}

// checkLengths answers VAL_001 with one message per field longer than its maximum.
func checkLengths(fields map[string]fieldLen) error {
	var msgs []string
	for name, f := range fields {
		if utf8.RuneCountInString(f.value) > f.max {
			msgs = append(msgs, fmt.Sprintf("%s: Ensure this field has no more than %d characters.", name, f.max))
		}
	}
	if len(msgs) > 0 {
		slices.Sort(msgs)
		return &apiError{status: 400, code: CodeValidation, msgs: msgs}
	}
	return nil
}

package connectemu

import (
	"net/http"
)

// addAssets serves POST /emulator/assets: not a Connect route but the emulator's own, for harnesses that
// run it as a process (usagepipe chaos) and must make an asset exist later, as a subscription being
// provisioned in Connect would (the Go API is Emulator.AddAsset). The body is a JSON array of catalog assets;
// the answer is the catalog's assets after the change. It needs a provider's key.
func (e *Emulator) addAssets(w http.ResponseWriter, r *http.Request, _ caller) error {
	var assets []CatalogAsset
	if err := decodeJSON(r, &assets); err != nil {
		return err
	}
	if err := e.Seed(&Catalog{Assets: assets}); err != nil {
		return invalid("%s", err.Error())
	}
	writeJSON(w, http.StatusCreated, e.Catalog().Assets)
	return nil
}

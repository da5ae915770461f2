package usageapi

import (
	"errors"
	"fmt"
)

// What each answer type must carry to be used (wellFormed): the fields the spec marks required, or
// read-only (the server always writes them), that callers act on. An answer without them is malformed
// (ErrMalformedAnswer), never handed out: a usage file without id or status would otherwise be taken for
// a file in an unknown state. Optional fields are not checked.

func (f File) wellFormed() error {
	switch {
	case f.ID == "":
		return errors.New("usage file without id")
	case f.Status == "":
		return fmt.Errorf("usage file %s without status", f.ID)
	case !f.Status.Known():
		return fmt.Errorf("usage file %s with status %q, not one of the spec's", f.ID, f.Status)
	}
	return nil
}

// wellFormed of a create answer: the spec's flat shape has no status; when one is given it must be known.
func (f FileCreated) wellFormed() error {
	switch {
	case f.ID == "":
		return errors.New("created usage file without id")
	case f.Status != "" && !f.Status.Known():
		return fmt.Errorf("created usage file %s with status %q, not one of the spec's", f.ID, f.Status)
	}
	return nil
}

func (r Record) wellFormed() error { return needID("usage record", r.ID) }

func (c Chunk) wellFormed() error { return needID("chunk", c.ID) }

func (r Reconciliation) wellFormed() error { return needID("reconciliation", r.ID) }

func (r Rule) wellFormed() error { return needID("usage rule", r.ID) }

func (c Category) wellFormed() error { return needID("category", c.ID) }

func (a Aggregate) wellFormed() error {
	if a.Item == nil || a.Asset == nil {
		return errors.New("usage aggregate without item or asset")
	}
	return nil
}

// wellFormed of a bulk close result: an id; a result without status counts as Failed (a record Connect does
// not know has none), so the caller reads the record back.
func (r CloseRecordResult) wellFormed() error { return needID("close result", r.ID) }

func needID(what, id string) error {
	if id == "" {
		return errors.New(what + " without id")
	}
	return nil
}

package connectemu

import (
	"net/http"
	"slices"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// Usage rules are the provider's automatic decisions on submitted files of a product: the first active
// rule (in order) that applies decides (see decideLocked). The rule expression is stored but not
// interpreted (its syntax is not documented); a rule without an item applies to every file.

func (e *Emulator) listRules(w http.ResponseWriter, r *http.Request, _ caller) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	product := r.PathValue("product")
	e.mu.Lock()
	var rules []*ruleState
	for _, rule := range e.st.rules {
		if rule.ProductID == product {
			rules = append(rules, rule)
		}
	}
	pg, err := ruleResource.List(q, rules)
	items := make([]usageapi.Rule, len(pg.Items))
	for i, rule := range pg.Items {
		items[i] = renderRule(rule)
	}
	e.mu.Unlock()
	if err != nil {
		return rqlError(err)
	}
	writeList(w, pg.ContentRange, items)
	return nil
}

func (e *Emulator) createRule(w http.ResponseWriter, r *http.Request, _ caller) error {
	var req usageapi.RuleRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	v, err := e.change(func() (any, error) {
		rule, err := e.createRuleLocked(r.PathValue("product"), req)
		if err != nil {
			return nil, err
		}
		return renderRule(rule), nil
	})
	return answer(w, http.StatusCreated, v, err)
}

func (e *Emulator) createRuleLocked(productID string, req usageapi.RuleRequest) (*ruleState, error) {
	product, ok := e.st.catalog.product(productID)
	if !ok {
		return nil, notFound("Product", productID)
	}
	t := e.now()
	rule := &ruleState{
		ID: e.newIDLocked(prefixRule, t), ProductID: product.ID, Scope: usageapi.RuleScopeFile,
		Status: usageapi.RuleStatusActive, Created: t, Updated: t,
	}
	if err := applyRule(rule, product, req); err != nil {
		return nil, err
	}
	if rule.Action == "" {
		return nil, invalid("action: This field is required.")
	}
	e.st.addRule(rule)
	return rule, nil
}

// applyRule sets the fields req gives, checking enums and the item.
func applyRule(rule *ruleState, product *CatalogProduct, req usageapi.RuleRequest) error {
	if err := checkLengths(map[string]fieldLen{"rule": {req.Rule, 2000}}); err != nil {
		return err
	}
	if req.Action != "" {
		if !slices.Contains([]usageapi.RuleAction{usageapi.RuleActionAccept, usageapi.RuleActionReject, usageapi.RuleActionManual}, req.Action) {
			return invalid("action: %q is not a valid choice.", req.Action)
		}
		rule.Action = req.Action
	}
	if req.Status != "" {
		if req.Status != usageapi.RuleStatusActive && req.Status != usageapi.RuleStatusDeleted {
			return invalid("status: %q is not a valid choice.", req.Status)
		}
		rule.Status = req.Status
	}
	if req.Item != nil && req.Item.ID != "" {
		item, ok := find(product.Items, req.Item.ID, func(it *CatalogItem) string { return it.ID })
		if !ok {
			return invalid("item: Item %s does not exist in product %s.", req.Item.ID, product.ID)
		}
		rule.Item = usageapi.RuleItem{ID: item.ID, Name: item.Name}
	}
	setIf(&rule.Rule, req.Rule)
	return nil
}

func (e *Emulator) ruleForLocked(product, id string) (*ruleState, error) {
	rule := e.st.ruleByID[id]
	if rule == nil || rule.ProductID != product {
		return nil, notFound("Usage rule", id)
	}
	return rule, nil
}

func (e *Emulator) getRule(w http.ResponseWriter, r *http.Request, _ caller) error {
	v, err := e.read(func() (any, error) {
		rule, err := e.ruleForLocked(r.PathValue("product"), r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		return renderRule(rule), nil
	})
	return answer(w, http.StatusOK, v, err)
}

// updateRule serves PUT: changes fields, and with gravity.after moves the rule right after another one.
func (e *Emulator) updateRule(w http.ResponseWriter, r *http.Request, _ caller) error {
	var req usageapi.RuleRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	v, err := e.change(func() (any, error) {
		rule, err := e.ruleForLocked(r.PathValue("product"), r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		product, _ := e.st.catalog.product(rule.ProductID)
		if product == nil {
			return nil, notFound("Product", rule.ProductID)
		}
		if err := applyRule(rule, product, req); err != nil {
			return nil, err
		}
		if req.Gravity != nil {
			if err := e.moveRuleLocked(rule, req.Gravity.After); err != nil {
				return nil, err
			}
		}
		rule.Updated = e.now()
		return renderRule(rule), nil
	})
	return answer(w, http.StatusOK, v, err)
}

// moveRuleLocked puts rule right after the rule with id after ("" moves it first).
func (e *Emulator) moveRuleLocked(rule *ruleState, after string) error {
	if after != "" {
		if other, err := e.ruleForLocked(rule.ProductID, after); err != nil || other == rule {
			return invalid("gravity.after: Usage rule %s cannot be used.", after)
		}
	}
	rules := slices.DeleteFunc(e.st.rules, func(x *ruleState) bool { return x == rule })
	at := 0
	if after != "" {
		at = slices.IndexFunc(rules, func(x *ruleState) bool { return x.ID == after }) + 1
	}
	e.st.rules = slices.Insert(rules, at, rule)
	return nil
}

// deleteRule serves DELETE: 204, and the rule stays listed with status deleted.
func (e *Emulator) deleteRule(w http.ResponseWriter, r *http.Request, _ caller) error {
	_, err := e.change(func() (any, error) {
		rule, err := e.ruleForLocked(r.PathValue("product"), r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		rule.Status, rule.Updated = usageapi.RuleStatusDeleted, e.now()
		return nil, nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func renderRule(r *ruleState) usageapi.Rule {
	item := r.Item
	return usageapi.Rule{
		ID: r.ID, Action: r.Action, Rule: r.Rule, Scope: r.Scope, Status: r.Status, Item: &item,
		Events: &usageapi.RuleEvents{Created: event(r.Created, nil), Updated: event(r.Updated, nil)},
	}
}

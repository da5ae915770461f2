package console

import (
	"slices"
	"strings"
)

// ActionPaths are the console's POST routes (the tests check that each refuses a request without an
// operator or without its CSRF token).
func (c *Console) ActionPaths() []string {
	var out []string
	for p := range c.actions() {
		out = append(out, p)
	}
	slices.SortFunc(out, strings.Compare)
	return out
}

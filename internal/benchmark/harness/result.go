package harness

import (
	"fmt"
	"strconv"
	"strings"
)

// ResultFigures reads the figures of the RESULT line of a benchmark's output (its last line starting with
// "RESULT "): name=value pairs, values as numbers.
func ResultFigures(output string) (map[string]float64, error) {
	var line string
	for l := range strings.Lines(output) {
		if strings.HasPrefix(l, "RESULT ") {
			line = strings.TrimSpace(l)
		}
	}
	if line == "" {
		return nil, fmt.Errorf("no RESULT line in:\n%s", output)
	}
	figures := map[string]float64{}
	for _, field := range strings.Fields(line)[1:] {
		name, value, ok := strings.Cut(field, "=")
		v, err := strconv.ParseFloat(value, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("RESULT field %q: want name=number", field)
		}
		figures[name] = v
	}
	return figures, nil
}

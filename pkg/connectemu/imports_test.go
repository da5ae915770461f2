package connectemu

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The emulator is Connect, not a part of the pipeline: of this module it imports only the Connect wire
// types (usageapi), the workbook format (usagefile), its RQL and, of package events, the vocabulary those
// share (exact decimals, schemas, precisions), never the pipeline's catalog. Package devstack maps the
// catalog into the emulator's world.
var (
	moduleImports = []string{"pkg/usageapi", "pkg/usagefile", "pkg/events", "pkg/connectemu/rql"}
	eventsNames   = []string{"Decimal", "ParseDecimal", "Schema", "ParsePrecision", "AmountPrecision"}
)

func TestTheEmulatorKnowsNothingOfThePipeline(t *testing.T) {
	const module = "github.com/usagepipe/usagepipe/"
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range slices.DeleteFunc(files, func(f string) bool { return strings.HasSuffix(f, "_test.go") }) {
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		eventsAs := ""
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			rel, ours := strings.CutPrefix(path, module)
			if ours && !slices.Contains(moduleImports, rel) {
				t.Errorf("%s imports %s", name, path)
			}
			if rel == "pkg/events" && ours {
				eventsAs = "events"
				if imp.Name != nil {
					eventsAs = imp.Name.Name
				}
			}
		}
		for _, use := range selectorsOf(f, eventsAs) {
			if !slices.Contains(eventsNames, use) {
				t.Errorf("%s uses events.%s: the pipeline's vocabulary beyond %v", name, use, eventsNames)
			}
		}
	}
}

// selectorsOf returns the names selected from the package imported as pkg (pkg.Name) in f.
func selectorsOf(f *ast.File, pkg string) []string {
	var names []string
	if pkg == "" {
		return nil
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == pkg {
				names = append(names, sel.Sel.Name)
			}
		}
		return true
	})
	return names
}

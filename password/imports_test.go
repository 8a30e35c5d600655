package password_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports: package password and its non-test subpackages import no other
// zorgkit package, and nothing beyond the standard library, x/crypto and
// x/text.
func TestImports(t *testing.T) {
	var files []string
	for _, pattern := range []string{"*.go", "*/*.go", "internal/*/*.go"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			switch {
			case strings.HasPrefix(path, "github.com/zorgkit/zorgkit/password"):
			case strings.HasPrefix(path, "golang.org/x/crypto/"), strings.HasPrefix(path, "golang.org/x/text/"):
			case !strings.Contains(first, "."):
				// standard library
			default:
				t.Errorf("%s imports %s", file, path)
			}
		}
	}
	if len(files) < 10 {
		t.Fatalf("only %d files found", len(files))
	}
}

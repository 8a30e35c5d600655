package password_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// maxExported is the most exported names a package of password may have
// (issue 15): a surface a Go engineer holds in their head. net/mail has 20,
// encoding/csv 32 by the same count.
const maxExported = 160

// TestAPISize counts, with go/doc, the exported top-level names, methods,
// struct fields, interface methods and constants of package password and
// each of its subpackages, and checks that every package doc starts with
// the sentence that says what the package is for.
func TestAPISize(t *testing.T) {
	counts := map[string]int{}
	err := filepath.WalkDir(".", func(dir string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if dir == "testdata" || strings.HasPrefix(dir, "internal") {
			return filepath.SkipDir
		}
		n, synopsis, ok := exportedNames(t, dir)
		if !ok {
			return nil
		}
		counts[dir] = n
		if n > maxExported {
			t.Errorf("package %s exports %d names, more than %d: split it", dir, n, maxExported)
		}
		if !strings.HasPrefix(synopsis, "Package ") {
			t.Errorf("package %s: the doc does not start with \"Package\": %q", dir, synopsis)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{".", "otp", "reset", "throttle", "email"} {
		if counts[dir] == 0 {
			t.Errorf("package %s not counted (%v)", dir, counts)
		}
	}
	t.Logf("exported names: %v", counts)
}

// exportedNames counts the exported names of the package in dir, and
// returns its doc's synopsis; ok is false if dir holds no package.
func exportedNames(t *testing.T, dir string) (n int, synopsis string, ok bool) {
	t.Helper()
	fset := token.NewFileSet()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return 0, "", false
	}
	d, err := doc.NewFromFiles(fset, files, "github.com/zorgkit/zorgkit/password/"+dir)
	if err != nil {
		t.Fatal(err)
	}
	values := func(vs []*doc.Value) {
		for _, v := range vs {
			n += len(v.Names)
		}
	}
	values(d.Consts)
	values(d.Vars)
	n += len(d.Funcs)
	for _, typ := range d.Types {
		n++
		values(typ.Consts)
		values(typ.Vars)
		n += len(typ.Funcs) + len(typ.Methods)
		for _, spec := range typ.Decl.Specs {
			var fields *ast.FieldList
			switch tt := spec.(*ast.TypeSpec).Type.(type) {
			case *ast.StructType:
				fields = tt.Fields
			case *ast.InterfaceType:
				fields = tt.Methods
			}
			if fields == nil {
				continue
			}
			for _, f := range fields.List {
				for _, id := range f.Names {
					if id.IsExported() {
						n++
					}
				}
			}
		}
	}
	return n, d.Synopsis(d.Doc), true
}

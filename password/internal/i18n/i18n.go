// Package i18n holds the message catalogs of package password and its
// subpackages: Dutch, the default, and English.
package i18n

import (
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

var (
	languages = []language.Tag{language.Dutch, language.English}
	matcher   = language.NewMatcher(languages)
)

// Catalog is a package's messages in Dutch and English. Build it once, in a
// package variable, with [New].
type Catalog struct {
	b        *catalog.Builder
	printers [2]*message.Printer
}

// New returns a catalog filled by build, which calls [Catalog.Set],
// [Catalog.SetPlural] and [Catalog.SetSelect]. It panics on a malformed
// message: the catalog is fixed at compile time.
func New(build func(c *Catalog)) *Catalog {
	c := &Catalog{b: catalog.NewBuilder(catalog.Fallback(language.Dutch))}
	build(c)
	c.printers = [2]*message.Printer{
		message.NewPrinter(language.Dutch, message.Catalog(c.b)),
		message.NewPrinter(language.English, message.Catalog(c.b)),
	}
	return c
}

// Set adds a message in Dutch and English.
func (c *Catalog) Set(key, nl, en string) {
	must(c.b.SetString(language.Dutch, key, nl))
	must(c.b.SetString(language.English, key, en))
}

// SetPlural adds a message whose form depends on its first argument, an
// integer: nl and en are the cases of [plural.Selectf] (such as plural.One,
// "…", plural.Other, "…").
func (c *Catalog) SetPlural(key string, nl, en []any) {
	c.SetSelect(key, 1, nl, en)
}

// SetSelect is [Catalog.SetPlural] on argument arg (1-based).
func (c *Catalog) SetSelect(key string, arg int, nl, en []any) {
	must(c.b.Set(language.Dutch, key, plural.Selectf(arg, "%d", nl...)))
	must(c.b.Set(language.English, key, plural.Selectf(arg, "%d", en...)))
}

// Printer returns the printer of the supported language that best matches
// tag: English for any English tag, Dutch otherwise.
func (c *Catalog) Printer(tag language.Tag) *message.Printer {
	_, i, conf := matcher.Match(tag)
	if conf == language.No {
		i = 0
	}
	return c.printers[i]
}

// Sprintf formats the message key in the language of tag.
func (c *Catalog) Sprintf(tag language.Tag, key string, args ...any) string {
	return c.Printer(tag).Sprintf(key, args...)
}

func must(err error) {
	if err != nil {
		panic("message catalog: " + err.Error())
	}
}

// CeilUnits returns d in whole units, rounded up, and at least 1: the wait
// to show a user.
func CeilUnits(d, unit int64) int {
	return max(int((d+unit-1)/unit), 1)
}

package disclosure

import (
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// reasonTexts are the user-facing texts of the reasons: Dutch, English.
var reasonTexts = map[Reason][2]string{
	Frequency:     {"te weinig waarnemingen", "too few contributors"},
	Empty:         {"lege cel", "empty cell"},
	RowRule:       {"regel met te weinig toewijzingen", "row with too few records"},
	Dominant:      {"gedomineerd door de grootste bijdragers", "dominated by its largest contributors"},
	PPercent:      {"grootste bijdrage te nauwkeurig te schatten", "largest contribution can be estimated too closely"},
	Complementary: {"afgeschermd ter bescherming van andere cellen", "withheld to protect other cells"},
	Derived:       {"teller of noemer afgeschermd", "numerator or denominator withheld"},
}

var messages = func() catalog.Catalog {
	b := catalog.NewBuilder(catalog.Fallback(language.Dutch))
	for r, texts := range reasonTexts {
		if err := b.SetString(language.Dutch, r.String(), texts[0]); err != nil {
			panic(err)
		}
		if err := b.SetString(language.English, r.String(), texts[1]); err != nil {
			panic(err)
		}
	}
	return b
}()

// languages are the languages of the texts, the default first.
var languages = language.NewMatcher([]language.Tag{language.Dutch, language.English})

// Text returns the reason for users, in the language closest to tag: Dutch
// (the default) or English, such as "te weinig waarnemingen". NoReason
// gives "".
func (r Reason) Text(tag language.Tag) string {
	if _, ok := reasonTexts[r]; !ok {
		return ""
	}
	matched, _, _ := languages.Match(tag)
	base, _ := matched.Base()
	return message.NewPrinter(language.Make(base.String()), message.Catalog(messages)).Sprintf(r.String())
}

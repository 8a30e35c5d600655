package password

import (
	"strings"

	"golang.org/x/text/feature/plural"
	xmessage "golang.org/x/text/message"

	"github.com/zorgkit/zorgkit/password/internal/i18n"
)

// The package's own message catalog: Dutch, the default, and English. The
// keys are internal; the stable interface is the Code of a Violation.
var messages = i18n.New(buildCatalog)

// Message keys that are not violation codes.
const (
	keyMissingUpper  = "missing_category.upper"
	keyMissingLower  = "missing_category.lower"
	keyMissingDigit  = "missing_category.digit"
	keyMissingPunct  = "missing_category.punct"
	keyContainsName  = "contains_name.name"
	keyContainsUser  = "contains_name.username"
	keyContainsEmail = "contains_name.email"
	keyCategoryUpper = "category.upper"
	keyCategoryLower = "category.lower"
	keyCategoryDigit = "category.digit"
	keyCategoryPunct = "category.punct"
	keyOneUpper      = "one.upper"
	keyOneLower      = "one.lower"
	keyOneDigit      = "one.digit"
	keyOnePunct      = "one.punct"
	keyAnd           = "list.and"
	keyOr            = "list.or"
	keyExpiresIn     = "expiry.warning"
	keyExpired       = "expiry.expired"
	keyUnknown       = "unknown"
	keyAddKinds      = "too_few_categories.add"
	keyErrLogin      = "error.login"
	keyErrBusy       = "error.busy"
)

func buildCatalog(c *i18n.Catalog) {
	set, setPlural := c.Set, c.SetPlural

	setPlural(string(CodeTooShort),
		[]any{plural.One, "Kies een wachtwoord van minstens %d teken.", plural.Other, "Kies een wachtwoord van minstens %d tekens."},
		[]any{plural.One, "Choose a password of at least %d character.", plural.Other, "Choose a password of at least %d characters."})
	set(string(CodeTooLong),
		"Kies een wachtwoord van hoogstens %d tekens.",
		"Choose a password of at most %d characters.")
	set(string(CodeInvalidCharacter),
		"Het wachtwoord bevat een teken dat niet is toegestaan, zoals een regeleinde of een tab. Gebruik letters, cijfers, spaties en leestekens.",
		"The password contains a character that is not allowed, such as a line break or a tab. Use letters, digits, spaces and punctuation.")
	set(keyMissingUpper, "Gebruik minstens één hoofdletter.", "Use at least one upper-case letter.")
	set(keyMissingLower, "Gebruik minstens één kleine letter.", "Use at least one lower-case letter.")
	set(keyMissingDigit, "Gebruik minstens één cijfer (0 tot en met 9).", "Use at least one digit (0 to 9).")
	set(keyMissingPunct, "Gebruik minstens één leesteken, zoals ! $ # of %%.", "Use at least one punctuation character, such as ! $ # or %%.")
	set(string(CodeTooFewCategories),
		"Gebruik tekens uit minstens %[1]d van deze soorten: %[2]s.",
		"Use characters of at least %[1]d of these kinds: %[2]s.")
	setPlural(keyAddKinds,
		[]any{plural.One, "Voeg bijvoorbeeld %[2]s toe.", plural.Other, "Voeg er nog %[1]d soorten aan toe, bijvoorbeeld %[2]s."},
		[]any{plural.One, "Add, for example, %[2]s.", plural.Other, "Add %[1]d more kinds, for example %[2]s."})
	set(keyCategoryUpper, "hoofdletters", "upper-case letters")
	set(keyCategoryLower, "kleine letters", "lower-case letters")
	set(keyCategoryDigit, "cijfers", "digits")
	set(keyCategoryPunct, "leestekens (zoals ! $ # %%)", "punctuation (such as ! $ # %%)")
	set(keyOneUpper, "een hoofdletter", "an upper-case letter")
	set(keyOneLower, "een kleine letter", "a lower-case letter")
	set(keyOneDigit, "een cijfer", "a digit")
	set(keyOnePunct, "een leesteken", "a punctuation character")
	set(keyAnd, "en", "and")
	set(keyOr, "of", "or")
	set(keyContainsName,
		"Het wachtwoord mag geen deel van uw naam bevatten. Kies een wachtwoord zonder uw naam.",
		"The password must not contain part of your name. Choose a password without your name.")
	set(keyContainsUser,
		"Het wachtwoord mag geen deel van uw gebruikersnaam bevatten. Kies een wachtwoord zonder uw gebruikersnaam.",
		"The password must not contain part of your username. Choose a password without your username.")
	set(keyContainsEmail,
		"Het wachtwoord mag geen deel van uw e-mailadres bevatten. Kies een wachtwoord zonder uw e-mailadres.",
		"The password must not contain part of your e-mail address. Choose a password without your e-mail address.")
	set(string(CodeCommon),
		"Dit wachtwoord staat op een lijst van veelgebruikte wachtwoorden en is dus makkelijk te raden. Kies een ander wachtwoord, bijvoorbeeld een zin van een paar woorden die niet bij elkaar horen.",
		"This password is on a list of commonly used passwords, so it is easy to guess. Choose another one, for example a sentence of a few unrelated words.")
	set(string(CodeGuessable),
		"Dit wachtwoord is makkelijk te raden: het is een bekend woord met wat cijfers of tekens eromheen, een reeks zoals 12345678, of toetsen die op het toetsenbord naast elkaar liggen, zoals qwerty. Kies een ander wachtwoord, bijvoorbeeld een zin van een paar woorden die niet bij elkaar horen.",
		"This password is easy to guess: it is a well-known word with a few digits or symbols around it, a sequence such as 12345678, or keys next to each other on the keyboard, such as qwerty. Choose another one, for example a sentence of a few unrelated words.")
	setPlural(string(CodeReused),
		[]any{plural.One, "U heeft dit wachtwoord al eerder gebruikt. Kies een ander wachtwoord dan uw vorige.", plural.Other, "U heeft dit wachtwoord al eerder gebruikt. Kies een wachtwoord dat verschilt van uw laatste %d wachtwoorden."},
		[]any{plural.One, "You have used this password before. Choose one that differs from your previous password.", plural.Other, "You have used this password before. Choose one that differs from your last %d passwords."})

	setPlural(keyExpiresIn,
		[]any{"=0", "Uw wachtwoord verloopt vandaag. Kies nu een nieuw wachtwoord.",
			plural.One, "Uw wachtwoord verloopt over %d dag. Kies nu een nieuw wachtwoord.",
			plural.Other, "Uw wachtwoord verloopt over %d dagen. Kies nu een nieuw wachtwoord."},
		[]any{"=0", "Your password expires today. Choose a new password now.",
			plural.One, "Your password expires in %d day. Choose a new password now.",
			plural.Other, "Your password expires in %d days. Choose a new password now."})
	set(keyExpired,
		"Uw wachtwoord is verlopen. Kies een nieuw wachtwoord om verder te gaan.",
		"Your password has expired. Choose a new password to continue.")
	set(keyUnknown,
		"Het wachtwoord voldoet niet aan de eisen (%s).",
		"The password does not meet the requirements (%s).")
	set(keyErrLogin,
		"De gebruikersnaam of het wachtwoord is onjuist.",
		"The username or password is incorrect.")
	set(keyErrBusy,
		"Er wordt op dit moment erg veel ingelogd. Probeer het over een paar seconden opnieuw.",
		"Very many people are logging in at the moment. Try again in a few seconds.")
}

// message renders v with p.
func message(p *xmessage.Printer, v Violation) string {
	switch v.Code {
	case CodeTooShort, CodeTooLong, CodeReused:
		return p.Sprintf(string(v.Code), v.N)
	case CodeMissingCategory:
		switch v.Categories {
		case Upper:
			return p.Sprintf(keyMissingUpper)
		case Lower:
			return p.Sprintf(keyMissingLower)
		case Digit:
			return p.Sprintf(keyMissingDigit)
		case Punct:
			return p.Sprintf(keyMissingPunct)
		}
	case CodeTooFewCategories:
		var kinds, missing []string
		v.Categories.each(func(c Category) { kinds = append(kinds, p.Sprintf(categoryKey(c, false))) })
		v.Missing.each(func(c Category) { missing = append(missing, p.Sprintf(categoryKey(c, true))) })
		msg := p.Sprintf(string(v.Code), v.N, join(kinds, p.Sprintf(keyAnd)))
		// How many kinds are still needed: with one, any missing kind
		// will do; with more, suggest that many.
		need := v.N - (v.Categories.Count() - v.Missing.Count())
		switch {
		case need == 1:
			msg += " " + p.Sprintf(keyAddKinds, need, join(missing, p.Sprintf(keyOr)))
		case need > 1 && need <= len(missing):
			msg += " " + p.Sprintf(keyAddKinds, need, join(missing[:need], p.Sprintf(keyAnd)))
		}
		return msg
	case CodeContainsName:
		switch v.Field {
		case FieldName:
			return p.Sprintf(keyContainsName)
		case FieldUsername:
			return p.Sprintf(keyContainsUser)
		case FieldEmail:
			return p.Sprintf(keyContainsEmail)
		}
	case CodeInvalidCharacter, CodeCommon, CodeGuessable:
		return p.Sprintf(string(v.Code))
	}
	return p.Sprintf(keyUnknown, v.String())
}

func categoryKey(c Category, one bool) string {
	switch c {
	case Upper:
		return pick(one, keyOneUpper, keyCategoryUpper)
	case Lower:
		return pick(one, keyOneLower, keyCategoryLower)
	case Digit:
		return pick(one, keyOneDigit, keyCategoryDigit)
	default:
		return pick(one, keyOnePunct, keyCategoryPunct)
	}
}

func pick(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}

// join joins items as a list in running text: "a, b en c".
func join(items []string, conj string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + conj + " " + items[len(items)-1]
}

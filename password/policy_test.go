package password_test

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"

	"github.com/zorgkit/zorgkit/password"
)

// policyCase is a password, the user it belongs to, and the violations the
// policy must report, in order.
type policyCase struct {
	pw     string
	user   password.User
	want   []password.Violation
	reason string
}

func runPolicy(t *testing.T, p *password.Policy, tests []policyCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			err := p.Check(tt.pw, tt.user)
			if len(tt.want) == 0 {
				assert.NoError(t, err)
				return
			}
			var perr *password.PolicyError
			require.ErrorAs(t, err, &perr)
			assert.Equal(t, tt.want, perr.Violations, "violations (-want +got)")
			assert.ErrorIs(t, err, password.ErrPolicy)
			if len(tt.pw) >= 4 {
				msg := strings.TrimPrefix(err.Error(), "password: ")
				assert.NotContains(t, msg, tt.pw, "the error contains the password")
			}
		})
	}
}

var (
	tooShort8  = password.Violation{Code: password.CodeTooShort, N: 8}
	tooShort10 = password.Violation{Code: password.CodeTooShort, N: 10}
	tooLong    = password.Violation{Code: password.CodeTooLong, N: 128}
	invalid    = password.Violation{Code: password.CodeInvalidCharacter}
	common     = password.Violation{Code: password.CodeCommon}
	guessable  = password.Violation{Code: password.CodeGuessable}
)

func missing(c password.Category) password.Violation {
	return password.Violation{Code: password.CodeMissingCategory, Categories: c}
}

func tooFew(m password.Category) password.Violation {
	return password.Violation{Code: password.CodeTooFewCategories, N: 3, Categories: password.AllCategories, Missing: m}
}

func contains(f password.Field) password.Violation {
	return password.Violation{Code: password.CodeContainsName, Field: f}
}

// TestPortero checks the rules of CIZ's Portero FAQ: "Minimale lengte van 8
// karakters; daarvan moeten er minimaal 3 uit elk van de volgende
// categorieën komen: 1 hoofdletter, 1 kleine letter, 1 cijfer (0..9), 1
// leesteken (geen letter maar bijvoorbeeld !, $, #, %)" and "Het wachtwoord
// mag geen delen bevatten van de (gebruikers)naam."
func TestPortero(t *testing.T) {
	jan := password.User{Name: "Jan de Vries", Username: "jdevries", Email: "j.devries@zorgaanbieder.nl"}
	runPolicy(t, mustPolicy(t, password.Portero()), []policyCase{
		{"Kwast7!m", jan, nil, "8 characters of all four categories"},
		{"Kwastmo7", jan, nil, "upper, lower and digit: 3 of 4 is enough"},
		{"kwast!mo7", jan, nil, "lower, digit and punctuation"},
		{"KWAST$MO7", jan, nil, "upper, digit and punctuation"},
		{"Kwast%Mop", jan, nil, "upper, lower and punctuation"},
		{"Kwastmop", jan, []password.Violation{tooFew(password.Digit | password.Punct)}, "only 2 categories"},
		{"kwastmopzak", jan, []password.Violation{tooFew(password.Upper | password.Digit | password.Punct)}, "lower case only"},
		{"12345678", jan, []password.Violation{tooFew(password.Upper | password.Lower | password.Punct)}, "digits only"},
		{"Kw7!m", jan, []password.Violation{tooShort8}, "5 characters"},
		{"Kwast7!", jan, []password.Violation{tooShort8}, "7 characters: one short"},
		{"kw", jan, []password.Violation{tooShort8, tooFew(password.Upper | password.Digit | password.Punct)}, "all violations at once, not only the first"},
		{"Vries2026!", jan, []password.Violation{contains(password.FieldName), contains(password.FieldUsername), contains(password.FieldEmail)}, "contains the surname, which is also in the username and e-mail address"},
		{"Devries2024!", password.User{Username: "jdevries"}, []password.Violation{contains(password.FieldUsername)}, "the surname within the username (issue 15, defect 4)"},
		{"Vries2024!!", password.User{Username: "jdevries"}, []password.Violation{contains(password.FieldUsername)}, "part of the surname within the username"},
		{"Dijk#2024x", password.User{Username: "pvandijk"}, []password.Violation{contains(password.FieldUsername)}, "a four-letter surname after a particle"},
		{"Jdev#20241", password.User{Username: "jdevries"}, []password.Violation{contains(password.FieldUsername)}, "four letters of the username"},
		{"Jde#2024xQ", password.User{Username: "jdevries"}, nil, "three letters of the username are not a part"},
		{"Zomer2024!x", password.User{Username: "jan2024"}, nil, "a year in the username is not a part: digits do not make runs"},
		{"Voorjaar#26", password.User{Username: "jvoorbeek"}, nil, "a particle within the username is not a part"},
		{"Bakker2026!", password.User{Email: "pbakker@zorg.nl"}, []password.Violation{contains(password.FieldEmail)}, "the surname within the e-mail local part"},
		{"janTulp#88", jan, []password.Violation{contains(password.FieldName)}, "contains the first name, case ignored"},
		{"xJDEVRIES9", jan, []password.Violation{contains(password.FieldName), contains(password.FieldUsername), contains(password.FieldEmail)}, "contains the username whole (and so the surname and e-mail part)"},
		{"Dewind#123", jan, nil, "the particle de is shorter than 3 characters: not a name part"},
		{"Ja#Tulp123", jan, nil, "two letters of a name are not a part"},
		{"Kwast7!mjan", password.User{}, nil, "no user information: nothing to compare"},
		{"Vandaag#12", password.User{Name: "Piet van Dijk"}, nil, "the particle van is not a name part"},
		{"Dijkgraaf#1", password.User{Name: "Piet van Dijk"}, []password.Violation{contains(password.FieldName)}, "contains Dijk"},
		{"Jerome!2026", password.User{Name: "Jérôme Dupont"}, []password.Violation{contains(password.FieldName)}, "diacritics ignored"},
		{"Strauss#2026", password.User{Name: "Anna Strauß"}, []password.Violation{contains(password.FieldName)}, "ß folds to ss"},
		{"Bakker2026!", password.User{Email: "p.bakker@zorg.nl"}, []password.Violation{contains(password.FieldEmail)}, "contains a piece of the e-mail local part"},
		{"Zorg2026!x", password.User{Email: "p.bakker@zorg.nl"}, nil, "the e-mail domain is not compared"},
		{"Ｋｗａｓｔ７！ｍ", jan, nil, "fullwidth characters count after NFKC"},
		{"Kwast7!m" + strings.Repeat("x", 120), jan, nil, "128 characters are accepted"},
		{"Kwast7!m" + strings.Repeat("x", 121), jan, []password.Violation{tooLong}, "129 characters are too long"},
		{"Vries2026!" + strings.Repeat("x", 119), jan, []password.Violation{tooLong}, "over-long: the name is not looked for"},
		{"Kwast7!m\n", jan, []password.Violation{invalid}, "a line break is not allowed"},
		{"Kwast7!m\xff", jan, []password.Violation{invalid}, "invalid UTF-8"},
	})
}

// TestAlmere checks the Gemeenteportaal's rule: "minimaal 10 karakters en
// minimaal 1 hoofdletter, 1 kleine letter, 1 cijfer en 1 leesteken".
func TestAlmere(t *testing.T) {
	u := password.User{Name: "Fatima el Amrani", Username: "famrani"}
	runPolicy(t, mustPolicy(t, password.Almere()), []policyCase{
		{"Kwastmop7!", u, nil, "10 characters, one of each category"},
		{"Kwastmop7!" + strings.Repeat("x", 54), u, nil, "64 characters"},
		{"Kwastmo7!", u, []password.Violation{tooShort10}, "9 characters"},
		{"Kwastmopz7", u, []password.Violation{missing(password.Punct)}, "no punctuation"},
		{"kwastmop7!", u, []password.Violation{missing(password.Upper)}, "no upper case"},
		{"KWASTMOP7!", u, []password.Violation{missing(password.Lower)}, "no lower case"},
		{"Kwastmopz!", u, []password.Violation{missing(password.Digit)}, "no digit"},
		{"kwastmopzak", u, []password.Violation{missing(password.Upper), missing(password.Digit), missing(password.Punct)}, "each missing category reported"},
		{"kw", u, []password.Violation{tooShort10, missing(password.Upper), missing(password.Digit), missing(password.Punct)}, "all violations at once"},
		{"Ávondrood€3", u, nil, "Unicode: Á is upper case, € punctuation"},
		{"Kwastmop٣!", u, nil, "an Arabic-Indic digit is a digit"},
		{"Kwast mop7", u, nil, "a space counts as punctuation (not a letter)"},
		{"Amrani#2026", u, nil, "Almere has no name rule"},
		{"Kwastmop7!\t", u, []password.Violation{invalid}, "a tab is not allowed"},
	})
}

// TestNIST checks the NIST SP 800-63B-4 preset: length, blocklist, no
// composition rules.
func TestNIST(t *testing.T) {
	u := password.User{Name: "Jan de Vries"}
	single := mustPolicy(t, password.NIST(false, "Portero", "CIZ"))
	runPolicy(t, single, []policyCase{
		{"correct horse battery staple", u, nil, "a passphrase without capitals, digits or symbols"},
		{"kwastmopzakdoekje", u, nil, "17 lower-case letters: no composition rules"},
		{"kwastmopzak", u, []password.Violation{{Code: password.CodeTooShort, N: 15}}, "15 characters without a second factor"},
		{"Wachtwoord2024!", u, []password.Violation{guessable}, "15 characters but a common word with a year"},
		{"welkomwelkomwelkom", u, []password.Violation{guessable}, "a common word three times"},
		{"Portero_2026!!!", u, []password.Violation{guessable}, "a context word dressed up"},
		{"devriesdevries12", u, []password.Violation{contains(password.FieldName)}, "the user's name"},
	})
	mfa := mustPolicy(t, password.NIST(true, "Portero", "CIZ"))
	runPolicy(t, mfa, []policyCase{
		{"Welkom01!", u, []password.Violation{guessable}, "Dutch 'welcome' with two digits and a symbol"},
		{"Zomer2024!", u, []password.Violation{guessable}, "a season with a year and a symbol"},
		{"Wachtwoord1!", u, []password.Violation{guessable}, "Dutch 'password' with a digit and a symbol"},
		{"W3lk0m2024!", u, []password.Violation{guessable}, "look-alike digits"},
		{"P@ssw0rd", u, []password.Violation{common}, "on the list as it is"},
		{"password", u, []password.Violation{common}, "the second most common password"},
		{"WACHTWOORD", u, []password.Violation{common}, "case does not matter"},
		{"welkomwelkom", u, []password.Violation{guessable}, "a repeated word"},
		{"12345678", u, []password.Violation{common}, "a sequence on the list"},
		{"1234567890123", u, []password.Violation{guessable}, "a digit sequence"},
		{"aaaaaaaaaaaa", u, []password.Violation{guessable}, "one letter repeated"},
		{"Feyenoord010", u, []password.Violation{guessable}, "football club and area code"},
		{"Amsterdam31122024", u, []password.Violation{guessable}, "a city and a date"},
		{"Portero!", u, []password.Violation{guessable}, "the service's name"},
		{"portero", u, []password.Violation{{Code: password.CodeTooShort, N: 8}, common}, "a context word is as common as it gets"},
		{"kT9#mQ2vLx!p", u, nil, "random 12 characters"},
		{"Zomer83#!92&71@", u, nil, "a word with ten random digits and symbols"},
		{"83920175", u, nil, "eight random digits: not a pattern"},
		{"Q1w2e3r4!", u, []password.Violation{guessable}, "a zigzag over two keyboard rows (issue 15, defect 6)"},
		{"Zaq12wsx!", u, []password.Violation{guessable}, "a keyboard walk up one column and down the next"},
		{"1qaz2wsx!Q", u, []password.Violation{guessable}, "two columns side by side, then the start again"},
		{"!QAZ2wsx#EDC", u, []password.Violation{guessable}, "three columns, shifted alternately"},
		{"Asdfghjkl1!", u, []password.Violation{guessable}, "the middle row"},
		{"Mju76yhn#", u, []password.Violation{guessable}, "up and down columns on the right"},
		{"Azerty1234!", u, []password.Violation{guessable}, "the top row of an AZERTY keyboard"},
		{"Qwertz2024!", u, []password.Violation{guessable}, "the top row of a QWERTZ keyboard"},
		{"147258369", u, []password.Violation{common}, "columns of the numeric keypad: listed (digits alone are no walk)"},
		{"1qaz2wsx3edc", u, []password.Violation{common}, "three columns: listed"},
		{"1Qaz2wsx3edc!", u, []password.Violation{guessable}, "three columns, dressed up"},
		{"Qwertyzxcvb!", u, []password.Violation{guessable}, "two rows, with one jump between them"},
		{"Q1w2e3r4t5y6u7!", u, []password.Violation{guessable}, "a long zigzag"},
		{"!@#$%^&*()", u, []password.Violation{guessable}, "the shifted number row"},
		{"Kwastmop#1qz", u, nil, "a few keys next to each other within a word are no walk"},
		{"Hallo1qaz2wsx!", u, []password.Violation{guessable}, "a word, then a walk"},
		{"Qwerty!welkom", u, []password.Violation{guessable}, "a walk, then a word"},
		{"Zomer#1qaz2wsx", u, []password.Violation{guessable}, "a word and a walk that starts with a symbol"},
		{"Hallo8kT#2vLq", u, nil, "a word and random characters: no walk"},
		{"Hondenhok77", u, nil, "a rarer compound word"},
	})
}

// TestRandomPasswordsPass draws random 12-character passwords: none may be
// called common or guessable.
func TestRandomPasswordsPass(t *testing.T) {
	const alphabets = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*()-_=+[]{};:,.<>/?"
	sets := map[string]string{
		"printable":        alphabets,
		"lower and digits": "abcdefghijklmnopqrstuvwxyz0123456789",
	}
	p := mustPolicy(t, password.NIST(true))
	for name, chars := range sets {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(2026, 11))
			n := 3000
			if testing.Short() {
				n = 300
			}
			for range n {
				b := make([]byte, 12)
				for i := range b {
					b[i] = chars[r.IntN(len(chars))]
				}
				if err := p.Check(string(b), password.User{}); err != nil {
					t.Errorf("%q: %v", b, err)
				}
			}
		})
	}
}

func TestLengthCountsNormalisedCodePoints(t *testing.T) {
	p := mustPolicy(t, password.Config{MinLength: 9})
	tests := []struct {
		pw     string
		ok     bool
		reason string
	}{
		{"kwastmopé", true, "9 code points with a composed é"},
		{"kwastmope\u0301", true, "e plus combining accent composes to é: 9 code points"},
		{"kwastmo\u0301", false, "8 code points after composition"},
		{"ﬁkwastmop", true, "the ligature ﬁ becomes f i: 10 code points"},
		{"ＫＷＡＳＴＭＯＰＥ", true, "fullwidth letters: 9 code points"},
		{"🔑🔑🔑🔑🔑🔑🔑🔑🔑", true, "9 emoji of 4 bytes each"},
		{"🔑🔑🔑🔑🔑🔑🔑🔑", false, "8 emoji"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			err := p.Check(tt.pw, password.User{})
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

func TestZeroPolicy(t *testing.T) {
	var p password.Policy
	assert.NoError(t, p.Check("12345678", password.User{}), "the zero policy has only the length limits")
	err := p.Check("1234567", password.User{})
	assert.Equal(t, []password.Violation{{Code: password.CodeTooShort, N: password.DefaultMinLength}}, violations(t, err))
	assert.Error(t, p.Check(strings.Repeat("a", 129), password.User{}))
}

// TestPolicyConfig: an invalid configuration is refused where the policy is
// built, with an error that says what is wrong; nothing panics later.
func TestPolicyConfig(t *testing.T) {
	tests := []struct {
		c      password.Config
		reason string
	}{
		{password.Config{MaxLength: 40}, "maximum below 64"},
		{password.Config{MaxLength: 63}, "maximum below 64"},
		{password.Config{MaxLength: 129}, "maximum above 128"},
		{password.Config{MinLength: 100, MaxLength: 64}, "minimum above maximum"},
		{password.Config{MinLength: -1}, "negative minimum"},
		{password.Config{History: -1}, "negative history"},
		{password.Config{TemporaryFor: -time.Hour}, "negative temporary lifetime"},
		{password.Config{Rules: []password.Rule{nil}}, "a nil rule"},
		{password.Config{Rules: []password.Rule{password.Require(0)}}, "Require of no category"},
		{password.Config{Rules: []password.Rule{password.Require(password.Category(1 << 6))}}, "Require of an unknown category"},
		{password.Config{Rules: []password.Rule{password.RequireAtLeast(3, password.Upper|password.Lower)}}, "3 of 2 categories"},
		{password.Config{Rules: []password.Rule{password.RequireAtLeast(0, password.AllCategories)}}, "0 categories"},
		{password.Config{Rules: []password.Rule{password.NoNameParts(1)}}, "name parts of 1 character"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			p, err := password.NewPolicy(tt.c)
			require.Error(t, err)
			assert.Nil(t, p)
			assert.True(t, strings.HasPrefix(err.Error(), "password: Config."), err.Error())
		})
	}
	for _, c := range []password.Config{{}, password.Portero(), password.Almere(), password.NIST(false), password.NIST(true)} {
		_, err := password.NewPolicy(c)
		assert.NoError(t, err)
	}
}

// TestPolicyCopiesConfig: neither a preset nor a built policy shares
// anything with a configuration that changes later.
func TestPolicyCopiesConfig(t *testing.T) {
	c := password.Portero()
	p := mustPolicy(t, c)
	c.Rules[0] = password.Require(password.Digit)
	c.MinLength = 1
	assert.Error(t, p.Check("Kwastmop", password.User{}), "changing the configuration must not change the policy")
	assert.Equal(t, 8, mustPolicy(t, password.Portero()).Config().MinLength, "presets are fresh")
	got := p.Config()
	got.Rules[0] = nil
	assert.NotNil(t, p.Config().Rules[0], "Config returns a copy")
	assert.Equal(t, password.DefaultTemporaryFor, got.TemporaryFor, "defaults filled in")
	assert.Equal(t, password.MaxLength, got.MaxLength)
}

func violations(t *testing.T, err error) []password.Violation {
	t.Helper()
	var perr *password.PolicyError
	require.ErrorAs(t, err, &perr)
	return perr.Violations
}

func TestMessages(t *testing.T) {
	all := []password.Violation{
		{Code: password.CodeTooShort, N: 8},
		{Code: password.CodeTooShort, N: 1},
		{Code: password.CodeTooLong, N: 128},
		{Code: password.CodeInvalidCharacter},
		missing(password.Upper), missing(password.Lower), missing(password.Digit), missing(password.Punct),
		tooFew(password.Upper | password.Punct),
		tooFew(password.Digit),
		contains(password.FieldName), contains(password.FieldUsername), contains(password.FieldEmail),
		common, guessable,
		{Code: password.CodeReused, N: 12},
		{Code: password.CodeReused, N: 1},
	}
	seen := map[string]bool{}
	for _, v := range all {
		t.Run(v.String(), func(t *testing.T) {
			nl := v.Message(language.Dutch)
			en := v.Message(language.English)
			for _, m := range []string{nl, en} {
				assert.NotEmpty(t, m)
				assert.NotContains(t, m, "%!", "formatting error")
				assert.NotContains(t, m, "MISSING")
				assert.True(t, strings.HasSuffix(m, "."), "a sentence: %q", m)
			}
			assert.NotEqual(t, nl, en, "Dutch and English differ")
			assert.False(t, seen[nl], "each violation has its own message: %q", nl)
			seen[nl] = true
			assert.Equal(t, nl, v.Message(language.Und), "Dutch is the default")
			assert.Equal(t, nl, v.Message(language.French), "unsupported languages fall back to Dutch")
			assert.Equal(t, en, v.Message(language.BritishEnglish), "any English gives English")
			assert.Equal(t, nl, v.Message(language.MustParse("nl-BE")))
		})
	}
	unknown := password.Violation{Code: "my_rule"}
	assert.Contains(t, unknown.Message(language.Dutch), "my_rule")
}

func TestMessagesText(t *testing.T) {
	tests := []struct {
		v      password.Violation
		tag    language.Tag
		want   string
		reason string
	}{
		{password.Violation{Code: password.CodeTooShort, N: 10}, language.Dutch, "Kies een wachtwoord van minstens 10 tekens.", "plural"},
		{password.Violation{Code: password.CodeTooShort, N: 1}, language.Dutch, "Kies een wachtwoord van minstens 1 teken.", "singular"},
		{password.Violation{Code: password.CodeTooShort, N: 1}, language.English, "Choose a password of at least 1 character.", "English singular"},
		{missing(password.Punct), language.Dutch, "Gebruik minstens één leesteken, zoals ! $ # of %.", "percent sign survives formatting"},
		{tooFew(password.Upper | password.Punct), language.Dutch, "Gebruik tekens uit minstens 3 van deze soorten: hoofdletters, kleine letters, cijfers en leestekens (zoals ! $ # %). Voeg bijvoorbeeld een hoofdletter of een leesteken toe.", "categories listed"},
		{tooFew(password.Upper | password.Digit), language.English, "Use characters of at least 3 of these kinds: upper-case letters, lower-case letters, digits and punctuation (such as ! $ # %). Add, for example, an upper-case letter or a digit.", "English list"},
		{tooFew(password.Upper | password.Digit | password.Punct), language.Dutch, "Gebruik tekens uit minstens 3 van deze soorten: hoofdletters, kleine letters, cijfers en leestekens (zoals ! $ # %). Voeg er nog 2 soorten aan toe, bijvoorbeeld een hoofdletter en een cijfer.", "two kinds still needed"},
		{tooFew(password.Upper | password.Digit | password.Punct), language.English, "Use characters of at least 3 of these kinds: upper-case letters, lower-case letters, digits and punctuation (such as ! $ # %). Add 2 more kinds, for example an upper-case letter and a digit.", "two kinds still needed, English"},
		{password.Violation{Code: password.CodeReused, N: 12}, language.Dutch, "U heeft dit wachtwoord al eerder gebruikt. Kies een wachtwoord dat verschilt van uw laatste 12 wachtwoorden.", "history"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.v.Message(tt.tag))
		})
	}
}

func TestPolicyError(t *testing.T) {
	err := mustPolicy(t, password.Portero()).Check("kwastmop", password.User{})
	var perr *password.PolicyError
	require.ErrorAs(t, err, &perr)
	assert.True(t, perr.Has(password.CodeTooFewCategories))
	assert.False(t, perr.Has(password.CodeTooShort))
	assert.Equal(t, "password: rejected by policy: too_few_categories(min=3 of upper+lower+digit+punct, missing upper+digit+punct)", err.Error())
	assert.Len(t, perr.Messages(language.Dutch), 1)
	assert.Equal(t, perr.Messages(language.Dutch)[0], password.ErrorMessage(err, language.Dutch))
	wrapped := errors.Join(errors.New("signup"), err)
	assert.ErrorIs(t, wrapped, password.ErrPolicy)
}

func TestViolationJSON(t *testing.T) {
	v := tooFew(password.Upper | password.Digit)
	data, err := json.Marshal(v)
	require.NoError(t, err)
	assert.JSONEq(t, `{"code":"too_few_categories","n":3,"categories":"upper+lower+digit+punct","missing":"upper+digit"}`, string(data))
	var back password.Violation
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, v, back)
	data, err = json.Marshal(password.Violation{Code: password.CodeContainsName, Field: password.FieldEmail})
	require.NoError(t, err)
	assert.JSONEq(t, `{"code":"contains_name","field":"email"}`, string(data))
	var c password.Category
	assert.Error(t, c.UnmarshalText([]byte("upper+bogus")))
	require.NoError(t, c.UnmarshalText([]byte("none")))
	assert.Equal(t, password.Category(0), c)
}

// TestHugeInputNotNormalised: an input of more than MaxInputBytes bytes is
// refused as too long, alone, without reading it; up to the cap the rules
// apply as always.
func TestHugeInputNotNormalised(t *testing.T) {
	p := mustPolicy(t, password.Portero())
	marks := "a" + strings.Repeat("\u0301", 1<<19) // 1 MB of combining marks
	assert.Equal(t, []password.Violation{tooLong}, violations(t, p.Check(marks, password.User{Name: "Jan de Vries"})))
	assert.Equal(t, []password.Violation{tooLong}, violations(t, p.Check(strings.Repeat("\xff", password.MaxInputBytes+1), password.User{})))
	assert.Equal(t, []password.Violation{invalid, tooLong, tooFew(password.Upper | password.Digit)},
		violations(t, p.Check(strings.Repeat("a\xff", password.MaxInputBytes/2), password.User{})), "at the cap, everything is examined")

	almostTooLong := strings.Repeat("a", password.MaxInputBytes)
	assert.Equal(t, []password.Violation{tooLong, tooFew(password.Upper | password.Digit | password.Punct)},
		violations(t, p.Check(almostTooLong, password.User{})), "at the cap the rules still apply")
}

// TestMaxInputBytesBound: a password of MaxLength characters after NFKC
// has fewer than MaxInputBytes bytes in any form, so that the cap never
// refuses a password the length rule would accept. NFKC turns k input code
// points into at least k code points before composing, so a character comes
// from at most as many input code points as its canonical decomposition has.
func TestMaxInputBytesBound(t *testing.T) {
	most := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if p := norm.NFD.PropertiesString(string(r)); p.Decomposition() != nil {
			most = max(most, utf8.RuneCount(p.Decomposition()))
		}
	}
	require.Equal(t, 4, most, "the longest canonical decomposition (U+1F82 and others)")
	assert.Greater(t, password.MaxInputBytes, most*utf8.UTFMax*password.MaxLength)
}

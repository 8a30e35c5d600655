package password

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/zorgkit/zorgkit/password/internal/textfold"
)

// Length limits that hold for every policy, in characters: Unicode code
// points after NFKC normalisation.
const (
	// MaxLength is the longest password any policy accepts, and the
	// default of [Policy.MaxLength]. The limit bounds the cost of checking
	// and hashing a password.
	MaxLength = 128

	// MinMaxLength is the least value [Policy.MaxLength] may have: every
	// policy accepts passwords of 64 characters, so that people can use
	// passphrases and password managers (NIST SP 800-63B-4 §3.1.1.2).
	MinMaxLength = 64

	// DefaultMinLength is the minimum length of a [Policy] whose MinLength
	// is zero: the least that NIST SP 800-63B-4 and OWASP ASVS 5 allow, and
	// only where a second factor is used.
	DefaultMinLength = 8

	// MaxInputBytes is the longest input, in bytes, that this package
	// normalises. [Policy.Check] refuses a longer password as too long, with
	// that violation alone, without reading it: no password of [MaxLength] characters is that
	// long in any form (NFKC composes at most 4 code points of at most 4
	// bytes into one character, so 128 characters have at most 2048
	// bytes), and normalising is what makes a huge input expensive.
	// [Hasher.Verify] hashes stored passwords of up to MaxInputBytes, so
	// that hashes of long passphrases made elsewhere still verify.
	MaxInputBytes = 4096
)

// User is what a policy knows about the person whose password it checks. All
// fields are optional.
type User struct {
	Name     string // full name, such as "Jan de Vries"
	Username string // login name
	Email    string // e-mail address; only its local part is compared
}

// Config is a password and account policy's configuration: the rules a new
// password must meet, how many previous passwords it must differ from, and
// how long passwords and idle accounts stay valid. Start from a preset
// ([Portero], [Almere], [NIST]) or a struct literal, and build the [Policy]
// with [NewPolicy], which checks it.
type Config struct {
	// MinLength is the minimum length in characters (code points after
	// NFKC normalisation). Zero means [DefaultMinLength].
	MinLength int

	// MaxLength is the maximum length in characters. Zero means
	// [MaxLength]; other values must lie between [MinMaxLength] and
	// [MaxLength]. Passwords are never truncated.
	MaxLength int

	// Rules are the further requirements, checked in order.
	Rules []Rule

	// History is the number of the user's latest passwords, the current
	// one included, that a new password must differ from. Zero means no
	// such rule. See [Policy.CheckNew].
	History int

	// MaxAge is how long a password stays valid after it was set. The
	// zero Period means it never expires.
	MaxAge Period

	// Warn is how long before expiry the user is warned. The zero Period
	// means no warning.
	Warn Period

	// Inactivity is how long an account stays active without a login.
	// The zero Period means accounts never become inactive.
	Inactivity Period

	// NoReactivation means an inactive account cannot be reactivated: the
	// user must be created anew (Portero).
	NoReactivation bool

	// SecondFactor means every login needs a second factor after the
	// password, such as a one-time password (package otp).
	SecondFactor bool

	// TemporaryFor is how long a temporary password, such as one sent by
	// e-mail after "forgot password" (Almere) or to a new user, may be used
	// for its one login. Zero means [DefaultTemporaryFor].
	TemporaryFor time.Duration
}

// Policy is a checked [Config]: it checks passwords and computes the state
// of accounts. Build it with [NewPolicy]; the zero Policy accepts any
// password of 8 to 128 characters and never expires anything. A Policy is
// safe for concurrent use.
type Policy struct {
	c Config
}

// NewPolicy returns the policy of c, or an error if c is inconsistent: a
// MinLength that is not positive or exceeds MaxLength, a MaxLength outside
// [MinMaxLength] to [MaxLength], a negative History or TemporaryFor, or a
// nil or impossible rule (such as [RequireAtLeast] of more categories than
// it names). Zero fields take their defaults. c is copied: changing it
// afterwards does not change the policy.
func NewPolicy(c Config) (*Policy, error) {
	if c.MinLength == 0 {
		c.MinLength = DefaultMinLength
	}
	if c.MaxLength == 0 {
		c.MaxLength = MaxLength
	}
	if c.TemporaryFor == 0 {
		c.TemporaryFor = DefaultTemporaryFor
	}
	lo, hi := c.MinLength, c.MaxLength
	switch {
	case lo < 1:
		return nil, errors.New("password: Config.MinLength must be positive, not " + strconv.Itoa(lo))
	case hi < MinMaxLength || hi > MaxLength:
		return nil, errors.New("password: Config.MaxLength must lie between 64 and 128, not " + strconv.Itoa(hi))
	case lo > hi:
		return nil, errors.New("password: Config.MinLength " + strconv.Itoa(lo) + " exceeds MaxLength " + strconv.Itoa(hi))
	case c.History < 0:
		return nil, errors.New("password: Config.History must not be negative")
	case c.TemporaryFor < 0:
		return nil, errors.New("password: Config.TemporaryFor must not be negative")
	}
	for i, r := range c.Rules {
		if r == nil {
			return nil, errors.New("password: Config.Rules[" + strconv.Itoa(i) + "] is nil")
		}
		if err := r.validate(); err != nil {
			return nil, fmt.Errorf("password: Config.Rules[%d]: %w", i, err)
		}
	}
	c.Rules = slices.Clone(c.Rules)
	return &Policy{c: c}, nil
}

// Config returns the policy's configuration, with defaults filled in.
func (p *Policy) Config() Config {
	c := p.c
	c.MinLength, c.MaxLength, c.TemporaryFor = p.minLength(), p.maxLength(), p.temporaryFor()
	c.Rules = slices.Clone(c.Rules)
	return c
}

// Portero returns the configuration of CIZ's Portero: at least 8 characters
// of at least 3 of the 4 categories, no part of the user's name or username,
// not one of the last 12 passwords; a password is valid for 3 months, with a
// warning from 2 weeks before it expires; an account without a login for 6
// months becomes inactive and cannot be reactivated.
func Portero() Config {
	return Config{
		MinLength: 8,
		Rules: []Rule{
			RequireAtLeast(3, AllCategories),
			NoNameParts(DefaultMinPart),
		},
		History:        12,
		MaxAge:         Period{Months: 3},
		Warn:           Period{Days: 14},
		Inactivity:     Period{Months: 6},
		NoReactivation: true,
	}
}

// Almere returns the configuration of the municipality of Almere's
// Gemeenteportaal: at least 10 characters with at least one upper-case
// letter, one lower-case letter, one digit and one punctuation character; a
// verification code at every login; after "forgot password" a temporary
// password that must be replaced at the next login.
func Almere() Config {
	return Config{
		MinLength:    10,
		Rules:        []Rule{Require(AllCategories)},
		SecondFactor: true,
		TemporaryFor: DefaultTemporaryFor,
	}
}

// NIST returns a configuration after NIST SP 800-63B-4 §3.1.1.2: at least
// 15 characters, or 8 if secondFactor is true (the password is one factor
// of a multi-factor login); no composition rules; no periodic expiry;
// passwords checked against a blocklist of common passwords and words,
// dressed up or not, and against the words of the service itself (context,
// such as "portero"), as [NotCommon] does. The user's name is also refused
// ([NoNameParts]).
func NIST(secondFactor bool, context ...string) Config {
	minLength := 15
	if secondFactor {
		minLength = 8
	}
	return Config{
		MinLength:    minLength,
		Rules:        []Rule{NotCommon(context...), NoNameParts(DefaultMinPart)},
		SecondFactor: secondFactor,
	}
}

func (p *Policy) minLength() int {
	if p.c.MinLength == 0 {
		return DefaultMinLength
	}
	return p.c.MinLength
}

func (p *Policy) maxLength() int {
	if p.c.MaxLength == 0 {
		return MaxLength
	}
	return p.c.MaxLength
}

func (p *Policy) temporaryFor() time.Duration {
	if p.c.TemporaryFor == 0 {
		return DefaultTemporaryFor
	}
	return p.c.TemporaryFor
}

// Check reports every way in which password breaks the policy's length
// limits and rules, for the given user. It returns nil or a [*PolicyError]
// with all violations, never only the first. It does not hash: see
// [Policy.CheckNew] for the history rule.
func (p *Policy) Check(password string, u User) error {
	vs := p.check(password, &u, nil)
	if len(vs) == 0 {
		return nil
	}
	return &PolicyError{Violations: vs}
}

// CheckNew is [Policy.Check] for a new password, plus the history rule: the
// password must not match any of the user's previous passwords, given as
// encoded hashes, most recent first, the current one included. Only the
// first History of them count. The comparison uses h (nil: a Hasher with
// the defaults) and costs one argon2id hash per entry; see [Hasher.Matches].
//
// It returns nil, a [*PolicyError] with every violation, or another error if
// a stored hash cannot be read or ctx ends (the password is then not
// accepted).
func (p *Policy) CheckNew(ctx context.Context, h *Hasher, password string, u User, previous []string) error {
	vs := p.check(password, &u, nil)
	if h == nil {
		h = defaultHasher()
	}
	if n := min(p.c.History, len(previous)); n > 0 {
		reused, err := h.Matches(ctx, password, previous[:n])
		if err != nil {
			return err
		}
		if reused {
			vs = append(vs, Violation{Code: CodeReused, N: p.c.History})
		}
	}
	if len(vs) == 0 {
		return nil
	}
	return &PolicyError{Violations: vs}
}

func (p *Policy) check(password string, u *User, dst []Violation) []Violation {
	if len(password) > MaxInputBytes {
		// Far too long in any form: say so, and only so, without reading
		// it; the other rules would describe an input nobody can use.
		return append(dst, Violation{Code: CodeTooLong, N: p.maxLength()})
	}
	c := newCandidate(password, u)
	if c.invalid {
		dst = append(dst, Violation{Code: CodeInvalidCharacter})
	}
	if lo := p.minLength(); c.length < lo {
		dst = append(dst, Violation{Code: CodeTooShort, N: lo})
	}
	if hi := p.maxLength(); c.length > hi {
		dst = append(dst, Violation{Code: CodeTooLong, N: hi})
	}
	for _, r := range p.c.Rules {
		if c.length > MaxLength {
			if _, ok := r.(contentRule); ok {
				continue
			}
		}
		dst = r.check(c, dst)
	}
	return dst
}

// Normalize returns the form of password that policies check and [Hasher]
// hashes: its Unicode NFKC normalisation, so that the same password typed on
// different keyboards and systems (a composed é or e plus a combining accent,
// a fullwidth Ａ, a non-breaking space) is the same password. Nothing is
// trimmed or truncated.
func Normalize(password string) string { return norm.NFKC.String(password) }

// candidate is a password prepared for the rules.
type candidate struct {
	pw      string   // NFKC form; invalid UTF-8 replaced by U+FFFD
	length  int      // in code points
	cats    Category // the categories it has characters of
	invalid bool     // invalid UTF-8 or a control character
	user    *User
	folded  string // fold(pw), computed on first use
}

func newCandidate(password string, u *User) *candidate {
	c := &candidate{user: u}
	if !utf8.ValidString(password) {
		c.invalid = true
		password = strings.ToValidUTF8(password, "\uFFFD")
	}
	c.pw = norm.NFKC.String(password)
	for _, r := range c.pw {
		c.length++
		c.cats |= categoryOf(r)
		if unicode.IsControl(r) {
			c.invalid = true
		}
	}
	return c
}

// foldedPassword returns the password folded for comparison with words.
func (c *candidate) foldedPassword() string {
	if c.folded == "" {
		c.folded = fold(c.pw)
	}
	return c.folded
}

// fold maps s to the form in which words are compared: case-folded, with
// diacritics removed (é → e, ß → ss).
func fold(s string) string { return textfold.Fold(s) }

// A Rule is one requirement on a password in a [Policy]. Rules are values
// made by [Require], [RequireAtLeast], [NoNameParts] and [NotCommon]; they
// are safe for concurrent use.
type Rule interface {
	check(c *candidate, dst []Violation) []Violation
	validate() error // nil, or why the rule can never be met
}

type requireRule struct{ cats Category }

// Require returns a rule that the password has at least one character of
// each category in cats, such as Require(AllCategories) for "at least one
// upper-case letter, one lower-case letter, one digit and one punctuation
// character". Each missing category is its own [CodeMissingCategory]
// violation. [NewPolicy] refuses the rule if cats is empty or not a set of
// [Category] values.
func Require(cats Category) Rule { return requireRule{cats} }

func (r requireRule) validate() error {
	if r.cats == 0 || r.cats&^AllCategories != 0 {
		return errors.New("Require needs a non-empty set of categories")
	}
	return nil
}

func (r requireRule) check(c *candidate, dst []Violation) []Violation {
	(r.cats &^ c.cats).each(func(m Category) {
		dst = append(dst, Violation{Code: CodeMissingCategory, Categories: m})
	})
	return dst
}

type atLeastRule struct {
	n    int
	cats Category
}

// RequireAtLeast returns a rule that the password has characters of at
// least n of the categories in cats, such as RequireAtLeast(3,
// AllCategories) for "at least 3 of upper case, lower case, digits and
// punctuation". [NewPolicy] refuses the rule unless 1 ≤ n ≤ cats.Count().
func RequireAtLeast(n int, cats Category) Rule { return atLeastRule{n, cats} }

func (r atLeastRule) validate() error {
	if r.cats&^AllCategories != 0 || r.n < 1 || r.n > r.cats.Count() {
		return errors.New("RequireAtLeast(" + strconv.Itoa(r.n) + ", " + r.cats.String() + ") cannot be met")
	}
	return nil
}

func (r atLeastRule) check(c *candidate, dst []Violation) []Violation {
	if (r.cats & c.cats).Count() >= r.n {
		return dst
	}
	return append(dst, Violation{Code: CodeTooFewCategories, N: r.n, Categories: r.cats, Missing: r.cats &^ c.cats})
}

// DefaultMinPart is the length from which [NoNameParts] compares a piece of
// a name, as Windows Active Directory's complexity rule does.
const DefaultMinPart = 3

// MinDerivedPart is the least length of the parts [NoNameParts] derives from
// within a username or e-mail local part: runs of letters, such as "vries"
// in "jdevries". Shorter runs inside a username would forbid common
// syllables.
const MinDerivedPart = 4

type namePartsRule struct{ minPart int }

// contentRule marks the rules that compare the password's content with
// words. They examine only passwords within [MaxLength]: a longer one is
// refused anyway, and the bound keeps their cost linear in the size of the
// user's details.
type contentRule interface{ contentRule() }

func (namePartsRule) contentRule() {}
func (notCommonRule) contentRule() {}

// NoNameParts returns a rule that the password contains no part of the
// user's name, username or e-mail local part ("mag geen delen bevatten van de
// (gebruikers)naam").
//
// Each of the three is split into pieces at every character that is not a
// letter or digit ("Jan de Vries" → jan, de, vries; "j.devries" → j,
// devries); the username and the e-mail local part also count whole. Pieces
// shorter than minPart characters are ignored, and so are Dutch name
// particles (van, der, den, ter, …), which would otherwise forbid common
// syllables.
//
// A username or e-mail local part is often a name run together with
// initials or particles ("jdevries", "pvandijk"), so within them every run
// of at least [MinDerivedPart] consecutive letters (or minPart, if larger)
// counts as a part too: for jdevries, jdev, devr, evri, vrie and ries, and so
// devries and vries. Digits do not join such runs, so that a year in a
// username does not forbid years.
//
// The comparison ignores case and diacritics and uses the NFKC form. A user
// with no name, username or e-mail passes. Passwords longer than
// [MaxLength] are not examined (they break the length limit anyway).
//
// [NewPolicy] refuses the rule if minPart < 2.
func NoNameParts(minPart int) Rule { return namePartsRule{minPart} }

func (r namePartsRule) validate() error {
	if r.minPart < 2 {
		return errors.New("NoNameParts needs minPart ≥ 2")
	}
	return nil
}

// particles are the Dutch (and common neighbouring) name particles
// (tussenvoegsels), ignored as name parts.
var particles = map[string]bool{
	"van": true, "der": true, "den": true, "het": true, "ten": true, "ter": true,
	"aan": true, "bij": true, "uit": true, "voor": true, "over": true, "onder": true,
	"von": true, "des": true, "del": true, "dos": true, "das": true, "les": true,
}

func (r namePartsRule) check(c *candidate, dst []Violation) []Violation {
	u := c.user
	if u == nil {
		return dst
	}
	fields := [...]struct {
		field Field
		value string
		whole bool
	}{
		{FieldName, u.Name, false},
		{FieldUsername, u.Username, true},
		{FieldEmail, localPart(u.Email), true},
	}
	for _, f := range fields {
		if f.value != "" && (r.contains(c, f.value, f.whole) || f.whole && r.containsRun(c, f.value)) {
			dst = append(dst, Violation{Code: CodeContainsName, Field: f.field})
		}
	}
	return dst
}

// containsRun reports whether the candidate contains a run of at least
// max(MinDerivedPart, minPart) consecutive letters of value. It compares
// the runs of exactly that length: a longer common run contains one. A
// run that is a name particle (voor, over) does not count.
func (r namePartsRule) containsRun(c *candidate, value string) bool {
	k := max(MinDerivedPart, r.minPart)
	v := []rune(fold(norm.NFKC.String(value)))
	pw := c.foldedPassword()
	for i := 0; i < len(v); {
		if !unicode.IsLetter(v[i]) {
			i++
			continue
		}
		j := i
		for j < len(v) && unicode.IsLetter(v[j]) {
			j++
		}
		for s := i; s+k <= j; s++ {
			if part := string(v[s : s+k]); !particles[part] && strings.Contains(pw, part) {
				return true
			}
		}
		i = j
	}
	return false
}

// contains reports whether the candidate contains a part of value.
func (r namePartsRule) contains(c *candidate, value string, whole bool) bool {
	v := fold(norm.NFKC.String(value))
	if v == "" {
		return false
	}
	pw := c.foldedPassword()
	if whole && utf8.RuneCountInString(v) >= r.minPart && strings.Contains(pw, v) {
		return true
	}
	// Split v into pieces of letters and digits, without allocating.
	start := -1
	for i := 0; i <= len(v); {
		ch, size := rune(0), 1
		if i < len(v) {
			ch = rune(v[i])
			if ch >= utf8.RuneSelf {
				ch, size = utf8.DecodeRuneInString(v[i:])
			}
		}
		if i < len(v) && !notAlnum(ch) {
			if start < 0 {
				start = i
			}
			i += size
			continue
		}
		if start >= 0 {
			piece := v[start:i]
			if utf8.RuneCountInString(piece) >= r.minPart && !particles[piece] && strings.Contains(pw, piece) {
				return true
			}
			start = -1
		}
		i += size
	}
	return false
}

func notAlnum(r rune) bool {
	if r < utf8.RuneSelf {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	}
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// localPart returns the part of an e-mail address before its last @, or the
// whole string if it has none.
func localPart(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[:i]
	}
	return addr
}

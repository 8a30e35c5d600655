// Package email checks the e-mail address of a user account: a valid
// address, of one person rather than a shared role mailbox, within the
// organisation's domains, and not in use by another account (Portero: "uniek
// mailadres … binnen het domein van de organisatie … een algemeen adres zoals
// info@uworganisatie.nl is niet toegestaan").
//
// [Normalize] gives the form to store and send to; [Mailbox] the form to
// compare, in which a +tag does not make another address. [Rules.Check]
// reports every problem at once; each has a stable [Code] and a message in
// Dutch (the default) or English that says what to do. No error contains
// the address.
package email

import (
	"context"
	"errors"
	"net/mail"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/password/internal/i18n"
	"github.com/zorgkit/zorgkit/password/internal/textfold"
)

// maxEmailLength is the longest address accepted: the limit of a forward
// path in RFC 5321 §4.5.3.1.3, less its angle brackets.
const maxEmailLength = 254

// ErrInvalid is returned by [Normalize] for text that is not a single
// e-mail address.
var ErrInvalid error = &invalidError{}

type invalidError struct{}

func (*invalidError) Error() string {
	return "email: not a valid e-mail address: enter it as name@organisation.nl"
}

// Message returns the message for the user, in Dutch (the default) or
// English.
func (*invalidError) Message(tag language.Tag) string {
	return messages.Sprintf(tag, string(CodeInvalid))
}

// Normalize returns the form of an e-mail address in which accounts
// store and compare it: the bare address (as parsed by [net/mail], RFC 5322),
// in Unicode NFC and lower case. A
// display name ("Jan <jan@zorg.nl>"), a group or a list of addresses is
// refused with [ErrInvalid], as is anything longer than 254 bytes.
//
// Lower-casing the local part departs from RFC 5321, which lets a server
// tell Jan@ from jan@; in practice no mail server does, and two users with
// such addresses are the same person.
func Normalize(addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" || len(addr) > maxEmailLength {
		return "", ErrInvalid
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || strings.ContainsAny(addr, "<>") {
		return "", ErrInvalid
	}
	at := strings.LastIndexByte(a.Address, '@')
	if at <= 0 {
		return "", ErrInvalid
	}
	local := a.Address[:at]
	domain := a.Address[at+1:]
	if domain == "" || !strings.Contains(domain, ".") {
		return "", ErrInvalid // a bare host name is no organisation's domain
	}
	n := strings.ToLower(norm.NFC.String(local + "@" + domain))
	// A local part that needs quotes ("a b"@…) comes back unquoted from
	// net/mail; such an address is no account address.
	if again, err := mail.ParseAddress(n); err != nil || again.Address != n {
		return "", ErrInvalid
	}
	return n, nil
}

// Rules are the rules for the e-mail address of a user account. The zero
// Rules accept any single address that is not a role mailbox.
type Rules struct {
	// Domains are the organisation's own domains, such as "zorgaanbieder.nl".
	// An address must be in one of them. Empty means any domain. They are
	// compared without case but not converted between Unicode and
	// punycode (IDNA): list both forms of an internationalised domain.
	Domains []string

	// Subdomains also accepts addresses in subdomains of Domains, such as
	// name@locatie.zorgaanbieder.nl.
	Subdomains bool

	// Taken reports whether another user already has an address with the
	// same mailbox (see [Mailbox]), so that piet+portero@ cannot stand
	// beside piet@. Nil means uniqueness is not checked. When a user
	// changes their address, it must not count their own. See [TakenIn]
	// for a list held in memory; with SQL, compare against a column that
	// holds every account's Mailbox under a unique index, which also
	// settles two concurrent sign-ups.
	Taken func(ctx context.Context, mailbox string) (bool, error)
}

// Check reports every rule that addr breaks: nil, an [*Error] with the codes
// [CodeInvalid] (then alone), [CodeDomain], [CodeRole] and [CodeTaken], or
// the error of Taken.
func (r Rules) Check(ctx context.Context, addr string) error {
	norm, err := Normalize(addr)
	if err != nil {
		return &Error{Codes: []Code{CodeInvalid}}
	}
	var codes []Code
	if !r.inDomains(norm) {
		codes = append(codes, CodeDomain)
	}
	if isRole(localPart(norm)) {
		codes = append(codes, CodeRole)
	}
	if r.Taken != nil {
		taken, err := r.Taken(ctx, mailbox(norm))
		if err != nil {
			return err
		}
		if taken {
			codes = append(codes, CodeTaken)
		}
	}
	if len(codes) == 0 {
		return nil
	}
	return &Error{Codes: codes}
}

func (r Rules) inDomains(norm string) bool {
	if len(r.Domains) == 0 {
		return true
	}
	domain := norm[strings.LastIndexByte(norm, '@')+1:]
	for _, d := range r.Domains {
		d = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(d), "@"), "."))
		if domain == d || (r.Subdomains && strings.HasSuffix(domain, "."+d)) {
			return true
		}
	}
	return false
}

// TakenIn returns a Taken function for [Rules] that looks addresses up in
// existing, compared by [Mailbox]. Entries that are not valid addresses are
// compared as they are, lower-cased.
func TakenIn(existing []string) func(context.Context, string) (bool, error) {
	set := make(map[string]bool, len(existing))
	for _, e := range existing {
		n, err := Mailbox(e)
		if err != nil {
			n = strings.ToLower(strings.TrimSpace(e))
		}
		set[n] = true
	}
	return func(_ context.Context, mailbox string) (bool, error) {
		return set[mailbox], nil
	}
}

// Mailbox returns the mailbox that addr delivers to: its [Normalize]d form
// without a subaddress, the +tag of RFC 5233 (piet+portero@zorg.nl →
// piet@zorg.nl), which most mail servers deliver to the same person. It is
// the form in which to compare addresses for uniqueness, and to look an
// account up by its address; keep the normalised address, with its tag, to
// send mail to. A local part that starts with + keeps it, and so does one
// whose part before the + is no address of its own ("piet.+x@zorg.nl",
// a quoted "a+b"@zorg.nl).
//
// Other conventions some providers follow, such as ignoring dots (Gmail) or
// a hyphen as separator, are not applied: they are not general, and the
// accounts' addresses are the organisations' own.
func Mailbox(addr string) (string, error) {
	n, err := Normalize(addr)
	if err != nil {
		return "", err
	}
	return mailbox(n), nil
}

// valid reports whether m is a normalised address of its own.
func valid(m string) bool {
	n, err := Normalize(m)
	return err == nil && n == m
}

// mailbox is Mailbox of a normalised address.
func mailbox(norm string) string {
	at := strings.LastIndexByte(norm, '@')
	if plus := strings.IndexByte(norm[:at], '+'); plus > 0 {
		if m := norm[:plus] + norm[at:]; valid(m) {
			return m
		}
	}
	return norm
}

// IsRoleMailbox reports whether addr is a generic role mailbox, shared by or
// passed between several people, rather than one person's address: the
// mailboxes of RFC 2142 (info, sales, support, abuse, postmaster, webmaster,
// …), technical ones (admin, noreply, mailer-daemon, …) and Dutch ones
// (secretariaat, receptie, administratie, boekhouding, planning, zorg,
// kantoor, algemeen, …).
//
// Only the whole local part is compared, or its part before a +tag: a
// person's address that merely starts or ends with a role word
// (hr.devries@, fg.jansen@, zorg.jansen@, jan.planning@) is one person's.
// Case, dots, hyphens and underscores within it and trailing digits do not
// matter (No-Reply2@, mailer-daemon@, info+portero@).
func IsRoleMailbox(addr string) bool {
	n, err := Normalize(addr)
	if err != nil {
		n = strings.ToLower(addr)
	}
	return isRole(localPart(n))
}

// localPart returns the part of an e-mail address before its last @, or the
// whole string if it has none.
func localPart(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[:i]
	}
	return addr
}

func isRole(local string) bool {
	local = textfold.Fold(local)
	if i := strings.IndexByte(local, '+'); i >= 0 {
		local = local[:i]
	}
	return roleMailboxes[canonicalRole(strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || r == '_' {
			return -1
		}
		return r
	}, local))]
}

func canonicalRole(s string) string {
	return strings.TrimRightFunc(s, unicode.IsDigit)
}

// roleMailboxes are canonical role names: lower case, without separators.
var roleMailboxes = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range strings.Fields(`
		info marketing sales support abuse noc security postmaster hostmaster
		usenet news webmaster www uucp ftp

		admin administrator root sysadmin noreply donotreply mailerdaemon nobody
		bounce bounces listserv majordomo contact office help helpdesk servicedesk
		service billing accounts finance hr jobs careers team mail email hello
		enquiries reception secretary privacy dpo legal compliance it ict

		secretariaat receptie administratie boekhouding planning zorg kantoor
		algemeen klantenservice klantcontact facturen facturatie financien
		financieel debiteuren crediteuren inkoop verkoop personeelszaken
		personeel salarisadministratie directie bestuur management communicatie
		beheer applicatiebeheer functioneelbeheer systeembeheer zorgadministratie
		clientenadministratie clientenservice clientenbureau aanmelding
		aanmeldingen intake zorgbemiddeling wachtlijst vacatures werkenbij
		sollicitaties klachten fg avg kwaliteit postbus mailbox teamleiding
		zorgteam wijkteam praktijk nietbeantwoorden geenantwoord`) {
		m[s] = true
	}
	return m
}()

// Code identifies a problem with an address. Codes are stable: store them,
// switch on them and map them to your own texts.
type Code string

// The codes that [Rules.Check] reports.
const (
	// CodeInvalid: the address cannot be parsed.
	CodeInvalid Code = "email_invalid"
	// CodeDomain: the address is not within one of the organisation's
	// domains.
	CodeDomain Code = "email_domain"
	// CodeRole: the address is a generic role mailbox such as info@ or
	// secretariaat@, shared by several people.
	CodeRole Code = "email_role"
	// CodeTaken: another user already has this address.
	CodeTaken Code = "email_taken"
)

// ErrRejected matches every [*Error]: errors.Is(err, ErrRejected) reports
// whether an address broke a rule, as opposed to Taken failing.
var ErrRejected = errors.New("email: address rejected")

// Error is the error of [Rules.Check] for an address that breaks one or more
// rules: the code of each, in the order of the rules.
type Error struct {
	Codes []Code
}

// Error lists the codes. It never contains the address.
func (e *Error) Error() string {
	s := make([]string, len(e.Codes))
	for i, c := range e.Codes {
		s[i] = string(c)
	}
	return ErrRejected.Error() + ": " + strings.Join(s, ", ")
}

// Is reports whether target is ErrRejected.
func (e *Error) Is(target error) bool { return target == ErrRejected }

// Messages returns the message of every code, in order, in Dutch (the
// default) or English.
func (e *Error) Messages(tag language.Tag) []string {
	msgs := make([]string, len(e.Codes))
	for i, c := range e.Codes {
		msgs[i] = messages.Sprintf(tag, string(c))
	}
	return msgs
}

// Message returns the messages as one text.
func (e *Error) Message(tag language.Tag) string { return strings.Join(e.Messages(tag), " ") }

// Has reports whether one of the codes is c.
func (e *Error) Has(c Code) bool { return slices.Contains(e.Codes, c) }

var messages = i18n.New(func(c *i18n.Catalog) {
	c.Set(string(CodeInvalid),
		"Vul een geldig e-mailadres in, zoals naam@organisatie.nl.",
		"Enter a valid e-mail address, such as name@organisation.nl.")
	c.Set(string(CodeDomain),
		"Gebruik een e-mailadres binnen het domein van uw organisatie, zoals naam@uworganisatie.nl.",
		"Use an e-mail address within your organisation's domain, such as name@yourorganisation.nl.")
	c.Set(string(CodeRole),
		"Gebruik een persoonlijk e-mailadres, geen algemeen adres zoals info@ of secretariaat@ dat meer mensen lezen.",
		"Use a personal e-mail address, not a general one such as info@ or office@ that several people read.")
	c.Set(string(CodeTaken),
		"Dit e-mailadres is al in gebruik bij een andere gebruiker. Elke gebruiker heeft een eigen e-mailadres nodig.",
		"This e-mail address is already used by another user. Every user needs an e-mail address of their own.")
})

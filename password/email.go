package password

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/zorgkit/zorgkit/password/internal/textfold"
)

// maxEmailLength is the longest address accepted: the limit of a forward
// path in RFC 5321 §4.5.3.1.3, less its angle brackets.
const maxEmailLength = 254

// ErrEmailInvalid is returned by [NormalizeEmail] for text that is not a
// single e-mail address.
var ErrEmailInvalid = errors.New("password: not a valid e-mail address: enter it as name@organisation.nl")

// NormalizeEmail returns the form of an e-mail address in which accounts
// store and compare it: the bare address (as parsed by [net/mail], RFC 5322),
// in Unicode NFC and lower case. A
// display name ("Jan <jan@zorg.nl>"), a group or a list of addresses is
// refused with [ErrEmailInvalid], as is anything longer than 254 bytes.
//
// Lower-casing the local part departs from RFC 5321, which lets a server
// tell Jan@ from jan@; in practice no mail server does, and two users with
// such addresses are the same person.
func NormalizeEmail(addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" || len(addr) > maxEmailLength {
		return "", ErrEmailInvalid
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || strings.ContainsAny(addr, "<>") {
		return "", ErrEmailInvalid
	}
	at := strings.LastIndexByte(a.Address, '@')
	if at <= 0 {
		return "", ErrEmailInvalid
	}
	local := a.Address[:at]
	domain := a.Address[at+1:]
	if domain == "" || !strings.Contains(domain, ".") {
		return "", ErrEmailInvalid // a bare host name is no organisation's domain
	}
	n := strings.ToLower(norm.NFC.String(local + "@" + domain))
	// A local part that needs quotes ("a b"@…) comes back unquoted from
	// net/mail; such an address is no account address.
	if _, err := mail.ParseAddress(n); err != nil {
		return "", ErrEmailInvalid
	}
	return n, nil
}

// EmailRules are the rules for the e-mail address of a user account (Portero:
// "uniek mailadres … binnen het domein van de organisatie … een algemeen
// adres zoals info@uworganisatie.nl is niet toegestaan").
type EmailRules struct {
	// Domains are the organisation's own domains, such as "zorgaanbieder.nl".
	// An address must be in one of them. Empty means any domain.
	Domains []string

	// Subdomains also accepts addresses in subdomains of Domains, such as
	// name@locatie.zorgaanbieder.nl.
	Subdomains bool

	// Taken reports whether another user already has the normalised
	// address (see [NormalizeEmail]). Nil means uniqueness is not checked.
	// When a user changes their address, it must not count their own. See
	// [TakenIn] for a list held in memory; with SQL, compare against a
	// column that holds normalised addresses under a unique index, which
	// also settles two concurrent sign-ups.
	Taken func(ctx context.Context, normalized string) (bool, error)
}

// Check reports every rule that addr breaks: nil, a [*PolicyError] with
// violations of the codes [CodeEmailInvalid] (then alone), [CodeEmailDomain],
// [CodeEmailRole] and [CodeEmailTaken], or the error of Taken.
func (r EmailRules) Check(ctx context.Context, addr string) error {
	norm, err := NormalizeEmail(addr)
	if err != nil {
		return &PolicyError{Violations: []Violation{{Code: CodeEmailInvalid}}}
	}
	var vs []Violation
	if !r.inDomains(norm) {
		vs = append(vs, Violation{Code: CodeEmailDomain})
	}
	if isRole(localPart(norm)) {
		vs = append(vs, Violation{Code: CodeEmailRole})
	}
	if r.Taken != nil {
		taken, err := r.Taken(ctx, norm)
		if err != nil {
			return err
		}
		if taken {
			vs = append(vs, Violation{Code: CodeEmailTaken})
		}
	}
	if len(vs) == 0 {
		return nil
	}
	return &PolicyError{Violations: vs}
}

func (r EmailRules) inDomains(norm string) bool {
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

// TakenIn returns a Taken function for [EmailRules] that looks addresses up
// in existing, compared after [NormalizeEmail]. Entries that are not valid
// addresses are compared as they are, lower-cased.
func TakenIn(existing []string) func(context.Context, string) (bool, error) {
	set := make(map[string]bool, len(existing))
	for _, e := range existing {
		n, err := NormalizeEmail(e)
		if err != nil {
			n = strings.ToLower(strings.TrimSpace(e))
		}
		set[n] = true
	}
	return func(_ context.Context, normalized string) (bool, error) {
		return set[normalized], nil
	}
}

// IsRoleMailbox reports whether addr is a generic role mailbox, shared by or
// passed between several people, rather than one person's address: the
// mailboxes of RFC 2142 (info, sales, support, abuse, postmaster, webmaster,
// …), technical ones (admin, noreply, mailer-daemon, …) and Dutch ones
// (secretariaat, receptie, administratie, boekhouding, planning, zorg,
// kantoor, algemeen, …).
//
// Case, dots, hyphens and underscores, a +tag and trailing digits do not
// matter (No-Reply2@, info+portero@), and a role word before a separator
// counts too (info.almere@, secretariaat-noord@).
func IsRoleMailbox(addr string) bool {
	n, err := NormalizeEmail(addr)
	if err != nil {
		n = strings.ToLower(addr)
	}
	return isRole(localPart(n))
}

func isRole(local string) bool {
	local = textfold.Fold(local)
	if i := strings.IndexByte(local, '+'); i >= 0 {
		local = local[:i]
	}
	isSep := func(r rune) bool { return r == '.' || r == '-' || r == '_' }
	if roleMailboxes[canonicalRole(strings.Map(func(r rune) rune {
		if isSep(r) {
			return -1
		}
		return r
	}, local))] {
		return true
	}
	if i := strings.IndexFunc(local, isSep); i > 0 {
		return roleMailboxes[canonicalRole(local[:i])]
	}
	return false
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

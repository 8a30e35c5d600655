package email_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/password/email"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string
		reason   string
	}{
		{"j.devries@zorgaanbieder.nl", "j.devries@zorgaanbieder.nl", "plain"},
		{"J.deVries@ZorgAanbieder.NL", "j.devries@zorgaanbieder.nl", "case"},
		{"  j.devries@zorgaanbieder.nl\n", "j.devries@zorgaanbieder.nl", "surrounding space"},
		{"jose\u0301@zorg.nl", "josé@zorg.nl", "NFC"},
		{"j.devries+portero@zorgaanbieder.nl", "j.devries+portero@zorgaanbieder.nl", "a +tag is kept"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			got, err := email.Normalize(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	for _, bad := range []string{"", "jan", "jan@", "@zorg.nl", "jan@localhost", "Jan <jan@zorg.nl>", "<jan@zorg.nl>",
		"jan@zorg.nl, piet@zorg.nl", "jan@zorg.nl.", "jan de vries@zorg.nl", `"jan de vries"@zorg.nl`, strings.Repeat("a", 250) + "@zorg.nl"} {
		_, err := email.Normalize(bad)
		assert.ErrorIs(t, err, email.ErrInvalid, "%q", bad)
	}
}

func TestIsRoleMailbox(t *testing.T) {
	tests := []struct {
		addr   string
		want   bool
		reason string
	}{
		{"info@zorgaanbieder.nl", true, "RFC 2142 info, as in the Portero FAQ"},
		{"postmaster@zorgaanbieder.nl", true, "RFC 2142"},
		{"abuse@zorgaanbieder.nl", true, "RFC 2142"},
		{"webmaster@zorgaanbieder.nl", true, "RFC 2142"},
		{"secretariaat@zorgaanbieder.nl", true, "Dutch"},
		{"receptie@zorgaanbieder.nl", true, "Dutch"},
		{"administratie@zorgaanbieder.nl", true, "Dutch"},
		{"boekhouding@zorgaanbieder.nl", true, "Dutch"},
		{"planning@zorgaanbieder.nl", true, "Dutch"},
		{"zorg@zorgaanbieder.nl", true, "Dutch"},
		{"kantoor@zorgaanbieder.nl", true, "Dutch"},
		{"algemeen@zorgaanbieder.nl", true, "Dutch"},
		{"cliëntenadministratie@zorgaanbieder.nl", true, "Dutch with diaeresis"},
		{"noreply@zorgaanbieder.nl", true, "technical"},
		{"no-reply@zorgaanbieder.nl", true, "with a hyphen"},
		{"No_Reply@zorgaanbieder.nl", true, "underscore and case"},
		{"admin@zorgaanbieder.nl", true, "technical"},
		{"info2@zorgaanbieder.nl", true, "numbered"},
		{"info+portero@zorgaanbieder.nl", true, "with a +tag"},
		{"info.almere@zorgaanbieder.nl", false, "a role word is only the whole local part"},
		{"secretariaat-noord@zorgaanbieder.nl", false, "a role word is only the whole local part"},
		{"hr.devries@zorgaanbieder.nl", false, "a person in HR (issue 15, defect 5)"},
		{"fg.jansen@zorgaanbieder.nl", false, "the data protection officer, by name"},
		{"zorg.jansen@zorgaanbieder.nl", false, "a person whose address starts with zorg"},
		{"mailer-daemon@zorgaanbieder.nl", true, "with a hyphen within"},
		{"secretariaat+noord@zorgaanbieder.nl", true, "the part before a +tag"},
		{"hr@zorgaanbieder.nl", true, "HR as a whole"},
		{"f.g@zorgaanbieder.nl", true, "dots within do not matter"},
		{"j.devries@zorgaanbieder.nl", false, "a person"},
		{"informatica.docent@zorgaanbieder.nl", false, "a word that starts with info"},
		{"jan.planning@zorgaanbieder.nl", false, "a role word later in the address"},
		{"zorgvlied@zorgaanbieder.nl", false, "a name that starts with zorg"},
		{"fatima.el-amrani@zorgaanbieder.nl", false, "a person with a hyphen"},
	}
	for _, tt := range tests {
		t.Run(tt.reason+": "+tt.addr, func(t *testing.T) {
			assert.Equal(t, tt.want, email.IsRoleMailbox(tt.addr))
		})
	}
}

func TestRules(t *testing.T) {
	ctx := context.Background()
	rules := email.Rules{
		Domains: []string{"zorgaanbieder.nl", "ZorgGroep.NL"},
		Taken:   email.TakenIn([]string{"P.Bakker@zorgaanbieder.nl", "piet+zorg@zorgaanbieder.nl", "not an address"}),
	}
	tests := []struct {
		addr   string
		want   []email.Code
		reason string
	}{
		{"j.devries@zorgaanbieder.nl", nil, "a personal address in the organisation's domain"},
		{"j.devries@zorggroep.nl", nil, "the second domain, compared without case"},
		{"j.devries@gmail.com", []email.Code{email.CodeDomain}, "outside the organisation"},
		{"j.devries@locatie.zorgaanbieder.nl", []email.Code{email.CodeDomain}, "subdomains only if allowed"},
		{"j.devries@evilzorgaanbieder.nl", []email.Code{email.CodeDomain}, "a suffix is not a subdomain"},
		{"info@zorgaanbieder.nl", []email.Code{email.CodeRole}, "info@, as the FAQ says"},
		{"p.bakker@zorgaanbieder.nl", []email.Code{email.CodeTaken}, "another user has it, compared after normalising"},
		{"p.bakker+portero@zorgaanbieder.nl", []email.Code{email.CodeTaken}, "the same mailbox with a +tag (issue 15, defect 5)"},
		{"piet@zorgaanbieder.nl", []email.Code{email.CodeTaken}, "the same mailbox as an existing piet+zorg@"},
		{"pbakker@zorgaanbieder.nl", nil, "dots are not ignored"},
		{"info@hotmail.com", []email.Code{email.CodeDomain, email.CodeRole}, "all violations at once"},
		{"not an address", []email.Code{email.CodeInvalid}, "unparsable"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			err := rules.Check(ctx, tt.addr)
			if tt.want == nil {
				assert.NoError(t, err)
				return
			}
			var eerr *email.Error
			require.ErrorAs(t, err, &eerr)
			assert.Equal(t, tt.want, eerr.Codes)
			assert.ErrorIs(t, err, email.ErrRejected)
			assert.NotContains(t, err.Error(), tt.addr)
		})
	}

	sub := email.Rules{Domains: []string{"zorgaanbieder.nl"}, Subdomains: true}
	assert.NoError(t, sub.Check(ctx, "j.devries@locatie.zorgaanbieder.nl"))
	assert.NoError(t, email.Rules{}.Check(ctx, "j.devries@example.org"), "no domains: any")

	dbDown := errors.New("database down")
	failing := email.Rules{Taken: func(context.Context, string) (bool, error) { return false, dbDown }}
	assert.ErrorIs(t, failing.Check(ctx, "j.devries@zorgaanbieder.nl"), dbDown)

	var asked string
	lookup := email.Rules{Taken: func(_ context.Context, n string) (bool, error) { asked = n; return false, nil }}
	require.NoError(t, lookup.Check(ctx, "J.DeVries+Portero@ZorgAanbieder.nl"))
	assert.Equal(t, "j.devries@zorgaanbieder.nl", asked, "Taken gets the mailbox")
}

func TestMessages(t *testing.T) {
	err := &email.Error{Codes: []email.Code{email.CodeDomain, email.CodeRole}}
	assert.Equal(t, []string{
		"Gebruik een e-mailadres binnen het domein van uw organisatie, zoals naam@uworganisatie.nl.",
		"Gebruik een persoonlijk e-mailadres, geen algemeen adres zoals info@ of secretariaat@ dat meer mensen lezen.",
	}, err.Messages(language.Dutch))
	assert.Equal(t, "Use an e-mail address within your organisation's domain, such as name@yourorganisation.nl. "+
		"Use a personal e-mail address, not a general one such as info@ or office@ that several people read.", err.Message(language.English))
	assert.True(t, err.Has(email.CodeRole))
	assert.False(t, err.Has(email.CodeTaken))
	assert.Equal(t, "email: address rejected: email_domain, email_role", err.Error())
	for _, c := range []email.Code{email.CodeInvalid, email.CodeDomain, email.CodeRole, email.CodeTaken} {
		e := &email.Error{Codes: []email.Code{c}}
		assert.NotEqual(t, e.Message(language.Dutch), e.Message(language.English), c)
		assert.NotContains(t, e.Message(language.Dutch), "%!")
	}
}

func TestMailbox(t *testing.T) {
	tests := []struct {
		in, want string
		reason   string
	}{
		{"piet@zorg.nl", "piet@zorg.nl", "no tag"},
		{"Piet+Portero@Zorg.NL", "piet@zorg.nl", "a +tag, after normalising"},
		{"piet+a+b@zorg.nl", "piet@zorg.nl", "from the first +"},
		{"+piet@zorg.nl", "+piet@zorg.nl", "a local part that starts with +"},
		{"piet.+x@zorg.nl", "piet.+x@zorg.nl", "the part before the + ends in a dot: no address of its own"},
		{`"a+b"@zorg.nl`, "a@zorg.nl", "quotes that are not needed are dropped first"},
		{"p.bakker@zorg.nl", "p.bakker@zorg.nl", "dots stay"},
		{"piet-zorg@zorg.nl", "piet-zorg@zorg.nl", "a hyphen is no separator"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			got, err := email.Mailbox(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	_, err := email.Mailbox("not an address")
	assert.ErrorIs(t, err, email.ErrInvalid)
}

package password_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/password"
)

var amsterdam = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		return time.FixedZone("CET", 3600)
	}
	return loc
}()

func day(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, amsterdam)
}

func TestPeriodAddTo(t *testing.T) {
	tests := []struct {
		p      password.Period
		from   time.Time
		want   time.Time
		reason string
	}{
		{password.Period{Months: 3}, day(2026, 1, 15, 10, 0), day(2026, 4, 15, 10, 0), "3 months, same day and time"},
		{password.Period{Months: 3}, day(2026, 5, 31, 10, 0), day(2026, 8, 31, 10, 0), "31 May → 31 August"},
		{password.Period{Months: 3}, day(2026, 11, 30, 10, 0), day(2027, 2, 28, 10, 0), "30 November → end of February, not 2 March"},
		{password.Period{Months: 3}, day(2027, 11, 30, 10, 0), day(2028, 2, 29, 10, 0), "leap year"},
		{password.Period{Months: 6}, day(2026, 8, 31, 10, 0), day(2027, 2, 28, 10, 0), "6 months from 31 August"},
		{password.Period{Months: 12}, day(2026, 3, 1, 0, 0), day(2027, 3, 1, 0, 0), "a year"},
		{password.Period{Days: 14}, day(2026, 3, 20, 10, 0), day(2026, 4, 3, 10, 0), "14 days across the switch to summer time keep the clock time"},
		{password.Period{Months: 1, Days: 1}, day(2026, 1, 31, 10, 0), day(2026, 3, 1, 10, 0), "months first, then days"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.p.AddTo(tt.from))
		})
	}
	assert.Equal(t, day(2026, 4, 1, 10, 0), password.Period{Days: 14}.SubFrom(day(2026, 4, 15, 10, 0)))
	assert.Equal(t, "P3M", password.Period{Months: 3}.String())
	assert.Equal(t, "P14D", password.Period{Days: 14}.String())
	assert.Equal(t, "P1M2D", password.Period{Months: 1, Days: 2}.String())
	assert.Equal(t, "P0D", password.Period{}.String())
}

// TestPorteroStatus checks the Portero FAQ: "Het wachtwoord is voor een
// periode van 3 maanden geldig … Twee weken voordat het wachtwoord verloopt
// wordt er een waarschuwing getoond" and "Als een gebruiker gedurende 6
// maanden niet heeft ingelogd wordt het betreffende gebruikersaccount
// inactief gemaakt. Het account kan in dat geval niet gereactiveerd worden."
func TestPorteroStatus(t *testing.T) {
	p := mustPolicy(t, password.Portero())
	set := day(2026, 1, 10, 9, 0) // password set; expires 10 April 09:00
	acct := password.Account{Created: day(2025, 6, 1, 9, 0), LastLogin: day(2026, 1, 10, 9, 0), PasswordSet: set}
	tests := []struct {
		now      time.Time
		a        password.Account
		expired  bool
		warn     bool
		daysLeft int
		inactive bool
		reason   string
	}{
		{day(2026, 3, 1, 12, 0), acct, false, false, 0, false, "well within 3 months"},
		{day(2026, 3, 27, 8, 59), acct, false, false, 0, false, "a minute before the warning starts"},
		{day(2026, 3, 27, 9, 0), acct, false, true, 14, false, "warning from 2 weeks before expiry"},
		{day(2026, 4, 1, 23, 0), acct, false, true, 9, false, "expires in 9 days"},
		{day(2026, 4, 9, 23, 59), acct, false, true, 1, false, "tomorrow"},
		{day(2026, 4, 10, 0, 1), acct, false, true, 0, false, "today"},
		{day(2026, 4, 10, 9, 0), acct, true, false, 0, false, "expired after 3 months"},
		{day(2026, 7, 10, 8, 59), acct, true, false, 0, false, "expired, and 6 months without login less a minute"},
		{day(2026, 7, 10, 9, 0), acct, true, false, 0, true, "inactive after 6 months without login"},
		{day(2026, 7, 10, 9, 0), withReactivated(acct, day(2026, 7, 1, 9, 0)), true, false, 0, true, "Portero cannot reactivate"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			s := p.Status(tt.a, tt.now)
			assert.Equal(t, tt.expired, s.Expired, "expired")
			assert.Equal(t, tt.warn, s.Warn, "warn")
			assert.Equal(t, tt.daysLeft, s.DaysLeft, "days left")
			assert.Equal(t, tt.inactive, s.Inactive, "inactive")
			assert.True(t, s.NoReactivation)
			assert.Equal(t, day(2026, 4, 10, 9, 0), s.ExpiresAt)
			assert.Equal(t, tt.expired, s.MustChange())
			assert.Equal(t, !tt.inactive, s.CanLogin())
		})
	}
}

func withReactivated(a password.Account, at time.Time) password.Account {
	a.Reactivated = at
	return a
}

func TestStatusMessages(t *testing.T) {
	p := mustPolicy(t, password.Portero())
	a := password.Account{PasswordSet: day(2026, 1, 10, 9, 0)}
	tests := []struct {
		now    time.Time
		tag    language.Tag
		want   string
		reason string
	}{
		{day(2026, 4, 1, 12, 0), language.Dutch, "Uw wachtwoord verloopt over 9 dagen. Kies nu een nieuw wachtwoord.", "9 days"},
		{day(2026, 4, 1, 12, 0), language.English, "Your password expires in 9 days. Choose a new password now.", "9 days in English"},
		{day(2026, 4, 9, 12, 0), language.Dutch, "Uw wachtwoord verloopt over 1 dag. Kies nu een nieuw wachtwoord.", "singular"},
		{day(2026, 4, 10, 8, 0), language.Dutch, "Uw wachtwoord verloopt vandaag. Kies nu een nieuw wachtwoord.", "today"},
		{day(2026, 4, 10, 9, 0), language.Dutch, "Uw wachtwoord is verlopen. Kies een nieuw wachtwoord om verder te gaan.", "expired"},
		{day(2026, 2, 1, 12, 0), language.Dutch, "", "nothing to say"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			assert.Equal(t, tt.want, p.Status(a, tt.now).Message(tt.tag))
		})
	}
}

func TestStatusInactivity(t *testing.T) {
	reactivatable := mustPolicy(t, password.Config{Inactivity: password.Period{Months: 6}})
	created := day(2026, 1, 1, 9, 0)
	tests := []struct {
		a        password.Account
		now      time.Time
		inactive bool
		reason   string
	}{
		{password.Account{Created: created}, day(2026, 6, 30, 9, 0), false, "never logged in, within 6 months of creation"},
		{password.Account{Created: created}, day(2026, 7, 1, 9, 0), true, "never logged in for 6 months"},
		{password.Account{Created: created, LastLogin: day(2026, 5, 1, 9, 0)}, day(2026, 10, 31, 9, 0), false, "recent login"},
		{password.Account{Created: created, Reactivated: day(2026, 7, 2, 9, 0)}, day(2026, 8, 1, 9, 0), false, "reactivated by an administrator"},
		{password.Account{}, day(2030, 1, 1, 0, 0), false, "no timestamps: not inactive"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			s := reactivatable.Status(tt.a, tt.now)
			assert.Equal(t, tt.inactive, s.Inactive)
			assert.False(t, s.NoReactivation)
		})
	}
	s := mustPolicy(t, password.Config{}).Status(password.Account{Created: created}, day(2040, 1, 1, 0, 0))
	assert.False(t, s.Inactive, "no inactivity period: never inactive")
	assert.True(t, s.ExpiresAt.IsZero(), "no expiry")
}

// TestAlmereTemporary: after "forgot password" the user gets a temporary
// password that must be replaced at the next login and is valid only briefly.
func TestAlmereTemporary(t *testing.T) {
	p := mustPolicy(t, password.Almere())
	set := day(2026, 11, 23, 9, 0)
	a := password.Account{Created: day(2025, 1, 1, 0, 0), PasswordSet: set, Temporary: true}

	s := p.Status(a, set.Add(59*time.Minute))
	assert.True(t, s.MustChange(), "must be replaced at the next login")
	assert.True(t, s.CanLogin())
	assert.False(t, s.Expired, "Almere has no expiry")

	s = p.Status(a, set.Add(time.Hour))
	assert.True(t, s.TemporaryExpired)
	assert.False(t, s.CanLogin(), "a stale temporary password cannot be used")

	a.Temporary = false
	s = p.Status(a, set.Add(10*365*24*time.Hour))
	assert.False(t, s.MustChange(), "a chosen password never expires at Almere")

	custom := mustPolicy(t, password.Config{TemporaryFor: 24 * time.Hour})
	a.Temporary = true
	assert.True(t, custom.Status(a, set.Add(23*time.Hour)).CanLogin())
}

func TestNISTNoExpiry(t *testing.T) {
	s := mustPolicy(t, password.NIST(false)).Status(password.Account{PasswordSet: day(2000, 1, 1, 0, 0)}, day(2026, 1, 1, 0, 0))
	assert.False(t, s.Expired, "no periodic expiry")
	assert.False(t, s.Warn)
	assert.False(t, s.Inactive)
}

func TestTemporaryPassword(t *testing.T) {
	for _, c := range []password.Config{password.Almere(), password.Portero(), password.NIST(false)} {
		p := mustPolicy(t, c)
		seen := map[string]bool{}
		for range 20 {
			pw, err := p.TemporaryPassword(nil)
			require.NoError(t, err)
			assert.NoError(t, p.Check(pw, password.User{}), "meets its own policy")
			assert.GreaterOrEqual(t, len(pw), password.TemporaryLength)
			assert.Len(t, pw, max(password.TemporaryLength, c.MinLength))
			assert.False(t, strings.ContainsAny(pw, "0O1lI|"), "no look-alikes: %s", pw)
			assert.False(t, seen[pw])
			seen[pw] = true
		}
	}
	_, err := mustPolicy(t, password.Almere()).TemporaryPassword(strings.NewReader("short"))
	assert.Error(t, err, "a failing source of randomness")
}

package password

import (
	cryptorand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// DefaultTemporaryFor is how long a temporary password stays usable when
// [Config].TemporaryFor is zero: as long as a reset link.
const DefaultTemporaryFor = time.Hour

// Period is a span of calendar time, such as 3 months or 14 days, as the
// portals' rules state them: a month is not a fixed number of hours.
type Period struct {
	Months int
	Days   int
}

// IsZero reports whether p is the zero Period, which policies read as
// "never".
func (p Period) IsZero() bool { return p == Period{} }

// AddTo returns t plus p in t's location: first the months, then the days.
// Where the day of the month does not exist in the target month, the result
// is its last day: 31 May plus 3 months is 31 August, 30 November plus 3
// months is 28 (or 29) February, never 2 March.
func (p Period) AddTo(t time.Time) time.Time {
	if p.Months != 0 {
		y, m, d := t.Date()
		hh, mm, ss := t.Clock()
		first := time.Date(y, m+time.Month(p.Months), 1, hh, mm, ss, t.Nanosecond(), t.Location())
		if last := daysIn(first); d > last {
			d = last
		}
		t = time.Date(first.Year(), first.Month(), d, hh, mm, ss, t.Nanosecond(), t.Location())
	}
	return t.AddDate(0, 0, p.Days)
}

// SubFrom returns t minus p, with the same rules as [Period.AddTo].
func (p Period) SubFrom(t time.Time) time.Time {
	return Period{Months: -p.Months, Days: -p.Days}.AddTo(t)
}

// String returns p as an ISO 8601 duration, such as "P3M" or "P14D".
func (p Period) String() string {
	if p.IsZero() {
		return "P0D"
	}
	s := "P"
	if p.Months != 0 {
		s += strconv.Itoa(p.Months) + "M"
	}
	if p.Days != 0 {
		s += strconv.Itoa(p.Days) + "D"
	}
	return s
}

func daysIn(t time.Time) int {
	return time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// Account holds the timestamps of a user account that [Policy.Status] needs.
// The application stores them; zero times mean "never" or "unknown".
type Account struct {
	Created     time.Time // when the account was created
	LastLogin   time.Time // the last successful login
	Reactivated time.Time // when an administrator last reactivated the account
	PasswordSet time.Time // when the current password was set
	Temporary   bool      // the current password is temporary: it must be replaced at the next login
}

// Status is the state of an account and its password at one moment, as
// [Policy.Status] computes it.
type Status struct {
	// Inactive means the account has had no login for the policy's
	// Inactivity period: refuse the login. NoReactivation means an
	// administrator cannot reactivate it but must create the user anew.
	Inactive       bool
	NoReactivation bool

	// ExpiresAt is when the password expires; zero if it never does.
	ExpiresAt time.Time

	// Expired means the password is past ExpiresAt: the user may log in
	// only to choose a new password.
	Expired bool

	// Warn means the password expires within the policy's Warn period;
	// DaysLeft is then the number of calendar days left, in the
	// location of the time given to Status (0: it expires today).
	Warn     bool
	DaysLeft int

	// Temporary means the password is temporary; TemporaryExpired means it
	// is too old to be used at all: refuse the login, the user needs a
	// new one.
	Temporary        bool
	TemporaryExpired bool
}

// MustChange reports whether the user must choose a new password before
// anything else: the password has expired or is temporary.
func (s Status) MustChange() bool { return s.Expired || s.Temporary }

// CanLogin reports whether a login with the current password may proceed:
// the account is active and the password is not a stale temporary one.
func (s Status) CanLogin() bool { return !s.Inactive && !s.TemporaryExpired }

// Message returns the notice to show at login, in Dutch or English (see
// [Violation.Message]): that the password has expired, or in how many days
// it will ("Uw wachtwoord verloopt over 9 dagen."). It returns "" when there
// is nothing to say.
func (s Status) Message(tag language.Tag) string {
	switch {
	case s.Expired:
		return messages.Sprintf(tag, keyExpired)
	case s.Warn:
		return messages.Sprintf(tag, keyExpiresIn, s.DaysLeft)
	}
	return ""
}

// Status returns the state of account a at time now under the policy. It is
// a pure function of its arguments: pass the time from your clock.
//
// The last activity of an account is the latest of its Created,
// LastLogin and (unless the policy has NoReactivation) Reactivated times; the account
// is inactive once the policy's Inactivity has passed since then. An account
// without any of these times is never inactive.
func (p *Policy) Status(a Account, now time.Time) Status {
	s := Status{NoReactivation: p.c.NoReactivation, Temporary: a.Temporary}

	if !p.c.Inactivity.IsZero() {
		last := a.Created
		if a.LastLogin.After(last) {
			last = a.LastLogin
		}
		if !p.c.NoReactivation && a.Reactivated.After(last) {
			last = a.Reactivated
		}
		s.Inactive = !last.IsZero() && !now.Before(p.c.Inactivity.AddTo(last))
	}

	if a.Temporary && !a.PasswordSet.IsZero() {
		s.TemporaryExpired = !now.Before(a.PasswordSet.Add(p.temporaryFor()))
	}

	if !p.c.MaxAge.IsZero() && !a.PasswordSet.IsZero() && !a.Temporary {
		s.ExpiresAt = p.c.MaxAge.AddTo(a.PasswordSet)
		s.Expired = !now.Before(s.ExpiresAt)
		if !s.Expired && !p.c.Warn.IsZero() && !now.Before(p.c.Warn.SubFrom(s.ExpiresAt)) {
			s.Warn = true
			s.DaysLeft = calendarDays(now, s.ExpiresAt)
		}
	}
	return s
}

// calendarDays returns the number of calendar days from the date of a to the
// date of b, both taken in a's location: 0 if b is later the same day.
func calendarDays(a, b time.Time) int {
	b = b.In(a.Location())
	ya, ma, da := a.Date()
	yb, mb, db := b.Date()
	d := time.Date(yb, mb, db, 0, 0, 0, 0, time.UTC).Sub(time.Date(ya, ma, da, 0, 0, 0, 0, time.UTC))
	return int(d / (24 * time.Hour))
}

// temporaryAlphabets are the characters of temporary passwords, per
// category, without look-alikes (0 O o 1 l I |) that are hard to copy from
// an e-mail.
var temporaryAlphabets = [...]string{
	"ABCDEFGHJKLMNPQRSTUVWXYZ",
	"abcdefghijkmnpqrstuvwxyz",
	"23456789",
	"!#$%&*+-=?@",
}

// TemporaryLength is the least length of a password from
// [Policy.TemporaryPassword].
const TemporaryLength = 16

// TemporaryPassword returns a random temporary password that meets the
// policy, such as the one an administrator's new user gets: 16 characters
// (or the policy's minimum, if longer) with every category, drawn from rand
// (nil: crypto/rand). For a new account, store its hash as the password with
// [Account].Temporary set and PasswordSet now; [Policy.Status] then demands a
// new password at the first login and refuses the temporary one after
// TemporaryFor. For an existing account, never replace the password: issue a
// temporary password with package reset, which keeps the current one
// working until the temporary one is used.
func (p *Policy) TemporaryPassword(rand io.Reader) (string, error) {
	r := rand
	if r == nil {
		r = cryptorand.Reader
	}
	all := strings.Join(temporaryAlphabets[:], "")
	n := max(TemporaryLength, p.minLength())
	for range 100 {
		var b strings.Builder
		for i := range n {
			set := all
			if i < len(temporaryAlphabets) {
				set = temporaryAlphabets[i] // one of each category first
			}
			k, err := randomIndex(r, len(set))
			if err != nil {
				return "", err
			}
			b.WriteByte(set[k])
		}
		s := []byte(b.String())
		// Shuffle, so the categories are not in fixed places.
		for i := len(s) - 1; i > 0; i-- {
			j, err := randomIndex(r, i+1)
			if err != nil {
				return "", err
			}
			s[i], s[j] = s[j], s[i]
		}
		if p.Check(string(s), User{}) == nil {
			return string(s), nil
		}
	}
	return "", errors.New("password: no temporary password meets the policy")
}

// randomIndex returns a uniform random number in [0, n), n ≤ 256.
func randomIndex(r io.Reader, n int) (int, error) {
	limit := 256 - 256%n
	var buf [1]byte
	for {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return 0, fmt.Errorf("password: reading random bytes: %w", err)
		}
		if int(buf[0]) < limit {
			return int(buf[0]) % n, nil
		}
	}
}

package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/password/otp"
)

func TestLoginWithCode(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()

	status, _ := b.get("/clients")
	require.Equal(t, http.StatusOK, status)
	// Not logged in: the page is the login form.
	_, body := b.get("/clients")
	assert.Contains(t, body, `action="/login"`)

	b.login("jdevries")
	status, body = b.get("/clients")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "Cliënt opzoeken")

	// Logging out ends the session on the server.
	b.post("/logout", nil)
	_, body = b.get("/clients")
	assert.Contains(t, body, `action="/login"`)
}

func TestPasswordStepAloneGivesNoAccess(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	status, _ := b.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
	require.Equal(t, http.StatusOK, status)
	for _, path := range []string{"/", "/clients", "/uploads", "/reports", "/password"} {
		_, body := b.get(path)
		assert.Contains(t, body, `action="/login/code"`, "%s before the code", path)
	}
}

func TestNoUserEnumeration(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	unknownStatus, unknown := b.post("/login", url.Values{"username": {"nobody"}, "password": {"Whatever-123!"}})
	wrongStatus, wrong := b.post("/login", url.Values{"username": {"jdevries"}, "password": {"Whatever-123!"}})
	assert.Equal(t, http.StatusUnauthorized, unknownStatus)
	assert.Equal(t, unknownStatus, wrongStatus)
	assert.Equal(t, strings.Replace(text(unknown), "nobody", "X", 1), strings.Replace(text(wrong), "jdevries", "X", 1),
		"unknown user and wrong password get the same page")

	// Reset requests: the same answer for a known and an unknown address.
	_, known := b.post("/password/forgot", url.Values{"email": {"jan.devries@zonnehuis.example"}})
	_, unknownAddr := b.post("/password/forgot", url.Values{"email": {"niemand@zonnehuis.example"}})
	assert.Equal(t, known, unknownAddr)
	assert.NotEmpty(t, p.sent.last("jdevries", "Wachtwoord herstellen"), "the known address got a link")
}

// TestLoginTiming checks that an unknown user and a wrong password take
// about as long: both wait for the portal's fixed answer time.
func TestLoginTiming(t *testing.T) {
	p := newTestPortal(t)
	p.a.answerTime = 200 * time.Millisecond
	b := p.browser()
	measure := func(username string) time.Duration {
		start := time.Now()
		b.post("/login", url.Values{"username": {username}, "password": {"Whatever-123!"}})
		return time.Since(start)
	}
	for _, u := range []string{"nobody", "jdevries"} {
		assert.GreaterOrEqual(t, measure(u), 200*time.Millisecond, u)
	}
}

func TestThrottling(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	for range 5 {
		status, _ := b.post("/login", url.Values{"username": {"jdevries"}, "password": {"wrong"}})
		require.Equal(t, http.StatusUnauthorized, status)
	}
	// From the 5th failure on, even the right password waits.
	status, body := b.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Contains(t, body, msgLoginFailed)

	// After the back-off, the right password works again.
	p.clock.Advance(16 * time.Minute)
	b.login("jdevries")
}

func TestVerificationCode(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
	first := p.sent.code("jdevries")

	// Wrong codes say how many tries are left.
	wrong := "000000"
	if wrong == first {
		wrong = "111111"
	}
	status, body := b.post("/login/code", url.Values{"code": {wrong}})
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Contains(t, body, "nog 4 keer proberen")

	// A new login attempt gets a new code, which invalidates the first.
	p.clock.Advance(time.Minute)
	b.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
	second := p.sent.code("jdevries")
	if first != second {
		status, _ = b.post("/login/code", url.Values{"code": {first}})
		assert.Equal(t, http.StatusUnauthorized, status, "the previous code is void")
	}

	// A code expires after 5 minutes.
	p.clock.Advance(6 * time.Minute)
	status, _ = b.post("/login/code", url.Values{"code": {second}})
	assert.Equal(t, http.StatusUnauthorized, status, "expired")

	// A fresh one works, once.
	b.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
	code := p.sent.code("jdevries")
	status, _ = b.post("/login/code", url.Values{"code": {code}})
	assert.Equal(t, http.StatusOK, status)
	other := p.browser()
	other.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
	// The new attempt has its own code; the used one is not accepted for it.
	if p.sent.code("jdevries") != code {
		status, _ = other.post("/login/code", url.Values{"code": {code}})
		assert.Equal(t, http.StatusUnauthorized, status)
	}
}

func TestResendCooldown(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
	_, body := b.post("/login/code/resend", nil)
	assert.Contains(t, body, "Wacht 30 seconden")
	p.clock.Advance(31 * time.Second)
	_, body = b.post("/login/code/resend", nil)
	assert.Contains(t, body, "nieuwe code verstuurd")
}

func TestPasswordChangeAndHistory(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	old := p.passwords["jdevries"]

	status, body := b.post("/password", url.Values{"current": {old}, "new": {"kort"}, "repeat": {"kort"}})
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, body, "8 tekens", "Portero: at least 8 characters, in Dutch")

	status, body = b.post("/password", url.Values{"current": {old}, "new": {old}, "repeat": {old}})
	assert.Equal(t, http.StatusUnprocessableEntity, status, "the current password is in the history")
	assert.Contains(t, body, "12", "names the history rule")

	next := "Rivier!Koffie7"
	status, body = b.post("/password", url.Values{"current": {old}, "new": {next}, "repeat": {next}})
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `id="done"`)

	status, _ = b.post("/password", url.Values{"current": {next}, "new": {old}, "repeat": {old}})
	assert.Equal(t, http.StatusUnprocessableEntity, status, "not one of the last 12")

	b.post("/logout", nil)
	p.clock.Advance(time.Minute) // past the resend cooldown of the first login's code
	b.loginWith("jdevries", next)
}

func TestLoginAgainWithinCooldown(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	b.post("/logout", nil)
	status, body := b.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "seconden voordat u een nieuwe aanvraagt", "told to wait for a new code")
	p.clock.Advance(31 * time.Second)
	b.post("/login/code/resend", nil)
	status, _ = b.post("/login/code", url.Values{"code": {p.sent.code("jdevries")}})
	assert.Equal(t, http.StatusOK, status)
}

func TestExpiryWarningAndForcedChange(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()

	// Portero: passwords are valid 3 months, with a warning from 2 weeks
	// before expiry.
	p.clock.Advance(80 * 24 * time.Hour)
	b.login("jdevries")
	_, body := b.get("/clients")
	assert.Contains(t, body, `id="notice"`, "warning before expiry")
	assert.Contains(t, body, `href="/password"`)

	b.post("/logout", nil)
	p.clock.Advance(20 * 24 * time.Hour) // past 3 months
	b.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
	status, body := b.post("/login/code", url.Values{"code": {p.sent.code("jdevries")}})
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `action="/password"`, "expired: straight to the change form")
	_, body = b.get("/clients")
	assert.Contains(t, body, `action="/password"`, "nothing else until the password is changed")

	next := "Nieuw!Wachtwoord9"
	status, body = b.post("/password", url.Values{"current": {p.passwords["jdevries"]}, "new": {next}, "repeat": {next}})
	require.Equal(t, http.StatusOK, status, body)
	_, body = b.get("/clients")
	assert.Contains(t, body, "Cliënt opzoeken")
}

func TestInactiveAccount(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	b.post("/logout", nil)
	p.clock.Advance(190 * 24 * time.Hour) // over 6 months without a login
	status, body := b.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, body, "inactief")
}

func TestResetLink(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.post("/password/forgot", url.Values{"email": {"Jan.DeVries@zonnehuis.example"}})
	mail := p.sent.last("jdevries", "Wachtwoord herstellen")
	require.NotEmpty(t, mail)
	link := mail[strings.Index(mail, "/password/reset?token="):]
	link = link[:strings.IndexAny(link, "\n ")]
	token, err := url.ParseQuery(link[strings.Index(link, "?")+1:])
	require.NoError(t, err)

	status, body := b.get(link)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `name="token"`)

	next := "Herstel!Wachtwoord5"
	status, body = b.post("/password/reset", url.Values{"token": {token.Get("token")}, "new": {next}, "repeat": {next}})
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `id="done"`)

	// The link works once.
	status, _ = b.post("/password/reset", url.Values{"token": {token.Get("token")}, "new": {"Ander!Wachtwoord6"}, "repeat": {"Ander!Wachtwoord6"}})
	assert.Equal(t, http.StatusGone, status)

	b.loginWith("jdevries", next)
}

func TestResetLinkInvalidatedByNewerRequest(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.post("/password/forgot", url.Values{"email": {"jan.devries@zonnehuis.example"}})
	first := p.sent.last("jdevries", "Wachtwoord herstellen")
	p.clock.Advance(time.Minute)
	b.post("/password/forgot", url.Values{"email": {"jan.devries@zonnehuis.example"}})
	tok := resetToken
	status, _ := b.post("/password/reset", url.Values{"token": {tok(first)}, "new": {"Herstel!Wachtwoord5"}, "repeat": {"Herstel!Wachtwoord5"}})
	assert.Equal(t, http.StatusGone, status)

	// An hour later, the newer link has expired too.
	p.clock.Advance(61 * time.Minute)
	status, _ = b.post("/password/reset", url.Values{"token": {tok(p.sent.last("jdevries", "Wachtwoord herstellen"))}, "new": {"Herstel!Wachtwoord5"}, "repeat": {"Herstel!Wachtwoord5"}})
	assert.Equal(t, http.StatusGone, status)
}

// resetToken returns the token of the reset link in mail.
func resetToken(mail string) string {
	i := strings.Index(mail, "token=") + len("token=")
	v, _ := url.QueryUnescape(mail[i : i+strings.IndexAny(mail[i:], "\n ")])
	return v
}

func TestAlmereTemporaryPassword(t *testing.T) {
	p := newTestPortal(t, func(c *config) { c.Policy = "almere" })
	b := p.browser()
	b.post("/password/forgot", url.Values{"email": {"jan.devries@zonnehuis.example"}})
	mail := p.sent.last("jdevries", "Nieuw wachtwoord")
	require.NotEmpty(t, mail)
	temp := strings.TrimSpace(strings.SplitN(strings.SplitN(mail, ": ", 2)[1], "\n", 2)[0])

	b.post("/login", url.Values{"username": {"jdevries"}, "password": {temp}})
	_, body := b.post("/login/code", url.Values{"code": {p.sent.code("jdevries")}})
	assert.Contains(t, body, `action="/password"`, "a temporary password must be replaced at once")
	next := "Almere!Wachtwoord42"
	status, body := b.post("/password", url.Values{"current": {temp}, "new": {next}, "repeat": {next}})
	require.Equal(t, http.StatusOK, status, body)
}

func TestSecurityHeaders(t *testing.T) {
	p := newTestPortal(t)
	resp, err := http.Get(p.srv.URL + "/login")
	require.NoError(t, err)
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	assert.Contains(t, csp, "frame-ancestors 'none'")
	assert.Contains(t, csp, "script-src 'self'")
	assert.NotContains(t, csp, "unsafe-inline")
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	assert.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
}

func TestCrossOriginPostRefused(t *testing.T) {
	p := newTestPortal(t)
	req, err := http.NewRequest(http.MethodPost, p.srv.URL+"/login", strings.NewReader("username=jdevries&password=x"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
}

func TestSessionCookie(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	u, _ := url.Parse(p.srv.URL)
	cookies := b.c.Jar.Cookies(u)
	require.Len(t, cookies, 1)
	// The cookie jar hides the attributes; check them on the raw answer.
	raw := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := raw.PostForm(p.srv.URL+"/login", url.Values{"username": {"linde"}, "password": {p.passwords["linde"]}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	set := resp.Header.Get("Set-Cookie")
	assert.Contains(t, set, "HttpOnly")
	assert.Contains(t, set, "SameSite=Lax")
}

func TestSessionIdleTimeout(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	b.login("jdevries")
	p.clock.Advance(31 * time.Minute)
	_, body := b.get("/clients")
	assert.Contains(t, body, `action="/login"`, "idle too long")
}

func TestNewSessionIDAtLogin(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	u, _ := url.Parse(p.srv.URL)
	b.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
	before := b.c.Jar.Cookies(u)[0].Value
	b.post("/login/code", url.Values{"code": {p.sent.code("jdevries")}})
	after := b.c.Jar.Cookies(u)[0].Value
	assert.NotEqual(t, before, after, "a new session id once the login is complete")
}

func TestResetRequestsThrottled(t *testing.T) {
	p := newTestPortal(t)
	b := p.browser()
	for range 8 {
		status, _ := b.post("/password/forgot", url.Values{"email": {"jan.devries@zonnehuis.example"}})
		require.Equal(t, http.StatusOK, status, "always the same answer")
	}
	n := 0
	for _, m := range p.sent.msgs {
		if m.To == "jdevries" && m.Subject == "Wachtwoord herstellen" {
			n++
		}
	}
	assert.Equal(t, 5, n, "from the 5th request on, no more mail until the back-off has passed")
}

// TestThrottleAcrossVariantsAndFactors: the account's count is not escaped
// by writing the username differently, nor at the second step by asking
// for a new code or by using the authenticator app. (TestThrottling and
// TestVerificationCode try one spelling and one code.)
func TestThrottleAcrossVariantsAndFactors(t *testing.T) {
	wrongCode := func(right string) string {
		if right == "000000" {
			return "111111"
		}
		return "000000"
	}
	tests := []struct {
		name   string
		attack func(t *testing.T, p *testPortal, b *browser) (right func() (int, string))
	}{
		{"password: username in other case and with spaces", func(t *testing.T, p *testPortal, b *browser) func() (int, string) {
			for _, name := range []string{"JDevries", " jdevries", "jdevries\t", "JDEVRIES", "\u00a0jDeVrIeS\n"} {
				status, _ := b.post("/login", url.Values{"username": {name}, "password": {"Geraden!Wachtwoord1"}})
				require.Equal(t, http.StatusUnauthorized, status)
			}
			return func() (int, string) {
				return b.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
			}
		}},
		{"code: a new code buys no guesses", func(t *testing.T, p *testPortal, b *browser) func() (int, string) {
			b.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
			for range 4 {
				status, _ := b.post("/login/code", url.Values{"code": {wrongCode(p.sent.code("jdevries"))}})
				require.Equal(t, http.StatusUnauthorized, status)
			}
			p.clock.Advance(31 * time.Second)
			_, body := b.post("/login/code/resend", nil)
			require.Contains(t, body, "nieuwe code verstuurd")
			status, _ := b.post("/login/code", url.Values{"code": {wrongCode(p.sent.code("jdevries"))}})
			require.Equal(t, http.StatusUnauthorized, status)
			return func() (int, string) { return b.post("/login/code", url.Values{"code": {p.sent.code("jdevries")}}) }
		}},
		{"authenticator app", func(t *testing.T, p *testPortal, b *browser) func() (int, string) {
			secret, err := otp.NewTOTPSecret()
			require.NoError(t, err)
			id := userID(t, p, "jdevries")
			_, err = p.a.db.Exec(`UPDATE users SET channel = 'totp', totp_secret = $1 WHERE id = $2`, []byte(p.a.field.Encrypt("users.totp_secret:"+id, secret)), id)
			require.NoError(t, err)
			b.post("/login", url.Values{"username": {"jdevries"}, "password": {p.passwords["jdevries"]}})
			for range 5 {
				status, _ := b.post("/login/code", url.Values{"code": {wrongCode(otp.TOTPAt(secret, p.clock.Now()))}})
				require.Equal(t, http.StatusUnauthorized, status)
			}
			return func() (int, string) {
				return b.post("/login/code", url.Values{"code": {otp.TOTPAt(secret, p.clock.Now())}})
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestPortal(t)
			b := p.browser()
			right := tt.attack(t, p, b)
			status, body := right()
			assert.Equal(t, http.StatusUnauthorized, status, "after 5 failures the right answer waits too")
			assert.NotContains(t, body, `id="whoami"`)
			assert.Contains(t, strings.ToLower(text(body)), "te veel", "refused for the count, not as wrong")
		})
	}
}

package password_test

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/password"
)

var knownCodes = map[password.Code]bool{
	password.CodeTooShort: true, password.CodeTooLong: true, password.CodeInvalidCharacter: true,
	password.CodeMissingCategory: true, password.CodeTooFewCategories: true, password.CodeContainsName: true,
	password.CodeCommon: true, password.CodeGuessable: true,
}

// FuzzPolicyCheck checks that the presets never panic, report only known
// codes with a message, agree with the length rules, and keep the password
// out of the error text.
func FuzzPolicyCheck(f *testing.F) {
	for _, s := range []string{"", "Welkom01!", "Zomer2024!", "kT9#mQ2vLx!p", "ｐａｓｓｗｏｒｄ", "e\u0301\u0301\u0301",
		"\xff\xfe", "1111111111111111111111111111111111111111a1111111111111111111111111", strings.Repeat("aA1!", 40),
		"Q1w2e3r4!", "1qaz2wsx!Q", "!QAZ2wsx#EDC", "²³&é\"'(-è_çà", "üÜ+*öÖäÄ#'", "Q1w2e3r4t5y6u7i8o9p0[{]}\\|"} {
		f.Add(s, "Jan de Vries")
	}
	f.Add(strings.Repeat("aA1!", 25_000), "Jan de Vries") // 100,000 characters
	f.Add(strings.Repeat("Vries", 20_000), strings.Repeat("Jan de Vries ", 100))
	var policies []*password.Policy
	for _, c := range []password.Config{password.Portero(), password.Almere(), password.NIST(false, "portero"), password.NIST(true)} {
		policies = append(policies, mustPolicy(f, c))
	}
	f.Fuzz(func(t *testing.T, pw, name string) {
		user := password.User{Name: name, Username: name, Email: name + "@zorg.nl"}
		n := utf8.RuneCountInString(password.Normalize(strings.ToValidUTF8(pw, "\uFFFD")))
		for _, p := range policies {
			err := p.Check(pw, user)
			if err == nil {
				if n < p.Config().MinLength || n > password.MaxLength {
					t.Fatalf("%q (%d characters) accepted by a policy with minimum %d", pw, n, p.Config().MinLength)
				}
				continue
			}
			var perr *password.PolicyError
			if !errors.As(err, &perr) || len(perr.Violations) == 0 {
				t.Fatalf("Check(%q) = %v, want a *PolicyError", pw, err)
			}
			short := false
			for _, v := range perr.Violations {
				if !knownCodes[v.Code] {
					t.Fatalf("unknown code %q", v.Code)
				}
				if v.Message(language.Dutch) == "" || v.Message(language.English) == "" {
					t.Fatalf("no message for %v", v)
				}
				short = short || v.Code == password.CodeTooShort
			}
			if short != (n < p.Config().MinLength) {
				t.Fatalf("%q has %d characters; too_short reported: %v (minimum %d)", pw, n, short, p.Config().MinLength)
			}
			list := strings.TrimPrefix(err.Error(), "password: rejected by policy: ")
			if len(pw) >= 6 && strings.Contains(list, pw) {
				t.Fatalf("error %q contains the password", err)
			}
		}
	})
}

// TestPolicyLinearTime checks that checking an input of MaxInputBytes (the
// largest that is examined at all) costs about ten times as much as one of a
// tenth of that, not a hundred: no rule is super-linear. The fastest of three interleaved runs of each is
// compared, with a wide margin, and a ratio above it is measured again
// before it counts: noise from other processes comes and goes, a quadratic
// rule fails every time.
func TestPolicyLinearTime(t *testing.T) {
	shapes := map[string]string{
		"letters":        "a",
		"digits":         "1",
		"mixed":          "aA1!",
		"non-ASCII":      "é",
		"decomposed":     "e\u0301",
		"digits, letter": "1111111a",
		"name parts":     "vries",
	}
	config := password.NIST(true, "portero")
	config.Rules = append(config.Rules, password.Require(password.AllCategories), password.RequireAtLeast(3, password.AllCategories))
	policy := mustPolicy(t, config)
	user := password.User{Name: "Jan de Vries " + strings.Repeat("x", 1000), Username: "jdevries", Email: "j.devries@zorg.nl"}
	// CPU time of the thread, not wall time: a test that shares the machine
	// is descheduled, but does not use more CPU for it. The goroutine stays
	// on one thread while it measures, and repeats the check for at least
	// 20 ms, since some kernels count thread time in ticks.
	timeOf := func(s string) time.Duration {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		start := threadCPUTime()
		n := 0
		for elapsed := time.Duration(0); elapsed < 20*time.Millisecond; elapsed = threadCPUTime() - start {
			_ = policy.Check(s, user)
			n++
		}
		return (threadCPUTime() - start) / time.Duration(n)
	}
	ratio := func(small, large string) (float64, time.Duration, time.Duration) {
		ts, tl := time.Duration(1<<62), time.Duration(1<<62)
		for range 3 {
			ts = min(ts, timeOf(small))
			tl = min(tl, timeOf(large))
		}
		ts = max(ts, time.Microsecond)
		return float64(tl) / float64(ts), ts, tl
	}
	for name, unit := range shapes {
		t.Run(name, func(t *testing.T) {
			small := strings.Repeat(unit, password.MaxInputBytes/10/len(unit))
			large := strings.Repeat(unit, password.MaxInputBytes/len(unit))
			for try := 1; ; try++ {
				r, ts, tl := ratio(small, large)
				if r <= 40 {
					return
				}
				if try == 3 {
					t.Errorf("10× the input took %.0f× the time (%v vs %v), three times: super-linear", r, tl, ts)
					return
				}
			}
		})
	}
}

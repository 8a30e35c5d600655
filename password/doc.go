// Package password decides whether a password is acceptable and keeps it
// safe, as Dutch care portals need: password policies (with exact presets of
// CIZ's Portero and the municipality of Almere's Gemeenteportaal, and one
// after NIST SP 800-63B-4), password history, expiry and inactivity, and
// argon2id hashing.
//
// Its subpackages do the rest of a login: package otp the second factor
// (one-time passwords by e-mail or SMS, and TOTP), package throttle the
// limits on failed attempts, package reset "forgot password" links and
// temporary passwords, and package email the rules for an account's e-mail
// address.
//
// # Policies
//
// A [Config] holds length limits and composable [Rule] values ([Require],
// [RequireAtLeast], [NoNameParts], [NotCommon]); [NewPolicy] checks it once,
// where it is built, and returns the [Policy]. [Policy.Check] returns every
// [Violation] at once, in a [*PolicyError]; each has a stable [Code], its
// parameters, and a message in Dutch (the default) or English that says what
// to do:
//
//	policy, err := password.NewPolicy(password.Portero()) // at start-up
//	…
//	err = policy.Check(pw, password.User{Name: "Jan de Vries"})
//	var perr *password.PolicyError
//	if errors.As(err, &perr) {
//		for _, msg := range perr.Messages(language.Dutch) { … }
//	}
//
// [ErrorMessage] gives the same for every other error a user sees, of this
// package and its subpackages: a wrong or expired one-time password, a wait
// after failed logins, an invalid reset link.
//
// Lengths count Unicode code points of the NFKC form ([Normalize]), which is
// also the form that is hashed, so that a password typed on another keyboard
// or system is the same password. Nothing is ever truncated. Every policy
// accepts at least 64 characters and refuses more than 128, which bounds the
// cost of checking and hashing.
//
// [Portero], [Almere] and [NIST] return presets; each call returns a new
// Config, which the caller may adjust before building the Policy.
// [Policy.CheckNew] adds the history rule ("not one of the last 12") and
// [Policy.Status] computes expiry, the warning before it, forced changes and
// inactivity from an account's timestamps.
//
// # Where the portals' rules and current standards disagree
//
// The presets implement the portals' rules exactly, as their pages state
// them. NIST SP 800-63B-4 (2025) and OWASP ASVS 5.0 (2025) advise against
// several of them; choose knowingly:
//
//   - Composition rules. Portero demands 3 of 4 character categories and
//     Almere all 4. NIST §3.1.1.2 says verifiers SHALL NOT impose
//     composition rules, and ASVS 5.0 (chapter V6, Authentication) likewise: they push people
//     towards predictable patterns such as Welkom01! and Zomer2024!, which
//     meet both portals' rules and are among the first guesses of any
//     attacker. The standards rely on length and a blocklist instead
//     ([NotCommon]); adding NotCommon to a portal preset keeps its rules and
//     refuses those patterns.
//   - Minimum length. NIST requires 15 characters for a password that is the
//     only factor and 8 where it is one factor of several; ASVS 5 requires 8
//     and recommends 15. Portero (8, no second factor) is below NIST's
//     single-factor minimum; Almere (10, with a code at every login) meets
//     both.
//   - Periodic expiry. Portero expires passwords every 3 months. NIST says
//     verifiers SHALL NOT require periodic changes, only a change on evidence
//     of compromise, and ASVS 5 agrees: forced changes lead to weaker,
//     incremented passwords. [NIST] has no expiry.
//   - Password history. Portero's "not one of the last 12" only makes sense
//     with forced changes; the standards do not require it.
//   - E-mailed and SMS codes. Almere sends the login verification code by
//     e-mail or SMS. NIST §3.1.3 classes SMS (the public telephone network)
//     as a restricted authenticator, to be offered only with an alternative
//     and after informing users of the risks, and does not accept e-mail as
//     an out-of-band channel at all, since e-mail proves no possession of a
//     device; ASVS 5.0 likewise ranks them below authenticator apps. Package
//     otp implements the portal's flow, and TOTP (RFC 6238, an authenticator
//     app), the stronger alternative to offer alongside.
//   - Blocklist. Neither portal mentions one; NIST and ASVS 5 require
//     checking new passwords against lists of common, expected or
//     compromised passwords. [NotCommon] does so with an embedded list; it
//     does not query breach corpora such as Have I Been Pwned.
//
// Neither portal states how failed logins are limited; both standards
// require it (package throttle). Portero's reset link is what the standards
// describe, single use and short-lived (package reset); Almere's e-mailed
// temporary password serves the same purpose as long as it is short-lived,
// single use and must be replaced at once, and as long as asking for one
// does not replace the current password, which anyone could otherwise do to
// anyone (package reset keeps it apart until it is used; [Policy.Status]
// enforces the change).
//
// # Hashing
//
// [Hasher] hashes with argon2id (RFC 9106) in the PHC string format, by
// default with m = 19 MiB, t = 2, p = 1, a 16-byte salt and a 32-byte key,
// OWASP's first recommended configuration. Verification is constant-time;
// [Hasher.NeedsRehash] tells when a stored hash is weaker than the current
// parameters. Parameters read back from a stored hash are bounded (m ≤ 256
// MiB, t ≤ 10, p ≤ 16) before any work, so that a corrupted or planted hash
// cannot exhaust the server. An optional pepper, a secret kept outside the
// database, is applied with HMAC-SHA-256 before argon2id: golang.org/x/crypto's
// argon2 has no input for Argon2's own secret key, so the pepper is not the
// secret K of RFC 9106, and a peppered hash is verifiable only by this
// package with the same pepper.
//
// Every failed verification costs the same argon2id work as the login of
// an unknown user ([Hasher.VerifyUnknown]), whatever the password's length
// and the stored hash's parameters, so that timing does not reveal which
// accounts exist. Stored hashes of passphrases longer than any policy
// accepts, made by another system, verify up to [MaxInputBytes] bytes.
//
// A Hasher runs at most as many hashes at once as there are cores, within a
// memory budget, and lets a bounded number wait; beyond that it answers
// [ErrBusy] at once, which a server turns into 503 and Retry-After, rather
// than running out of memory under a burst of logins.
//
// [Hasher.Matches] checks a new password against the hashes of previous ones
// concurrently, at most GOMAXPROCS at a time, and stops at the first match.
//
// # Privacy and security
//
// No error, log line or [Violation] contains a password or key. Compare a
// submitted password only through [Hasher], which compares in constant time.
// To avoid revealing which accounts exist, handle an unknown username like a
// wrong password (throttle it under the same key, and spend the time of a
// hash with [Hasher.VerifyUnknown]), and answer reset requests for unknown
// addresses exactly as for known ones.
package password

package password_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/zorgkit/zorgkit/password"
)

var (
	sinkErr    error
	sinkString string
	sinkBool   bool
)

// benchPassword is a 12-character password that passes Portero's rules, so
// that every rule runs to the end.
var benchPassword = "Kwast7!mopZe"

var benchUser = password.User{Name: "Jan de Vries", Username: "jdevries", Email: "j.devries@zorgaanbieder.nl"}

// BenchmarkPorteroCheck is the full Portero policy check of a 12-character
// password: NFKC, length, categories, name parts. No hashing.
func BenchmarkPorteroCheck(b *testing.B) {
	p := mustPolicy(b, password.Portero())
	b.ReportAllocs()
	for b.Loop() {
		sinkErr = p.Check(benchPassword, benchUser)
	}
	if sinkErr != nil {
		b.Fatal(sinkErr)
	}
}

// BenchmarkPorteroCheckRejected is the same check of a password that breaks
// every rule, building the PolicyError.
func BenchmarkPorteroCheckRejected(b *testing.B) {
	p := mustPolicy(b, password.Portero())
	b.ReportAllocs()
	for b.Loop() {
		sinkErr = p.Check("vries", benchUser)
	}
}

// BenchmarkNISTCheck adds the blocklist: the list lookups and the
// dressed-up-word analysis.
func BenchmarkNISTCheck(b *testing.B) {
	p := mustPolicy(b, password.NIST(true, "portero"))
	_ = p.Check("load the list", password.User{})
	b.ReportAllocs()
	for b.Loop() {
		sinkErr = p.Check(benchPassword, benchUser)
	}
	if sinkErr != nil {
		b.Fatal(sinkErr)
	}
}

// BenchmarkCheckHuge checks 1 MB of combining marks (the 870 ms of
// CPU before the byte cap) and, for comparison, the largest input that is
// still normalised, 4096 bytes of them.
func BenchmarkCheckHuge(b *testing.B) {
	p := mustPolicy(b, password.NIST(true, "portero"))
	for _, n := range []int{password.MaxInputBytes, 1 << 20} {
		in := "a" + strings.Repeat("\u0301", (n-1)/2)
		b.Run("bytes="+strconv.Itoa(len(in)), func(b *testing.B) {
			for b.Loop() {
				sinkErr = p.Check(in, benchUser)
			}
		})
	}
}

// BenchmarkFailedVerify times the failed verifications that must not tell
// a known account from an unknown one (issue 15, defect 1), at the default
// parameters: all should take as long as "unknown user".
func BenchmarkFailedVerify(b *testing.B) {
	h := mustHasher(b, password.HasherConfig{})
	weakHasher := mustHasher(b, password.HasherConfig{Params: password.Params{Memory: 4096, Time: 1, Threads: 1, SaltLength: 16, KeyLength: 32}})
	stored, err := h.Hash(ctx, benchPassword)
	if err != nil {
		b.Fatal(err)
	}
	weak, err := weakHasher.Hash(ctx, benchPassword)
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name   string
		verify func() error
	}{
		{"unknown user", func() error { return h.VerifyUnknown(ctx, "wrong password") }},
		{"wrong password", func() error { return h.Verify(ctx, stored, "wrong password") }},
		{"password of 200 characters", func() error { return h.Verify(ctx, stored, strings.Repeat("x", 200)) }},
		{"stored with m=4 MiB, t=1", func() error { return h.Verify(ctx, weak, "wrong password") }},
		{"malformed stored hash", func() error { return h.Verify(ctx, "$argon2id$broken", "wrong password") }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				sinkErr = c.verify()
			}
			if sinkErr == nil {
				b.Fatal("verified")
			}
		})
	}
}

// BenchmarkHash is one argon2id hash at the defaults (m=19 MiB, t=2, p=1).
func BenchmarkHash(b *testing.B) {
	var h password.Hasher
	b.ReportAllocs()
	for b.Loop() {
		sinkString, sinkErr = h.Hash(ctx, benchPassword)
	}
}

// benchHistory returns the hashes of 12 previous passwords, at the defaults.
func benchHistory(b *testing.B, h *password.Hasher) []string {
	b.Helper()
	history := make([]string, 12)
	for i := range history {
		enc, err := h.Hash(ctx, "Vorig#wachtwoord"+strconv.Itoa(i))
		if err != nil {
			b.Fatal(err)
		}
		history[i] = enc
	}
	return history
}

// BenchmarkHistory checks a new password against 12 previous ones (none
// matches, so all 12 are hashed): Hasher.Matches, concurrent up to
// GOMAXPROCS, against a plain loop of Verify calls.
func BenchmarkHistory(b *testing.B) {
	var h password.Hasher
	history := benchHistory(b, &h)
	ctx := context.Background()
	b.Run("concurrent", func(b *testing.B) {
		for b.Loop() {
			sinkBool, sinkErr = h.Matches(ctx, benchPassword, history)
		}
		if sinkBool || sinkErr != nil {
			b.Fatal(sinkBool, sinkErr)
		}
	})
	b.Run("sequential", func(b *testing.B) {
		for b.Loop() {
			sinkBool = false
			for _, enc := range history {
				err := h.Verify(ctx, enc, benchPassword)
				if err == nil {
					sinkBool = true
					break
				}
				if !errors.Is(err, password.ErrMismatch) {
					b.Fatal(err)
				}
			}
		}
	})
}

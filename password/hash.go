package password

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are the cost parameters of argon2id (RFC 9106).
type Params struct {
	Memory     uint32 // memory in KiB (m)
	Time       uint32 // number of passes (t)
	Threads    uint8  // degree of parallelism (p)
	SaltLength uint32 // bytes of random salt
	KeyLength  uint32 // bytes of hash output
}

// DefaultParams returns the parameters that [Hasher] uses when its Params
// are zero: m = 19 MiB, t = 2, p = 1, a 16-byte salt and a 32-byte hash, the
// first of OWASP's recommended argon2id configurations.
func DefaultParams() Params {
	return Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLength: 16, KeyLength: 32}
}

// Limits on the parameters of a stored hash. [Hasher.Verify] refuses a hash
// beyond them before doing any work, so that a hostile or corrupted stored
// hash cannot exhaust memory or CPU; [Hasher.Hash] refuses Params beyond them.
const (
	MaxMemory     = 256 * 1024 // KiB: 256 MiB
	MaxTime       = 10
	MaxThreads    = 16
	minSaltLength = 8
	maxSaltLength = 64
	minKeyLength  = 16
	maxKeyLength  = 64
	// maxEncodedLength bounds the PHC string: the longest valid one, with
	// 64-byte salt and key and the largest parameters, has 206 bytes.
	maxEncodedLength = 256
	// minPepperLength is the shortest pepper [Hasher] accepts.
	minPepperLength = 32
)

// Errors of [Hasher]. Those about a stored hash are wrapped with a detail;
// test for them with errors.Is.
var (
	// ErrMismatch means the password does not match the hash. Its message
	// for the user (see [ErrorMessage]) is "the username or password is
	// incorrect".
	ErrMismatch error = &messageError{"password: the password does not match the hash", keyErrLogin}

	// ErrMalformedHash means a stored hash is not a PHC string of the form
	// $argon2id$v=19$m=…,t=…,p=…$salt$hash.
	ErrMalformedHash = errors.New("password: malformed hash: want a PHC string $argon2id$v=19$m=…,t=…,p=…$salt$hash")

	// ErrUnsupportedHash means a stored hash is of another algorithm or
	// version than argon2id version 19 (0x13), or uses the keyid or data
	// parameters.
	ErrUnsupportedHash = errors.New("password: unsupported hash: only argon2id version 19 without keyid or data is supported")

	// ErrHashLimits means the parameters of a stored hash, or of a
	// Hasher, exceed the limits (m ≤ 256 MiB, t ≤ 10, p ≤ 16): the hash is
	// refused before any work is done.
	ErrHashLimits = errors.New("password: hash parameters beyond the limits (m ≤ 262144 KiB, t ≤ 10, p ≤ 16)")

	// ErrTooLong means the password is longer than this package hashes:
	// [Hasher.Hash] takes at most [MaxLength] characters, more than any
	// policy accepts; [Hasher.Verify] and [Hasher.VerifyUnknown] take at
	// most [MaxInputBytes] bytes, so that hashes of long passphrases made
	// elsewhere still verify. Its message for the user is that of a wrong
	// password.
	ErrTooLong error = &messageError{"password: password too long: not hashed", keyErrLogin}

	// ErrBusy means too many passwords are being hashed at once: the
	// Hasher's queue is full (see [HasherConfig]). Nothing was hashed or
	// counted; answer "try again shortly", such as HTTP 503 with
	// Retry-After.
	ErrBusy error = &messageError{"password: too many passwords being hashed at once: try again shortly", keyErrBusy}

	// ErrPepper means a pepper is set but shorter than 32 bytes.
	ErrPepper = errors.New("password: pepper shorter than 32 bytes: use 32 random bytes from configuration")
)

// HasherConfig configures a [Hasher]. The zero HasherConfig gives
// [DefaultParams] and no pepper.
type HasherConfig struct {
	// Params for new hashes. Zero means [DefaultParams].
	Params Params

	// Pepper, if set, is a secret of at least 32 bytes kept outside the
	// database (in configuration or a key store). The normalised password
	// is replaced by HMAC-SHA-256(Pepper, password) before hashing, so that
	// a stolen database alone does not allow guessing. Every hash made with
	// a pepper needs the same pepper to verify: changing it invalidates all
	// stored passwords.
	Pepper []byte

	// Concurrency is how many argon2id hashes run at once: GOMAXPROCS if
	// zero. More would not finish sooner on that many cores, and each
	// holds Params.Memory.
	Concurrency int

	// MemoryLimit is the memory, in KiB, that the hashes running at once
	// may hold together: 256 MiB if zero. A hash of a stored password with
	// a larger Memory than the limit runs alone.
	MemoryLimit uint32

	// Queue is how many hashes may wait for their turn; beyond it, a call
	// fails at once with [ErrBusy]. Zero means 16 per Concurrency (with
	// the defaults, a wait of about a second); negative means none may
	// wait. A waiting call gives up when its context ends.
	Queue int

	// Rand is the source of salts. Nil means crypto/rand; set it only in
	// tests.
	Rand io.Reader
}

// Hasher hashes and verifies passwords with argon2id, in the PHC string
// format:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// with salt and hash in unpadded standard base64. The password is hashed in
// its [Normalize]d form, so that it matches however it was typed.
//
// # Memory and concurrency
//
// Each hash holds Params.Memory KiB (19 MiB by default) while it runs, so a
// burst of logins could exhaust a server's memory. A Hasher therefore runs
// at most Concurrency hashes at once, within MemoryLimit, and lets at most
// Queue more wait, in order of arrival; beyond that it refuses at once with
// [ErrBusy], which an HTTP server answers with 503 and Retry-After. Every
// call of every method counts, also those of [Policy.CheckNew].
//
// # Timing
//
// Every failed verification costs the same argon2id work as a login of an
// unknown user ([Hasher.VerifyUnknown]): that of one hash with the Hasher's
// Params (memory × passes). A stored hash with weaker parameters, until it
// is rehashed, is topped up with the difference; a stored hash that cannot
// be used costs the full amount; and a password of any length up to
// [MaxInputBytes] is hashed, known account or not. So the time of a failure
// does not reveal whether the account exists. (A stored hash with stronger
// parameters than the Hasher's, as after lowering them, costs what it
// costs: do not lower them while such hashes exist.)
//
// Build a Hasher with [NewHasher]; the zero Hasher uses the defaults. A
// Hasher is safe for concurrent use.
type Hasher struct {
	params Params
	pepper []byte
	rand   io.Reader
	lim    *limiter
	once   sync.Once // makes lim for the zero Hasher
}

// NewHasher returns a Hasher with configuration c, or an error if its
// Params are invalid or beyond the limits ([ErrHashLimits]) or its Pepper is
// shorter than 32 bytes ([ErrPepper]).
//
// Concurrency, MemoryLimit and Queue bound the work in progress (see
// [Hasher]); NewHasher refuses negative ones and a MemoryLimit below the
// Params' Memory.
func NewHasher(c HasherConfig) (*Hasher, error) {
	h := &Hasher{params: c.Params, pepper: bytes.Clone(c.Pepper), rand: c.Rand}
	p := h.paramsOrDefault()
	if err := p.check(); err != nil {
		return nil, err
	}
	if len(c.Pepper) > 0 && len(c.Pepper) < minPepperLength {
		return nil, ErrPepper
	}
	switch {
	case c.Concurrency < 0:
		return nil, errors.New("password: HasherConfig.Concurrency must not be negative")
	case c.MemoryLimit != 0 && c.MemoryLimit < p.Memory:
		return nil, fmt.Errorf("password: HasherConfig.MemoryLimit (%d KiB) is below the Memory of one hash (%d KiB)", c.MemoryLimit, p.Memory)
	}
	h.lim = newLimiter(c.Concurrency, c.MemoryLimit, c.Queue)
	return h, nil
}

// defaultHasher returns a Hasher with the defaults.
func defaultHasher() *Hasher { return new(Hasher) }

func (h *Hasher) paramsOrDefault() Params {
	if h.params == (Params{}) {
		return DefaultParams()
	}
	return h.params
}

// Hash returns the PHC string of a new argon2id hash of password, with a new
// random salt. Hash does not check the password against a policy; do that
// first with [Policy.Check]. A password of more than [MaxLength] characters
// is refused with [ErrTooLong]. It waits for its turn (see [Hasher]) and
// returns [ErrBusy] or ctx's error if it cannot have one.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	p := h.paramsOrDefault()
	in, err := h.input(password, MaxLength)
	if err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLength)
	r := h.rand
	if r == nil {
		r = rand.Reader
	}
	if _, err := io.ReadFull(r, salt); err != nil {
		return "", fmt.Errorf("password: reading random salt: %w", err)
	}
	key, err := h.idKey(ctx, in, salt, p)
	if err != nil {
		return "", err
	}
	return encode(phc{p, salt, key}), nil
}

// Verify checks password against encoded, a PHC string made by [Hasher.Hash]
// or any argon2id implementation (without pepper, unless h has the pepper it
// was made with). It returns nil if they match, [ErrMismatch] if they do
// not, an error wrapping [ErrMalformedHash], [ErrUnsupportedHash] or
// [ErrHashLimits] if encoded cannot be used (the limits are checked before
// any hashing), [ErrTooLong] for a password of more than [MaxInputBytes]
// bytes, and [ErrBusy] or ctx's error if it cannot have its turn. The
// comparison takes constant time.
//
// Every failure but ErrTooLong, ErrBusy and ctx's costs the work of one hash
// with h's parameters, as [Hasher.VerifyUnknown] does (see [Hasher]).
func (h *Hasher) Verify(ctx context.Context, encoded, password string) error {
	in, err := h.input(password, 0)
	if err != nil {
		return err
	}
	d, err := decode(encoded)
	if err != nil {
		if werr := h.work(ctx, in, h.paramsOrDefault().work()); werr != nil {
			return werr
		}
		return err
	}
	ok, err := h.matches(ctx, &d, in)
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	if target, done := h.paramsOrDefault().work(), d.work(); done < target {
		if err := h.work(ctx, in, target-done); err != nil {
			return err
		}
	}
	return ErrMismatch
}

// VerifyUnknown does the work of a failed [Hasher.Verify] and returns
// [ErrMismatch] (or [ErrTooLong], [ErrBusy] or ctx's error, as Verify would).
// Call it when a login names an account that does not exist, so that the
// answer takes as long as for a wrong password and does not reveal which
// accounts exist.
func (h *Hasher) VerifyUnknown(ctx context.Context, password string) error {
	in, err := h.input(password, 0)
	if err != nil {
		return err
	}
	if err := h.work(ctx, in, h.paramsOrDefault().work()); err != nil {
		return err
	}
	return ErrMismatch
}

// NeedsRehash reports whether encoded should be replaced by a new hash of the
// same password: it is not a hash that h can read, or its parameters are
// weaker than h's in any respect (memory, passes, parallelism, salt or hash
// length). Call it after a successful [Hasher.Verify], while the password is
// at hand.
func (h *Hasher) NeedsRehash(encoded string) bool {
	d, err := decode(encoded)
	if err != nil {
		return true
	}
	p := h.paramsOrDefault()
	return d.Memory < p.Memory || d.Time < p.Time || d.Threads < p.Threads ||
		d.SaltLength < p.SaltLength || d.KeyLength < p.KeyLength
}

// Matches reports whether password matches any of the encoded hashes, such as
// the user's previous passwords. Each costs one argon2id hash, so Matches
// runs them concurrently, at most GOMAXPROCS at a time, and stops starting
// new ones at the first match or when ctx is done.
//
// A hash that cannot be used (see [Hasher.Verify]) does not stop the others:
// if none of them matches, Matches returns false and the errors.
func (h *Hasher) Matches(ctx context.Context, password string, encoded []string) (bool, error) {
	if len(encoded) == 0 {
		return false, nil
	}
	in, err := h.input(password, MaxLength)
	if errors.Is(err, ErrTooLong) {
		return false, nil // no previous password was that long
	}
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next  atomic.Int64
		found atomic.Bool
		wg    sync.WaitGroup
		mu    sync.Mutex
		errs  []error
	)
	for range min(runtime.GOMAXPROCS(0), len(encoded)) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(encoded) {
					return
				}
				d, err := decode(encoded[i])
				if err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("previous password %d: %w", i+1, err))
					mu.Unlock()
					continue
				}
				ok, err := h.matches(ctx, &d, in)
				if err != nil {
					if ctx.Err() == nil { // not the cancel of a match
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
					return
				}
				if ok {
					found.Store(true)
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	switch {
	case found.Load():
		return true, nil
	case len(errs) > 0:
		return false, errors.Join(errs...)
	}
	// Not cancelled by a match, so by the caller's context, if at all.
	return false, context.Cause(ctx)
}

// input returns the bytes that argon2id hashes for password: its NFKC form,
// or the HMAC of that under the pepper. A password of more than
// MaxInputBytes bytes, or more than maxChars characters if maxChars > 0,
// is ErrTooLong.
func (h *Hasher) input(password string, maxChars int) ([]byte, error) {
	if len(password) > MaxInputBytes {
		return nil, ErrTooLong
	}
	pw := Normalize(password)
	if maxChars > 0 && utf8.RuneCountInString(pw) > maxChars {
		return nil, ErrTooLong
	}
	if len(h.pepper) == 0 {
		return []byte(pw), nil
	}
	m := hmac.New(sha256.New, h.pepper)
	m.Write([]byte(pw))
	return m.Sum(nil), nil
}

func (p Params) check() error {
	switch {
	case p.Time < 1 || p.Threads < 1 || p.Memory < 8*uint32(p.Threads):
		return fmt.Errorf("password: invalid Params: want t ≥ 1, p ≥ 1, m ≥ 8·p KiB")
	case p.Memory > MaxMemory || p.Time > MaxTime || p.Threads > MaxThreads:
		return ErrHashLimits
	case p.SaltLength < minSaltLength || p.SaltLength > maxSaltLength:
		return fmt.Errorf("password: invalid Params: salt length must lie between %d and %d bytes", minSaltLength, maxSaltLength)
	case p.KeyLength < minKeyLength || p.KeyLength > maxKeyLength:
		return fmt.Errorf("password: invalid Params: key length must lie between %d and %d bytes", minKeyLength, maxKeyLength)
	}
	return nil
}

// phc is a decoded argon2id PHC string.
type phc struct {
	Params
	salt, key []byte
}

// work is the argon2id work of a hash with p: memory × passes, in KiB
// block-passes. The time and CPU of a hash are proportional to it.
func (p Params) work() uint64 { return uint64(p.Memory) * uint64(p.Time) }

// matches reports whether in hashes to d's key, in constant time.
func (h *Hasher) matches(ctx context.Context, d *phc, in []byte) (bool, error) {
	key, err := h.idKey(ctx, in, d.salt, d.Params)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(key, d.key) == 1, nil
}

// work spends w units of argon2id work (see Params.work) on in, in at
// most h's memory, and throws the result away: the cost of a failed
// verification that hashed less, or nothing.
func (h *Hasher) work(ctx context.Context, in []byte, w uint64) error {
	p := h.paramsOrDefault()
	passes := (w + uint64(p.Memory) - 1) / uint64(p.Memory)
	if passes == 0 {
		return nil
	}
	memory := (w + passes - 1) / passes
	if memory < 8 {
		return nil // less than the smallest hash: nothing to spend
	}
	filler := Params{Memory: uint32(memory), Time: uint32(passes), Threads: 1, SaltLength: minSaltLength, KeyLength: minKeyLength}
	_, err := h.idKey(ctx, in, make([]byte, minSaltLength), filler)
	return err
}

// argon2Hook, if set by a test, is told the parameters of every argon2id
// hash this package computes.
var argon2Hook func(Params)

// idKey computes argon2id of in with p, in its turn (see Hasher).
func (h *Hasher) idKey(ctx context.Context, in, salt []byte, p Params) ([]byte, error) {
	lim := h.limiter()
	mem, err := lim.acquire(ctx, p.Memory)
	if err != nil {
		return nil, err
	}
	defer lim.release(mem)
	if argon2Hook != nil {
		argon2Hook(p)
	}
	return argon2.IDKey(in, salt, p.Time, p.Memory, p.Threads, p.KeyLength), nil
}

func (h *Hasher) limiter() *limiter {
	h.once.Do(func() {
		if h.lim == nil {
			h.lim = newLimiter(0, 0, 0)
		}
	})
	return h.lim
}

var b64 = base64.RawStdEncoding.Strict()

func encode(d phc) string {
	var b strings.Builder
	b.Grow(64 + b64.EncodedLen(len(d.salt)) + b64.EncodedLen(len(d.key)))
	b.WriteString("$argon2id$v=19$m=")
	b.WriteString(strconv.FormatUint(uint64(d.Memory), 10))
	b.WriteString(",t=")
	b.WriteString(strconv.FormatUint(uint64(d.Time), 10))
	b.WriteString(",p=")
	b.WriteString(strconv.FormatUint(uint64(d.Threads), 10))
	b.WriteByte('$')
	b.WriteString(b64.EncodeToString(d.salt))
	b.WriteByte('$')
	b.WriteString(b64.EncodeToString(d.key))
	return b.String()
}

// decode parses an argon2id PHC string strictly and checks its parameters
// against the limits. It allocates nothing beyond the decoded salt and key,
// whose sizes are bounded before decoding.
func decode(s string) (phc, error) {
	malformed := func(what string) (phc, error) {
		return phc{}, fmt.Errorf("%w (%s)", ErrMalformedHash, what)
	}
	if len(s) > maxEncodedLength {
		return malformed("too long")
	}
	f := strings.Split(s, "$")
	switch {
	case f[0] != "":
		return malformed("does not start with $")
	case len(f) < 2 || f[1] == "":
		return malformed("no algorithm")
	case f[1] == "argon2i" || f[1] == "argon2d":
		return phc{}, fmt.Errorf("%w (%s)", ErrUnsupportedHash, f[1])
	case f[1] != "argon2id":
		return phc{}, fmt.Errorf("%w (not argon2)", ErrUnsupportedHash)
	case len(f) == 5 && !strings.HasPrefix(f[2], "v="):
		// PHC allows leaving out the version, meaning 0x10.
		return phc{}, fmt.Errorf("%w (version 16)", ErrUnsupportedHash)
	case len(f) != 6:
		return malformed("want 6 fields separated by $")
	case !strings.HasPrefix(f[2], "v="):
		return malformed("no version")
	}
	v, ok := parseDecimal(f[2][2:])
	switch {
	case !ok:
		return malformed("version")
	case v != argon2.Version:
		return phc{}, fmt.Errorf("%w (version %d)", ErrUnsupportedHash, v)
	}
	var d phc
	params := strings.Split(f[3], ",")
	if len(params) > 3 {
		for _, kv := range params[3:] {
			if strings.HasPrefix(kv, "keyid=") || strings.HasPrefix(kv, "data=") {
				return phc{}, fmt.Errorf("%w (%s parameter)", ErrUnsupportedHash, kv[:strings.IndexByte(kv, '=')])
			}
		}
		return malformed("unknown parameter")
	}
	if len(params) != 3 {
		return malformed("want parameters m, t, p")
	}
	// RFC 9106's PHC form orders them m, t, p; some implementations (such
	// as node-argon2) write m, p, t. Any order is read, each exactly once.
	var vals [3]uint64
	var seen [3]bool
	for _, kv := range params {
		name, val, _ := strings.Cut(kv, "=")
		k := strings.Index("mtp", name)
		if len(name) != 1 || k < 0 || seen[k] {
			return malformed("want parameters m, t, p, each once")
		}
		n, ok := parseDecimal(val)
		if !ok {
			return malformed("parameter " + name)
		}
		vals[k], seen[k] = n, true
	}
	m, t, p := vals[0], vals[1], vals[2]
	switch {
	case m > MaxMemory || t > MaxTime || p > MaxThreads:
		return phc{}, ErrHashLimits
	case t < 1 || p < 1 || m < 8*p:
		return malformed("want t ≥ 1, p ≥ 1, m ≥ 8·p")
	}
	d.Memory, d.Time, d.Threads = uint32(m), uint32(t), uint8(p)

	if n := len(f[4]); n < b64.EncodedLen(minSaltLength) || n > b64.EncodedLen(maxSaltLength) {
		return malformed("salt length")
	}
	if n := len(f[5]); n < b64.EncodedLen(minKeyLength) || n > b64.EncodedLen(maxKeyLength) {
		return malformed("hash length")
	}
	// The decoder skips CR and LF even in strict mode; they have no place
	// in a PHC string.
	if strings.ContainsAny(f[4], "\r\n") || strings.ContainsAny(f[5], "\r\n") {
		return malformed("line break")
	}
	var err error
	if d.salt, err = b64.DecodeString(f[4]); err != nil {
		return malformed("salt is not unpadded base64")
	}
	if d.key, err = b64.DecodeString(f[5]); err != nil {
		return malformed("hash is not unpadded base64")
	}
	if len(d.salt) < minSaltLength || len(d.key) < minKeyLength {
		return malformed("salt or hash too short")
	}
	d.SaltLength, d.KeyLength = uint32(len(d.salt)), uint32(len(d.key))
	return d, nil
}

// parseDecimal parses a PHC decimal: digits only, no sign, no leading zero
// (except "0" itself), at most 10 digits.
func parseDecimal(s string) (uint64, bool) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

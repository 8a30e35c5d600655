package consent

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/consent/internal/canon"
	"github.com/zorgkit/zorgkit/consent/store"
)

// testKey is consenttest.Key(), which this package cannot import.
func testKey() []byte {
	sum := sha256.Sum256([]byte("zorgkit consenttest key: for tests only"))
	return sum[:]
}

// The known answers were computed independently, with Python's hmac and
// hashlib, from the definitions in the documentation.
func TestKnownAnswers(t *testing.T) {
	prev := make([]byte, 32)
	for i := range prev {
		prev[i] = byte(i)
	}
	tests := []struct {
		name, got, want string
	}{
		{"ChainOf(s1, org-a)", string(ChainOf("s1", "org-a")), "5473d490c97422c6133e3a8085fed4f88b9e5ae4e910752cf65ba5725b52117f"},
		{"first checkpoint digest", digest("", 1, map[ChainID]cpHead{"5473d490c97422c6133e3a8085fed4f88b9e5ae4e910752cf65ba5725b52117f": {3, prev}}),
			"115b837b094c7b1b567ab933abf997c8ced0e37c3f0289c2b5b2b27a43f8ac82"},
		{"second checkpoint digest, no chains", digest("115b837b094c7b1b567ab933abf997c8ced0e37c3f0289c2b5b2b27a43f8ac82", 2, nil),
			"ecfadd83b3ac990981eb2cbddcf2bcb561b755a7735e93e7c1a3153e19e83bfe"},
		{"head seal", hex.EncodeToString(headSeal(testKey(), "5473d490c97422c6133e3a8085fed4f88b9e5ae4e910752cf65ba5725b52117f", 3, prev, []byte(`{"v":2}`))),
			"ee60c1caf563589f3a66ef58d1b2fb3e089f7ad9337bf90293245e49bea55682"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.got)
		})
	}
}

// eventVectors are the known answers in testdata/events.json.
type eventVectors struct {
	Key     string `json:"key"`
	Vectors []struct {
		Name    string `json:"name"`
		Prev    string `json:"prev"`
		Payload string `json:"payload"`
		MAC     string `json:"mac"`
	} `json:"vectors"`
}

func readVectors(t testing.TB) eventVectors {
	b, err := os.ReadFile(filepath.Join("testdata", "events.json"))
	require.NoError(t, err)
	var v eventVectors
	require.NoError(t, json.Unmarshal(b, &v))
	require.NotEmpty(t, v.Vectors)
	return v
}

// TestEventVectors checks every vector: the payload decodes, encodes back to
// the same bytes, and has the MAC computed independently.
func TestEventVectors(t *testing.T) {
	v := readVectors(t)
	require.Equal(t, hex.EncodeToString(testKey()), v.Key)
	for _, tt := range v.Vectors {
		t.Run(tt.Name, func(t *testing.T) {
			e, err := decodeEvent([]byte(tt.Payload))
			require.NoError(t, err)
			assert.Equal(t, tt.Payload, string(e.encode()))
			prev, err := hex.DecodeString(tt.Prev)
			require.NoError(t, err)
			assert.Equal(t, tt.MAC, hex.EncodeToString(eventMAC(testKey(), prev, []byte(tt.Payload))))
		})
	}
	// The first vector is goldenEvent, in version 2.
	e, err := decodeEvent([]byte(v.Vectors[0].Payload))
	require.NoError(t, err)
	assert.Equal(t, goldenEvent(), e)
	assert.Equal(t, v.Vectors[0].Payload, string(goldenEvent().encode()), "the encoder writes the vector")
}

// goldenEvent is an event with every field set: the first vector of
// testdata/events.json.
func goldenEvent() *Event {
	at := time.Date(2026, 3, 12, 10, 0, 0, 120000000, time.UTC)
	hash := sha256.Sum256([]byte("form"))
	by := Actor{User: "u1", Organisation: "org-a", OnBehalfOf: "dr <jansen> & co"}
	return &Event{
		Chain:      ChainOf("s1", "org-a"),
		Seq:        1,
		Kind:       EventGiven,
		Record:     "0123456789abcdef0123456789abcdef",
		At:         at,
		RecordedAt: at,
		By:         by,
		Consent: &Record{
			ID:            "0123456789abcdef0123456789abcdef",
			Subject:       "s1",
			Organisation:  "org-a",
			Purpose:       PurposeMedicalInformation,
			Decision:      Permit,
			GivenAt:       time.Date(2026, 3, 11, 9, 30, 0, 0, time.UTC),
			ValidFrom:     time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC),
			ValidUntil:    time.Date(2027, 3, 11, 0, 0, 0, 0, time.UTC),
			PolicyVersion: "2026-1",
			Evidence:      Evidence{Kind: EvidencePaper, Reference: `map 12 "blad" 3 \ 4`, DocumentSHA256: hash[:]},
			Practitioner:  &Practitioner{Name: "Dr. É. Jansen\u2028", Function: "huisarts"},
			RecordedBy:    by,
			RecordedAt:    at,
		},
	}
}

func TestDecodeRejectsNonCanonical(t *testing.T) {
	valid := string(goldenEvent().encode())
	v1 := readVectors(t).Vectors[3].Payload
	require.True(t, strings.HasPrefix(v1, `{"v":1,`))
	tests := []struct {
		reason  string
		payload string
	}{
		{"white space", strings.Replace(valid, `"seq":1`, `"seq": 1`, 1)},
		{"members reordered", strings.Replace(valid, `"seq":1,"kind":"given"`, `"kind":"given","seq":1`, 1)},
		{"the version not first", strings.Replace(valid, `{"v":2,"chain":"`+string(ChainOf("s1", "org-a"))+`",`, `{"chain":"`+string(ChainOf("s1", "org-a"))+`","v":2,`, 1)},
		{"unknown member", strings.Replace(valid, `"seq":1,`, `"seq":1,"extra":2,`, 1)},
		{"a leading zero", strings.Replace(valid, `"seq":1,`, `"seq":01,`, 1)},
		{"a signed number", strings.Replace(valid, `"seq":1,`, `"seq":+1,`, 1)},
		{"time not in UTC", strings.Replace(valid, `"at":"2026-03-12T10:00:00.12Z"`, `"at":"2026-03-12T11:00:00.12+01:00"`, 1)},
		{"trailing zero in a fraction", strings.Replace(valid, `"at":"2026-03-12T10:00:00.12Z"`, `"at":"2026-03-12T10:00:00.120Z"`, 1)},
		{"a year out of range", strings.Replace(valid, `"validUntil":"2027-03-11T00:00:00Z"`, `"validUntil":"2200-03-11T00:00:00Z"`, 1)},
		{"an empty optional member spelled out", strings.Replace(valid, `"policyVersion"`, `"validFrom":"","policyVersion"`, 1)},
		{"HTML escaped in version 2", strings.Replace(valid, `<`, `\u003c`, 1)},
		{"HTML not escaped in version 1", strings.Replace(v1, `\u003c`, `<`, 1)},
		{"a solidus escaped", strings.Replace(valid, `"2026-1"`, `"2026\/1"`, 1)},
		{"a letter escaped", strings.Replace(valid, `"u1"`, `"\u0075\u0031"`, 1)},
		{"upper-case hexadecimal", upperHash(valid)},
		{"invalid UTF-8", strings.Replace(valid, `"u1"`, "\"u\xff\"", 1)},
		{"a raw control character", strings.Replace(valid, `"u1"`, "\"u\x01\"", 1)},
		{"other version", strings.Replace(valid, `"v":2`, `"v":3`, 1)},
		{"version 1 with a purpose member", strings.Replace(readVectors(t).Vectors[4].Payload, `"reason"`, `"purpose":"view-naw","reason"`, 1)},
		{"trailing data", valid + " "},
		{"two objects", valid + valid},
		{"not JSON", "given"},
		{"cut short", valid[:len(valid)-1]},
		{"too long", `{"v":2,"reason":"` + strings.Repeat("x", maxPayload) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			require.NotEqual(t, valid, tt.payload)
			_, err := decodeEvent([]byte(tt.payload))
			assert.Error(t, err)
		})
	}
}

func upperHash(valid string) string {
	i := strings.Index(valid, `"sha256":"`) + len(`"sha256":"`)
	return valid[:i] + strings.ToUpper(valid[i:i+64]) + valid[i+64:]
}

// TestSealRefusesWhatCannotBeRead checks that no event is appended that its
// own decoder would refuse: the store would be blocked for good.
func TestSealRefusesWhatCannotBeRead(t *testing.T) {
	tests := []struct {
		reason string
		change func(e *Event)
	}{
		{"a year beyond 9999", func(e *Event) { e.Consent.ValidUntil = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"a year beyond the range", func(e *Event) { e.Consent.ValidUntil = canon.MaxTime }},
		{"year 0", func(e *Event) { e.Consent.GivenAt = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"invalid UTF-8", func(e *Event) { e.Reason = "a\xffb" }},
		{"a record id that differs from the event's", func(e *Event) { e.Consent.ID = "other" }},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			e := goldenEvent()
			tt.change(e)
			_, err := seal(testKey(), e, nil)
			assert.ErrorIs(t, err, ErrInvalid)
		})
	}
	_, err := seal(testKey(), goldenEvent(), nil)
	assert.NoError(t, err)
}

// FuzzDecodeEvent checks that decoding never panics and that every payload
// it accepts is the canonical encoding of what it decoded: one payload per
// event.
func FuzzDecodeEvent(f *testing.F) {
	for _, v := range readVectors(f).Vectors {
		f.Add([]byte(v.Payload))
	}
	f.Add([]byte(`{"v":2}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		e, err := decodeEvent(payload)
		if err != nil {
			return
		}
		if again := e.encode(); !bytes.Equal(again, payload) {
			t.Fatalf("decodeEvent accepted a non-canonical payload:\n%s\nre-encodes as\n%s", payload, again)
		}
	})
}

// FuzzEncodeRoundTrip checks that every string survives the canonical
// encoding unchanged, or is refused by seal: the writer and the reader agree
// on every escape.
func FuzzEncodeRoundTrip(f *testing.F) {
	f.Add("per brief", "dr <jansen>", false)
	f.Add("\b\t\n\f\r\x00\x1f\x7f\u2028\u2029\"\\/", "é", true)
	f.Add("a\xffb", "\xed\xa0\x80", false)
	f.Fuzz(func(t *testing.T, reason, user string, v1 bool) {
		e := &Event{Chain: "c", Seq: 1, Kind: EventEnteredInError, Record: "r", At: canon.MinTime, RecordedAt: canon.MinTime,
			By: Actor{User: user, Organisation: "o"}, Reason: reason}
		if v1 {
			e.format = formatV1
		}
		payload := e.encode()
		back, err := decodeEvent(payload)
		if !utf8.ValidString(reason) || !utf8.ValidString(user) {
			if err == nil && !v1 {
				t.Fatalf("invalid UTF-8 was accepted: %q", payload)
			}
			return
		}
		if err != nil {
			t.Fatalf("valid strings do not read back: %v\n%q", err, payload)
		}
		if back.Reason != reason || back.By.User != user {
			t.Fatalf("read back %q, %q; want %q, %q", back.Reason, back.By.User, reason, user)
		}
		if !bytes.Equal(back.encode(), payload) {
			t.Fatalf("not canonical")
		}
	})
}

func TestVerifyChainMemory(t *testing.T) {
	// Internal checks that the SQL tamper tests cannot reach: a store
	// that returns events of another chain, or the same event twice.
	ctx := t.Context()
	s := store.NewMemory()
	r, err := New(s, Config{Key: testKey(), Now: func() time.Time { return time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC) }})
	require.NoError(t, err)
	rec := Record{
		Subject: "s1", Organisation: "org-a", Purpose: PurposeViewNAW, Decision: Permit,
		GivenAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), PolicyVersion: "v1",
		Evidence:   Evidence{Kind: EvidencePaper, Reference: "a"},
		RecordedBy: Actor{User: "u1", Organisation: "org-a"},
	}
	given, err := r.Give(ctx, rec)
	require.NoError(t, err)
	require.NoError(t, r.EnterInError(ctx, given.ID, Change{By: rec.RecordedBy, Reason: "wrong client"}))
	chain := ChainOf("s1", "org-a")
	sealed, err := s.Events(ctx, string(chain), 1)
	require.NoError(t, err)

	tests := []struct {
		reason string
		events []store.Event
		want   ProblemKind
	}{
		{"returned for another chain", []store.Event{withChain(sealed[0], "other"), sealed[1]}, ProblemReordered},
		{"the same event twice", []store.Event{sealed[0], sealed[0], sealed[1]}, ProblemReordered},
		{"an entry in error without the record before it", []store.Event{sealed[1]}, ProblemRemoved},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			_, problems := verifyChain(testKey(), chain, tt.events)
			require.NotEmpty(t, problems)
			assert.Equal(t, tt.want, problems[0].Kind, "%v", problems)
		})
	}
	_, problems := verifyChain(testKey(), chain, sealed)
	assert.Empty(t, problems)

	// An event sealed with the key, but for a record of another subject
	// than its chain is for: only a bug could write it.
	e, err := decodeEvent(sealed[0].Payload)
	require.NoError(t, err)
	e.Consent.Subject = "s2"
	forged, err := seal(testKey(), e, nil)
	require.NoError(t, err)
	_, problems = verifyChain(testKey(), chain, []store.Event{forged})
	require.Len(t, problems, 1)
	assert.Equal(t, ProblemChanged, problems[0].Kind)
	assert.Contains(t, problems[0].Detail, "another subject")

	_, problems = verifyChain([]byte("another key of thirty-two bytes!"), chain, sealed)
	assert.Len(t, problems, 2, "with another key nothing verifies")
}

func withChain(e store.Event, chain ChainID) store.Event {
	e.Chain = string(chain)
	return e
}

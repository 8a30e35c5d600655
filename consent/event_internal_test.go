package consent

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
		{"MAC of a first event", hex.EncodeToString(eventMAC(testKey(), nil, []byte(`{"v":1}`))), "ffce0c4e16864af23d023c24c1608c8066e6139979b50b15eb30f9a4015a1bde"},
		{"MAC of a first event, explicit zero prev", hex.EncodeToString(eventMAC(testKey(), make([]byte, 32), []byte(`{"v":1}`))), "ffce0c4e16864af23d023c24c1608c8066e6139979b50b15eb30f9a4015a1bde"},
		{"MAC after an event", hex.EncodeToString(eventMAC(testKey(), prev, []byte(`{"v":1}`))), "44f159674d059a4053e597ec6ab959f39510c3d9833e407a924afc19f84e9ee7"},
		{"checkpoint digest", digest([]Head{{Chain: "5473d490c97422c6133e3a8085fed4f88b9e5ae4e910752cf65ba5725b52117f", Seq: 3, MAC: prev}}), "a20db40a30f34ee8d22424a05d5c5d92929810062da4efe55f6f76a0c6fbc50c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.got)
		})
	}
}

// goldenEvent is an event with every field set, and its payload below.
func goldenEvent() *Event {
	at := time.Date(2026, 3, 12, 10, 0, 0, 120000000, time.UTC)
	hash := sha256.Sum256([]byte("form"))
	return &Event{
		Chain:      ChainOf("s1", "org-a"),
		Seq:        1,
		Kind:       EventGiven,
		Record:     "0123456789abcdef0123456789abcdef",
		At:         at,
		RecordedAt: at,
		By:         Actor{User: "u1", Organisation: "org-a", OnBehalfOf: "dr <jansen>"},
		Consent: &Record{
			ID:            "0123456789abcdef0123456789abcdef",
			Subject:       "s1",
			Organisation:  "org-a",
			Purpose:       PurposeMedicalInformation,
			Decision:      Permit,
			GivenAt:       time.Date(2026, 3, 11, 9, 30, 0, 0, time.UTC),
			ValidUntil:    time.Date(2027, 3, 11, 0, 0, 0, 0, time.UTC),
			PolicyVersion: "2026-1",
			Evidence:      Evidence{Kind: EvidencePaper, Reference: "map 12 \"blad\" 3", DocumentSHA256: hash[:]},
			Practitioner:  &Practitioner{Name: "Dr. A. Jansen", Function: "huisarts"},
			RecordedBy:    Actor{User: "u1", Organisation: "org-a", OnBehalfOf: "dr <jansen>"},
			RecordedAt:    at,
		},
	}
}

const goldenPayload = `{"v":1,"chain":"5473d490c97422c6133e3a8085fed4f88b9e5ae4e910752cf65ba5725b52117f","seq":1,"kind":"given",` +
	`"record":"0123456789abcdef0123456789abcdef","at":"2026-03-12T10:00:00.12Z","recordedAt":"2026-03-12T10:00:00.12Z",` +
	`"by":{"user":"u1","organisation":"org-a","onBehalfOf":"dr \u003cjansen\u003e"},` +
	`"consent":{"subject":"s1","organisation":"org-a","purpose":"request-medical-information","decision":"permit",` +
	`"givenAt":"2026-03-11T09:30:00Z","validUntil":"2027-03-11T00:00:00Z","policyVersion":"2026-1",` +
	`"evidence":{"kind":"paper","reference":"map 12 \"blad\" 3","sha256":"2aac7b4e4b2e0d0e9d5aa51c5d4bcd22dbb1d4b8e5ebf5d3b1c3dd9ae7b6b1ca"},` +
	`"practitioner":{"name":"Dr. A. Jansen","function":"huisarts"}}}`

func TestEncodeGolden(t *testing.T) {
	e := goldenEvent()
	hash := sha256.Sum256([]byte("form"))
	want := strings.Replace(goldenPayload, "2aac7b4e4b2e0d0e9d5aa51c5d4bcd22dbb1d4b8e5ebf5d3b1c3dd9ae7b6b1ca", hex.EncodeToString(hash[:]), 1)
	assert.Equal(t, want, string(e.encode()))

	got, err := decodeEvent([]byte(want))
	require.NoError(t, err)
	assert.Equal(t, e, got, "decode(encode(e)) == e")
}

func TestDecodeRejectsNonCanonical(t *testing.T) {
	valid := string(goldenEvent().encode())
	tests := []struct {
		reason  string
		payload string
	}{
		{"white space", strings.Replace(valid, `"seq":1`, `"seq": 1`, 1)},
		{"members reordered", strings.Replace(valid, `{"v":1,"chain":"`+string(ChainOf("s1", "org-a"))+`",`, `{"chain":"`+string(ChainOf("s1", "org-a"))+`","v":1,`, 1)},
		{"unknown member", strings.Replace(valid, `"seq":1,`, `"seq":1,"extra":2,`, 1)},
		{"time not in UTC", strings.Replace(valid, `"at":"2026-03-12T10:00:00.12Z"`, `"at":"2026-03-12T11:00:00.12+01:00"`, 1)},
		{"trailing zero in a fraction", strings.Replace(valid, `"at":"2026-03-12T10:00:00.12Z"`, `"at":"2026-03-12T10:00:00.120Z"`, 1)},
		{"an empty optional member spelled out", strings.Replace(valid, `"policyVersion"`, `"validFrom":"","policyVersion"`, 1)},
		{"unescaped HTML", strings.Replace(valid, `\u003c`, `<`, 1)},
		{"upper-case hash", upperHash(valid)},
		{"other version", strings.Replace(valid, `"v":1`, `"v":2`, 1)},
		{"trailing data", valid + " "},
		{"two objects", valid + valid},
		{"not JSON", "given"},
		{"too long", `{"v":1,"reason":"` + strings.Repeat("x", maxPayload) + `"}`},
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

// FuzzDecodeEvent checks that decoding never panics and that every payload
// it accepts is the canonical encoding of what it decoded: one payload per
// event.
func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(goldenEvent().encode()))
	withdrawn := &Event{Chain: "c", Seq: 2, Kind: EventWithdrawn, Record: "r", At: time.Unix(1, 5).UTC(), RecordedAt: time.Unix(2, 0).UTC(), By: Actor{User: "u"}, Reason: "per brief"}
	f.Add(withdrawn.encode())
	f.Add([]byte(`{"v":1}`))
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

func TestVerifyChainMemory(t *testing.T) {
	// Internal checks that the SQLite tamper tests cannot reach: a store
	// that returns events of another chain, or the same event twice.
	ctx := t.Context()
	store := NewMemoryStore()
	r, err := New(store, Config{Key: testKey(), Now: func() time.Time { return time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC) }})
	require.NoError(t, err)
	rec := Record{
		Subject: "s1", Organisation: "org-a", Purpose: PurposeViewNAW, Decision: Permit,
		GivenAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), PolicyVersion: "v1",
		Evidence:   Evidence{Kind: EvidencePaper, Reference: "a"},
		RecordedBy: Actor{User: "u1", Organisation: "org-a"},
	}
	given, err := r.Give(ctx, rec)
	require.NoError(t, err)
	require.NoError(t, r.Withdraw(ctx, given.ID, Change{By: rec.RecordedBy}))
	chain := ChainOf("s1", "org-a")
	sealed, err := store.Chain(ctx, chain)
	require.NoError(t, err)

	tests := []struct {
		reason string
		events []SealedEvent
		want   ProblemKind
	}{
		{"returned for another chain", []SealedEvent{withChain(sealed[0], "other"), sealed[1]}, ProblemReordered},
		{"the same event twice", []SealedEvent{sealed[0], sealed[0], sealed[1]}, ProblemReordered},
		{"a withdrawal of an unknown record", []SealedEvent{sealed[1]}, ProblemRemoved},
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
	forged := seal(testKey(), e, nil)
	_, problems = verifyChain(testKey(), chain, []SealedEvent{forged})
	require.Len(t, problems, 1)
	assert.Equal(t, ProblemChanged, problems[0].Kind)
	assert.Contains(t, problems[0].Detail, "another subject")

	_, problems = verifyChain([]byte("another key of thirty-two bytes!"), chain, sealed)
	assert.Len(t, problems, 2, "with another key nothing verifies")
}

func withChain(e SealedEvent, chain ChainID) SealedEvent {
	e.Chain = chain
	return e
}

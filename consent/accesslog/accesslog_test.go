package accesslog_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/accesslog"
)

func testKey() []byte {
	sum := sha256.Sum256([]byte("zorgkit accesslog test key: for tests only"))
	return sum[:]
}

type vectors struct {
	Key     string `json:"key"`
	Vectors []struct {
		Name    string `json:"name"`
		Prev    string `json:"prev"`
		Payload string `json:"payload"`
		MAC     string `json:"mac"`
	} `json:"vectors"`
}

func readVectors(t testing.TB) vectors {
	b, err := os.ReadFile(filepath.Join("testdata", "access.json"))
	require.NoError(t, err)
	var v vectors
	require.NoError(t, json.Unmarshal(b, &v))
	return v
}

func unhex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

// TestVectors checks the known answers: each payload opens with its MAC,
// and sealing what it says gives the same payload and MAC.
func TestVectors(t *testing.T) {
	s, err := accesslog.NewSealer(testKey())
	require.NoError(t, err)
	v := readVectors(t)
	require.Equal(t, hex.EncodeToString(testKey()), v.Key)
	for _, tt := range v.Vectors {
		t.Run(tt.Name, func(t *testing.T) {
			e, err := s.Open(unhex(t, tt.Prev), []byte(tt.Payload), unhex(t, tt.MAC))
			require.NoError(t, err)
			again, err := s.Seal(e.Chain, accesslog.Head{Seq: e.Seq - 1, MAC: unhex(t, tt.Prev)}, e.Access)
			require.NoError(t, err)
			assert.Equal(t, tt.Payload, string(again.Payload))
			assert.Equal(t, tt.MAC, hex.EncodeToString(again.MAC))
		})
	}
}

func entry(at time.Time) consent.AccessEntry {
	return consent.AccessEntry{ID: "0123456789abcdef0123456789abcdef", Time: at, Instance: "host-1/0a1b2c3d", Address: "192.0.2.7",
		User: "u-7", Role: "secretariaat", Organisation: "agb-01234567", Subject: "ps-7f3a9c", Object: "client/naw",
		Purpose: consent.PurposeViewNAW, Action: consent.ActionRead, Allowed: true, Reason: consent.ReasonPermitted}
}

func TestSealRefuses(t *testing.T) {
	s, err := accesslog.NewSealer(testKey())
	require.NoError(t, err)
	at := time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		reason string
		change func(e *consent.AccessEntry)
	}{
		{"a BSN as subject", func(e *consent.AccessEntry) { e.Subject = "111222333" }},
		{"a dotted BSN as subject", func(e *consent.AccessEntry) { e.Subject = "1112.22.333" }},
		{"a time in year 0", func(e *consent.AccessEntry) { e.Time = time.Time{} }},
		{"a time in 2200", func(e *consent.AccessEntry) { e.Time = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"invalid UTF-8", func(e *consent.AccessEntry) { e.User = "u\xff" }},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			e := entry(at)
			tt.change(&e)
			_, err := s.Seal("c", accesslog.Head{}, e)
			assert.ErrorIs(t, err, accesslog.ErrInvalid)
			assert.NotContains(t, err.Error(), "111", "the error never holds the number")
		})
	}
	_, err = s.Seal("", accesslog.Head{}, entry(at))
	assert.ErrorIs(t, err, accesslog.ErrInvalid)
	_, err = accesslog.NewSealer(make([]byte, 31))
	assert.Error(t, err)
}

// stored is an entry as a table keeps it.
type stored struct {
	seq          uint64
	payload, mac []byte
}

func TestVerifier(t *testing.T) {
	s, err := accesslog.NewSealer(testKey())
	require.NoError(t, err)
	at := time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)
	var chain []stored
	var head accesslog.Head
	for i := range 5 {
		e := entry(at.Add(time.Duration(i) * time.Second))
		sealed, err := s.Seal("c", head, e)
		require.NoError(t, err)
		chain = append(chain, stored{sealed.Seq, sealed.Payload, sealed.MAC})
		head = accesslog.Head{Seq: sealed.Seq, MAC: sealed.MAC}
	}
	verify := func(entries []stored) (accesslog.Head, error) {
		v := s.NewVerifier("c")
		for _, e := range entries {
			v.Next(e.seq, e.payload, e.mac)
		}
		return v.Head(), v.Err()
	}
	got, err := verify(chain)
	require.NoError(t, err)
	assert.Equal(t, head, got, "the head to anchor")

	changed := func(i int, f func(e *stored)) []stored {
		c := append([]stored(nil), chain...)
		e := c[i]
		e.payload = bytes.Clone(e.payload)
		f(&e)
		c[i] = e
		return c
	}
	tests := []struct {
		reason  string
		entries []stored
		kind    consent.ProblemKind
		seq     uint64
	}{
		{"a changed entry", changed(2, func(e *stored) { e.payload = bytes.Replace(e.payload, []byte(`"allowed":true,`), nil, 1) }), consent.ProblemChanged, 3},
		{"a removed entry", append(append([]stored(nil), chain[:2]...), chain[3:]...), consent.ProblemRemoved, 3},
		{"an entry stored twice", append(append([]stored(nil), chain[:3]...), chain[2:]...), consent.ProblemReordered, 3},
		{"an entry of another place", changed(3, func(e *stored) { e.seq = 4; *e = chain[0]; e.seq = 4 }), consent.ProblemChanged, 4},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			_, err := verify(tt.entries)
			var terr *consent.TamperError
			require.ErrorAs(t, err, &terr)
			assert.True(t, errors.Is(err, consent.ErrTampered))
			assert.Equal(t, tt.kind, terr.Problems[0].Kind, "%v", terr.Problems)
			assert.Equal(t, tt.seq, terr.Problems[0].Seq)
		})
	}
}

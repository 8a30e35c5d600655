package sms

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gateway is a test SMS gateway: it checks the token, keeps what it is sent,
// answers with status, and echoes the text in its answer as some real
// gateways do.
type gateway struct {
	srv    *httptest.Server
	status int
	got    []map[string]string
	keys   []string
}

func newGateway(t *testing.T) *gateway {
	g := &gateway{status: http.StatusAccepted}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Authorization") != "Bearer secret-token" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		var m map[string]string
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		g.got = append(g.got, m)
		g.keys = append(g.keys, r.Header.Get("Idempotency-Key"))
		http.Error(w, "echo: "+m["text"], g.status)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func TestSend(t *testing.T) {
	g := newGateway(t)
	gw := &Gateway{URL: g.srv.URL, Token: "secret-token", From: "Portaal"}
	ctx := context.Background()
	require.NoError(t, gw.Send(ctx, "msg-1", "06-1234 5678", "Uw code is 123456."))
	require.Len(t, g.got, 1)
	assert.Equal(t, map[string]string{"to": "+31612345678", "from": "Portaal", "text": "Uw code is 123456.", "reference": "msg-1"}, g.got[0])
	assert.Equal(t, "msg-1", g.keys[0])

	tests := []struct {
		name   string
		status int
		to     string
		final  bool // wraps ErrRejected or ErrNumber
	}{
		{"refused", http.StatusUnprocessableEntity, "0612345678", true},
		{"bad request", http.StatusBadRequest, "0612345678", true},
		{"gateway down", http.StatusBadGateway, "0612345678", false},
		{"rate limited", http.StatusTooManyRequests, "0612345678", false},
		{"token to fix", http.StatusUnauthorized, "0612345678", false},
		{"redirect", http.StatusFound, "0612345678", false},
		{"no mobile number", http.StatusAccepted, "06-BELME", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g.status = tt.status
			err := gw.Send(ctx, "msg-2", tt.to, "Uw code is 654321.")
			require.Error(t, err)
			assert.Equal(t, tt.final, errorsIsFinal(err), "%v", err)
			assert.NotContains(t, err.Error(), "654321", "the gateway's echo stays out of the error")
			assert.NotContains(t, err.Error(), "secret-token")
		})
	}
	wrong := &Gateway{URL: g.srv.URL, Token: "wrong", From: "Portaal"}
	err := wrong.Send(ctx, "msg-3", "0612345678", "x")
	require.Error(t, err)
	assert.False(t, errorsIsFinal(err), "a wrong token is fixed by configuration; the message waits")
	assert.False(t, strings.Contains(err.Error(), "wrong"))
}

func errorsIsFinal(err error) bool {
	return errors.Is(err, ErrRejected) || errors.Is(err, ErrNumber)
}

func TestE164(t *testing.T) {
	tests := []struct {
		name, in, want string // want "": ErrNumber
	}{
		{"Dutch mobile as typed", "06-12345678", "+31612345678"},
		{"spaces", "06 1234 5678", "+31612345678"},
		{"international", "+31 6 12345678", "+31612345678"},
		{"00 prefix", "0031612345678", "+31612345678"},
		{"trunk zero in parentheses", "+31 (0)6 12345678", "+31612345678"},
		{"Belgian", "+32 470 12 34 56", "+32470123456"},
		{"letters", "06-CALLME", ""},
		{"too short", "0612", ""},
		{"too long", "+1234567890123456", ""},
		{"empty", "", ""},
		{"plus zero", "+0612345678", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := E164(tt.in)
			if tt.want == "" {
				assert.ErrorIs(t, err, ErrNumber)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func FuzzE164(f *testing.F) {
	for _, s := range []string{"06-12345678", "+31 6 12345678", "0031612345678", "", "+", "00", "0", "+31 (0)6 1234"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := E164(s)
		if err != nil {
			return
		}
		if !e164.MatchString(got) {
			t.Fatalf("E164(%q) = %q, not in international form", s, got)
		}
		if again, err := E164(got); err != nil || again != got {
			t.Fatalf("E164(%q) = %q, then %q, %v", s, got, again, err)
		}
	})
}

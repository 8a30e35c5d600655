package accesslog

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode checks that decoding never panics, and that every payload it
// accepts is the canonical encoding of what it decoded: one payload per
// entry.
func FuzzDecode(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "access.json"))
	if err != nil {
		f.Fatal(err)
	}
	var v struct {
		Vectors []struct {
			Payload string `json:"payload"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		f.Fatal(err)
	}
	for _, x := range v.Vectors {
		f.Add([]byte(x.Payload))
	}
	f.Add([]byte(`{"v":2}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		e, chain, seq, err := decode(payload)
		if err != nil {
			return
		}
		if again := encode(chain, seq, &e); !bytes.Equal(again, payload) {
			t.Fatalf("decode accepted a non-canonical payload:\n%s\nencodes as\n%s", payload, again)
		}
	})
}

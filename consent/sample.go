package consent

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// SampleAlgorithm names the sampling algorithm in a [Manifest]: the k
// records with the smallest HMAC-SHA256(seed, record id), compared as
// big-endian numbers (ties, which do not happen in practice, by record id),
// in that order.
const SampleAlgorithm = "bottom-k/HMAC-SHA256/v1"

// FreezeMargin is how long before the draw a sample's time window must have
// closed, so that no append still in progress can join the population.
const FreezeMargin = time.Minute

// ErrSampleMismatch means a redraw does not give the manifest's population
// or selection: records in the window were added or removed after the draw,
// or the manifest was altered.
var ErrSampleMismatch = errors.New("consent: the redraw does not match the manifest")

// Manifest describes a drawn sample so that anyone can redraw it.
type Manifest struct {
	Algorithm        string     `json:"algorithm"` // SampleAlgorithm
	Seed             string     `json:"seed"`      // hexadecimal
	Filter           Filter     `json:"filter"`
	K                int        `json:"k"`
	PopulationSize   int        `json:"populationSize"`
	PopulationDigest string     `json:"populationDigest"` // see PopulationDigest
	Selected         []RecordID `json:"selected"`         // in rank order
	DrawnAt          time.Time  `json:"drawnAt"`
}

// ID returns an identifier of the manifest: the first 32 hexadecimal digits
// of the SHA-256 of its JSON encoding. Use it as the reference of the
// evidence requests of the sample.
func (m *Manifest) ID() string {
	b, err := json.Marshal(m)
	if err != nil {
		panic("consent: encoding a manifest: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// PopulationDigest returns SHA-256("zorgkit/consent/v1 population\n" ||
// ids) in hexadecimal, where each id, in sorted order, is written as u32(len)
// || id with a big-endian length.
func PopulationDigest(ids []RecordID) string {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	h := sha256.New()
	h.Write([]byte("zorgkit/consent/v1 population\n"))
	for _, id := range sorted {
		writeField(h, string(id))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// BottomK returns the k ids of population with the smallest HMAC-SHA256(seed,
// id), smallest first; all of them, so ranked, if there are no more than k.
// Every id is equally likely to be selected: the HMAC under an unknown seed
// is a uniformly random rank. It keeps only k ranks in memory, whatever the
// size of the population.
func BottomK(seed []byte, k int, population []RecordID) []RecordID {
	if k <= 0 {
		return []RecordID{}
	}
	// h is a max-heap of the k smallest ranks seen so far: its root is the
	// largest of them, the first to give way to a smaller rank.
	h := make([]ranked, 0, min(k, len(population)))
	m := hmac.New(sha256.New, seed)
	var r ranked
	var buf []byte
	for _, id := range population {
		m.Reset()
		buf = append(buf[:0], id...) // a string converted in the call would be allocated
		m.Write(buf)
		m.Sum(r.rank[:0])
		r.id = id
		switch {
		case len(h) < k:
			h = append(h, r)
			up(h, len(h)-1)
		case r.less(&h[0]):
			h[0] = r
			down(h, 0)
		}
	}
	slices.SortFunc(h, func(a, b ranked) int {
		if a.less(&b) {
			return -1
		}
		return 1 // ranks of distinct ids differ
	})
	selected := make([]RecordID, len(h))
	for i := range h {
		selected[i] = h[i].id
	}
	return selected
}

// ranked is an id and its rank.
type ranked struct {
	rank [sha256.Size]byte
	id   RecordID
}

// less orders by rank, then (for equal ranks, which do not happen in
// practice) by id.
func (a *ranked) less(b *ranked) bool {
	if c := bytes.Compare(a.rank[:], b.rank[:]); c != 0 {
		return c < 0
	}
	return a.id < b.id
}

// up and down keep h a max-heap.
func up(h []ranked, i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !h[parent].less(&h[i]) {
			return
		}
		h[parent], h[i] = h[i], h[parent]
		i = parent
	}
}

func down(h []ranked, i int) {
	for {
		largest := i
		for _, c := range []int{2*i + 1, 2*i + 2} {
			if c < len(h) && h[largest].less(&h[c]) {
				largest = c
			}
		}
		if largest == i {
			return
		}
		h[i], h[largest] = h[largest], h[i]
		i = largest
	}
}

// checkFilter validates a spot-check filter at time now.
func checkFilter(f Filter, now time.Time) error {
	switch {
	case f.From.IsZero() || f.Until.IsZero():
		return fieldError("Filter", "needs a time window (From and Until)")
	case !f.From.Before(f.Until):
		return fieldError("Filter.Until", "is not after From")
	case f.Until.After(now.Add(-FreezeMargin)):
		return fieldError("Filter.Until", "is not at least FreezeMargin in the past: the population is not frozen yet")
	case f.Purpose != "" && !f.Purpose.Valid():
		return fieldError("Filter.Purpose", "is not one of the defined purposes")
	case f.Decision != "" && !f.Decision.Valid():
		return fieldError("Filter.Decision", `is neither "permit" nor "deny"`)
	}
	return checkText("Filter.Organisation", string(f.Organisation), maxKeyLen, false)
}

// Sample draws k records from the records that match f, whose time window
// must have closed at least [FreezeMargin] ago. The seed, at least 16 bytes,
// should be unpredictable to the providers checked (nil draws a random one).
// Record the evidence requests with [Registry.RequestEvidence], with the
// manifest's ID as reference.
func (r *Registry) Sample(ctx context.Context, f Filter, k int, seed []byte) (Manifest, error) {
	now := r.now().UTC()
	if k < 1 {
		return Manifest{}, fieldError("k", "is less than 1")
	}
	if seed == nil {
		seed = make([]byte, 32)
		rand.Read(seed)
	}
	if len(seed) < 16 {
		return Manifest{}, fieldError("seed", "is shorter than 16 bytes")
	}
	f.From, f.Until = f.From.UTC(), f.Until.UTC()
	if err := checkFilter(f, now); err != nil {
		return Manifest{}, err
	}
	population, err := r.store.Population(ctx, f)
	if err != nil {
		return Manifest{}, err
	}
	return Manifest{
		Algorithm:        SampleAlgorithm,
		Seed:             hex.EncodeToString(seed),
		Filter:           f,
		K:                k,
		PopulationSize:   len(population),
		PopulationDigest: PopulationDigest(population),
		Selected:         BottomK(seed, k, population),
		DrawnAt:          now,
	}, nil
}

// Redraw draws the sample of m again from the store and reports whether it
// gives the same population and selection. A non-nil error wraps
// [ErrSampleMismatch] and says what differs, or is an error of the store.
func (r *Registry) Redraw(ctx context.Context, m Manifest) error {
	if m.Algorithm != SampleAlgorithm {
		return fmt.Errorf("%w: algorithm %q, want %q", ErrSampleMismatch, m.Algorithm, SampleAlgorithm)
	}
	seed, err := hex.DecodeString(m.Seed)
	if err != nil || len(seed) < 16 {
		return fmt.Errorf("%w: the seed is not 16 or more hexadecimal bytes", ErrSampleMismatch)
	}
	population, err := r.store.Population(ctx, m.Filter)
	if err != nil {
		return err
	}
	switch {
	case len(population) != m.PopulationSize:
		return fmt.Errorf("%w: the population has %d records, the manifest %d", ErrSampleMismatch, len(population), m.PopulationSize)
	case PopulationDigest(population) != m.PopulationDigest:
		return fmt.Errorf("%w: the population has other records than the manifest's", ErrSampleMismatch)
	case !slices.Equal(BottomK(seed, m.K, population), m.Selected):
		return fmt.Errorf("%w: the selection differs", ErrSampleMismatch)
	}
	return nil
}

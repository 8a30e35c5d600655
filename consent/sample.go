package consent

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/zorgkit/zorgkit/consent/internal/canon"
)

// sampleAlgorithm names the sampling algorithm in a [Manifest]: the k
// records with the smallest HMAC-SHA256(seed, record id), compared as
// big-endian numbers (ties, which do not happen in practice, by record id),
// in that order ("bottom-k").
const sampleAlgorithm = "bottom-k/HMAC-SHA256/v1"

// FreezeMargin is how long after the end of a sample's window the sample can
// be drawn, so that no append still in progress can join the population.
const FreezeMargin = time.Minute

// ErrSampleMismatch means a redraw does not give the manifest's plan,
// population or selection: records in the window were added or removed after
// the draw, or the manifest was altered.
var ErrSampleMismatch = errors.New("consent: the redraw does not match the manifest")

// Filter selects the records of a spot check: the records recorded in the
// window [From, Until), of the organisation, purpose and decision when they
// are set. It applies to what the events say, as verified, never to index
// columns.
type Filter struct {
	Organisation Organisation `json:"organisation,omitempty"`
	Purpose      Purpose      `json:"purpose,omitempty"`
	Decision     Decision     `json:"decision,omitempty"`
	From         time.Time    `json:"from"`
	Until        time.Time    `json:"until"`
}

func (f *Filter) matches(e *Event) bool {
	r := e.Consent
	return e.Kind == EventGiven &&
		(f.Organisation == "" || r.Organisation == f.Organisation) &&
		(f.Purpose == "" || r.Purpose == f.Purpose) &&
		(f.Decision == "" || r.Decision == f.Decision) &&
		!e.RecordedAt.Before(f.From) && e.RecordedAt.Before(f.Until)
}

// SamplePlan is a spot check committed to before its population is known:
// the registry records it, with the hash of the seed it will draw with, in
// its chain of plans before the window starts. The seed itself is revealed
// in the [Manifest] of the draw, so that anyone can check that the sample
// was drawn with the seed committed to, and the owner cannot try seeds until
// a sample avoids certain records.
type SamplePlan struct {
	ID        string    `json:"id"` // the reference of the sample's evidence requests
	Filter    Filter    `json:"filter"`
	K         int       `json:"k"`
	SeedHash  string    `json:"seedHash"` // hexadecimal SHA-256 of the seed
	PlannedAt time.Time `json:"plannedAt"`
	By        Actor     `json:"by"`
}

func (p *SamplePlan) equal(o *SamplePlan) bool {
	return p.ID == o.ID && p.Filter.Organisation == o.Filter.Organisation && p.Filter.Purpose == o.Filter.Purpose &&
		p.Filter.Decision == o.Filter.Decision && p.Filter.From.Equal(o.Filter.From) && p.Filter.Until.Equal(o.Filter.Until) &&
		p.K == o.K && p.SeedHash == o.SeedHash && p.PlannedAt.Equal(o.PlannedAt) && p.By == o.By
}

// writePlan writes a plan, as the plan member of its event (which holds
// its id, moment and author) or, with them, in a head's state.
func writePlan(w *canon.Writer, p *SamplePlan) {
	w.Open()
	w.Optional("organisation", string(p.Filter.Organisation))
	w.Optional("purpose", string(p.Filter.Purpose))
	w.Optional("decision", string(p.Filter.Decision))
	w.Time("from", p.Filter.From, false)
	w.Time("until", p.Filter.Until, false)
	w.Uint("k", uint64(p.K))
	w.String("seedHash", p.SeedHash)
	w.Close()
}

func readPlan(r *canon.Reader) *SamplePlan {
	p := &SamplePlan{}
	r.Open()
	first := true
	for _, f := range []struct {
		name string
		dst  *string
	}{{"organisation", (*string)(&p.Filter.Organisation)}, {"purpose", (*string)(&p.Filter.Purpose)}, {"decision", (*string)(&p.Filter.Decision)}} {
		if r.Has(f.name, first) {
			*f.dst = r.String(f.name, first)
			first = false
		}
	}
	p.Filter.From = r.Time("from", first, false)
	p.Filter.Until = r.Time("until", false, false)
	k := r.Uint("k", false)
	if k > 1<<20 {
		r.Fail("k is out of range")
	}
	p.K = int(k)
	p.SeedHash = r.String("seedHash", false)
	r.Close()
	return p
}

// plansChain is the chain that holds the registry's sample plans.
var plansChain = func() ChainID {
	sum := sha256.Sum256([]byte("zorgkit/consent/v2 sample plans\n"))
	return ChainID(hex.EncodeToString(sum[:]))
}()

// maxSample bounds k.
const maxSample = 100_000

// checkFilter validates the filter of a plan.
func checkFilter(f *Filter) error {
	switch {
	case f.From.IsZero() || f.Until.IsZero():
		return fieldError("Filter", "needs a time window (From and Until)")
	case !f.From.Before(f.Until):
		return fieldError("Filter.Until", "is not after From")
	case f.Purpose != "" && !f.Purpose.Valid():
		return fieldError("Filter.Purpose", "is not one of the defined purposes")
	case f.Decision != "" && !f.Decision.valid():
		return fieldError("Filter.Decision", `is neither "permit" nor "deny"`)
	}
	if err := checkTime("Filter.From", f.From, true); err != nil {
		return err
	}
	if err := checkTime("Filter.Until", f.Until, true); err != nil {
		return err
	}
	return checkText("Filter.Organisation", string(f.Organisation), maxKeyLen, false)
}

// PlanSample commits to a spot check of k records before its population
// is known: the records that will be recorded in the window of f, which
// must start no earlier than now (a zero f.From means now). The plan is
// recorded in the registry's chain of plans, with the hash of the seed the
// sample will be drawn with; draw it with [Registry.Sample] once the window
// has closed. There is one plan per window: a plan whose window overlaps
// that of a plan with the same organisation, purpose and decision is
// refused, so that nobody can plan until a sample suits them.
func (r *Registry) PlanSample(ctx context.Context, f Filter, k int, by Actor) (SamplePlan, error) {
	if k < 1 || k > maxSample {
		return SamplePlan{}, fieldError("k", "is not between 1 and 100000")
	}
	if err := by.validate("By"); err != nil {
		return SamplePlan{}, err
	}
	plan := SamplePlan{ID: newID(), K: k, By: by}
	err := r.update(ctx, plansChain, func(now time.Time, l *ledger) ([]*Event, error) {
		p := plan
		p.Filter = f
		if p.Filter.From.IsZero() {
			p.Filter.From = now
		}
		p.Filter.From, p.Filter.Until = utc(p.Filter.From), utc(p.Filter.Until)
		if err := checkFilter(&p.Filter); err != nil {
			return nil, err
		}
		if p.Filter.From.Before(now) {
			return nil, fieldError("Filter.From", "is in the past: plan a sample before its window starts")
		}
		for _, q := range l.plans {
			g := q.Filter
			if g.Organisation == p.Filter.Organisation && g.Purpose == p.Filter.Purpose && g.Decision == p.Filter.Decision &&
				g.From.Before(p.Filter.Until) && p.Filter.From.Before(g.Until) {
				return nil, fieldError("Filter", "overlaps the window of another plan of the same records: one plan per window")
			}
		}
		sum := sha256.Sum256(r.sampleSeed(p.ID))
		p.SeedHash, p.PlannedAt = hex.EncodeToString(sum[:]), now
		plan = p
		return []*Event{{Kind: eventSamplePlanned, Record: RecordID(p.ID), By: by, plan: &p}}, nil
	})
	if err != nil {
		return SamplePlan{}, err
	}
	return plan, nil
}

// sampleSeed returns the seed of a plan: HMAC-SHA256(key, "zorgkit/consent/v2
// sample seed\n" || plan id). Only the key's holder can compute it before
// it is revealed.
func (r *Registry) sampleSeed(plan string) []byte {
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte("zorgkit/consent/v2 sample seed\n"))
	m.Write([]byte(plan))
	return m.Sum(nil)
}

// Plans returns the registry's sample plans, in the order they were made.
func (r *Registry) Plans(ctx context.Context) ([]SamplePlan, error) {
	h, err := r.readHead(ctx, plansChain)
	if err != nil {
		return nil, err
	}
	l, err := r.openHead(plansChain, h)
	if err != nil {
		return nil, err
	}
	plans := make([]SamplePlan, len(l.plans))
	for i, p := range l.plans {
		plans[i] = *p
	}
	return plans, nil
}

// plan returns the plan with the given id.
func (r *Registry) plan(ctx context.Context, id string) (*SamplePlan, error) {
	plans, err := r.Plans(ctx)
	if err != nil {
		return nil, err
	}
	for i := range plans {
		if plans[i].ID == id {
			return &plans[i], nil
		}
	}
	return nil, ErrNotFound
}

// Manifest describes a drawn sample so that anyone can redraw it.
type Manifest struct {
	Plan SamplePlan `json:"plan"`
	// Algorithm is "bottom-k/HMAC-SHA256/v1": the k records with the
	// smallest HMAC-SHA256(seed, record id), compared as big-endian numbers,
	// in that order.
	Algorithm        string     `json:"algorithm"`
	Seed             string     `json:"seed"` // hexadecimal; its SHA-256 is Plan.SeedHash
	PopulationSize   int        `json:"populationSize"`
	PopulationDigest string     `json:"populationDigest"` // see populationDigest
	Selected         []RecordID `json:"selected"`         // in rank order
	DrawnAt          time.Time  `json:"drawnAt"`
}

// Sample draws the sample of a plan, once its window has closed at least
// [FreezeMargin] ago, from the verified events: every chain is read and
// verified, also against the last checkpoint (as by Verify), and a store
// that does not verify is refused with a [*TamperError], since a record
// moved or removed, or a chain removed whole, could otherwise leave the
// population unnoticed. Record the evidence requests with
// [Registry.RequestEvidence], with the plan's ID as reference.
func (r *Registry) Sample(ctx context.Context, plan string) (Manifest, error) {
	now, err := r.clock()
	if err != nil {
		return Manifest{}, err
	}
	p, err := r.plan(ctx, plan)
	if err != nil {
		return Manifest{}, err
	}
	if now.Before(p.Filter.Until.Add(FreezeMargin)) {
		return Manifest{}, fieldError("plan", "has a window that is not closed yet: draw the sample after Until and FreezeMargin")
	}
	population, err := r.population(ctx, &p.Filter)
	if err != nil {
		return Manifest{}, err
	}
	seed := r.sampleSeed(p.ID)
	return Manifest{
		Plan:             *p,
		Algorithm:        sampleAlgorithm,
		Seed:             hex.EncodeToString(seed),
		PopulationSize:   len(population),
		PopulationDigest: populationDigest(population),
		Selected:         bottomK(seed, p.K, population),
		DrawnAt:          now,
	}, nil
}

// population returns the sorted ids of the records that match f, from a
// full verification of the store against its last checkpoint.
func (r *Registry) population(ctx context.Context, f *Filter) ([]RecordID, error) {
	// Against the last checkpoint too: a chain removed whole, or rolled
	// back head and all, would otherwise take its records out unnoticed.
	last := map[ChainID]cpHead{}
	if err := r.checkpoints(ctx, func(_ *Checkpoint, heads map[ChainID]cpHead) bool {
		last = heads
		return true
	}); err != nil {
		return nil, err
	}
	var ids []RecordID
	_, _, problems, err := r.audit(ctx, last, func(c *chainReport) {
		for _, e := range c.ledger.events {
			if f.matches(e) {
				ids = append(ids, e.Record)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, &TamperError{Problems: problems}
	}
	slices.Sort(ids)
	return ids, nil
}

// Redraw draws the sample of m again from the store and reports whether it
// gives the same plan, seed, population and selection. A non-nil error
// wraps [ErrSampleMismatch] and says what differs, or is an error of the
// store.
func (r *Registry) Redraw(ctx context.Context, m Manifest) error {
	if m.Algorithm != sampleAlgorithm {
		return fmt.Errorf("%w: algorithm %q, want %q", ErrSampleMismatch, m.Algorithm, sampleAlgorithm)
	}
	p, err := r.plan(ctx, m.Plan.ID)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: the registry has no plan %q", ErrSampleMismatch, m.Plan.ID)
	}
	if err != nil {
		return err
	}
	seed, err := hex.DecodeString(m.Seed)
	sum := sha256.Sum256(seed)
	switch {
	case !p.equal(&m.Plan):
		return fmt.Errorf("%w: the plan differs from the one recorded", ErrSampleMismatch)
	case err != nil || hex.EncodeToString(sum[:]) != p.SeedHash:
		return fmt.Errorf("%w: the seed is not the one the plan committed to", ErrSampleMismatch)
	case p.Filter.From.Before(p.PlannedAt):
		return fmt.Errorf("%w: the plan was made after its window started", ErrSampleMismatch)
	}
	population, err := r.population(ctx, &p.Filter)
	if err != nil {
		return err
	}
	switch {
	case len(population) != m.PopulationSize:
		return fmt.Errorf("%w: the population has %d records, the manifest %d", ErrSampleMismatch, len(population), m.PopulationSize)
	case populationDigest(population) != m.PopulationDigest:
		return fmt.Errorf("%w: the population has other records than the manifest's", ErrSampleMismatch)
	case !slices.Equal(bottomK(seed, p.K, population), m.Selected):
		return fmt.Errorf("%w: the selection differs", ErrSampleMismatch)
	}
	return nil
}

// populationDigest returns SHA-256("zorgkit/consent/v1 population\n" ||
// ids) in hexadecimal, where each id, in sorted order, is written as
// u32(len) || id with a big-endian length.
func populationDigest(ids []RecordID) string {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	h := sha256.New()
	h.Write([]byte("zorgkit/consent/v1 population\n"))
	for _, id := range sorted {
		writeField(h, string(id))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// bottomK returns the k ids of population with the smallest
// HMAC-SHA256(seed, id), smallest first; all of them, so ranked, if there
// are no more than k. Every id is equally likely to be selected: the HMAC
// under an unknown seed is a uniformly random rank. It keeps only k ranks in
// memory, whatever the size of the population.
func bottomK(seed []byte, k int, population []RecordID) []RecordID {
	if k <= 0 {
		return []RecordID{}
	}
	// h is a max-heap of the k smallest ranks seen so far: its root is the
	// largest of them, the first to give way to a smaller rank.
	h := make([]ranked, 0, min(k, len(population)))
	m := hmac.New(sha256.New, seed)
	var rk ranked
	var buf []byte
	for _, id := range population {
		m.Reset()
		buf = append(buf[:0], id...) // a string converted in the call would be allocated
		m.Write(buf)
		m.Sum(rk.rank[:0])
		rk.id = id
		switch {
		case len(h) < k:
			h = append(h, rk)
			up(h, len(h)-1)
		case rk.less(&h[0]):
			h[0] = rk
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

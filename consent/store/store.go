// Package store defines what package consent needs from the storage of its
// events: the interface a storage implements, and the values that cross it.
// Callers of consent do not use it, except to pass a Store to consent.New,
// as callers of database/sql do not use database/sql/driver.
//
// A [Store] keeps chains of sealed events and one head per chain, and never
// interprets them: the payloads, MACs, heads and checkpoints are opaque
// bytes. Sealing, verifying and deciding happen in the consent.Registry, so
// every Store gets them alike. Package consent/consenttest is the
// conformance suite every Store runs; [Memory] is the reference
// implementation, and consent/sqlstore keeps everything in SQLite or
// PostgreSQL.
package store

import (
	"bytes"
	"context"
	"errors"
	"time"
)

// Errors of a Store. Test for them with [errors.Is].
var (
	// ErrNotFound means there is nothing with the given id or at the given
	// place.
	ErrNotFound = errors.New("consent/store: not found")

	// ErrConflict means the chain or checkpoint moved on during an update.
	// A store that serialises the updates of a chain never returns it from
	// Update; one that checks optimistically may, and the registry then
	// retries.
	ErrConflict = errors.New("consent/store: the chain moved on during the update: retry")

	// ErrTaken means an event already holds the place of an event being
	// appended: a row that the chain's head does not cover, written behind
	// the registry's back. Nothing was appended; the row must be
	// quarantined.
	ErrTaken = errors.New("consent/store: the place of the next event is taken by a row the head does not cover")

	// ErrInvalid means a batch is not a run of events that continue the
	// chain, or a checkpoint is malformed: a bug in the caller.
	ErrInvalid = errors.New("consent/store: invalid batch")
)

// Store keeps chains of sealed events, append-only, with a head per chain,
// and the checkpoints of the registry. A Store must be safe for concurrent
// use, also when several processes share the storage.
type Store interface {
	// Head returns the head of a chain, or an error that wraps
	// ErrNotFound.
	Head(ctx context.Context, chain string) (Head, error)

	// Update appends to one chain. It calls fn with the chain's current
	// head (nil when the chain has none) and a reader of the chain's events
	// as of that head, and stores the batch fn returns, events and new
	// head, atomically: all or nothing. Updates of one chain are
	// serialised, so that the head fn sees is the head the batch follows;
	// a store that cannot hold a lock may instead return an error that
	// wraps ErrConflict when the head moved, and store nothing.
	//
	// When fn returns an error, Update returns it and stores nothing; when
	// it returns a nil batch, nothing is stored. When an event of the batch
	// would take a place that a stored event holds, Update stores nothing
	// and returns an error that wraps ErrTaken. Update checks the batch with
	// [CheckBatch].
	Update(ctx context.Context, chain string, fn func(head *Head, read EventReader) (*Batch, error)) error

	// Events returns the events of a chain with Seq from from on, in the
	// order of Seq; an empty slice for an unknown chain.
	Events(ctx context.Context, chain string, from uint64) ([]Event, error)

	// Locate returns the event with the lowest Seq whose Record is id: the
	// event that created the id. It returns an error that wraps
	// ErrNotFound if there is none.
	Locate(ctx context.Context, id string) (Event, error)

	// Heads returns at most limit heads, of the chains whose id sorts after
	// the given one, in the order of their ids. An empty result means there
	// are no more.
	Heads(ctx context.Context, after string, limit int) ([]Head, error)

	// Scan returns at most limit events that sort after (chain, seq), in the
	// order of chain id and then Seq: every event of every chain, page by
	// page. An empty result means there are no more.
	Scan(ctx context.Context, chain string, seq uint64, limit int) ([]Event, error)

	// AppendCheckpoint stores a checkpoint whose Seq is one more than the
	// last one's (1 for the first), or returns an error that wraps
	// ErrConflict and stores nothing.
	AppendCheckpoint(ctx context.Context, c Checkpoint) error

	// Checkpoints returns at most limit checkpoints with Seq after the
	// given one, in the order of Seq.
	Checkpoints(ctx context.Context, after uint64, limit int) ([]Checkpoint, error)

	// LastCheckpoint returns the checkpoint with the highest Seq, or an
	// error that wraps ErrNotFound when there is none.
	LastCheckpoint(ctx context.Context) (Checkpoint, error)

	// Quarantine moves the stored event at q.Event.Chain and q.Event.Seq
	// out of its chain, into a quarantine that keeps it with q's note,
	// atomically. The stored event must equal q.Event in every field;
	// otherwise Quarantine changes nothing and returns an error that wraps
	// ErrConflict, or ErrNotFound when no event is at that place. The head
	// is left as it is.
	Quarantine(ctx context.Context, q Quarantined) error
}

// EventReader reads the events of the chain being updated, with Seq from
// from on, in the order of Seq, within the update.
type EventReader func(from uint64) ([]Event, error)

// Event is a sealed event as a Store keeps it: the payload and its MAC, and
// the columns a store indexes, which verification checks against the
// payload. A store keeps every field exactly as given, times to the
// nanosecond.
type Event struct {
	Chain      string
	Seq        uint64 // 1, 2, 3… within the chain
	Record     string // the id the event is about
	Kind       string
	RecordedAt time.Time

	Payload []byte
	Prev    []byte // the MAC of the event before, or 32 zero bytes
	MAC     []byte
}

// Head is the last state of a chain: its last event, and what the registry
// derived from the chain, sealed by the registry.
type Head struct {
	Chain string
	Seq   uint64 // the last event's; 0 for a chain without events
	MAC   []byte // the last event's MAC
	State []byte // opaque
	Seal  []byte // opaque: the registry's MAC over the head
}

// Batch is what an Update stores: events that continue the chain, and the
// chain's new head.
type Batch struct {
	Events []Event
	Head   Head
}

// Checkpoint is a checkpoint of the registry, opaque to the store.
type Checkpoint struct {
	Seq     uint64
	Payload []byte
	MAC     []byte
}

// Quarantined is a stored event moved out of its chain, with who moved it
// (user and organisation, as the registry writes them), when and why.
type Quarantined struct {
	Event  Event
	At     time.Time
	By     string
	Reason string
}

var zeroMAC [32]byte

// CheckBatch checks that b continues a chain whose head is head (nil for a
// new chain): its events are consecutive events of the chain, the first one
// after the head, each one's Prev the MAC of the one before; and its head is
// the chain's, at its last event. A batch without events only replaces the
// head, at the same place. Stores call it at the start of storing a batch.
func CheckBatch(chain string, head *Head, b *Batch) error {
	seq, prev := uint64(0), zeroMAC[:]
	if head != nil {
		seq, prev = head.Seq, head.MAC
	}
	if b.Head.Chain != chain {
		return errors.Join(ErrInvalid, errors.New("consent/store: the batch's head is of another chain"))
	}
	for i := range b.Events {
		e := &b.Events[i]
		if e.Chain != chain || e.Seq != seq+1 || !bytes.Equal(e.Prev, prev) {
			return errors.Join(ErrInvalid, errors.New("consent/store: the events do not continue the chain"))
		}
		seq, prev = e.Seq, e.MAC
	}
	if len(b.Events) > 0 && (b.Head.Seq != seq || !bytes.Equal(b.Head.MAC, prev)) {
		return errors.Join(ErrInvalid, errors.New("consent/store: the batch's head is not at its last event"))
	}
	return nil
}

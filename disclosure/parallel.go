package disclosure

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// The interval protection looks for the certificates of several primary
// cells at once, one goroutine per processor (GOMAXPROCS), and applies
// them one after the other, so that the pattern is the same for any
// number of processors.
//
// The primary cells are taken in batches of protectBatch, in their order.
// The certificates of every cell of a batch are looked for against the
// state at the start of the batch (the cells withheld, the certificates
// and the points found so far), each in a fork of the group (forkIV) that
// shares what does not change and keeps what it changes to itself: the
// cells it withholds, its certificates, its points. Then, in the order of
// the batch, each fork's result is applied: its cells withheld, its
// points added to the pool, its certificates recorded. A certificate
// stays valid when more cells are withheld, so a fork's certificates hold
// after those of the cells before it in the batch are applied. (A fork
// does not see the cells withheld for the others of its batch, so it may
// withhold cells that one of them withheld too, or choose cells where the
// others' would have done. Looking again, in the state it lands in, at a
// cell whose fork withheld cells, when a cell before it in the batch
// withheld cells too, was tried: on the 5,439-cell table of
// BenchmarkProtectIntervals it looked again at 7% of the cells and
// withheld more in the end, 1,295 secondary cells against 1,260.) A
// fork that fails is looked at again in the current state. The result
// depends on protectBatch, never on the number of goroutines or on their
// timing: each fork's result depends only on the state at the start of
// its batch, and the results are applied in a fixed order.

// protectBatch is the number of primary cells whose certificates are
// looked for against the same state (see above). Fixed: the pattern
// depends on it, so it may not depend on the machine.
const protectBatch = 8

// forkState is what a fork of an ivGroup did, to be applied to the group
// it was made from.
type forkState struct {
	added      []int32           // the columns it withheld, in order
	ops        []certOp          // the certificates it recorded and dropped, in order
	basePool   []ivPoint         // the pool at the fork (read only); the fork's own pool holds the points after
	basePoolAt map[int32][]int32 // the pool's index at the fork (read only)
}

// certOp is a certificate recorded (ct) or dropped (ct nil) by a fork.
type certOp struct {
	key certKey
	ct  *cert
}

// ivWorker is the working memory of one goroutine of the parallel
// search, kept from cell to cell.
type ivWorker struct {
	scratch  lpScratch
	boxes    map[int32]*[boxLevels][]int32
	withheld []bool
}

// prepareForks fills the caches that the forks read and the group would
// otherwise fill lazily (the cells' exact values, the families linked to
// others, the all-withheld mask of reach), so that forks only read what
// they share.
func (iv *ivGroup) prepareForks() {
	for c := range iv.exact {
		iv.exactValue(int32(c))
	}
	if iv.gp.n > 0 {
		iv.cubeable(0)
	}
	iv.allWithheldMask()
}

// forkIV returns a fork of iv for one primary cell, in wk's working
// memory: it shares iv's tables and points, which it only reads, and
// keeps the cells it withholds, its certificates, its points and its
// programs to itself (see forkState).
func (iv *ivGroup) forkIV(wk *ivWorker) *ivGroup {
	w := *iv
	if wk.withheld == nil {
		wk.withheld = make([]bool, len(iv.withheld))
		wk.boxes = map[int32]*[boxLevels][]int32{}
	}
	copy(wk.withheld, iv.withheld)
	w.withheld = wk.withheld
	w.scratch = wk.scratch
	w.boxes = wk.boxes
	w.certs = map[certKey]*cert{}
	w.using = map[int32][]certKey{}
	w.near = map[int32]map[int32]bool{}
	w.group = nil
	w.hard = nil
	w.readers = nil
	w.pool = nil
	w.poolAt = map[int32][]int32{}
	w.lps = map[lpKey]*lp{}
	w.publishing = -1
	w.fork = &forkState{basePool: iv.pool, basePoolAt: iv.poolAt}
	return &w
}

// release gives the fork's working memory back to wk.
func (w *ivGroup) release(wk *ivWorker) {
	wk.scratch = w.scratch
}

// poolIDs returns the points of the pool that move column col, oldest
// first (in a fork, those of the group it was made from first).
func (iv *ivGroup) poolIDs(col int32) []int32 {
	ids := iv.poolAt[col]
	if iv.fork == nil {
		return ids
	}
	base := iv.fork.basePoolAt[col]
	switch {
	case len(ids) == 0:
		return base
	case len(base) == 0:
		return ids
	}
	out := make([]int32, 0, len(base)+len(ids))
	return append(append(out, base...), ids...)
}

// point returns the point of the pool with the given id.
func (iv *ivGroup) point(id int32) *ivPoint {
	if f := iv.fork; f != nil {
		if n := int32(len(f.basePool)); id >= n {
			return &iv.pool[id-n]
		}
		return &f.basePool[id]
	}
	return &iv.pool[id]
}

// applyFork applies what fork w did for primary column col: the cells it
// withheld, its points, its certificates.
func (iv *ivGroup) applyFork(w *ivGroup, col int32) {
	for _, c := range w.fork.added {
		iv.withhold(c)
	}
	for _, pt := range w.pool {
		iv.addPoint(pt)
	}
	for _, op := range w.fork.ops {
		if op.ct == nil {
			iv.dropCert(op.key)
		} else {
			iv.setCert(op.key, op.ct)
		}
	}
	if n, ok := w.near[col]; ok {
		iv.near[col] = n
	}
}

// forkResult is the outcome of one fork.
type forkResult struct {
	w   *ivGroup
	err error
}

// protectParallel finds certificates for every primary cell in cols
// (with their levels), in batches (see protectBatch), with up to
// GOMAXPROCS goroutines.
func (iv *ivGroup) protectParallel(ctx context.Context, cols []int32, lvls []levels, progress *StoppedError) error {
	iv.prepareForks()
	procs := max(1, min(runtime.GOMAXPROCS(0), protectBatch))
	workers := make([]*ivWorker, procs)
	for i := range workers {
		workers[i] = &ivWorker{}
	}
	results := make([]forkResult, protectBatch)
	for start := 0; start < len(cols); start += protectBatch {
		if err := ctx.Err(); err != nil {
			progress.Err = err
			return progress
		}
		batch := cols[start:min(start+protectBatch, len(cols))]
		var next atomic.Int32
		var wg sync.WaitGroup
		for _, wk := range workers[:min(procs, len(batch))] {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= len(batch) {
						return
					}
					w := iv.forkIV(wk)
					err := w.ensure(ctx, batch[i], lvls[start+i])
					w.release(wk)
					w.withheld = nil // wk's, reused by the next fork
					w.lps = nil      // its programs: not needed to apply it
					results[i] = forkResult{w, err}
				}
			})
		}
		wg.Wait()
		for i, col := range batch {
			r := results[i]
			results[i] = forkResult{}
			if ctx.Err() != nil {
				progress.Err = ctx.Err()
				return progress
			}
			if r.err == nil {
				iv.applyFork(r.w, col)
			} else if err := iv.ensure(ctx, col, lvls[start+i]); err != nil {
				// Again in the current state, which withholds more: if the
				// cell cannot be protected, the error says so.
				if ctx.Err() != nil {
					progress.Err = ctx.Err()
					return progress
				}
				return err
			}
			progress.Done++
		}
	}
	return nil
}

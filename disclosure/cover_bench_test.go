package disclosure_test

import (
	"context"
	"encoding/gob"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zorgkit/zorgkit/disclosure"
	"github.com/zorgkit/zorgkit/disclosure/disclosuretest"
	"github.com/zorgkit/zorgkit/internal/simplex"
)

// captureDir makes TestCapturePrograms write the linear programs the
// interval protection of the 99,000-cell table solves there, for
// internal/simplex's BenchmarkSnapshots; the test is skipped without it.
var captureDir = flag.String("capture-programs", "", "directory where TestCapturePrograms writes the linear programs of the interval protection of disclosuretest.Huge")

// captureBudget and captureCount bound that capture: the time Protect
// runs, and the programs of each kind written.
var (
	captureBudget = flag.Duration("capture-budget", 40*time.Second, "time budget of the protection TestCapturePrograms runs")
	captureCount  = flag.Int("capture-count", 40, "programs of each kind TestCapturePrograms writes")
	captureEvery  = flag.Int("capture-every", 1, "TestCapturePrograms writes every n-th program of each kind")
)

// TestCapturePrograms runs the interval protection of disclosuretest.Huge
// (Width 5) within -capture-budget and writes the first -capture-count
// programs (or with -capture-every n, every n-th) that start outside the
// polyhedron (those of cover: the primary cell fixed at its goal; files
// phase1-NNN.gob) and the first that start inside it (the checks, reach; files feasible-NNN.gob), each
// a simplex.Snapshot of the state its solve started from, with at least
// 200 variables. Run by hand:
//
//	go test ./disclosure -run TestCapturePrograms -capture-programs /tmp/programs
func TestCapturePrograms(t *testing.T) {
	if *captureDir == "" {
		t.Skip("no -capture-programs directory")
	}
	table := disclosuretest.Huge(1, 0)
	tabs, err := disclosure.FromAggregates(table.Dimensions, table.Spec, table.Cells)
	if err != nil {
		t.Fatal(err)
	}
	counts, seen := map[string]int{}, map[string]int{}
	hook := func(s *simplex.Solver) {
		sn := s.Snapshot()
		if sn.Problem.NumVars < 200 {
			return
		}
		kind := "feasible"
		for _, j := range sn.Head {
			x, lo, up := sn.Value[j], sn.Lower[j], sn.Upper[j]
			if x < lo-1e-9*(1+math.Abs(lo)) || x > up+1e-9*(1+math.Abs(up)) {
				kind = "phase1"
				break
			}
		}
		seen[kind]++
		if counts[kind] >= *captureCount || (seen[kind]-1)%*captureEvery != 0 {
			return
		}
		name := filepath.Join(*captureDir, fmt.Sprintf("%s-%03d.gob", kind, counts[kind]))
		counts[kind]++
		f, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := gob.NewEncoder(f).Encode(sn); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(simplex.WithSolveHook(context.Background(), hook), *captureBudget)
	defer cancel()
	_, err = tabs.Protect(ctx, disclosure.Rules{Width: 5, Intervals: true})
	t.Logf("captured %v of %v; Protect: %v", counts, seen, err)
}

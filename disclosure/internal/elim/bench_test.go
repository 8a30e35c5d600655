package elim_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/zorgkit/zorgkit/disclosure/internal/elim"
)

// hier is a balanced hierarchy given by fan-outs: node 0 is the total.
func hier(fanout ...int) []int {
	parents := []int{-1}
	level := []int{0}
	for _, f := range fanout {
		var next []int
		for _, p := range level {
			for range f {
				next = append(next, len(parents))
				parents = append(parents, p)
			}
		}
		level = next
	}
	return parents
}

func bigProblem(fanout []int, seed uint64) (elim.Problem, int) {
	r := rand.New(rand.NewPCG(seed, 7))
	h := hier(fanout...)
	m := len(h)
	n := m * m * m
	idx := func(a, b, c int) int { return (a*m+b)*m + c }
	children := make([][]int, m)
	for c, p := range h {
		if p >= 0 {
			children[p] = append(children[p], c)
		}
	}
	leaf := func(x int) bool { return len(children[x]) == 0 }
	vals := make([]int, n)
	// inner values
	for a := range m {
		for b := range m {
			for c := range m {
				if leaf(a) && leaf(b) && leaf(c) {
					if r.IntN(3) == 0 {
						vals[idx(a, b, c)] = r.IntN(5)
					} else {
						vals[idx(a, b, c)] = 5 + r.IntN(100)
					}
				}
			}
		}
	}
	// aggregate bottom-up: nodes in decreasing index are children before parents
	agg := func(dim int) {
		for x := m - 1; x >= 0; x-- {
			if leaf(x) {
				continue
			}
			for u := range m {
				for v := range m {
					s := 0
					for _, ch := range children[x] {
						switch dim {
						case 0:
							s += vals[idx(ch, u, v)]
						case 1:
							s += vals[idx(u, ch, v)]
						case 2:
							s += vals[idx(u, v, ch)]
						}
					}
					switch dim {
					case 0:
						vals[idx(x, u, v)] = s
					case 1:
						vals[idx(u, x, v)] = s
					case 2:
						vals[idx(u, v, x)] = s
					}
				}
			}
		}
	}
	agg(2)
	agg(1)
	agg(0)
	p := elim.Problem{NumCols: n, Protected: make([]bool, n), Knower: make([]int32, n), Owner: make([]int32, n)}
	for i := range p.Knower {
		p.Knower[i], p.Owner[i] = -1, -1
	}
	for a := range m {
		for b := range m {
			for c := range m {
				i := idx(a, b, c)
				for d, x := range []int{a, b, c} {
					if leaf(x) {
						continue
					}
					rel := []elim.Term{{Col: int32(i), Coef: 1}}
					for _, ch := range children[x] {
						j := 0
						switch d {
						case 0:
							j = idx(ch, b, c)
						case 1:
							j = idx(a, ch, c)
						case 2:
							j = idx(a, b, ch)
						}
						rel = append(rel, elim.Term{Col: int32(j), Coef: -1})
					}
					p.Relations = append(p.Relations, rel)
				}
				switch v := vals[i]; {
				case v == 0:
					p.Forced = append(p.Forced, int32(i))
				case v < 5:
					p.Protected[i] = true
				default:
					p.Candidates = append(p.Candidates, int32(i))
				}
			}
		}
	}
	slices.SortStableFunc(p.Candidates, func(a, b int32) int { return vals[b] - vals[a] })
	dropped := make([]bool, m)
	for c, par := range h {
		if par >= 0 && (c+1 == m || h[c+1] != par) {
			dropped[c] = true // the last child of every group
		}
	}
	p.Basis = nodeBasis([][]int{h, h, h}, [][]bool{dropped, dropped, dropped})
	p.Relations = nil
	return p, n
}

// BenchmarkSolve protects a three-dimensional table with two-level
// hierarchies, about a third of its inner cells below 5.
func BenchmarkSolve(b *testing.B) {
	for _, f := range [][]int{{3, 4}, {5, 8}} {
		p, n := bigProblem(f, 1)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var res elim.Result
			for b.Loop() {
				var err error
				if res, err = elim.Solve(context.Background(), &p); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(res.Secondary)), "secondary")
		})
	}
}

// nodeBasis returns the reduced relations of a product of hierarchies: per
// dimension one child of every group is dropped and expressed as its group
// minus its other children; a cell with a dropped node in some dimension is
// the product of these expansions.
func nodeBasis(parents [][]int, dropped [][]bool) [][]elim.Term {
	type term struct {
		node int
		coef int64
	}
	nd := len(parents)
	exp := make([][][]term, nd)
	for d, par := range parents {
		children := make([][]int, len(par))
		for c, p := range par {
			if p >= 0 {
				children[p] = append(children[p], c)
			}
		}
		exp[d] = make([][]term, len(par))
		var expand func(n int) []term
		expand = func(n int) []term {
			if exp[d][n] != nil {
				return exp[d][n]
			}
			if !dropped[d][n] {
				exp[d][n] = []term{{n, 1}}
				return exp[d][n]
			}
			p := par[n]
			v := slices.Clone(expand(p))
			for _, s := range children[p] {
				if s != n {
					v = append(v, term{s, -1})
				}
			}
			exp[d][n] = v
			return v
		}
		for n := range par {
			expand(n)
		}
	}
	size := make([]int, nd)
	for d := range parents {
		size[d] = len(parents[d])
	}
	index := func(nodes []int) int32 {
		i := 0
		for d, n := range nodes {
			i = i*size[d] + n
		}
		return int32(i)
	}
	var basis [][]elim.Term
	nodes := make([]int, nd)
	var rec func(d int, anyDropped bool)
	rec = func(d int, anyDropped bool) {
		if d == nd {
			if !anyDropped {
				return
			}
			row := []elim.Term{{Col: index(nodes), Coef: 1}}
			cur := make([]int, nd)
			var prod func(k int, coef int64)
			prod = func(k int, coef int64) {
				if k == nd {
					row = append(row, elim.Term{Col: index(cur), Coef: -coef})
					return
				}
				for _, t := range exp[k][nodes[k]] {
					cur[k] = t.node
					prod(k+1, coef*t.coef)
				}
			}
			prod(0, 1)
			basis = append(basis, row)
			return
		}
		for n := range size[d] {
			nodes[d] = n
			rec(d+1, anyDropped || dropped[d][n])
		}
	}
	rec(0, false)
	return basis
}

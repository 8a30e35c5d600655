// Package disclosure publishes statistical tables without disclosing small
// groups: it withholds the cells that fail a primary rule, and enough other
// cells that none of them can be recomputed from the published cells and
// the tables' totals and subtotals, by anyone, including a care provider
// that knows its own records.
//
// The Gemeenteportaal shows a municipality reports on the care it bought,
// built from the data sets its providers upload; a profile with fewer than 5
// allocations is not shown to the municipality, while a provider always
// sees all of its own data. Hiding small cells alone is not enough when a
// report also shows totals: a hidden cell can then often be recomputed by
// subtraction. This package hides what must be hidden, and lets the
// independent audit of package [github.com/zorgkit/zorgkit/disclosure/audit]
// prove it.
//
// # Tables
//
// [Tabulate] builds linked tables from records (one [Record] per allocation
// or decision): [Count] tables count records, [Sum] tables add up their
// values (hours of care), [Response] tables give per outcome indicator the
// decisions, the valid measurements and their ratio, the response rate:
// the measurements over the decisions to which the indicator applies
// (Record.Applies; care that is still running has no outcome yet, and
// must not lower the rate), shown as the measure "applicable", with the
// rate named "rate_of_applicable", when some record says to which
// indicators it applies.
// Each table has a cell for every combination of the categories, groups
// and totals of its dimensions; a [Dimension] can be hierarchical (region >
// municipality; care category > care type; age group > age band).
// [FromAggregates] accepts a table that is already aggregated to its inner
// cells.
//
// # Audiences
//
// The audience is part of the call, and the two results are different
// types, so that the unprotected version cannot be handed to the wrong
// reader by accident:
//
//   - [Tables.Protect] returns [Protected] tables of [PublicTable]s, for
//     everyone but the data owner, such as the municipality: every cell has
//     a [Status] and a [Reason], and a withheld value is not in it at all.
//   - [Tables.OwnerView] returns an [OwnerView] of [OwnerTable]s: one
//     contributor's own records, unprotected, and nothing of the others.
//
// Both render as CSV and JSON ([PublicTable.WriteCSV], [PublicTable.WriteJSON])
// with a configurable symbol for a withheld value ([Format]).
//
// # Primary rules
//
// [Rules] holds the frequency rule (fewer than N contributors, N = 5 by
// default; in a count table the contributors are the records), the (n,k)
// dominance rules and the p% rule for Sum tables, whether an empty cell is
// itself sensitive ("nobody in this group"), and the Gemeenteportaal's row
// rule: with RowMode, every cell of a report row whose profile has fewer
// than RowMinimum records is withheld, in every measure.
//
// # Secondary suppression
//
// Secondary cells are chosen by Gaussian elimination, the approach of
// Langsrud ("Secondary cell suppression by Gaussian elimination", PSD 2024;
// the R package SSBtools/GaussSuppression): candidates are published from
// the largest to the smallest (among equal values, cells that cover more
// inner cells first), and a candidate is withheld when publishing it would
// make a primary cell a linear function of the published cells. The
// arithmetic is exact (integers) and the result deterministic: the same
// records give the same pattern, whatever their order, and whatever the
// order in which categories and dimensions are declared (that order is
// only the order of display: ties are broken by codes and names).
//
// The cost of withholding a cell is taken to be its value, what the reader
// loses: the order keeps the sum of the withheld values small, rather than
// their number. No clean-up pass is needed afterwards: a candidate is
// withheld only when it would disclose a primary cell together with the
// cells published before it, and publishing more only discloses more, so
// publishing any one secondary cell of the result would disclose a primary
// cell, except where the test is conservative (see below). Candidates
// refused on that ground are tried once more at the end.
//
// The elimination itself is reworked (see internal/elim): it keeps the
// tables' additive relations in reduced form over the unpublished cells,
// starting from a sparse basis of the product of the hierarchies, so that
// publishing a large total does not fill the system, and a candidate is
// judged by the few relations that contain it. A 5,000-cell table takes
// milliseconds and a 100,000-cell table seconds (BENCHMARKS.md), where the
// R implementation takes seconds and does not finish.
//
// # Linked tables
//
// All tables of one call are protected as one system. The tables of one
// measure (counts, sums, measurements of one indicator) are margins of one
// cross-classification of all the dimensions they use; cells that two
// tables share are one cell, with one status in every table, and cells of
// the cross-classification that no table shows are hidden cells that link
// the tables, so that differencing one report against another (per
// municipality against per region, per provider against per care type)
// discloses nothing.
//
// # Readers with inside knowledge
//
// A contributor (Record.Contributor, such as the care provider) knows its
// own records, so it knows every cell to which it alone contributes, and a
// record without a contributor, alone in its cell, knows that cell (the
// singleton problem). The protection holds against each of them: a primary
// cell cannot be computed from the published cells together with what one
// reader knows. Readers that know several cells are checked exactly, each
// in a view of the system of its own (up to 32 of them). Readers that know
// a single cell, such as records alone in their cells, share one view in
// which the test is exact as well: a combination of such readers' cells may
// be published as long as it discloses no cell to any one of them, where
// GaussSuppression refuses any such sum ("anySum"). The remaining readers
// that know several cells, and the knowledge that empty cells are empty,
// are handled conservatively in that view: a combination of their cells is
// never published.
//
// # Empty cells
//
// Empty cells are published unless Rules.ZerosSensitive. Either way they
// never protect another cell: a withheld empty cell is taken to be known to
// be empty (cells are not negative, so withheld cells that add up to zero
// are all zero). Empty cells are never secondary suppressions.
//
// # Interval protection
//
// Exact protection keeps every primary cell from being computed, but
// non-negative cells can still narrow it down: if a withheld 4 and a
// withheld 5 add up to a published 9, the 4 lies between 0 and 9.
// Rules.Margin, Width, Below and Above state how wide that range must be:
// a multiple of the cell's value (and for the p% rule p percent of the
// largest contribution), an absolute width, and how far it must reach
// below and above the value, as τ-ARGUS's protection levels. With
// Rules.Intervals, Protect meets them: for every primary cell and
// direction it looks for a point, among the values the reader cannot
// exclude, in which the cell is that far from its value (a certificate,
// found by linear programming over the cells near it and checked in
// exact arithmetic); where there is none, it withholds the published
// cells of least value that a second linear program needs for one. Then
// it publishes again, most valuable first, every withheld cell that no
// primary cell needs, exactly or for its certificates (a bounded search:
// a cell whose certificates would take more than 64 linear programs to
// replace stays withheld; in a group of more than 20,000 cells the
// programs stop once they publish less than one cell per hundred). It
// looks for the certificates of several primary cells at once, on up to
// GOMAXPROCS goroutines, and applies them in a fixed order: the pattern
// is the same for any number of processors. It stops with
// [ErrIntervals] when a reader's own knowledge makes the levels
// impossible. [audit.Intervals], which shares no code with it, is the
// independent check.
//
// # Rates
//
// A rate is published only when its numerator and denominator are: a
// withheld part withholds the rate (reason [Derived]), and since a rate
// with its published denominator would publish the numerator, the two
// decide together. A response table also publishes differences: the
// non-response, the applicable decisions minus the valid measurements (8
// applicable decisions and 6 measurements tell that 2 clients were not
// measured), and the decisions the indicator does not apply to, the
// decisions minus the applicable ones (30 decisions of which 28 apply
// tell that 2 clients are still in care). Both are therefore cells of the
// table for the primary rules (never shown themselves), and the
// protection keeps a small one from being computed, like any primary
// cell; the count of all records and the applicable, not applicable,
// measured and unmeasured records of every indicator are protected as one
// system (decisions = applicable + not applicable, applicable = measured
// + unmeasured); indicators that apply to exactly the same records (two
// outcome indicators of ended care) share their applicable records, which
// keeps the system small. Where every indicator applies to every record, the
// applicable decisions are the decisions, and the tables are those of
// records without Record.Applies, byte for byte.
//
// # Auditing
//
// [Protected.AuditSystem] converts the protected tables into an
// [audit.System] with an [audit.Attacker] for every reader with inside
// knowledge, for [audit.Exact] and [audit.Intervals]. The tests of this
// package run the exact audit on every protected table, hand-made, random
// and fuzzed: no reader computes a primary cell.
package disclosure

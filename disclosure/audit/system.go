// Package audit checks published statistical tables for disclosure: it finds
// every withheld cell that a reader can compute, exactly or within a narrow
// range, from what is published and from the tables' additive structure.
//
// The audit is deliberately independent of the code that chose the
// suppressions (package disclosure): it is written separately and knows
// nothing of how a pattern was made, so that it can prove a pattern safe
// rather than repeat the reasoning that produced it.
//
// A [System] describes what a reader sees: cells, published or withheld, and
// the linear relations between them (totals are sums of their parts; a
// published ratio ties its numerator to its denominator). Cells shared by
// several linked tables appear once, so that differencing one table against
// another is covered.
package audit

// System is a set of linked published tables as a reader sees them.
type System struct {
	// Cells are all cells of all linked tables; a cell that appears in
	// several tables (the same group of records) appears here once.
	Cells []Cell

	// Sums are the additive relations: Cells[Total] equals the sum of
	// Cells[Parts].
	Sums []Sum

	// Ratios are published derived figures, such as response rates.
	Ratios []Ratio
}

// Cell is one cell of a table.
type Cell struct {
	// Name identifies the cell in findings, such as
	// "gemeente=Almere;zorgvorm=jeugdhulp". It must be unique in a System.
	Name string

	// Value is the true value. The auditor knows it; a reader knows it
	// only when Published is true.
	Value float64

	// Published reports whether the reader sees the value.
	Published bool

	// Sensitive marks a cell that failed a primary rule: the reader must
	// not be able to compute it.
	Sensitive bool

	// Margin is the protection required for a sensitive cell in the
	// interval audit: the range of values a reader can deduce for it must
	// be at least this wide. Zero asks only that the cell is not exact.
	Margin float64
}

// Sum states that Cells[Total] equals the sum of Cells[Parts].
type Sum struct {
	Total int
	Parts []int
}

// Ratio is a published derived figure Cells[Numerator] / Cells[Denominator].
// When Published is true and the reader knows one of the two, it knows the
// other (provided the denominator is not zero).
type Ratio struct {
	Numerator, Denominator int
	Published              bool
}

// Attacker is a reader with inside knowledge: typically a data owner (a care
// provider) who knows its own contributions. Knows lists the indices of
// withheld cells whose value this attacker knows, such as cells to which it
// is the only contributor.
type Attacker struct {
	Name  string
	Knows []int
}

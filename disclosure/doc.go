// Package disclosure publishes statistical tables without disclosing small
// groups: it withholds cells that fail a primary rule, and enough other
// cells that none of them can be recomputed from the published ones and the
// tables' totals and subtotals.
package disclosure

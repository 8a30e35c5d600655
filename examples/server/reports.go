package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"

	"github.com/zorgkit/zorgkit/disclosure"
)

// The reports: per provider and outcome indicator, the response (valid
// measurements over decisions), and the decisions per municipality, product
// and age band. One set of linked tables over the same records, so that the
// protection covers them together.
var reportSpecs = []disclosure.Spec{
	{Name: "Respons per aanbieder", Kind: disclosure.Response, Dimensions: []string{"aanbieder", "gemeente"}, Indicators: []string{"doelrealisatie", "tevredenheid"}},
	{Name: "Toewijzingen per product", Kind: disclosure.Count, Dimensions: []string{"gemeente", "product", "leeftijd"}},
}

// reportRules are the Gemeenteportaal's: a row (profile) with fewer than 5
// allocations is not shown to the municipality, and secondary suppression
// keeps hidden cells from being recomputed from the totals.
var reportRules = disclosure.Rules{MinFrequency: 5, RowMode: true}

// reportTable is a table as the page shows it.
type reportTable struct {
	Name    string
	Headers []string
	Rows    []reportRow
}

type reportRow struct {
	Categories []string
	Cells      []reportCell
}

type reportCell struct {
	Text   string `json:"value"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

type reportsPage struct {
	Audience string // who the tables are protected for
	Tables   []reportTable
	Empty    bool
}

// reportsPage shows the reports: a provider sees all of its own data,
// unprotected; the municipality and the portal owner see the protected
// tables of all providers.
func (a *app) reportsPage(w http.ResponseWriter, r *http.Request) {
	p, err := a.reports(r.Context(), userFrom(r.Context()))
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "reports", p)
}

func (a *app) apiReports(w http.ResponseWriter, r *http.Request) {
	p, err := a.reports(r.Context(), userFrom(r.Context()))
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.renderJSON(w, r, http.StatusOK, p)
}

// reports builds the tables for u. The audience decides the call: a
// provider gets disclosure's OwnerView of its own records, everyone else
// the Protect-ed tables. There is no other path to the figures.
func (a *app) reports(ctx context.Context, u *user) (reportsPage, error) {
	records, dims, names, err := a.reportRecords(ctx)
	if err != nil {
		return reportsPage{}, err
	}
	if len(records) == 0 {
		return reportsPage{Empty: true}, nil
	}
	tables, err := disclosure.Tabulate(dims, records, reportSpecs...)
	if err != nil {
		return reportsPage{}, err
	}
	var out reportsPage
	if u.Role == roleUser || u.Role == roleAdmin {
		out.Audience = "eigen gegevens van " + u.Org.Name
		view, err := tables.OwnerView(u.OrgID)
		switch {
		case errors.Is(err, disclosure.ErrUnknownContributor):
			// No records of this provider yet.
			return reportsPage{Audience: out.Audience, Empty: true}, nil
		case err != nil:
			return reportsPage{}, err
		}
		for _, t := range view.Tables() {
			out.Tables = append(out.Tables, renderReport(t.Name(), t.Dimensions(), t.Measures(), t.Rows(), names, rowFilter{provider: u.OrgID}))
		}
		return out, nil
	}
	protected, err := tables.Protect(ctx, reportRules)
	if err != nil {
		return reportsPage{}, err
	}
	var only rowFilter
	out.Audience = "beschermd: regels met minder dan 5 toewijzingen en afleidbare cellen zijn verborgen"
	if u.Role == roleMunicipality {
		only.municipality = u.Org.CBSCode
	}
	for _, t := range protected.Tables() {
		out.Tables = append(out.Tables, renderReport(t.Name(), t.Dimensions(), t.Measures(), t.Rows(), names, only))
	}
	return out, nil
}

// reportRecords loads the report records as disclosure records, with the
// dimensions they span and the display names of providers.
func (a *app) reportRecords(ctx context.Context) ([]disclosure.Record, []disclosure.Dimension, map[string]string, error) {
	names := map[string]string{}
	providers, err := a.orgs(ctx, kindProvider)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, o := range providers {
		names[o.ID] = o.Name
	}
	rows, err := a.db.QueryContext(ctx, `SELECT provider_id, municipality, category, product, age_band, goal_measured, sat_measured FROM report_records`)
	if err != nil {
		return nil, nil, nil, err
	}
	defer rows.Close()
	var records []disclosure.Record
	products := map[string]string{} // product → category
	for rows.Next() {
		var r reportRecord
		if err := rows.Scan(&r.provider, &r.municipality, &r.category, &r.product, &r.ageBand, &r.goalMeasured, &r.satMeasured); err != nil {
			return nil, nil, nil, err
		}
		products[r.product] = r.category
		rec := disclosure.Record{Categories: []string{r.provider, r.municipality, r.product, r.ageBand}, Contributor: r.provider}
		if r.goalMeasured {
			rec.Measured = append(rec.Measured, "doelrealisatie")
		}
		if r.satMeasured {
			rec.Measured = append(rec.Measured, "tevredenheid")
		}
		records = append(records, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, nil, err
	}
	// Products are grouped by category: a hierarchy whose subtotals the
	// protection takes into account.
	var product disclosure.Dimension
	product.Name = "product"
	cats := map[string]bool{}
	for _, p := range sortedKeys(products) {
		if c := products[p]; !cats[c] {
			cats[c] = true
			product.Categories = append(product.Categories, disclosure.Category{Code: "cat " + c})
		}
		product.Categories = append(product.Categories, disclosure.Category{Code: p, Parent: "cat " + products[p]})
	}
	dims := []disclosure.Dimension{{Name: "aanbieder"}, {Name: "gemeente"}, product, {Name: "leeftijd"}}
	return records, dims, names, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var measureHeader = map[string]string{"count": "toewijzingen", "decisions": "beschikkingen", "measured": "geldige metingen", "rate": "respons"}

// rowFilter selects the rows a reader is shown: those of one municipality
// (gemeentecode), or of one provider and the totals. It only leaves rows
// out; the protection was computed over all of them.
type rowFilter struct {
	municipality string
	provider     string
}

func (f rowFilter) keep(dims, cats []string) bool {
	if i := slices.Index(dims, "gemeente"); f.municipality != "" && i >= 0 && cats[i] != f.municipality {
		return false
	}
	if i := slices.Index(dims, "aanbieder"); f.provider != "" && i >= 0 && cats[i] != f.provider && cats[i] != disclosure.DefaultTotal {
		return false
	}
	return true
}

// renderReport formats a table's rows for display.
func renderReport(name string, dims, measures []string, rows []disclosure.Row, names map[string]string, only rowFilter) reportTable {
	t := reportTable{Name: name}
	t.Headers = append(t.Headers, dims...)
	for _, m := range measures {
		t.Headers = append(t.Headers, measureHeader[m])
	}
	prov := slices.Index(dims, "aanbieder")
	for _, r := range rows {
		if !only.keep(dims, r.Categories) {
			continue
		}
		rr := reportRow{Categories: r.Categories}
		if prov >= 0 {
			if n, ok := names[r.Categories[prov]]; ok {
				rr.Categories = slices.Clone(r.Categories)
				rr.Categories[prov] = n
			}
		}
		for i, c := range r.Cells {
			rr.Cells = append(rr.Cells, formatCell(measures[i], c))
		}
		t.Rows = append(t.Rows, rr)
	}
	return t
}

func formatCell(measure string, c disclosure.Cell) reportCell {
	switch c.Status {
	case disclosure.PrimarySuppressed:
		return reportCell{Text: "x", Status: "primary", Reason: c.Reason.String()}
	case disclosure.SecondarySuppressed:
		return reportCell{Text: "x", Status: "secondary", Reason: c.Reason.String()}
	}
	switch {
	case math.IsNaN(c.Value):
		return reportCell{Text: ".", Status: "published"}
	case measure == "rate":
		return reportCell{Text: fmt.Sprintf("%.0f%%", 100*c.Value), Status: "published"}
	}
	return reportCell{Text: fmt.Sprintf("%.0f", c.Value), Status: "published"}
}

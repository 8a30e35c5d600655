package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/disclosure"
)

// The Zorgmonitor: per reporting period, care provider and municipality, the
// decisions (beschikkingen) and, per outcome indicator, the decisions it
// applies to (whose care has ended: running care has no outcome yet), the
// valid measurements and the response (measurements over the decisions the
// indicator applies to; see reportNotes); broken down
// by product group or by age group. Two linked Response tables, protected
// together in one system: every view the selection offers (per provider,
// per period, per age group, per product group) is a set of rows of these
// tables, so that no choice of selections can be played off against
// another. The municipality and the portal owner read the protected tables;
// a provider reads its own records, unprotected.
//
// One table over all five dimensions would let a reader choose a product
// group and an age group at once, but it withholds a third of its cells as
// primary and takes 3.5 times as long to protect; so the selection offers a
// product group or an age group.

// The dimensions of the report records, in the order of their categories.
const (
	dimPeriod       = "periode"
	dimProvider     = "aanbieder"
	dimMunicipality = "gemeente"
	dimProduct      = "productgroep"
	dimAge          = "leeftijd"
)

// The dimensions' positions in a record and in a row of either table (whose
// fourth dimension is the product group or the age group).
const (
	posPeriod, posProvider, posMunicipality, posGroup = 0, 1, 2, 3
)

// The two tables, by the dimension they break down.
var (
	reportTables = []disclosure.Spec{
		{Name: dimProduct, Kind: disclosure.Response, Dimensions: []string{dimPeriod, dimProvider, dimMunicipality, dimProduct}, Indicators: reportIndicators},
		{Name: dimAge, Kind: disclosure.Response, Dimensions: []string{dimPeriod, dimProvider, dimMunicipality, dimAge}, Indicators: reportIndicators},
	}
)

// reportIndicators are the outcome indicators, in the order of the pages.
var reportIndicators = []string{"doelrealisatie", "tevredenheid"}

var indicatorNames = map[string]string{"doelrealisatie": "Doelrealisatie", "tevredenheid": "Cliënttevredenheid"}

// reportRules are the Gemeenteportaal's: a row (profile) with fewer than 5
// allocations is not shown to the municipality, and secondary suppression
// keeps hidden cells from being recomputed from the totals.
var reportRules = disclosure.Rules{MinFrequency: 5, RowMode: true}

// reportFormat names the layout of the cached report: a change of the
// tables or the rules changes it, so that an old cache is not read.
const reportFormat = "zorgmonitor-4"

// unknownPeriod is the period of records without a usable date.
const unknownPeriod = "onbekend"

// unknownCode is the municipality or product group of a record without
// one. The layout only warns about such a code, so its row is written; as a
// category, an empty code, or one that is the total's label, would make
// the whole Zorgmonitor fail for every reader.
const unknownCode = "onbekend"

// knownCode returns code as a category: unknownCode if it cannot be one.
func knownCode(code string) string {
	if code == "" || code == disclosure.DefaultTotal {
		return unknownCode
	}
	return code
}

// municipalityNames are the names of the municipalities of Flevoland by
// CBS gemeentecode; other codes show as the code.
var municipalityNames = map[string]string{
	"0034": "Almere", "0050": "Zeewolde", "0171": "Noordoostpolder", "0184": "Urk", "0303": "Dronten", "0995": "Lelystad",
}

// reportData is the report of one state of the records: the protected
// tables, and the providers' own views made so far.
type reportData struct {
	version string
	empty   bool
	// Categories per dimension in display order (periods with their
	// years, age groups in their natural order).
	Periods, Products, Ages []disclosure.Category
	public                  map[string]*reportIndex // by table

	mu      sync.Mutex
	owners  map[string]map[string]*reportIndex // by provider, by table
	unknown map[[2]string]int                  // see unknownApplies
}

// reportCache keeps the report of the latest records in memory.
type reportCache struct {
	mu   sync.Mutex
	data *reportData
}

// reportVersion identifies the current state of the report records.
func (a *app) reportVersion(ctx context.Context) (string, error) {
	var count int
	var processed int64
	if err := a.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM report_records), (SELECT COALESCE(MAX(processed_at), 0) FROM uploads)`).Scan(&count, &processed); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s/%d/%d", reportFormat, count, processed), nil
}

// reportData returns the report of the current records: from memory, from
// the database, or protected anew (and stored) when the records changed.
func (a *app) reportData(ctx context.Context) (*reportData, error) {
	version, err := a.reportVersion(ctx)
	if err != nil {
		return nil, err
	}
	a.reports.mu.Lock()
	defer a.reports.mu.Unlock()
	if d := a.reports.data; d != nil && d.version == version {
		return d, nil
	}
	var js string
	err = a.db.QueryRowContext(ctx, `SELECT data FROM report_cache WHERE version = $1`, version).Scan(&js)
	switch {
	case err == nil:
		d, err := decodeReport(version, js)
		if err != nil {
			return nil, err
		}
		a.reports.data = d
		return d, nil
	case !errors.Is(err, sql.ErrNoRows):
		return nil, err
	}
	d, js, err := a.protectReport(ctx, version)
	if err != nil {
		return nil, err
	}
	// Another instance may have stored the same version meanwhile.
	if _, err := a.db.ExecContext(ctx, `INSERT INTO report_cache (version, data, created_at) VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING`,
		version, js, usec(a.now())); err != nil {
		return nil, err
	}
	if _, err := a.db.ExecContext(ctx, `DELETE FROM report_cache WHERE version <> $1`, version); err != nil {
		return nil, err
	}
	a.reports.data = d
	return d, nil
}

// refreshReports protects the report of the current records now, so that
// the first reader does not wait for it.
func (a *app) refreshReports(ctx context.Context) error {
	_, err := a.reportData(ctx)
	return err
}

// cachedReport is the stored form of the protected report.
type cachedReport struct {
	Empty                   bool                    `json:"empty,omitempty"`
	Periods, Products, Ages []disclosure.Category   `json:"-"`
	Dims                    [][]disclosure.Category `json:"dims"`
	Tables                  map[string][]cachedRow  `json:"tables"`
}

type cachedRow struct {
	Categories []string     `json:"c"`
	Cells      []cachedCell `json:"v"`
}

// cachedCell is a cell of the protected report: a published value (null
// for a rate without decisions), or a status and reason without value.
type cachedCell struct {
	Value  *float64 `json:"n,omitempty"`
	Status string   `json:"s,omitempty"` // "primary", "secondary"; "" is published
	Reason string   `json:"r,omitempty"`
}

// protectReport tabulates and protects the current records, one reporting
// year at a time. A record belongs to one half-year, so the years' records
// are disjoint; and the protected report has no total over all periods, so
// no published cell spans two years. The years' tables then share no cell
// and no record, and protecting each year on its own withholds exactly what
// protecting them together would have to: no combination of one year's
// cells tells anything about another's. It keeps each system small (linked
// tables cost far more than linearly in their size).
func (a *app) protectReport(ctx context.Context, version string) (*reportData, string, error) {
	records, dims, err := a.reportRecords(ctx)
	if err != nil {
		return nil, "", err
	}
	c := cachedReport{Dims: [][]disclosure.Category{dims[0].Categories, dims[3].Categories, dims[4].Categories}, Tables: map[string][]cachedRow{}}
	if len(records) == 0 {
		c.Empty = true
	}
	byYear := map[string][]disclosure.Record{}
	for _, r := range records {
		y := periodYear(r.Categories[posPeriod])
		byYear[y] = append(byYear[y], r)
	}
	for _, y := range sortedSet(keysOf(byYear)) {
		yearDims := slices.Clone(dims)
		yearDims[posPeriod] = disclosure.Dimension{Name: dimPeriod}
		for _, cat := range dims[posPeriod].Categories {
			if cat.Code == y || cat.Parent == y {
				yearDims[posPeriod].Categories = append(yearDims[posPeriod].Categories, cat)
			}
		}
		tables, err := disclosure.Tabulate(yearDims, byYear[y], reportTables...)
		if err != nil {
			return nil, "", err
		}
		protected, err := tables.Protect(ctx, reportRules)
		if err != nil {
			return nil, "", err
		}
		for _, spec := range reportTables {
			for _, r := range protected.Table(spec.Name).Rows() {
				if r.Categories[posPeriod] == disclosure.DefaultTotal {
					continue // the year's own row, once more
				}
				cr := cachedRow{Categories: r.Categories}
				for _, cell := range r.Cells {
					cc := cachedCell{}
					switch {
					case cell.Withheld():
						cc.Status, cc.Reason = cell.Status.String(), cell.Reason.String()
					case !math.IsNaN(cell.Value):
						v := cell.Value
						cc.Value = &v
					}
					cr.Cells = append(cr.Cells, cc)
				}
				c.Tables[spec.Name] = append(c.Tables[spec.Name], cr)
			}
		}
	}
	js, err := json.Marshal(c)
	if err != nil {
		return nil, "", err
	}
	d, err := decodeReport(version, string(js))
	return d, string(js), err
}

// periodYear is the reporting year of a half-year ("2026" of "2026-1");
// a period without a year stands alone.
func periodYear(period string) string {
	if y, _, ok := strings.Cut(period, "-"); ok {
		return y
	}
	return period
}

func keysOf[V any](m map[string]V) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// decodeReport reads a stored report.
func decodeReport(version, js string) (*reportData, error) {
	var c cachedReport
	if err := json.Unmarshal([]byte(js), &c); err != nil {
		return nil, fmt.Errorf("report cache: %w", err)
	}
	if len(c.Dims) != 3 {
		return nil, errors.New("report cache: want 3 dimensions")
	}
	d := &reportData{version: version, empty: c.Empty, Periods: c.Dims[0], Products: c.Dims[1], Ages: c.Dims[2],
		public: map[string]*reportIndex{}, owners: map[string]map[string]*reportIndex{}}
	for name, rows := range c.Tables {
		out := make([]disclosure.Row, 0, len(rows))
		for _, r := range rows {
			row := disclosure.Row{Categories: r.Categories}
			for _, cc := range r.Cells {
				cell := disclosure.Cell{Value: math.NaN()}
				switch {
				case cc.Status != "":
					var ok1, ok2 bool
					cell.Value = 0
					cell.Status, ok1 = parseCode[disclosure.Status](cc.Status)
					cell.Reason, ok2 = parseCode[disclosure.Reason](cc.Reason)
					if !ok1 || !ok2 || cell.Status == disclosure.Published {
						return nil, fmt.Errorf("report cache: unknown status %q or reason %q", cc.Status, cc.Reason)
					}
				case cc.Value != nil:
					cell.Value = *cc.Value
				}
				row.Cells = append(row.Cells, cell)
			}
			out = append(out, row)
		}
		d.public[name] = newReportIndex(out)
	}
	return d, nil
}

// parseCode returns the status or reason whose stable code is s.
func parseCode[T interface {
	~uint8
	String() string
}](s string) (T, bool) {
	for i := range 256 {
		if c := T(i); c.String() == s {
			return c, true
		}
	}
	return 0, false
}

// ownerIndex returns provider's own, unprotected tables, or nil when it
// has no records.
func (a *app) ownerIndex(ctx context.Context, d *reportData, provider string) (map[string]*reportIndex, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ix, ok := d.owners[provider]; ok {
		return ix, nil
	}
	records, dims, err := a.reportRecords(ctx)
	if err != nil {
		return nil, err
	}
	var out map[string]*reportIndex
	if slices.ContainsFunc(records, func(r disclosure.Record) bool { return r.Contributor == provider }) {
		tables, err := disclosure.Tabulate(dims, records, reportTables...)
		if err != nil {
			return nil, err
		}
		view, err := tables.OwnerView(provider)
		if err != nil {
			return nil, err
		}
		out = map[string]*reportIndex{}
		for _, t := range view.Tables() {
			out[t.Name()] = newReportIndex(t.Rows())
		}
	}
	d.owners[provider] = out
	return out, nil
}

// The cells of a row of either table, as disclosure renders a Response
// table whose records say to which indicators they apply.
const (
	cellDecisions, cellApplicable, cellMeasured, cellRate = 0, 1, 2, 3
)

// reportIndex finds the rows of a table by their categories.
type reportIndex struct {
	rows []disclosure.Row
	by   map[string]int
}

func newReportIndex(rows []disclosure.Row) *reportIndex {
	ix := &reportIndex{rows: rows, by: make(map[string]int, len(rows))}
	for i, r := range rows {
		ix.by[strings.Join(r.Categories, "\x00")] = i
	}
	return ix
}

// row returns the cells of the row with these categories (one per
// dimension, the indicator last): decisions, applicable decisions,
// measurements and response (see cellDecisions).
func (ix *reportIndex) row(cats ...string) ([]disclosure.Cell, bool) {
	i, ok := ix.by[strings.Join(cats, "\x00")]
	if !ok {
		return nil, false
	}
	return ix.rows[i].Cells, true
}

// reportRecords loads the report records as disclosure records, with the
// dimensions they span: periods grouped by year, product groups, and age
// groups in their natural order.
func (a *app) reportRecords(ctx context.Context) ([]disclosure.Record, []disclosure.Dimension, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT provider_id, municipality, category, age_band, period, goal_measured, sat_measured, goal_applies, sat_applies FROM report_records`)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var records []disclosure.Record
	periods, products, ages := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for rows.Next() {
		var r reportRecord
		if err := rows.Scan(&r.provider, &r.municipality, &r.category, &r.ageBand, &r.period, &r.goalMeasured, &r.satMeasured, &r.goalApplies, &r.satApplies); err != nil {
			return nil, nil, err
		}
		if r.period == "" {
			r.period = unknownPeriod
		}
		r.municipality, r.category = knownCode(r.municipality), knownCode(r.category)
		periods[r.period], products[r.category], ages[r.ageBand] = true, true, true
		// Applies is never nil, so that the tables always show the
		// applicable decisions. A valid measurement implies that the
		// indicator applies (Layout.Valid); rows stored before migration
		// 011 apply to both, as before (see reportNotes).
		rec := disclosure.Record{Categories: []string{r.period, r.provider, r.municipality, r.category, r.ageBand}, Contributor: r.provider,
			Applies: make([]string, 0, 2)}
		if r.goalApplies || r.goalMeasured {
			rec.Applies = append(rec.Applies, "doelrealisatie")
		}
		if r.satApplies || r.satMeasured {
			rec.Applies = append(rec.Applies, "tevredenheid")
		}
		if r.goalMeasured {
			rec.Measured = append(rec.Measured, "doelrealisatie")
		}
		if r.satMeasured {
			rec.Measured = append(rec.Measured, "tevredenheid")
		}
		records = append(records, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	period := disclosure.Dimension{Name: dimPeriod}
	for _, y := range periodYears(periods) {
		period.Categories = append(period.Categories, disclosure.Category{Code: y},
			disclosure.Category{Code: y + "-1", Parent: y}, disclosure.Category{Code: y + "-2", Parent: y})
	}
	if periods[unknownPeriod] {
		period.Categories = append(period.Categories, disclosure.Category{Code: unknownPeriod})
	}
	product := disclosure.Dimension{Name: dimProduct}
	for _, p := range sortedSet(products) {
		product.Categories = append(product.Categories, disclosure.Category{Code: p})
	}
	age := disclosure.Dimension{Name: dimAge}
	for _, b := range ageOrder(ages) {
		age.Categories = append(age.Categories, disclosure.Category{Code: b})
	}
	return records, []disclosure.Dimension{period, {Name: dimProvider}, {Name: dimMunicipality}, product, age}, nil
}

func sortedSet(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// periodYears returns the years of the half-years in periods ("2026-1"), in
// order.
func periodYears(periods map[string]bool) []string {
	years := map[string]bool{}
	for p := range periods {
		if y, _, ok := strings.Cut(p, "-"); ok {
			years[y] = true
		}
	}
	return sortedSet(years)
}

// ageOrder returns age groups ("0-3", "4-11", "12-17", "18-22", "23+") in
// their natural order: by their lower limit, not as text.
func ageOrder(bands map[string]bool) []string {
	out := sortedSet(bands)
	lower := func(b string) int {
		n, err := strconv.Atoi(strings.TrimRight(strings.SplitN(b, "-", 2)[0], "+"))
		if err != nil {
			return math.MaxInt
		}
		return n
	}
	slices.SortStableFunc(out, func(x, y string) int { return lower(x) - lower(y) })
	return out
}

// reportPeriod returns the reporting half-year of a decision ("2026-1") from
// the begin and end dates of the care as a data set has them: the half-year
// in which the care ended, or began when it has not ended; "" without a
// date. Spreadsheets write dates in several ways; all of these are read.
func reportPeriod(begin, end string) string {
	for _, s := range []string{end, begin} {
		if t, ok := parseDataDate(strings.TrimSpace(s)); ok {
			half := 1
			if t.month > 6 {
				half = 2
			}
			return strconv.Itoa(t.year) + "-" + strconv.Itoa(half)
		}
	}
	return ""
}

type ymd struct{ year, month, day int }

// parseDataDate reads 2026-06-30, 20260630, 30-06-2026, 30-6-2026 and the
// same with slashes.
func parseDataDate(s string) (ymd, bool) {
	var f []string
	switch {
	case len(s) == 8 && strings.Trim(s, "0123456789") == "":
		f = []string{s[:4], s[4:6], s[6:]}
	case strings.ContainsAny(s, "-/"):
		f = strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '/' })
		if len(f) == 3 && len(f[0]) != 4 { // day first
			f[0], f[2] = f[2], f[0]
		}
	}
	if len(f) != 3 || len(f[0]) != 4 {
		return ymd{}, false
	}
	var d ymd
	var err1, err2, err3 error
	d.year, err1 = strconv.Atoi(f[0])
	d.month, err2 = strconv.Atoi(f[1])
	d.day, err3 = strconv.Atoi(f[2])
	if err1 != nil || err2 != nil || err3 != nil || d.year < 1900 || d.year > 2999 || d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31 {
		return ymd{}, false
	}
	return d, true
}

// periodLabel names a period for people: "1e halfjaar 2026", "heel 2026".
func periodLabel(code string) string {
	switch {
	case code == disclosure.DefaultTotal:
		return "alle perioden"
	case code == unknownPeriod:
		return "periode onbekend"
	case strings.HasSuffix(code, "-1"):
		return "1e halfjaar " + strings.TrimSuffix(code, "-1")
	case strings.HasSuffix(code, "-2"):
		return "2e halfjaar " + strings.TrimSuffix(code, "-2")
	}
	return "heel " + code
}

// shortPeriodLabel is a period's label in a chart: "2026-1".
func shortPeriodLabel(code string) string {
	if code == unknownPeriod {
		return "onbekend"
	}
	return code
}

func municipalityLabel(code string) string {
	switch {
	case code == disclosure.DefaultTotal:
		return "alle gemeenten"
	case municipalityNames[code] != "":
		return municipalityNames[code]
	}
	return "gemeente " + code
}

func productLabel(code string) string {
	if code == disclosure.DefaultTotal {
		return "alle productgroepen"
	}
	return "productgroep " + code
}

func ageLabel(code string) string {
	if code == disclosure.DefaultTotal {
		return "alle leeftijden"
	}
	return code + " jaar"
}

// reportSelection is what the reader chose: a period, municipality and
// provider (or their totals), a product group or an age group (or
// neither), and the indicators. It travels in the URL, so that a report can
// be bookmarked and shared.
type reportSelection struct {
	Period, Provider, Municipality string
	GroupDim                       string // dimProduct, dimAge, or "" for all
	Group                          string // the chosen product or age group
	Indicator                      string // one of reportIndicators, or "" for all
}

// The selection's URL parameters. groep is "productgroep:45" or
// "leeftijd:4-11".
const (
	paramPeriod       = "periode"
	paramIndicator    = "indicator"
	paramMunicipality = "gemeente"
	paramProvider     = "aanbieder"
	paramGroup        = "groep"
)

// indicators returns the indicators the selection shows.
func (s reportSelection) indicators() []string {
	if s.Indicator == "" {
		return reportIndicators
	}
	return []string{s.Indicator}
}

// table returns the name of the table that has the selection's rows.
func (s reportSelection) table() string {
	if s.GroupDim == dimAge {
		return dimAge
	}
	return dimProduct
}

// group returns the category of the table's fourth dimension.
func (s reportSelection) group() string {
	if s.GroupDim == "" {
		return disclosure.DefaultTotal
	}
	return s.Group
}

// query returns the selection as URL parameters; a total is left out.
func (s reportSelection) query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" && v != disclosure.DefaultTotal {
			q.Set(k, v)
		}
	}
	set(paramPeriod, s.Period)
	set(paramMunicipality, s.Municipality)
	set(paramProvider, s.Provider)
	if s.GroupDim != "" {
		q.Set(paramGroup, s.GroupDim+":"+s.Group)
	}
	set(paramIndicator, s.Indicator)
	return q
}

// option is one choice of a selection list.
type option struct {
	Value, Label string
	Selected     bool
}

// optionGroup is a labelled group of options (an optgroup).
type optionGroup struct {
	Label   string
	Options []option
}

// reportsPage is the Zorgmonitor as the page and the JSON API show it.
type reportsPage struct {
	Audience string         `json:"audience"` // whose data, and how protected
	Own      bool           `json:"own"`      // a provider's own data, unprotected
	Empty    bool           `json:"empty"`
	Notices  []string       `json:"notices,omitempty"` // about the selection
	Notes    []reportNote   `json:"notes,omitempty"`   // what the response divides by, in Dutch or (?lang=en) English
	Choice   string         `json:"selection"`         // the selection in words
	Tables   []reportTable  `json:"tables"`
	Charts   []chart        `json:"-"`
	Form     reportForm     `json:"-"`
	Links    []downloadLink `json:"-"`
}

// reportForm is the selection form.
type reportForm struct {
	Periods, Indicators, Municipalities, Providers []option
	Groups                                         []optionGroup
	FixedMunicipality, FixedProvider               string // shown, not chosen
}

type downloadLink struct{ Href, Label string }

// reportTable is a table as the page shows it: row headers, then one column
// per measure.
type reportTable struct {
	ID         string      `json:"id"`
	Caption    string      `json:"caption"`
	RowHead    string      `json:"rowHeader"`
	Headers    []string    `json:"headers"`    // of the cells: decisions, then per indicator the applicable decisions, measurements and response
	Indicators []string    `json:"indicators"` // the indicators' names, over their two columns
	Rows       []reportRow `json:"rows"`
}

type reportRow struct {
	Code   string       `json:"code"` // the category
	Header string       `json:"header"`
	Total  bool         `json:"total,omitempty"`
	Cells  []reportCell `json:"cells"`
}

// reportCell is a value as the page shows it; a withheld value is not in it.
type reportCell struct {
	Text   string `json:"value"`
	Status string `json:"status"`           // published, primary or secondary
	Reason string `json:"reason,omitempty"` // the stable code of disclosure.Reason
	Label  string `json:"label,omitempty"`  // the withheld mark's words: "te klein", "beschermd"
}

// Withheld reports whether the cell's value is not shown.
func (c reportCell) Withheld() bool { return c.Status != "published" }

// reportsPage shows the Zorgmonitor for the selection in the URL.
func (a *app) reportsPage(w http.ResponseWriter, r *http.Request) {
	p, err := a.reportsFor(r.Context(), userFrom(r.Context()), r.URL.Query(), language.Dutch)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "reports", p)
}

func (a *app) apiReports(w http.ResponseWriter, r *http.Request) {
	p, err := a.reportsFor(r.Context(), userFrom(r.Context()), r.URL.Query(), reportLanguage(r))
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.renderJSON(w, r, http.StatusOK, p)
}

// readerView is what a reader may see of the report: a provider its own
// records, unprotected; the municipality its own municipality, protected;
// the portal owner everything, protected.
type readerView struct {
	tables       map[string]*reportIndex
	own          bool
	municipality string // fixed for the municipality
	provider     string // fixed for a provider
}

// readerView returns u's view of the report, or nil when there is nothing
// to show.
func (a *app) readerView(ctx context.Context, u *user) (*reportData, *readerView, error) {
	d, err := a.reportData(ctx)
	if err != nil || d.empty {
		return d, nil, err
	}
	switch u.Role {
	case roleUser, roleAdmin:
		ix, err := a.ownerIndex(ctx, d, u.OrgID)
		if err != nil || ix == nil {
			return d, nil, err
		}
		return d, &readerView{tables: ix, own: true, provider: u.OrgID}, nil
	case roleMunicipality:
		if u.Org.CBSCode == "" {
			// Its own municipality is unknown: "" would mean all of
			// them.
			return d, nil, nil
		}
		return d, &readerView{tables: d.public, municipality: u.Org.CBSCode}, nil
	}
	return d, &readerView{tables: d.public}, nil
}

// row returns the cells of the selection's table with these categories.
func (v *readerView) row(sel reportSelection, cats ...string) ([]disclosure.Cell, bool) {
	return v.tables[sel.table()].row(cats...)
}

// present returns the categories of a dimension (provider or municipality)
// that the reader's rows have, without the total.
func (v *readerView) present(pos int) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range v.tables[dimProduct].rows {
		if c := r.Categories[pos]; c != disclosure.DefaultTotal && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// reportsFor builds the page for u and the selection in q, with its notes
// in the language tag. There is no other path to the figures than the
// reader's view.
func (a *app) reportsFor(ctx context.Context, u *user, q url.Values, tag language.Tag) (reportsPage, error) {
	names, err := a.orgNames(ctx)
	if err != nil {
		return reportsPage{}, err
	}
	d, v, err := a.readerView(ctx, u)
	if err != nil {
		return reportsPage{}, err
	}
	var p reportsPage
	switch u.Role {
	case roleUser, roleAdmin:
		p.Own = true
		p.Audience = "U ziet alle gegevens van uw eigen organisatie, " + u.Org.Name + ", ook kleine aantallen. De gemeente ziet deze cijfers beschermd."
	case roleMunicipality:
		p.Audience = "U ziet de cijfers van uw gemeente, beschermd: een groep met minder dan 5 beschikkingen wordt niet getoond, en ook geen cijfer waaruit zo'n groep na te rekenen is."
	default:
		p.Audience = "U ziet de cijfers van alle gemeenten beschermd, zoals een gemeente ze ziet."
	}
	if v == nil {
		p.Empty = true
		return p, nil
	}
	sel, notices := selection(d, v, q)
	p.Notices = notices
	if p.Notes, err = a.responseNotes(ctx, d, v, tag); err != nil {
		return reportsPage{}, err
	}
	p.Form = selectionForm(d, v, sel, names)
	p.Choice = selectionText(sel, names)
	b := reportBuilder{v: v, sel: sel, names: names}
	perProvider, trend := b.perProvider(), b.trend(d)
	p.Tables = append(p.Tables, perProvider, trend)
	p.Charts = []chart{providerChart(perProvider, sel), trendChart(trend, sel)}
	if sel.GroupDim != dimAge {
		p.Tables = append(p.Tables, b.perGroup(dimProduct, "per-product", "Beschikkingen en respons per productgroep", "Productgroep", d.Products, productLabel))
	}
	if sel.GroupDim != dimProduct {
		p.Tables = append(p.Tables, b.perGroup(dimAge, "per-age", "Beschikkingen en respons per leeftijdsgroep", "Leeftijd", d.Ages, ageLabel))
	}
	choice := "/reports.csv?" + sel.query().Encode()
	if len(sel.query()) > 0 {
		choice += "&"
	}
	choice += "deel=selectie"
	if p.Own {
		p.Links = []downloadLink{{"/reports.csv", "Alle gegevens van uw organisatie (CSV)"}, {choice, "Alleen deze selectie (CSV)"}}
	} else {
		p.Links = []downloadLink{{"/reports.csv", "De hele beschermde rapportage (CSV)"}, {choice, "Alleen deze selectie (CSV)"}}
	}
	return p, nil
}

// selection reads the selection from q, with the reader's fixed choices and,
// for a value that does not exist (any more), the default and a notice.
func selection(d *reportData, v *readerView, q url.Values) (reportSelection, []string) {
	var notices []string
	in := func(cats []disclosure.Category) func(string) bool {
		return func(c string) bool {
			return slices.ContainsFunc(cats, func(x disclosure.Category) bool { return x.Code == c })
		}
	}
	pick := func(param, what, def string, ok func(string) bool) string {
		val := q.Get(param)
		switch {
		case val == "":
			return def
		case ok(val):
			return val
		}
		notices = append(notices, "De gekozen "+what+" komt in de gegevens niet (meer) voor. U ziet een andere keuze.")
		return def
	}
	var sel reportSelection
	total := func(ok func(string) bool) func(string) bool {
		return func(c string) bool { return c == disclosure.DefaultTotal || ok(c) }
	}
	// The protected report has no total over all periods (protectReport).
	periodOK := in(d.Periods)
	if v.own {
		periodOK = total(periodOK)
	}
	sel.Period = pick(paramPeriod, "periode", latestPeriod(d.Periods), periodOK)
	sel.Municipality = pick(paramMunicipality, "gemeente", disclosure.DefaultTotal, total(func(c string) bool { return slices.Contains(v.present(posMunicipality), c) }))
	sel.Provider = pick(paramProvider, "zorgaanbieder", disclosure.DefaultTotal, total(func(c string) bool { return slices.Contains(v.present(posProvider), c) }))
	if g := q.Get(paramGroup); g != "" {
		dim, val, _ := strings.Cut(g, ":")
		switch {
		case dim == dimProduct && in(d.Products)(val), dim == dimAge && in(d.Ages)(val):
			sel.GroupDim, sel.Group = dim, val
		default:
			notices = append(notices, "De gekozen productgroep of leeftijdsgroep komt in de gegevens niet (meer) voor. U ziet alle groepen.")
		}
	}
	if v.municipality != "" {
		sel.Municipality = v.municipality
	}
	if v.provider != "" {
		sel.Provider = v.provider
	}
	if ind := q.Get(paramIndicator); slices.Contains(reportIndicators, ind) {
		sel.Indicator = ind
	}
	return sel, notices
}

// latestPeriod is the default period: the latest half-year, or else the
// one period there is.
func latestPeriod(periods []disclosure.Category) string {
	for i := len(periods) - 1; i >= 0; i-- {
		if c := periods[i]; c.Parent != "" {
			return c.Code
		}
	}
	if len(periods) > 0 {
		return periods[0].Code
	}
	return disclosure.DefaultTotal
}

// selectionForm lists the choices of each selection list.
func selectionForm(d *reportData, v *readerView, sel reportSelection, names map[string]string) reportForm {
	var f reportForm
	if v.own {
		f.Periods = []option{{Value: disclosure.DefaultTotal, Label: "Alle perioden", Selected: sel.Period == disclosure.DefaultTotal}}
	}
	for _, c := range d.Periods {
		f.Periods = append(f.Periods, option{Value: c.Code, Label: capitalise(periodLabel(c.Code)), Selected: sel.Period == c.Code})
	}
	f.Indicators = []option{{Value: "", Label: "Beide indicatoren", Selected: sel.Indicator == ""}}
	for _, ind := range reportIndicators {
		f.Indicators = append(f.Indicators, option{Value: ind, Label: indicatorNames[ind], Selected: sel.Indicator == ind})
	}
	f.Groups = []optionGroup{{Options: []option{{Value: "", Label: "Alle productgroepen en leeftijden", Selected: sel.GroupDim == ""}}}}
	for _, g := range []struct {
		dim, label string
		cats       []disclosure.Category
		name       func(string) string
	}{{dimProduct, "Productgroep", d.Products, productLabel}, {dimAge, "Leeftijdsgroep", d.Ages, ageLabel}} {
		og := optionGroup{Label: g.label}
		for _, c := range g.cats {
			og.Options = append(og.Options, option{Value: g.dim + ":" + c.Code, Label: capitalise(g.name(c.Code)), Selected: sel.GroupDim == g.dim && sel.Group == c.Code})
		}
		f.Groups = append(f.Groups, og)
	}
	if v.municipality != "" {
		f.FixedMunicipality = municipalityLabel(v.municipality)
	} else {
		f.Municipalities = []option{{Value: disclosure.DefaultTotal, Label: "Alle gemeenten", Selected: sel.Municipality == disclosure.DefaultTotal}}
		ms := v.present(posMunicipality)
		slices.SortFunc(ms, func(x, y string) int { return strings.Compare(municipalityLabel(x), municipalityLabel(y)) })
		for _, m := range ms {
			f.Municipalities = append(f.Municipalities, option{Value: m, Label: municipalityLabel(m), Selected: sel.Municipality == m})
		}
	}
	if v.provider != "" {
		f.FixedProvider = providerLabel(v.provider, names)
	} else {
		f.Providers = []option{{Value: disclosure.DefaultTotal, Label: "Alle zorgaanbieders", Selected: sel.Provider == disclosure.DefaultTotal}}
		ps := v.present(posProvider)
		slices.SortFunc(ps, func(x, y string) int { return strings.Compare(providerLabel(x, names), providerLabel(y, names)) })
		for _, p := range ps {
			f.Providers = append(f.Providers, option{Value: p, Label: providerLabel(p, names), Selected: sel.Provider == p})
		}
	}
	return f
}

func providerLabel(id string, names map[string]string) string {
	switch {
	case id == disclosure.DefaultTotal:
		return "alle zorgaanbieders"
	case names[id] != "":
		return names[id]
	}
	return id
}

// groupLabel names the selection's product or age group.
func (s reportSelection) groupLabel() string {
	switch s.GroupDim {
	case dimProduct:
		return productLabel(s.Group)
	case dimAge:
		return ageLabel(s.Group)
	}
	return "alle productgroepen en leeftijden"
}

// selectionText says the selection in words.
func selectionText(sel reportSelection, names map[string]string) string {
	ind := "beide indicatoren"
	if sel.Indicator != "" {
		ind = strings.ToLower(indicatorNames[sel.Indicator])
	}
	return strings.Join([]string{periodLabel(sel.Period), municipalityLabel(sel.Municipality), providerLabel(sel.Provider, names),
		sel.groupLabel(), ind}, " · ")
}

// reportBuilder makes the views of the selection.
type reportBuilder struct {
	v     *readerView
	sel   reportSelection
	names map[string]string
}

// table builds a table with a row per category of one dimension: the
// decisions, then per indicator the decisions it applies to, the
// measurements and the response. cats gives a row's categories in the
// table named tab.
func (b reportBuilder) table(id, caption, rowHead, tab string, categories []string, label func(string) string, cats func(string) []string) reportTable {
	t := reportTable{ID: id, Caption: caption, RowHead: rowHead, Headers: []string{"Beschikkingen"}}
	for _, ind := range b.sel.indicators() {
		name := strings.ToLower(indicatorNames[ind])
		t.Indicators = append(t.Indicators, indicatorNames[ind])
		t.Headers = append(t.Headers, "Van toepassing "+name, "Geldige metingen "+name, "Respons "+name+" (van de beschikkingen waarop zij van toepassing is)")
	}
	for _, c := range categories {
		row := reportRow{Code: c, Header: capitalise(label(c)), Total: c == disclosure.DefaultTotal}
		for i, ind := range b.sel.indicators() {
			cells, ok := b.v.tables[tab].row(append(cats(c), ind)...)
			if !ok {
				row.Cells = nil
				break
			}
			if i == 0 {
				row.Cells = append(row.Cells, formatCell("decisions", cells[cellDecisions]))
			}
			row.Cells = append(row.Cells, formatCell("applicable", cells[cellApplicable]), formatCell("measured", cells[cellMeasured]),
				formatCell("rate", cells[cellRate]))
		}
		if len(row.Cells) > 0 {
			t.Rows = append(t.Rows, row)
		}
	}
	return t
}

// base returns the selection's categories in its table.
func (b reportBuilder) base() []string {
	return []string{b.sel.Period, b.sel.Provider, b.sel.Municipality, b.sel.group()}
}

func (b reportBuilder) with(pos int, c string) []string {
	cats := b.base()
	cats[pos] = c
	return cats
}

// perProvider is the response per provider: the providers with decisions
// in the selection (or, withheld, perhaps some), and the total.
func (b reportBuilder) perProvider() reportTable {
	var providers []string
	for _, p := range b.v.present(posProvider) {
		cells, ok := b.v.row(b.sel, append(b.with(posProvider, p), reportIndicators[0])...)
		if ok && !(cells[cellDecisions].Status == disclosure.Published && cells[cellDecisions].Value == 0) {
			providers = append(providers, p)
		}
	}
	slices.SortFunc(providers, func(x, y string) int { return strings.Compare(providerLabel(x, b.names), providerLabel(y, b.names)) })
	if !b.v.own { // a provider's total is its own row
		providers = append(providers, disclosure.DefaultTotal)
	}
	return b.table("per-provider", "Respons per zorgaanbieder, "+periodLabel(b.sel.Period), "Zorgaanbieder", b.sel.table(), providers,
		func(c string) string { return providerLabel(c, b.names) }, func(c string) []string { return b.with(posProvider, c) })
}

// trend is the response per half-year.
func (b reportBuilder) trend(d *reportData) reportTable {
	var periods []string
	for _, c := range d.Periods {
		if c.Parent != "" || c.Code == unknownPeriod {
			periods = append(periods, c.Code)
		}
	}
	return b.table("trend", "Respons per halfjaar, "+providerLabel(b.sel.Provider, b.names), "Halfjaar", b.sel.table(), periods,
		periodLabel, func(c string) []string { return b.with(posPeriod, c) })
}

// perGroup is the response per product group or per age group, in their
// order, with the total.
func (b reportBuilder) perGroup(tab, id, caption, rowHead string, groups []disclosure.Category, label func(string) string) reportTable {
	var codes []string
	for _, c := range groups {
		codes = append(codes, c.Code)
	}
	codes = append(codes, disclosure.DefaultTotal)
	return b.table(id, caption+", "+periodLabel(b.sel.Period), rowHead, tab, codes, label,
		func(c string) []string { return b.with(posGroup, c) })
}

// withheldLabel is the word next to the mark of a withheld cell: primary and
// secondary suppression told apart in words, not only by colour.
var withheldLabel = map[disclosure.Status]string{
	disclosure.PrimarySuppressed:   "te klein",
	disclosure.SecondarySuppressed: "beschermd",
}

func formatCell(measure string, c disclosure.Cell) reportCell {
	if c.Withheld() {
		return reportCell{Text: disclosure.DefaultWithheld, Status: c.Status.String(), Reason: c.Reason.String(), Label: withheldLabel[c.Status]}
	}
	switch {
	case math.IsNaN(c.Value):
		return reportCell{Text: disclosure.DefaultUndefined, Status: "published"}
	case measure == "rate":
		return reportCell{Text: fmt.Sprintf("%.0f%%", 100*c.Value), Status: "published"}
	}
	return reportCell{Text: fmt.Sprintf("%.0f", c.Value), Status: "published"}
}

// reportsCSV downloads the report as CSV, both tables one after the other:
// the reader's whole view (for the municipality its own municipality,
// protected; for a provider all of its own data), or with deel=selectie
// only the rows of the selection. Semicolons and a byte-order mark, so that a
// Dutch spreadsheet opens it as it is; a withheld value is "x" with its
// status in words, never the value.
func (a *app) reportsCSV(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := userFrom(ctx)
	names, err := a.orgNames(ctx)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	d, v, err := a.readerView(ctx, u)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if v == nil {
		http.Error(w, "Er zijn nog geen verwerkte aanleveringen om te downloaden.", http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	keep := func(tab string, cats []string) bool { return true }
	name := "zorgmonitor"
	if q.Get("deel") == "selectie" {
		sel, _ := selection(d, v, q)
		keep = func(tab string, cats []string) bool {
			for i, c := range []string{sel.Period, sel.Provider, sel.Municipality} {
				if c != disclosure.DefaultTotal && cats[i] != c {
					return false
				}
			}
			if sel.GroupDim != "" && (tab != sel.GroupDim || cats[posGroup] != sel.Group) {
				return false
			}
			return sel.Indicator == "" || cats[4] == sel.Indicator
		}
		name += "-selectie"
	}
	if v.own {
		name += "-eigen-gegevens"
	}
	var buf strings.Builder
	buf.WriteString("\ufeff")
	cw := csv.NewWriter(&buf)
	cw.Comma = ';'
	_ = cw.Write([]string{"periode", "zorgaanbieder", "gemeente", "gemeentecode", "productgroep", "leeftijd", "indicator",
		"beschikkingen", "status beschikkingen", "van toepassing", "status van toepassing", "geldige metingen", "status geldige metingen",
		"respons (% van de beschikkingen waarop de indicator van toepassing is)", "status respons"})
	for _, tab := range []string{dimProduct, dimAge} {
		for _, row := range v.tables[tab].rows {
			c := row.Categories
			if v.municipality != "" && c[posMunicipality] != v.municipality || !keep(tab, c) {
				continue
			}
			// Each table's total over its group is the other's too: once.
			if tab == dimAge && c[posGroup] == disclosure.DefaultTotal {
				continue
			}
			code := c[posMunicipality]
			if code == disclosure.DefaultTotal {
				code = ""
			}
			product, age := productLabel(disclosure.DefaultTotal), ageLabel(disclosure.DefaultTotal)
			if tab == dimProduct {
				product = productLabel(c[posGroup])
			} else {
				age = ageLabel(c[posGroup])
			}
			rec := []string{periodLabel(c[posPeriod]), providerLabel(c[posProvider], names), municipalityLabel(c[posMunicipality]), code, product, age, strings.ToLower(indicatorNames[c[4]])}
			for i, cell := range row.Cells {
				rec = append(rec, csvValue(cell, i == cellRate), csvStatus(cell))
			}
			_ = cw.Write(rec)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		a.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	_, _ = w.Write([]byte(buf.String()))
}

// csvValue writes a value for a Dutch spreadsheet: a decimal comma, a
// percentage for a rate; "x" when withheld, "." for a rate without
// decisions the indicator applies to.
func csvValue(c disclosure.Cell, rate bool) string {
	switch {
	case c.Withheld():
		return disclosure.DefaultWithheld
	case math.IsNaN(c.Value):
		return disclosure.DefaultUndefined
	case rate:
		return strings.Replace(strconv.FormatFloat(100*c.Value, 'f', 1, 64), ".", ",", 1)
	}
	return strconv.FormatFloat(c.Value, 'f', 0, 64)
}

// csvStatus says in words whether a value is shown, and if not, why.
func csvStatus(c disclosure.Cell) string {
	switch c.Status {
	case disclosure.PrimarySuppressed:
		return "niet getoond: te klein (minder dan 5 beschikkingen)"
	case disclosure.SecondarySuppressed:
		if c.Reason == disclosure.Derived {
			return "niet getoond: beschermd (berekend uit een verborgen cijfer)"
		}
		return "niet getoond: beschermd (anders na te rekenen)"
	}
	return "getoond"
}

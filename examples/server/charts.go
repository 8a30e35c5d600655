package main

import (
	"fmt"
	"html"
	"html/template"
	"strconv"
	"strings"
)

// The Zorgmonitor's charts are drawn here, on the server, as SVG inside the
// page: no script, so the Content Security Policy stays strict, and every
// style is a presentation attribute (style-src allows no inline styles). Each
// chart is an image with a text alternative that gives every value, and
// stands beside the table with the same figures. A withheld value is drawn as
// withheld (a hatched, outlined bar with the word), never as a zero, and the
// two indicators differ in pattern as well as in colour.

// chart is a drawn chart and what it says in words.
type chart struct {
	ID    string
	Title string
	Desc  string        // the text alternative: every value
	SVG   template.HTML // the drawing, with Title and Desc inside
}

// series are the indicators' looks: a fill and, for the second, stripes.
var seriesFill = []string{"#1f5f8b", "url(#%s-stripes)"}

const (
	chartText     = "#1b1b1b"
	chartMuted    = "#4a4f55"
	chartGrid     = "#8a8f96"
	seriesColour2 = "#a65200" // 4.9:1 on white
)

// bar is one value of a chart: a rate, or why there is none.
type bar struct {
	Rate   float64 // 0..1 when shown
	Shown  bool
	Text   string // "54%", or "x te klein", "geen beschikkingen"
	Spoken string // for the text alternative
}

// barOf reads a response cell of a report table.
func barOf(c reportCell) bar {
	switch {
	case c.Withheld():
		return bar{Text: "x " + c.Label, Spoken: "niet getoond (" + c.Label + ")"}
	case c.Text == ".":
		return bar{Text: "geen afgesloten zorg", Spoken: "geen beschikkingen waarop de indicator van toepassing is"}
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(c.Text, "%"), 64)
	if err != nil {
		return bar{Text: c.Text, Spoken: c.Text}
	}
	return bar{Rate: v / 100, Shown: true, Text: c.Text, Spoken: c.Text}
}

// rateColumns returns, per indicator of the selection, the index of the
// response cell in a report row.
func rateColumns(sel reportSelection) []int {
	var out []int
	for i := range sel.indicators() {
		out = append(out, 3+3*i) // the decisions, then per indicator the applicable ones, the measurements and the response
	}
	return out
}

// svgWriter builds the SVG text, escaping every text it is given.
type svgWriter struct{ b strings.Builder }

func (w *svgWriter) f(format string, args ...any) { fmt.Fprintf(&w.b, format, args...) }

func (w *svgWriter) text(x, y float64, size int, anchor, fill, weight, s string) {
	w.f(`<text x="%.1f" y="%.1f" font-size="%d" text-anchor="%s" fill="%s" font-weight="%s">%s</text>`, x, y, size, anchor, fill, weight, html.EscapeString(s))
}

// open starts the SVG: an image named by its title and described by its
// description, with the patterns for stripes and withheld bars.
func (w *svgWriter) open(id, title, desc string, width, height float64) {
	w.f(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="%s-title %s-desc" font-family="system-ui, sans-serif">`, width, height, id, id)
	w.f(`<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, html.EscapeString(title), id, html.EscapeString(desc))
	w.f(`<defs><pattern id="%s-stripes" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="%s"/><rect width="2" height="6" fill="#ffffff"/></pattern>`, id, seriesColour2)
	w.f(`<pattern id="%s-withheld" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)"><rect width="8" height="8" fill="#ffffff"/><rect width="1.5" height="8" fill="%s"/></pattern></defs>`, id, chartGrid)
	w.f(`<rect width="%.0f" height="%.0f" fill="#ffffff"/>`, width, height)
}

func (w *svgWriter) close() template.HTML {
	w.f(`</svg>`)
	return template.HTML(w.b.String()) // every text was escaped above
}

func fillOf(id string, series int) string {
	if series == 0 {
		return seriesFill[0]
	}
	return fmt.Sprintf(seriesFill[1], id)
}

// legend draws the indicators' swatches at y.
func (w *svgWriter) legend(id string, inds []string, y float64) {
	x := 0.0
	for i, ind := range inds {
		w.f(`<rect x="%.1f" y="%.1f" width="14" height="14" fill="%s" stroke="%s"/>`, x, y-11, fillOf(id, i), chartText)
		w.text(x+19, y, 13, "start", chartText, "400", indicatorNames[ind])
		x += 30 + 8*float64(len(indicatorNames[ind]))
	}
}

// providerChart draws the response per provider: a group of horizontal bars
// per provider, one per indicator, with the value written at each bar. It is
// drawn 320 units wide, so that its text stays legible on a phone.
func providerChart(t reportTable, sel reportSelection) chart {
	const (
		id     = "chart-providers"
		width  = 320.0
		labelW = 120.0
		valueW = 52.0
		barH   = 16.0
		rowH   = 22.0
		groupH = 22.0
	)
	inds := sel.indicators()
	cols := rateColumns(sel)
	title := lowerFirst(t.Caption)
	var body svgWriter
	var desc []string
	y := 30.0
	scale := width - labelW - valueW
	for _, r := range t.Rows {
		body.text(0, y+14, 14, "start", chartText, "700", r.Header)
		var spoken []string
		for i, ind := range inds {
			by := y + groupH + rowH*float64(i)
			b := barOf(r.Cells[cols[i]])
			body.text(0, by+12, 12, "start", chartMuted, "400", indicatorNames[ind])
			switch {
			case b.Shown:
				body.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.0f" fill="%s" stroke="%s" stroke-width="0.5"/>`, labelW, by, b.Rate*scale, barH, fillOf(id, i), chartText)
				body.text(labelW+b.Rate*scale+4, by+12, 12, "start", chartText, "700", b.Text)
			case strings.HasPrefix(b.Text, "x"):
				withheldBar(&body, id, labelW, by, scale, barH, b.Text)
			default:
				body.text(labelW, by+12, 12, "start", chartMuted, "400", b.Text)
			}
			spoken = append(spoken, strings.ToLower(indicatorNames[ind])+" "+b.Spoken)
		}
		desc = append(desc, r.Header+": "+strings.Join(spoken, ", "))
		y += groupH + rowH*float64(len(inds)) + 8
	}
	// The scale, below: 0, 50 and 100 percent.
	for _, p := range []float64{0, .5, 1} {
		x := labelW + p*scale
		body.f(`<line x1="%.1f" y1="28" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="0.5" stroke-dasharray="2 3"/>`, x, x, y, chartGrid)
		body.text(x, y+14, 11, "middle", chartMuted, "400", fmt.Sprintf("%.0f%%", 100*p))
	}
	text := capitalise(title) + ". " + strings.Join(desc, ". ") + ". De cijfers staan ook in de tabel."
	var w svgWriter
	w.open(id, capitalise(title), text, width, y+22)
	w.legend(id, inds, 16)
	w.b.WriteString(body.b.String())
	return chart{ID: id, Title: title, Desc: text, SVG: w.close()}
}

// withheldBar draws a withheld value: a hatched, dashed outline over the
// whole bar's length with the mark and its word on a white label, so that
// it can never be read as a zero.
func withheldBar(w *svgWriter, id string, x, y, length, h float64, text string) {
	w.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.0f" fill="url(#%s-withheld)" stroke="%s" stroke-dasharray="4 3"/>`, x, y, length, h, id, chartText)
	w.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.0f" fill="#ffffff"/>`, x+3, y+2, 7*float64(len(text))+6, h-4)
	w.text(x+6, y+12, 12, "start", chartText, "700", text)
}

// trendChart draws the response per half-year as small multiples: a panel
// per indicator, one bar per period, so that every bar has room for its
// value and the indicators are told apart by their panel's title.
func trendChart(t reportTable, sel reportSelection) chart {
	const (
		id     = "chart-trend"
		width  = 320.0
		left   = 34.0
		plotH  = 96.0
		titleH = 24.0
		axisH  = 20.0
		gap    = 14.0
	)
	inds := sel.indicators()
	cols := rateColumns(sel)
	title := lowerFirst(t.Caption)
	n := max(len(t.Rows), 1)
	groupW := (width - left) / float64(n)
	barW := min(30, groupW-6)
	var body svgWriter
	var desc []string
	y := 0.0
	for i, ind := range inds {
		body.text(0, y+16, 14, "start", chartText, "700", indicatorNames[ind])
		top := y + titleH + 10
		base := top + plotH
		for _, p := range []float64{0, .5, 1} {
			ly := base - p*plotH
			dash := ` stroke-dasharray="2 3"`
			if p == 0 {
				dash = ""
			}
			body.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="0.5"%s/>`, left, ly, width, ly, chartGrid, dash)
			body.text(left-4, ly+4, 11, "end", chartMuted, "400", fmt.Sprintf("%.0f%%", 100*p))
		}
		var spoken []string
		for g, r := range t.Rows {
			b := barOf(r.Cells[cols[i]])
			x := left + groupW*float64(g) + (groupW-barW)/2
			switch {
			case b.Shown:
				h := b.Rate * plotH
				body.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" stroke="%s" stroke-width="0.5"/>`, x, base-h, barW, h, fillOf(id, i), chartText)
				body.text(x+barW/2, base-h-3, 11, "middle", chartText, "700", b.Text)
			case strings.HasPrefix(b.Text, "x"):
				body.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="url(#%s-withheld)" stroke="%s" stroke-dasharray="4 3"/>`, x, top, barW, plotH, id, chartText)
				body.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="16" fill="#ffffff"/>`, x+2, base-20, barW-4)
				body.text(x+barW/2, base-8, 12, "middle", chartText, "700", "x")
			default:
				body.text(x+barW/2, base-4, 11, "middle", chartMuted, "400", "–")
			}
			body.text(left+groupW*(float64(g)+.5), base+14, 10, "middle", chartText, "400", shortPeriodLabel(r.Code))
			spoken = append(spoken, shortPeriodLabel(r.Code)+" "+b.Spoken)
		}
		desc = append(desc, indicatorNames[ind]+": "+strings.Join(spoken, ", "))
		y = base + axisH + gap
	}
	body.text(0, y+4, 11, "start", chartMuted, "400", "x: niet getoond (privacy). –: geen beschikkingen.")
	text := capitalise(title) + ". " + strings.Join(desc, ". ") + ". De cijfers staan ook in de tabel."
	var w svgWriter
	w.open(id, capitalise(title), text, width, y+12)
	w.b.WriteString(body.b.String())
	return chart{ID: id, Title: title, Desc: text, SVG: w.close()}
}

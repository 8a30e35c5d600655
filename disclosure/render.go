package disclosure

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"strconv"
)

// DefaultWithheld is the symbol for a withheld value when
// [Format.Withheld] is empty: "x", as Statistics Netherlands prints a
// confidential figure.
const DefaultWithheld = "x"

// DefaultUndefined is the symbol for a rate without decisions when
// [Format.Undefined] is empty.
const DefaultUndefined = "."

// Format configures the rendering of a table.
type Format struct {
	// Withheld replaces a withheld value; DefaultWithheld when empty.
	Withheld string

	// Undefined replaces a rate without decisions (0/0);
	// DefaultUndefined when empty.
	Undefined string

	// Status adds, after each measure's column, a column with the cell's
	// status and one with the reason (CSV).
	Status bool
}

func (f Format) withheld() string {
	if f.Withheld == "" {
		return DefaultWithheld
	}
	return f.Withheld
}

func (f Format) undefined() string {
	if f.Undefined == "" {
		return DefaultUndefined
	}
	return f.Undefined
}

// display returns the text of a cell.
func (f Format) display(c Cell) string {
	switch {
	case c.Withheld():
		return f.withheld()
	case math.IsNaN(c.Value):
		return f.undefined()
	}
	return strconv.FormatFloat(c.Value, 'f', -1, 64)
}

// WriteCSV writes the table as CSV: a header with the dimensions and
// measures, then one line per row. A withheld value is written as the
// Withheld symbol; the value itself is not in the table.
func (t *table) WriteCSV(w io.Writer, f Format) error {
	cw := csv.NewWriter(w)
	header := append([]string(nil), t.dimensions...)
	for _, m := range t.measures {
		header = append(header, m)
		if f.Status {
			header = append(header, m+"_status", m+"_reason")
		}
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	line := make([]string, 0, len(header))
	for _, r := range t.rows {
		line = append(line[:0], r.Categories...)
		for _, c := range r.Cells {
			line = append(line, f.display(c))
			if f.Status {
				line = append(line, c.Status.String(), c.Reason.String())
			}
		}
		if err := cw.Write(line); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

type jsonTable struct {
	Name       string    `json:"name"`
	Kind       string    `json:"kind"`
	Dimensions []string  `json:"dimensions"`
	Measures   []string  `json:"measures"`
	Rows       []jsonRow `json:"rows"`
}

type jsonRow struct {
	Categories []string   `json:"categories"`
	Cells      []jsonCell `json:"cells"`
}

type jsonCell struct {
	Value   *float64 `json:"value,omitempty"`
	Display string   `json:"display"`
	Status  Status   `json:"status"`
	Reason  Reason   `json:"reason,omitempty"`
}

// WriteJSON writes the table as a JSON object with its name, kind,
// dimensions, measures and rows. Each cell has a display text and a
// status; a published cell also has its numeric value, a withheld one its
// reason and no value.
func (t *table) WriteJSON(w io.Writer, f Format) error {
	out := jsonTable{Name: t.name, Kind: t.kind.String(), Dimensions: t.dimensions, Measures: t.measures,
		Rows: make([]jsonRow, len(t.rows))}
	for i, r := range t.rows {
		jr := jsonRow{Categories: r.Categories, Cells: make([]jsonCell, len(r.Cells))}
		for k, c := range r.Cells {
			jc := jsonCell{Display: f.display(c), Status: c.Status, Reason: c.Reason}
			if !c.Withheld() && !math.IsNaN(c.Value) {
				v := c.Value
				jc.Value = &v
			}
			jr.Cells[k] = jc
		}
		out.Rows[i] = jr
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

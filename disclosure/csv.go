package disclosure

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// ReadCSV reads a frequency table in the layout statisticians exchange
// (R's data frames, τ-ARGUS's and sdcTable's input): a header row that
// names one column per dimension (by [Dimension.Name]) and one count
// column (any other name, such as "aantal" or "Freq"), then one row per
// cell, with a category code per dimension and the number of records.
//
// Rows with a leaf category in every dimension are the inner cells; inner
// cells not given are empty. A row may also give a total or subtotal (a
// group's code, or the label of a dimension's total): ReadCSV checks it
// against the sum of the inner cells under it, and then lets the inner
// cells decide, as [FromAggregates] computes every total from them.
//
// The separator is a comma, a semicolon (spreadsheets in Dutch) or a tab,
// whichever the header uses. The input is UTF-8, with or without a byte
// order mark, or, when it is not valid UTF-8, Windows-1252 (Excel's "CSV"
// on Windows). Counts are whole numbers, zero or more.
//
// s must be a Count table with every dimension, in the order of dims, as
// for FromAggregates. Problems with the file are [*CSVError] values
// (several, joined, when there are several), which wrap [ErrCSV].
func ReadCSV(r io.Reader, dims []Dimension, s Spec) (*Tables, error) {
	if s.Kind != Count {
		return nil, &SpecError{Table: s.Name, Problem: "ReadCSV reads frequency tables: the Kind must be Count"}
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("disclosure: reading the CSV file: %w", err)
	}
	rows, err := parseCSV(data)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, &CSVError{Line: 1, Problem: "the file is empty: it needs a header row"}
	}
	header := rows[0]
	cols, count, err := csvColumns(header, dims)
	if err != nil {
		return nil, err
	}
	rows = rows[1:]

	// Compile the dimensions (a flat one takes its codes from the file).
	compiled := make([]*dim, len(dims))
	for d, def := range dims {
		total := def.Total
		if total == "" {
			total = DefaultTotal
		}
		cd, err := compileDimension(def, func() []string {
			var codes []string
			for _, row := range rows {
				if code := strings.TrimSpace(row.fields[cols[d]]); code != total && code != "" {
					codes = append(codes, code)
				}
			}
			return codes
		})
		if err != nil {
			return nil, err
		}
		compiled[d] = cd
	}

	var problems problemList
	type given struct {
		line  int
		nodes []int32
		count int
	}
	var cells []Aggregate
	var totals []given
	seen := make(map[string]int, len(rows)) // node key → line
	for _, row := range rows {
		nodes := make([]int32, len(dims))
		leaf, ok := true, true
		for d, cd := range compiled {
			code := strings.TrimSpace(row.fields[cols[d]])
			n, found := cd.nodeOf[code]
			if !found {
				problems.add(&CSVError{Line: row.line, Column: strings.TrimSpace(header.fields[cols[d]]), Problem: fmt.Sprintf("%s is not a category of dimension %q", shown(code), cd.name)})
				ok = false
				continue
			}
			nodes[d] = n
			leaf = leaf && cd.isLeaf(n)
		}
		text := strings.TrimSpace(row.fields[count])
		n, err := strconv.Atoi(text)
		switch {
		case err != nil || text == "" || text[0] == '+':
			problems.add(&CSVError{Line: row.line, Column: strings.TrimSpace(header.fields[count]), Problem: fmt.Sprintf("the count %s is not a whole number", shown(text))})
			ok = false
		case n < 0:
			problems.add(&CSVError{Line: row.line, Column: strings.TrimSpace(header.fields[count]), Problem: fmt.Sprintf("the count %d is negative", n)})
			ok = false
		}
		if !ok {
			continue
		}
		key := leafKey(nodes)
		if first, dup := seen[key]; dup {
			problems.add(&CSVError{Line: row.line, Problem: fmt.Sprintf("the same cell as line %d", first)})
			continue
		}
		seen[key] = row.line
		if !leaf {
			totals = append(totals, given{row.line, nodes, n})
			continue
		}
		cats := make([]string, len(dims))
		for d, cd := range compiled {
			cats[d] = cd.codes[nodes[d]]
		}
		cells = append(cells, Aggregate{Categories: cats, Count: n})
	}
	if err := problems.err(); err != nil {
		return nil, err
	}

	// Check the given totals: add every inner cell to each combination of
	// its ancestors that the file gives.
	if len(totals) > 0 {
		sums := make(map[string]int, len(totals))
		for _, g := range totals {
			sums[leafKey(g.nodes)] = 0
		}
		nodes := make([]int32, len(dims))
		for _, c := range cells {
			var rec func(d int)
			rec = func(d int) {
				if d == len(dims) {
					if v, ok := sums[leafKey(nodes)]; ok {
						sums[leafKey(nodes)] = v + c.Count
					}
					return
				}
				cd := compiled[d]
				for n := cd.leafOf[c.Categories[d]]; n >= 0; n = cd.parent[n] {
					nodes[d] = n
					rec(d + 1)
				}
			}
			rec(0)
		}
		for _, g := range totals {
			if sum := sums[leafKey(g.nodes)]; sum != g.count {
				names := make([]string, len(dims))
				for d, cd := range compiled {
					names[d] = cd.name + "=" + cd.codes[g.nodes[d]]
				}
				problems.add(&CSVError{Line: g.line, Problem: fmt.Sprintf("the total %s is %d, but its inner cells add up to %d",
					strings.Join(names, "; "), g.count, sum)})
			}
		}
		if err := problems.err(); err != nil {
			return nil, err
		}
	}
	if len(cells) == 0 {
		return nil, &CSVError{Line: header.line, Problem: "the file has no inner cells (a leaf category in every dimension)"}
	}
	return FromAggregates(dims, s, cells)
}

// csvRow is a row of the file and the line it starts on.
type csvRow struct {
	line   int
	fields []string
}

// parseCSV decodes the file and splits it into rows.
func parseCSV(data []byte) ([]csvRow, error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if !utf8.Valid(data) {
		decoded, err := charmap.Windows1252.NewDecoder().Bytes(data)
		if err != nil {
			return nil, &CSVError{Line: 1, Problem: "the file is neither UTF-8 nor Windows-1252"}
		}
		data = decoded
	}
	first, _, _ := bytes.Cut(data, []byte("\n"))
	cr := csv.NewReader(bytes.NewReader(data))
	switch {
	case bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")):
		cr.Comma = ';'
	case bytes.Contains(first, []byte("\t")) && !bytes.Contains(first, []byte(",")):
		cr.Comma = '\t'
	}
	cr.FieldsPerRecord = -1 // checked below, after blank lines
	var rows []csvRow
	for {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if pe := (*csv.ParseError)(nil); errors.As(err, &pe) {
			return nil, &CSVError{Line: pe.StartLine, Problem: pe.Err.Error()}
		}
		if err != nil {
			return nil, &CSVError{Line: len(rows) + 1, Problem: err.Error()}
		}
		line, _ := cr.FieldPos(0)
		if len(fields) == 1 && strings.TrimSpace(fields[0]) == "" {
			continue // a blank line, as spreadsheets leave at the end
		}
		if len(rows) > 0 && len(fields) != len(rows[0].fields) {
			return nil, &CSVError{Line: line, Problem: fmt.Sprintf("the row has %d fields, the header %d", len(fields), len(rows[0].fields))}
		}
		rows = append(rows, csvRow{line, fields})
	}
}

// csvColumns finds the column of each dimension and the count column.
func csvColumns(row csvRow, dims []Dimension) (cols []int, count int, err error) {
	header := row.fields
	var problems problemList
	index := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.TrimSpace(h)
		if j, dup := index[h]; dup {
			problems.add(&CSVError{Line: row.line, Column: h, Problem: fmt.Sprintf("columns %d and %d have the same name", j+1, i+1)})
		}
		index[h] = i
	}
	cols = make([]int, len(dims))
	used := make([]bool, len(header))
	for d, def := range dims {
		i, ok := index[def.Name]
		if !ok {
			problems.add(&CSVError{Line: row.line, Column: def.Name, Problem: fmt.Sprintf("no column for dimension %q", def.Name)})
			continue
		}
		cols[d] = i
		used[i] = true
	}
	var rest []string
	for i, h := range header {
		if !used[i] {
			rest = append(rest, shown(strings.TrimSpace(h)))
			count = i
		}
	}
	if len(rest) != 1 {
		problems.add(&CSVError{Line: row.line, Problem: fmt.Sprintf("there must be exactly one column besides the dimensions, the count; there are %d: %s",
			len(rest), strings.Join(rest, ", "))})
	}
	return cols, count, problems.err()
}

// maxProblems is the number of problems in a file that ReadCSV reports.
const maxProblems = 20

// problemList collects the first maxProblems problems of a file.
type problemList struct {
	errs []error
	more int
}

func (p *problemList) add(e *CSVError) {
	if len(p.errs) < maxProblems {
		p.errs = append(p.errs, e)
		return
	}
	p.more++
}

func (p *problemList) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	errs := slices.Clone(p.errs)
	if p.more > 0 {
		errs = append(errs, fmt.Errorf("disclosure: and %d more problems in the CSV file", p.more))
	}
	return errors.Join(errs...)
}

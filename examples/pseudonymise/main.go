// Command pseudonymise pseudonymises a file as a care portal does on upload:
// every BSN becomes a pseudoBSN, and other columns are encrypted, coarsened,
// kept or dropped as the flags say.
//
//	go run ./examples/pseudonymise -key-file K -in F -out G
//
// With no other flags it reads a delimited file with a header (delimiter and
// encoding detected), pseudonymises the column named BSN and keeps the
// others. It prints a progress line on standard error while it works on a
// long file, and the quality report when it is done. It never prints a key
// or a BSN.
//
// The key file holds one key a line, the current key first: an id (ASCII
// letters, digits, '-' and '_'), a space, and a secret of at least 32 random
// bytes in base64. Lines starting with '#' are comments:
//
//	# make a secret with: head -c 32 /dev/urandom | base64
//	2026-11 6tC9Gf1lDXbJwFh0fNRZ6Y8b4HqUcW1aZ0pV7qGvXcM=
//
// Keep it readable by its owner only (chmod 600); the command warns if it is
// not. Columns are named as in the header, or as #3 for the third column:
//
//	pseudonymise -key-file K -in F -out G -domain gemeente-almere \
//	    -bsn BSN -pc4 Postcode -year Geboortedatum -encrypt Opmerking -other drop
//
// The input may also be an Excel workbook (.xlsx), recognised by its
// content; -numeric-bsn reads an 8-digit number cell in a BSN column as a
// BSN whose leading zero the spreadsheet dropped. -layout jeugdhulp checks
// every row against the CBS youth-care data set, and -report-csv and
// -report-html write the quality report for the provider:
//
//	pseudonymise -key-file K -in aanlevering.xlsx -out G -layout jeugdhulp \
//	    -numeric-bsn -report-html kwaliteit.html
//
// The exit status is 0 if every row was written, 1 if rows were rejected,
// and 2 on an error (then no output file is left behind), such as a file
// without data rows or a legacy .xls (save it as .xlsx or CSV).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/pseudonym"
	"github.com/zorgkit/zorgkit/pseudonym/layout"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rejected, err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pseudonymise:", err)
		os.Exit(2)
	}
	if rejected {
		os.Exit(1)
	}
}

// errUsage means the flags are wrong; flag has printed the usage.
var errUsage = errors.New("see the usage above")

// run pseudonymises the file the arguments name and reports whether rows
// were rejected.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (rejected bool, err error) {
	fs := flag.NewFlagSet("pseudonymise", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		keyFile  = fs.String("key-file", "", "key file: one key a line, `id base64-secret`, the current key first (required)")
		inPath   = fs.String("in", "-", "input file, - for standard input")
		outPath  = fs.String("out", "-", "output file, - for standard output")
		domain   = fs.String("domain", "", "the recipient's domain, such as gemeente-almere; empty: the key holder's own")
		bsnCols  = fs.String("bsn", "BSN", "columns to pseudonymise: header names or #positions, comma-separated")
		encrypt  = fs.String("encrypt", "", "columns to encrypt")
		pc4      = fs.String("pc4", "", "postcode columns to coarsen to PC4")
		year     = fs.String("year", "", "date columns to coarsen to their year")
		ageBand  = fs.String("age-band", "", "date-of-birth columns to coarsen to an age band on -age-on")
		ageOn    = fs.String("age-on", "", "reference date of -age-band, as 2006-01-02")
		keep     = fs.String("keep", "", "columns to keep")
		drop     = fs.String("drop", "", "columns to drop")
		other    = fs.String("other", "keep", "what to do with the other columns: keep, drop, or none (every column needs a flag)")
		noHeader = fs.Bool("no-header", false, "the file has no header row; name columns as #1, #2, …")
		comma    = fs.String("comma", "", "delimiter: ; , or tab; empty: detect")
		encoding = fs.String("encoding", "detect", "input encoding: detect, utf-8 or windows-1252")
		flagBad  = fs.Bool("flag", false, "keep a row with an invalid cell, with the problem code in the cell, instead of rejecting it")
		lang     = fs.String("lang", "nl", "language of the report: nl or en")
		layoutF  = fs.String("layout", "", "check every row against a data-set layout: jeugdhulp (the CBS youth-care data set) or a layout file (JSON)")
		numeric  = fs.Bool("numeric-bsn", false, "in an .xlsx, read an 8-digit number cell in a -bsn column as a BSN that lost its leading zero")
		sheet    = fs.String("sheet", "", "the worksheet of an .xlsx to read; empty: the first")
		repCSV   = fs.String("report-csv", "", "also write the quality report as CSV to this file")
		repHTML  = fs.String("report-html", "", "also write the quality report as a printable HTML page to this file")
	)
	if err := fs.Parse(args); err != nil {
		return false, errUsage
	}
	if *keyFile == "" || fs.NArg() > 0 {
		fs.Usage()
		return false, errUsage
	}
	ring, err := readKeyring(*keyFile, stderr)
	if err != nil {
		return false, err
	}
	p := &pseudonym.Processor{Keyring: ring, Domain: *domain, Header: !*noHeader, Sheet: *sheet}
	if *layoutF != "" {
		if p.Schema, err = readLayout(*layoutF); err != nil {
			return false, err
		}
	}
	for _, c := range []struct {
		list   string
		action pseudonym.Action
	}{
		{*bsnCols, pseudonym.Pseudonymise}, {*encrypt, pseudonym.Encrypt}, {*pc4, pseudonym.CoarsenPC4},
		{*year, pseudonym.CoarsenYear}, {*ageBand, pseudonym.CoarsenAgeBand}, {*keep, pseudonym.Keep}, {*drop, pseudonym.Drop},
	} {
		cols, err := columns(c.list, c.action)
		if err != nil {
			return false, err
		}
		for i := range cols {
			cols[i].NumericFromSpreadsheet = *numeric && c.action == pseudonym.Pseudonymise
		}
		p.Columns = append(p.Columns, cols...)
	}
	if p.Other, err = parseOther(*other); err != nil {
		return false, err
	}
	if *ageOn != "" {
		if p.AgeOn, err = time.Parse(time.DateOnly, *ageOn); err != nil {
			return false, fmt.Errorf("-age-on: want a date such as 2026-12-31")
		}
	}
	if p.Comma, err = parseComma(*comma); err != nil {
		return false, err
	}
	if p.Encoding, err = parseEncoding(*encoding); err != nil {
		return false, err
	}
	if *flagBad {
		p.OnInvalid = pseudonym.KeepFlagged
	}
	tag, err := language.Parse(*lang)
	if err != nil {
		return false, fmt.Errorf("-lang: %w", err)
	}

	in, size, err := openInput(*inPath, stdin)
	if err != nil {
		return false, err
	}
	defer in.Close()
	out, commit, err := createOutput(*outPath, stdout)
	if err != nil {
		return false, err
	}
	progress := newProgress(stderr, size)
	p.Progress = progress.update
	counted := &countingReader{r: in}
	progress.read = &counted.n

	report, err := p.Process(ctx, counted, out)
	progress.done()
	if fe := (*pseudonym.FileTypeError)(nil); errors.As(err, &fe) {
		err = errors.New(fe.Code.Text(tag)) // what to do, in the user's language
	}
	if err := commit(err); err != nil {
		return false, err
	}
	if err := report.WriteText(stderr, tag); err != nil {
		return false, err
	}
	if err := writeReports(report, tag, *inPath, *repCSV, *repHTML); err != nil {
		return false, err
	}
	return report.Rows.Rejected > 0, nil
}

// readLayout returns the embedded youth-care layout, or reads a layout file.
func readLayout(name string) (*layout.Layout, error) {
	if name == "jeugdhulp" {
		return layout.Jeugdhulp(), nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return layout.Parse(b)
}

// writeReports writes the quality report as CSV and as HTML, where asked.
func writeReports(report *pseudonym.Report, tag language.Tag, in, csvPath, htmlPath string) error {
	for _, r := range []struct {
		path  string
		write func(io.Writer) error
	}{
		{csvPath, func(w io.Writer) error { return report.WriteCSV(w, tag) }},
		{htmlPath, func(w io.Writer) error { return report.WriteHTML(w, tag, filepath.Base(in)) }},
	} {
		if r.path == "" {
			continue
		}
		f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		err = r.write(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readKeyring reads the key file, and warns if others may read it.
func readKeyring(path string, stderr io.Writer) (*pseudonym.Keyring, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(stderr, "pseudonymise: warning: others may read the key file %s: chmod 600 it\n", path)
	}
	return pseudonym.ReadKeyring(f)
}

// columns parses a comma-separated list of column names and #positions.
func columns(list string, action pseudonym.Action) ([]pseudonym.Column, error) {
	var cols []pseudonym.Column
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
		case strings.HasPrefix(name, "#"):
			pos, err := strconv.Atoi(name[1:])
			if err != nil || pos < 1 {
				return nil, fmt.Errorf("column %q: a position is # and a number from 1", name)
			}
			cols = append(cols, pseudonym.Column{Pos: pos, Action: action})
		default:
			cols = append(cols, pseudonym.Column{Name: name, Action: action})
		}
	}
	return cols, nil
}

func parseOther(s string) (pseudonym.Action, error) {
	switch s {
	case "keep":
		return pseudonym.Keep, nil
	case "drop":
		return pseudonym.Drop, nil
	case "none":
		return 0, nil
	}
	return 0, fmt.Errorf("-other %q: use keep, drop or none", s)
}

func parseComma(s string) (rune, error) {
	switch s {
	case "":
		return 0, nil
	case ";", ",":
		return rune(s[0]), nil
	case "tab", `\t`, "\t":
		return '\t', nil
	}
	return 0, fmt.Errorf("-comma %q: use ; , or tab", s)
}

func parseEncoding(s string) (pseudonym.Encoding, error) {
	switch strings.ToLower(s) {
	case "detect":
		return pseudonym.DetectEncoding, nil
	case "utf-8", "utf8":
		return pseudonym.UTF8, nil
	case "windows-1252", "cp1252":
		return pseudonym.Windows1252, nil
	}
	return 0, fmt.Errorf("-encoding %q: use detect, utf-8 or windows-1252", s)
}

// openInput opens the input and returns its size, or -1 if unknown.
func openInput(path string, stdin io.Reader) (io.ReadCloser, int64, error) {
	if path == "-" {
		return io.NopCloser(stdin), -1, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	size := int64(-1)
	if info, err := f.Stat(); err == nil && info.Mode().IsRegular() {
		size = info.Size()
	}
	return f, size, nil
}

// createOutput creates the output. commit closes it, and removes it if the
// processing failed: no half file is left to be taken for a whole one.
func createOutput(path string, stdout io.Writer) (io.Writer, func(error) error, error) {
	if path == "-" {
		return stdout, func(err error) error { return err }, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, nil, err
	}
	commit := func(err error) error {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
		}
		return err
	}
	return f, commit, nil
}

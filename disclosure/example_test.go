package disclosure_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/zorgkit/zorgkit/disclosure"
)

// allocations returns n allocations of care type careType in municipality
// gemeente by provider.
func allocations(n int, provider, gemeente, careType string) []disclosure.Record {
	out := make([]disclosure.Record, n)
	for i := range out {
		out[i] = disclosure.Record{Categories: []string{gemeente, careType}, Contributor: provider}
	}
	return out
}

// Protect a small two-dimensional table, municipality (grouped by
// province) by care type, and print it as the municipality sees it.
//
// The 3 wmo allocations in Almere are withheld (fewer than 5), and so are
// three more cells, so that they cannot be recomputed. Without providers,
// Almere's and Lelystad's jeugdhulp would do; but zorg-a alone provides
// jeugdhulp in Flevoland and knows those numbers, so the municipalities'
// totals are withheld instead.
func Example() {
	dims := []disclosure.Dimension{
		{Name: "gemeente", Categories: []disclosure.Category{
			{Code: "Flevoland"},
			{Code: "Almere", Parent: "Flevoland"},
			{Code: "Lelystad", Parent: "Flevoland"},
			{Code: "Utrecht"},
		}},
		{Name: "zorgvorm"}, // flat: the care types found in the records
	}
	var records []disclosure.Record
	records = append(records, allocations(20, "zorg-a", "Almere", "jeugdhulp")...)
	records = append(records, allocations(3, "zorg-b", "Almere", "wmo")...)
	records = append(records, allocations(12, "zorg-a", "Lelystad", "jeugdhulp")...)
	records = append(records, allocations(9, "zorg-b", "Lelystad", "wmo")...)
	records = append(records, allocations(30, "zorg-c", "Utrecht", "jeugdhulp")...)
	records = append(records, allocations(25, "zorg-c", "Utrecht", "wmo")...)

	tables, err := disclosure.Tabulate(dims, records,
		disclosure.Spec{Name: "toewijzingen", Dimensions: []string{"gemeente", "zorgvorm"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	protected, err := tables.Protect(context.Background(), disclosure.Rules{}) // fewer than 5 allocations: withheld
	if err != nil {
		fmt.Println(err)
		return
	}
	t := protected.Table("toewijzingen")
	fmt.Printf("%-10s %10s %10s %10s\n", "", "Totaal", "jeugdhulp", "wmo")
	rows := t.Rows()
	for i := 0; i < len(rows); i += 3 {
		fmt.Printf("%-10s", rows[i].Categories[0])
		for _, r := range rows[i : i+3] {
			fmt.Printf(" %10s", display(r.Cells[0]))
		}
		fmt.Println()
	}
	fmt.Printf("%+v\n", protected.Stats())
	// Output:
	//                Totaal  jeugdhulp        wmo
	// Totaal             99         62         37
	// Flevoland          44         32         12
	// Almere           x(s)         20       x(p)
	// Lelystad         x(s)         12       x(s)
	// Utrecht            55         30         25
	// {Cells:15 Primary:1 Secondary:3 Hidden:0}
}

func display(c disclosure.Cell) string {
	switch c.Status {
	case disclosure.PrimarySuppressed:
		return "x(p)"
	case disclosure.SecondarySuppressed:
		return "x(s)"
	}
	return fmt.Sprint(c.Value)
}

// Render a protected table as CSV, with the status and reason of each
// cell.
func ExamplePublicTable_WriteCSV() {
	dims := []disclosure.Dimension{{Name: "zorgvorm"}}
	var records []disclosure.Record
	for care, n := range map[string]int{"jeugdhulp": 14, "wmo": 2, "wlz": 6} {
		for range n {
			records = append(records, disclosure.Record{Categories: []string{care}})
		}
	}
	tables, _ := disclosure.Tabulate(dims, records, disclosure.Spec{Name: "t", Dimensions: []string{"zorgvorm"}})
	protected, _ := tables.Protect(context.Background(), disclosure.Rules{})
	_ = protected.Table("t").WriteCSV(os.Stdout, disclosure.Format{Withheld: "*", Status: true})
	// Output:
	// zorgvorm,count,count_status,count_reason
	// Totaal,22,published,
	// jeugdhulp,14,published,
	// wlz,*,secondary,secondary
	// wmo,*,primary,frequency
}

// A provider sees all of its own data, small numbers included, and nothing
// of the others.
func ExampleTables_OwnerView() {
	dims := []disclosure.Dimension{{Name: "zorgvorm"}}
	records := []disclosure.Record{
		{Categories: []string{"wmo"}, Contributor: "zorg-a"},
		{Categories: []string{"wmo"}, Contributor: "zorg-a"},
		{Categories: []string{"jeugdhulp"}, Contributor: "zorg-b"},
	}
	tables, _ := disclosure.Tabulate(dims, records, disclosure.Spec{Name: "t", Dimensions: []string{"zorgvorm"}})
	view, _ := tables.OwnerView("zorg-a")
	var b strings.Builder
	_ = view.Table("t").WriteCSV(&b, disclosure.Format{})
	fmt.Print(b.String())
	// Output:
	// zorgvorm,count
	// Totaal,2
	// jeugdhulp,0
	// wmo,2
}

// A frequency table as a spreadsheet exports it, with a total that
// ReadCSV checks against the inner cells.
func ExampleReadCSV() {
	file := "gemeente;zorgvorm;aantal\n" +
		"Almere;wmo;12\n" +
		"Almere;jeugdhulp;3\n" +
		"Lelystad;wmo;7\n" +
		"Lelystad;jeugdhulp;9\n" +
		"Totaal;Totaal;31\n"
	dims := []disclosure.Dimension{{Name: "gemeente"}, {Name: "zorgvorm"}}
	tables, err := disclosure.ReadCSV(strings.NewReader(file), dims,
		disclosure.Spec{Name: "toewijzingen", Dimensions: []string{"gemeente", "zorgvorm"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	protected, _ := tables.Protect(context.Background(), disclosure.Rules{})
	_ = protected.Table("toewijzingen").WriteCSV(os.Stdout, disclosure.Format{Withheld: "x"})

	_, err = disclosure.ReadCSV(strings.NewReader(strings.Replace(file, ";31", ";30", 1)), dims,
		disclosure.Spec{Name: "toewijzingen", Dimensions: []string{"gemeente", "zorgvorm"}})
	fmt.Println(err)
	// Output:
	// gemeente,zorgvorm,count
	// Totaal,Totaal,31
	// Totaal,jeugdhulp,12
	// Totaal,wmo,19
	// Almere,Totaal,15
	// Almere,jeugdhulp,x
	// Almere,wmo,x
	// Lelystad,Totaal,16
	// Lelystad,jeugdhulp,x
	// Lelystad,wmo,x
	// disclosure: CSV line 6: the total gemeente=Totaal; zorgvorm=Totaal is 30, but its inner cells add up to 31
}

// A response table divides the valid measurements by the decisions to
// which the indicator applies: care that is still running has no outcome
// yet (Record.Applies leaves the indicator out), and does not lower the
// response rate. The table shows those decisions as "applicable", and the
// rate as "rate_of_applicable", the measurements over them. In
// Lelystad 2 of 12 decisions are still running: the decisions and the
// applicable decisions would tell that 2, so Lelystad's applicable
// decisions are withheld, with Almere's, the smallest cell that keeps
// them from being recomputed from the total; so are the rates that need
// them.
func ExampleTables_Protect_response() {
	dims := []disclosure.Dimension{{Name: "gemeente"}}
	var records []disclosure.Record
	add := func(gemeente string, running, unmeasured, measured int) {
		for range running {
			records = append(records, disclosure.Record{Categories: []string{gemeente}, Applies: []string{}})
		}
		for range unmeasured {
			records = append(records, disclosure.Record{Categories: []string{gemeente}, Applies: []string{"doelrealisatie"}})
		}
		for range measured {
			records = append(records, disclosure.Record{Categories: []string{gemeente},
				Applies: []string{"doelrealisatie"}, Measured: []string{"doelrealisatie"}})
		}
	}
	add("Almere", 20, 5, 15)   // 40 decisions, 20 finished, 15 measured: 75%
	add("Lelystad", 2, 5, 5)   // 12 decisions, 10 finished
	add("Utrecht", 10, 10, 30) // 50 decisions, 40 finished
	tables, err := disclosure.Tabulate(dims, records, disclosure.Spec{Name: "respons", Kind: disclosure.Response,
		Dimensions: []string{"gemeente"}, Indicators: []string{"doelrealisatie"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	protected, err := tables.Protect(context.Background(), disclosure.Rules{})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = protected.Table("respons").WriteCSV(os.Stdout, disclosure.Format{})
	// Output:
	// gemeente,indicator,decisions,applicable,measured,rate_of_applicable
	// Totaal,doelrealisatie,102,70,50,0.7142857142857143
	// Almere,doelrealisatie,40,x,15,x
	// Lelystad,doelrealisatie,12,x,5,x
	// Utrecht,doelrealisatie,50,40,30,0.75
}

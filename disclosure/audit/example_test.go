package audit_test

import (
	"context"
	"fmt"

	"github.com/zorgkit/zorgkit/disclosure/audit"
)

// Care allocations per municipality of Flevoland, with the province total.
// Hiding only the small cell protects nothing: the total gives it away.
func ExampleExact() {
	s := &audit.System{
		Cells: []audit.Cell{
			{Name: "Almere", Value: 12, Published: true},
			{Name: "Lelystad", Value: 3, Sensitive: true},
			{Name: "Dronten", Value: 7, Published: true},
			{Name: "Flevoland", Value: 22, Published: true},
		},
		Sums: []audit.Sum{{Total: 3, Parts: []int{0, 1, 2}}},
	}
	findings, err := audit.Exact(context.Background(), s)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range findings {
		fmt.Println(f)
	}

	// Withholding Dronten as well protects Lelystad from any reader, but
	// not from the care provider that alone makes up Dronten.
	s.Cells[2].Published = false
	findings, _ = audit.Exact(context.Background(), s, audit.Attacker{Name: "provider of Dronten", Knows: []int{2}})
	for _, f := range findings {
		fmt.Println(f)
	}
	// Output:
	// "Lelystad" = 3 for any reader, by -Sums[0]
	// "Lelystad" = 3 for "provider of Dronten", by -Sums[0]
}

// The interval audit says how much a reader can narrow a withheld cell
// down: with Lelystad and Dronten withheld, each lies between 0 and 10.
func ExampleIntervals() {
	s := &audit.System{
		Cells: []audit.Cell{
			{Name: "Almere", Value: 12, Published: true},
			{Name: "Lelystad", Value: 3, Sensitive: true, Margin: 5},
			{Name: "Dronten", Value: 7},
			{Name: "Flevoland", Value: 22, Published: true},
		},
		Sums: []audit.Sum{{Total: 3, Parts: []int{0, 1, 2}}},
	}
	intervals, err := audit.Intervals(context.Background(), s)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, iv := range intervals {
		fmt.Printf("%s: %g in [%g, %g], protected: %t\n", iv.Name, iv.Value, iv.Min, iv.Max, iv.Protected)
	}
	// Output:
	// Lelystad: 3 in [0, 10], protected: true
}

// A published response rate ties the number of valid measurements to the
// number of decisions: with the decisions published, the rate gives the
// measurements away.
func ExampleExact_ratio() {
	s := &audit.System{
		Cells: []audit.Cell{
			{Name: "metingen", Value: 4, Sensitive: true},
			{Name: "beschikkingen", Value: 16, Published: true},
		},
		Ratios: []audit.Ratio{{Numerator: 0, Denominator: 1, Published: true}},
	}
	findings, _ := audit.Exact(context.Background(), s)
	for _, f := range findings {
		fmt.Println(f)
	}
	// Output:
	// "metingen" = 4 for any reader, by Ratios[0]
}

// A response table publishes more than its cells: with the decisions, the
// decisions to which the indicator applies (finished care) and the valid
// measurements, a reader has the differences too, the non-response and
// the care still running. State them as cells with their sums, sensitive
// where they are small: here 30 decisions of which 28 apply give away the
// 2 clients still in care, though the non-response (8) is protected.
func ExampleExact_response() {
	s := &audit.System{
		Cells: []audit.Cell{
			{Name: "beschikkingen", Value: 30, Published: true},
			{Name: "van toepassing", Value: 28, Published: true},
			{Name: "metingen", Value: 20},
			{Name: "non-respons", Value: 8},
			{Name: "nog in zorg", Value: 2, Sensitive: true},
		},
		Sums: []audit.Sum{
			{Total: 0, Parts: []int{1, 4}}, // decisions = applicable + not applicable
			{Total: 1, Parts: []int{2, 3}}, // applicable = measured + non-response
		},
		Ratios: []audit.Ratio{{Numerator: 2, Denominator: 1}}, // the rate, withheld
	}
	findings, _ := audit.Exact(context.Background(), s)
	for _, f := range findings {
		fmt.Println(f)
	}
	// Output:
	// "nog in zorg" = 2 for any reader, by -Sums[0]
}

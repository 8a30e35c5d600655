package main

import "fmt"

// cbsRow is a valid row of the data set (uploadHeader) for the BSN given,
// with the decision number i.
func cbsRow(bsn string, i int) string {
	return fmt.Sprintf("%s;2012-05-01;2;1312 AB;0034;B%06d;87654321;01;45A11;2026-01-01;2026-06-30;1;ja;8", bsn, i)
}

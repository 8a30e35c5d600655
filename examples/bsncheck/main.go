// Command bsncheck checks citizen service numbers (BSNs) given as arguments,
// or one per line on standard input, and prints each result with the number
// masked:
//
//	go run ./examples/bsncheck 1234.56.782 123456781
//
// It exits with status 1 if any input is not a BSN.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/zorgkit/zorgkit/bsn"
)

func main() {
	ok, err := run(os.Args[1:], os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bsncheck:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// run checks every input and reports whether all of them are BSNs.
func run(args []string, stdin io.Reader, stdout io.Writer) (bool, error) {
	allValid := true
	check := func(line int, s string) {
		n, err := bsn.Parse(s)
		if err != nil {
			allValid = false
			fmt.Fprintf(stdout, "%d: %v\n", line, err)
			return
		}
		fmt.Fprintf(stdout, "%d: valid BSN %s\n", line, n.Masked())
	}
	if len(args) > 0 {
		for i, a := range args {
			check(i+1, a)
		}
		return allValid, nil
	}
	sc := bufio.NewScanner(stdin)
	for line := 1; sc.Scan(); line++ {
		check(line, sc.Text())
	}
	return allValid, sc.Err()
}

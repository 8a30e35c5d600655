package bsn_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/zorgkit/zorgkit/bsn"
)

func ExampleParse() {
	n, err := bsn.Parse("1234.56.782")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(n.Digits()) // to store, or to show someone who may see it
	fmt.Println(n)          // printed by accident: masked
	// Output:
	// 123456782
	// ******782
}

// Every way of printing or encoding a Number masks it, also inside other
// values; only Digits gives the number.
func ExampleNumber_Digits() {
	n, _ := bsn.Parse("999993847")
	type client struct {
		Name string
		BSN  bsn.Number
	}
	c := client{"Jan", n}
	fmt.Println(fmt.Errorf("client %v not found", n))
	fmt.Printf("%+v %q %x\n", c, n, n)
	j, _ := json.Marshal(c)
	fmt.Println(string(j))
	fmt.Println(n.Digits())
	// Output:
	// client ******847 not found
	// {Name:Jan BSN:******847} "******847" ******847
	// {"Name":"Jan","BSN":"******847"}
	// 999993847
}

func ExampleParse_errors() {
	for _, s := range []string{"123456781", "1234x6782", "1234567"} {
		_, err := bsn.Parse(s)
		fmt.Println(errors.Is(err, bsn.ErrChecksum), err)
	}
	// Output:
	// true bsn: not a valid BSN (eleven-proof fails): check the number for a typing error
	// false bsn: invalid character at position 5: use only digits, spaces, dots and hyphens
	// false bsn: wrong number of digits: a BSN has 9 digits (8 for a number issued before 2007)
}

// Files for CBS use placeholders where the BSN is unknown or the client is an
// unborn child. Recognise them instead of rejecting the row.
func ExampleParse_placeholder() {
	for _, field := range []string{"999993847", "999999999", "000000000"} {
		n, err := bsn.Parse(field)
		switch {
		case errors.Is(err, bsn.ErrUnknown):
			fmt.Println("BSN unknown")
		case errors.Is(err, bsn.ErrUnborn):
			fmt.Println("unborn child")
		case err != nil:
			fmt.Println("reject:", err)
		default:
			fmt.Println("client", n.Masked())
		}
	}
	// Output:
	// client ******847
	// BSN unknown
	// unborn child
}

func ExampleValid() {
	fmt.Println(bsn.Valid("123456782"))
	fmt.Println(bsn.Valid("40645678")) // issued before 2007: a leading zero is implied
	fmt.Println(bsn.Valid("12"))
	// Output:
	// true
	// true
	// false
}

// A Number handed to log/slog is masked.
func ExampleNumber_LogValue() {
	n, _ := bsn.Parse("999993847")
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // keep the output stable
			}
			return a
		},
	}))
	log.Info("client looked up", "bsn", n)
	// Output:
	// level=INFO msg="client looked up" bsn=******847
}

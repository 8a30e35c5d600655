package sms_test

import (
	"fmt"

	"github.com/zorgkit/zorgkit/examples/server/internal/sms"
)

func ExampleE164() {
	for _, typed := range []string{"06-1234 5678", "0032 470 12 34 56", "06-BELME"} {
		fmt.Println(sms.E164(typed))
	}
	// Output:
	// +31612345678 <nil>
	// +32470123456 <nil>
	//  sms: the phone number is not a mobile number in international form
}

package email_test

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/password/email"
)

// Check a new user's e-mail address against Portero's rules.
func ExampleRules() {
	rules := email.Rules{
		Domains: []string{"zorgaanbieder.nl"},
		Taken:   email.TakenIn([]string{"p.bakker@zorgaanbieder.nl"}),
	}
	for _, addr := range []string{"J.deVries@zorgaanbieder.nl", "info@zorgaanbieder.nl", "P.Bakker+portero@Zorgaanbieder.nl", "jan@gmail.com"} {
		err := rules.Check(context.Background(), addr)
		var eerr *email.Error
		if errors.As(err, &eerr) {
			fmt.Println(addr, "→", eerr.Messages(language.Dutch)[0])
		} else {
			fmt.Println(addr, "→ ok")
		}
	}
	// Output:
	// J.deVries@zorgaanbieder.nl → ok
	// info@zorgaanbieder.nl → Gebruik een persoonlijk e-mailadres, geen algemeen adres zoals info@ of secretariaat@ dat meer mensen lezen.
	// P.Bakker+portero@Zorgaanbieder.nl → Dit e-mailadres is al in gebruik bij een andere gebruiker. Elke gebruiker heeft een eigen e-mailadres nodig.
	// jan@gmail.com → Gebruik een e-mailadres binnen het domein van uw organisatie, zoals naam@uworganisatie.nl.
}

// Store the normalised address, the form in which accounts are compared.
func ExampleNormalize() {
	n, err := email.Normalize("  J.deVries@ZorgAanbieder.NL ")
	fmt.Println(n, err)
	_, err = email.Normalize("Jan de Vries <j.devries@zorgaanbieder.nl>")
	fmt.Println(err)
	// Output:
	// j.devries@zorgaanbieder.nl <nil>
	// email: not a valid e-mail address: enter it as name@organisation.nl
}

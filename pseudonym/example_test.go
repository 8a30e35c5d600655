package pseudonym_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/pseudonym"
	"github.com/zorgkit/zorgkit/pseudonym/pseudonymtest"
)

// A keyring comes from configuration: a key file with the current key first.
func ExampleReadKeyring() {
	keyFile := strings.NewReader(`# current key first
2026-11 oaGhoaGhoaGhoaGhoaGhoVxcXFxcXFxcXFxcXFxcXFw=
k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
`)
	ring, err := pseudonym.ReadKeyring(keyFile)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ring)
	fmt.Printf("%v %+v %#v\n", ring.Current(), ring.Current(), ring.Current())
	// Output:
	// pseudonym.Keyring(2026-11,k1)
	// pseudonym.Key(2026-11) pseudonym.Key(2026-11) &pseudonym.Key{id:"2026-11", secret:<hidden>}
}

func ExamplePseudonymiser() {
	ring := pseudonymtest.Keyring() // in production: ReadKeyring
	p, err := ring.Pseudonymiser("gemeente-almere")
	if err != nil {
		log.Fatal(err)
	}
	for _, field := range []string{"040645678", "40645678", "999999999", "123456781"} {
		ps, err := p.Pseudonymise(field)
		if err != nil {
			fmt.Println("rejected:", err)
			continue
		}
		fmt.Println(ps.Kind(), ps)
	}
	// Output:
	// person v1.2026-11.7fijz6myzyft7jria5mf5npv7rkbjhrqol77un6egbovnk24nyua
	// person v1.2026-11.7fijz6myzyft7jria5mf5npv7rkbjhrqol77un6egbovnk24nyua
	// unknown BSN 999999999
	// rejected: bsn: not a valid BSN (eleven-proof fails): check the number for a typing error
}

// After a rotation, a client is found in data made under every key.
func ExampleKeyring_Pseudonyms() {
	ring := pseudonymtest.Keyring()
	p, _ := ring.Pseudonymiser("")
	stored, _ := p.Pseudonymise("999993847")
	ps, err := ring.Pseudonyms("", mustParseBSN("999993847"))
	if err != nil {
		log.Fatal(err)
	}
	for _, candidate := range ps {
		fmt.Println(candidate.KeyID(), candidate.Equal(stored))
	}
	// Output:
	// 2026-11 true
	// k1 false
	// k3 false
}

func ExampleFieldCipher() {
	c, err := pseudonymtest.Keyring().FieldCipher("gemeente-almere")
	if err != nil {
		log.Fatal(err)
	}
	text := c.Encrypt("postcode", []byte("1315 KA"))
	fmt.Println(strings.HasPrefix(text, "e1.2026-11."))

	plain, err := c.Decrypt("postcode", text)
	fmt.Printf("%s %v\n", plain, err)

	_, err = c.Decrypt("woonplaats", text) // moved to another column
	fmt.Println(errors.Is(err, pseudonym.ErrDecrypt))
	// Output:
	// true
	// 1315 KA <nil>
	// true
}

func ExamplePC4() {
	pc4, err := pseudonym.PC4("1315 ka")
	fmt.Println(pc4, err)
	// Output: 1315 <nil>
}

func ExampleAgeBand() {
	birth := time.Date(2012, time.March, 1, 0, 0, 0, 0, time.UTC)
	on := time.Date(2026, time.November, 23, 0, 0, 0, 0, time.UTC)
	youth, _ := pseudonym.AgeBand(birth, on)
	adult, _ := pseudonym.AgeBand(birth, on, 18, 65)
	fmt.Println(youth, adult)
	// Output: 12-17 0-17
}

// A provider's CBS file, pseudonymised on upload for the municipality.
func ExampleProcessor() {
	upload := strings.NewReader(`BSN;Geboortedatum;Postcode;Geslacht
999993847;2011-02-28;1315 KA;1
999999999;2016-06-06;1320JK;2
123456781;2010-10-10;1322 NP;2
`)
	p := &pseudonym.Processor{
		Keyring: pseudonymtest.Keyring(), // in production: ReadKeyring
		Domain:  "gemeente-almere",
		Header:  true,
		Columns: []pseudonym.Column{
			{Name: "BSN", Action: pseudonym.Pseudonymise},
			{Name: "Geboortedatum", Action: pseudonym.CoarsenYear},
			{Name: "Postcode", Action: pseudonym.CoarsenPC4},
			{Name: "Geslacht", Action: pseudonym.Keep},
		},
	}
	report, err := p.Process(context.Background(), upload, os.Stdout)
	if err != nil {
		log.Fatal(err)
	}
	report.WriteText(os.Stdout, language.Dutch)
	// Output:
	// BSN;Geboortedatum;Postcode;Geslacht
	// v1.2026-11.2lstxlqlov3l4ph6a7sixkgim7gcdnvzngls3izz225toa7c7muq;2011;1315;1
	// 999999999;2016;1320;2
	// rijen gelezen: 3, geschreven: 2 (waarvan gemarkeerd: 0), afgewezen: 1
	// regel 4, kolom 1 (BSN): BSN klopt niet (elfproef); controleer het op een typefout
}

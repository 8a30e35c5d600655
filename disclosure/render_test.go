package disclosure_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"

	"github.com/zorgkit/zorgkit/disclosure"
)

// renderFixture is a table with distinctive values, so that a withheld
// value would be recognisable in the output.
func renderFixture(t *testing.T) *disclosure.Protected {
	t.Helper()
	var recs []disclosure.Record
	recs = append(recs, records(3, "", "Almere", "wmo")...)
	recs = append(recs, records(17, "", "Almere", "jeugdhulp")...)
	recs = append(recs, records(23, "", "Lelystad", "wmo")...)
	recs = append(recs, records(29, "", "Lelystad", "jeugdhulp")...)
	recs = append(recs, records(41, "", "Utrecht", "wmo")...)
	recs = append(recs, records(43, "", "Utrecht", "jeugdhulp")...)
	for i := range recs {
		if i%2 == 0 {
			recs[i].Measured = []string{"kwaliteit"}
		}
	}
	tabs, err := disclosure.Tabulate([]disclosure.Dimension{province, careType}, recs,
		disclosure.Spec{Name: "toewijzingen", Dimensions: []string{"gemeente", "zorgvorm"}},
		disclosure.Spec{Name: "respons", Kind: disclosure.Response, Dimensions: []string{"gemeente"}, Indicators: []string{"kwaliteit"}})
	require.NoError(t, err)
	p, err := tabs.Protect(context.Background(), disclosure.Rules{})
	require.NoError(t, err)
	return p
}

func TestWriteCSV(t *testing.T) {
	p := renderFixture(t)
	tests := []struct {
		reason string
		format disclosure.Format
		want   string
	}{
		{"default symbol", disclosure.Format{}, `gemeente,zorgvorm,count
Totaal,Totaal,156
Totaal,jeugdhulp,89
Totaal,wmo,67
Flevoland,Totaal,72
Flevoland,jeugdhulp,46
Flevoland,wmo,26
Almere,Totaal,20
Almere,jeugdhulp,x
Almere,wmo,x
Lelystad,Totaal,52
Lelystad,jeugdhulp,x
Lelystad,wmo,x
Utrecht,Totaal,84
Utrecht,jeugdhulp,43
Utrecht,wmo,41
`},
		{"own symbol, with status and reason", disclosure.Format{Withheld: "-", Status: true}, `gemeente,zorgvorm,count,count_status,count_reason
Totaal,Totaal,156,published,
Totaal,jeugdhulp,89,published,
Totaal,wmo,67,published,
Flevoland,Totaal,72,published,
Flevoland,jeugdhulp,46,published,
Flevoland,wmo,26,published,
Almere,Totaal,20,published,
Almere,jeugdhulp,-,secondary,secondary
Almere,wmo,-,primary,frequency
Lelystad,Totaal,52,published,
Lelystad,jeugdhulp,-,secondary,secondary
Lelystad,wmo,-,secondary,secondary
Utrecht,Totaal,84,published,
Utrecht,jeugdhulp,43,published,
Utrecht,wmo,41,published,
`},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, p.Table("toewijzingen").WriteCSV(&b, tt.format))
			assert.Equal(t, tt.want, b.String())
			for _, secret := range []string{",3", ",17,", ",23", ",29"} {
				assert.NotContains(t, b.String(), secret, "a withheld value is in the output")
			}
		})
	}
}

func TestWriteJSON(t *testing.T) {
	p := renderFixture(t)
	var b bytes.Buffer
	require.NoError(t, p.Table("respons").WriteJSON(&b, disclosure.Format{Withheld: "*"}))
	var got struct {
		Name       string
		Kind       string
		Dimensions []string
		Measures   []string
		Rows       []struct {
			Categories []string
			Cells      []map[string]any
		}
	}
	require.NoError(t, json.Unmarshal(b.Bytes(), &got))
	assert.Equal(t, "respons", got.Name)
	assert.Equal(t, "response", got.Kind)
	assert.Equal(t, []string{"gemeente", disclosure.IndicatorDimension}, got.Dimensions)
	assert.Equal(t, []string{"decisions", "measured", "rate"}, got.Measures)
	require.Len(t, got.Rows, 5)
	total := got.Rows[0]
	assert.Equal(t, []string{"Totaal", "kwaliteit"}, total.Categories)
	assert.Equal(t, map[string]any{"value": 156.0, "display": "156", "status": "published"}, total.Cells[0])
	assert.Equal(t, map[string]any{"value": 78.0, "display": "78", "status": "published"}, total.Cells[1])
	assert.Equal(t, map[string]any{"value": 0.5, "display": "0.5", "status": "published"}, total.Cells[2])
	for _, r := range got.Rows {
		for _, c := range r.Cells {
			if c["status"] != "published" {
				assert.Equal(t, "*", c["display"])
				assert.NotContains(t, c, "value", "a withheld cell has no value")
				assert.NotEmpty(t, c["reason"])
			}
		}
	}
	assert.True(t, strings.HasSuffix(b.String(), "}\n"))
}

// A rate without decisions is undefined, shown with its own symbol.
func TestUndefinedRate(t *testing.T) {
	dims := []disclosure.Dimension{{Name: "zorgvorm", Categories: []disclosure.Category{{Code: "wmo"}, {Code: "wlz"}}}}
	recs := records(12, "", "wmo")
	tabs, err := disclosure.Tabulate(dims, recs,
		disclosure.Spec{Name: "r", Kind: disclosure.Response, Dimensions: []string{"zorgvorm"}, Indicators: []string{"k"}})
	require.NoError(t, err)
	p, err := tabs.Protect(context.Background(), disclosure.Rules{})
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, p.Table("r").WriteCSV(&b, disclosure.Format{Undefined: "n.v.t."}))
	assert.Equal(t, "zorgvorm,indicator,decisions,measured,rate\nTotaal,k,12,0,0\nwmo,k,12,0,0\nwlz,k,0,0,n.v.t.\n", b.String())
}

func TestReasonText(t *testing.T) {
	tests := []struct {
		reason disclosure.Reason
		tag    language.Tag
		want   string
	}{
		{disclosure.Frequency, language.Dutch, "te weinig waarnemingen"},
		{disclosure.Frequency, language.Und, "te weinig waarnemingen"},
		{disclosure.Frequency, language.BritishEnglish, "too few contributors"},
		{disclosure.Complementary, language.German, "afgeschermd ter bescherming van andere cellen"},
		{disclosure.Derived, language.English, "numerator or denominator withheld"},
		{disclosure.NoReason, language.English, ""},
	}
	for _, tt := range tests {
		t.Run(tt.reason.String()+"/"+tt.tag.String(), func(t *testing.T) {
			assert.Equal(t, tt.want, tt.reason.Text(tt.tag))
		})
	}
	for r := disclosure.Frequency; r <= disclosure.Derived; r++ {
		assert.NotEqual(t, r.Text(language.Dutch), r.Text(language.English), "reason %v has both texts", r)
	}
}

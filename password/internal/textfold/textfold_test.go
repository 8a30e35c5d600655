package textfold

import "testing"

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Welkom", "welkom"},
		{"WACHTWOORD", "wachtwoord"},
		{"patiënt", "patient"},
		{"Jérôme", "jerome"},
		{"Strauß", "strauss"},
		{"ÇA", "ca"},
		{"ＡＢＣ", "abc"},       // fullwidth, through NFKC
		{"e\u0301", "e"},     // a decomposed accent
		{"ﬁets", "fiets"},    // a ligature
		{"Ελλάδα", "ελλαδα"}, // Greek: case and accent
		{"123!", "123!"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

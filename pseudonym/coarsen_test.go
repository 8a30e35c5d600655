package pseudonym_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/pseudonym"
)

func TestPC4(t *testing.T) {
	tests := []struct {
		in, want, reason string
	}{
		{"1234 AB", "1234", "PC6 with space"},
		{"1234AB", "1234", "PC6 without space"},
		{"1234ab", "1234", "lower case"},
		{" 1315 KA ", "1315", "surrounding spaces"},
		{"9999", "9999", "already PC4"},
		{"1000AA", "1000", "lowest"},
		{"1234SB", "1234", "S with another letter"},
		{"0123AB", "", "first digit 0 is not issued"},
		{"123AB", "", "three digits"},
		{"12345AB", "", "five digits"},
		{"1234 A", "", "one letter"},
		{"1234ABC", "", "three letters"},
		{"1234  AB", "", "two spaces"},
		{"1234-AB", "", "dash"},
		{"1234SA", "", "SA is not issued"},
		{"1234 sd", "", "SD is not issued"},
		{"1234SS", "", "SS is not issued"},
		{"1234É1", "", "non-ASCII"},
		{"", "", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			got, err := pseudonym.PC4(tt.in)
			if tt.want == "" {
				assert.ErrorIs(t, err, pseudonym.ErrPostcode)
				if tt.in != "" {
					assert.NotContains(t, err.Error(), tt.in)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestAgeBand(t *testing.T) {
	d := func(s string) time.Time {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	tests := []struct {
		birth, on string
		limits    []int
		want      string
		reason    string
	}{
		{"2024-06-01", "2024-06-01", nil, "0-3", "born today"},
		{"2020-06-02", "2024-06-01", nil, "0-3", "day before fourth birthday"},
		{"2020-06-01", "2024-06-01", nil, "4-11", "fourth birthday"},
		{"2012-06-01", "2024-06-01", nil, "12-17", "twelve"},
		{"2006-06-02", "2024-06-01", nil, "12-17", "day before eighteen"},
		{"2006-06-01", "2024-06-01", nil, "18-22", "eighteen"},
		{"2001-06-01", "2024-06-01", nil, "23+", "twenty-three"},
		{"1930-01-01", "2024-06-01", nil, "23+", "old"},
		{"2008-02-29", "2026-02-28", nil, "12-17", "leap day: not yet eighteen on 28 February"},
		{"2008-02-29", "2026-03-01", nil, "18-22", "leap day: eighteen on 1 March"},
		{"2008-02-29", "2028-02-29", nil, "18-22", "leap day in a leap year"},
		{"1960-05-05", "2024-05-05", []int{18, 65}, "18-64", "custom bands"},
		{"1959-05-05", "2024-05-05", []int{18, 65}, "65+", "custom last band"},
		{"2010-01-01", "2024-05-05", []int{18, 65}, "0-17", "custom first band"},
		{"2010-01-01", "2024-05-05", []int{1}, "1+", "two bands"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			got, err := pseudonym.AgeBand(d(tt.birth), d(tt.on), tt.limits...)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	_, err := pseudonym.AgeBand(d("2024-06-02"), d("2024-06-01"))
	assert.ErrorIs(t, err, pseudonym.ErrBirthDate)
	for _, limits := range [][]int{{0}, {4, 4}, {12, 4}, {-1, 4}} {
		_, err := pseudonym.AgeBand(d("2000-01-01"), d("2024-06-01"), limits...)
		assert.ErrorIs(t, err, pseudonym.ErrAgeBands, "%v", limits)
	}
}

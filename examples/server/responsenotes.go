package main

import (
	"context"

	"golang.org/x/text/language"
	xmessage "golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// The notes of the Zorgmonitor on what its response rate divides by, by
// stable code, in Dutch (the default) and English.
const (
	// noteResponseApplicable: the response is the valid measurements over
	// the decisions the indicator applies to, not over all decisions.
	noteResponseApplicable = "response-applicable"

	// noteAppliesUnknownOwn, noteAppliesUnknown: some decisions were
	// processed before the portal stored whether the indicator applies
	// (migration 011); they count as applicable, as before. The provider
	// is told how many of its own; the protected audiences are not given
	// a count, which no protection covers.
	noteAppliesUnknownOwn = "response-applies-unknown-own"
	noteAppliesUnknown    = "response-applies-unknown"
)

var reportNoteTexts = map[string][2]string{
	noteResponseApplicable: {
		"De respons is het aantal geldige metingen gedeeld door het aantal beschikkingen waarop de indicator van toepassing is (kolom 'Van toepassing'): beschikkingen waarvan de zorg is beëindigd, met een geldige einddatum. Zorg die nog loopt heeft nog geen uitkomst en verlaagt de respons niet.",
		"The response is the number of valid measurements divided by the number of decisions to which the indicator applies (column 'Van toepassing'): decisions whose care has ended, with a valid end date. Care that is still running has no outcome yet and does not lower the response.",
	},
	noteAppliesUnknownOwn: {
		"Van %d van uw beschikkingen, verwerkt voordat het portaal bijhield of de zorg is beëindigd, is dat niet bekend: zij tellen mee als van toepassing, zoals voorheen. Uw volgende aanlevering vervangt ze.",
		"For %d of your decisions, processed before the portal recorded whether the care has ended, this is not known: they count as applicable, as before. Your next delivery replaces them.",
	},
	noteAppliesUnknown: {
		"Een deel van de beschikkingen is verwerkt voordat het portaal bijhield of de zorg is beëindigd: die tellen mee als van toepassing, zoals voorheen, tot de volgende aanlevering van hun zorgaanbieder. De respons kan daar lager uitvallen dan bij afgesloten zorg alleen.",
		"Some decisions were processed before the portal recorded whether the care has ended: they count as applicable, as before, until their provider's next delivery. The response may be lower there than for ended care alone.",
	},
}

var reportNoteCatalog = func() catalog.Catalog {
	b := catalog.NewBuilder(catalog.Fallback(language.Dutch))
	for code, texts := range reportNoteTexts {
		if err := b.SetString(language.Dutch, code, texts[0]); err != nil {
			panic(err)
		}
		if err := b.SetString(language.English, code, texts[1]); err != nil {
			panic(err)
		}
	}
	return b
}()

// reportNote is a note of the report: a stable code and its text.
type reportNote struct {
	Code string `json:"code"`
	Text string `json:"text"`
}

func newReportNote(tag language.Tag, code string, args ...any) reportNote {
	p := xmessage.NewPrinter(tag, xmessage.Catalog(reportNoteCatalog))
	return reportNote{Code: code, Text: p.Sprintf(code, args...)}
}

// unknownApplies returns, per provider and municipality, the decisions of
// the current records whose applicability is not known (stored before
// migration 011), once per state of the records.
func (a *app) unknownApplies(ctx context.Context, d *reportData) (map[[2]string]int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.unknown != nil {
		return d.unknown, nil
	}
	rows, err := a.db.QueryContext(ctx, `SELECT r.provider_id, r.municipality, COUNT(*) FROM report_rows r JOIN uploads u ON u.id = r.upload_id
		WHERE NOT r.applies_known AND u.status = 'processed' GROUP BY r.provider_id, r.municipality`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[[2]string]int{}
	for rows.Next() {
		var p, m string
		var n int
		if err := rows.Scan(&p, &m, &n); err != nil {
			return nil, err
		}
		out[[2]string{p, m}] = n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	d.unknown = out
	return out, nil
}

// responseNotes returns the notes on the response for reader v, in the
// language tag.
func (a *app) responseNotes(ctx context.Context, d *reportData, v *readerView, tag language.Tag) ([]reportNote, error) {
	notes := []reportNote{newReportNote(tag, noteResponseApplicable)}
	unknown, err := a.unknownApplies(ctx, d)
	if err != nil {
		return nil, err
	}
	n := 0
	for k, c := range unknown {
		if (v.provider == "" || k[0] == v.provider) && (v.municipality == "" || k[1] == v.municipality) {
			n += c
		}
	}
	switch {
	case n == 0:
	case v.own:
		notes = append(notes, newReportNote(tag, noteAppliesUnknownOwn, n))
	default:
		notes = append(notes, newReportNote(tag, noteAppliesUnknown))
	}
	return notes, nil
}

// Package layout describes data sets as data: per column its type and
// domain (code lists, ranges, formats), rules between the columns of a row,
// and the outcome indicators measured from it. A [Layout] checks every row
// of a [pseudonym.Processor] as its [pseudonym.Schema], and drives both
// sides of a response rate: whether an indicator applies to a row
// ([Layout.Applies], the denominator) and whether the row is a valid
// measurement of it ([Layout.Valid], the numerator).
//
// A new version of a data set is a new layout file, not new code: [Parse]
// reads one (its format is documented there) and refuses one that
// contradicts itself. [Jeugdhulp] is the embedded layout of the CBS
// youth-care data set.
//
// # Problems
//
// Every problem names its line, its column and a stable [pseudonym.Code]
// with a Dutch and an English text, and has a [pseudonym.Severity] from the
// layout: reject the row, accept it with a warning, or accept it as not a
// valid measurement. It never holds the value. The codes depend on the kind
// of check, not on the column: [pseudonym.CodeMissing],
// [pseudonym.CodeNotInList], [pseudonym.CodeNumber], [pseudonym.CodeRange],
// [pseudonym.CodeFormat], [pseudonym.CodeDate], [pseudonym.CodeDateRange],
// [pseudonym.CodePostcode], the BSN codes, and for rules
// [pseudonym.CodeDateOrder], [pseudonym.CodeAge],
// [pseudonym.CodeRequiredWith] and [pseudonym.CodeOneOf]. A cell has at
// most one problem: the first check it fails.
//
// # Response rates
//
// An indicator names the columns that make its measurement and the columns
// it requires: the youth-care indicators require the end date, as an
// outcome is measured when the care ends. A response rate counts, of the
// rows the indicator applies to (its required columns filled and valid),
// those that are a valid measurement (its
// own columns filled and valid too). So running care, without an end date,
// is in neither count and does not lower a provider's rate, while ended care
// without a valid satisfaction score or goal does. Valid implies Applies.
// Decisions (every row) are a different count: a report that shows them
// next to the rate should not divide by them.
//
// Values are compared without surrounding spaces; a code matches in any
// case, and a code of digits whatever its leading zeros ("01" is "1"), as
// spreadsheets drop them.
//
// # The youth-care data set
//
// The Informatieprotocol Beleidsinformatie Jeugd (bijlage 2 bij de
// Regeling Jeugdwet) defines what youth-care providers deliver to CBS:
// about the young person the BSN, date of birth, sex and postcode or
// municipality; about the care the referrer, the care provided, and the
// dates of start and end with the reason of ending; and, where agreed with
// the municipality, outcome criteria. Providers deliver it to CBS as an
// ASCII file or in CBS's standard spreadsheet, and upload the same file to
// the portal. The embedded layout jeugdhulp.json holds these columns as the
// portal receives them (with its own product code, AGB code and decision
// number), the two outcome indicators the portal measures, and rules:
// the end of care not before its start, no care before birth, an age of 0
// to 23 at the start (youth care runs to 18, extended to 23), a reason of
// ending with every end date, and a postcode or a municipality code.
//
// Sources of the definitions and code lists:
//
//   - Informatieprotocol Beleidsinformatie Jeugd, versie 5, Staatscourant
//     2018, 53554, https://zoek.officielebekendmakingen.nl/stcrt-2018-53554.html,
//     and its successor in Staatscourant 2020, 29223,
//     https://zoek.officielebekendmakingen.nl/stcrt-2020-29223.html
//     (sections 2.2–2.5, 3.2, 3.5–3.7 and 4).
//   - CBS, Beleidsinformatie Jeugd, delivery of youth-care data (ASCII file
//     or standard spreadsheet; the variable Perspectief was dropped on
//     1 January 2019, so this layout has none):
//     https://www.cbs.nl/nl-nl/deelnemers-enquetes/deelnemers-enquetes/bedrijven/onderzoek/lopend/beleidsinformatie-jeugd/aanlevering-gegevens-over-2019
//     and https://www.cbs.nl/nl-nl/deelnemers-enquetes/deelnemers-enquetes/bedrijven/onderzoek/lopend/beleidsinformatie-jeugd/jeugdhulp
//   - iStandaarden iJw release 3.2 (https://www.istandaarden.nl/ijw/releases/release-ijw-3.2),
//     code lists COD046 Geslacht (0 unknown, 1 male, 2 female) and COD327
//     Code verwijzer (01 municipality, 02 general practitioner, 03 youth
//     health physician, 04 certified institution, 05 medical specialist, 06
//     self-referral or none, 08 court, public prosecutor or juvenile
//     institution), and the CBS list of reasons of ending youth care (1
//     ended as planned; ended early 2 by agreement, 3 by the client, 4 by
//     the provider, 5 by external circumstances).
//   - The harmonised outcome indicators of youth care (Nederlands
//     Jeugdinstituut, "Outcome in zicht", 2014; summarised at
//     http://richtlijnenjeugdhulp.nl/gezinnen-met-meervoudige-en-complexe-problemen/plan-doelen-en-volgen-van-hulp/het-meten-van-resultaten/):
//     satisfaction as a school mark from 1 to 10, and goal realisation as
//     whether the client can go on without help (ja/nee).
//
// Where a source leaves a format open, the layout takes the form providers'
// files use: dates as YYYY-MM-DD, YYYYMMDD or (D)D-(M)M-YYYY, the product
// code as up to five letters and digits, the municipality code as four
// digits. Each is a line in the file, for a portal to change.
package layout

package main

import (
	"html/template"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/zorgkit/zorgkit/consent"
)

// The portal's pages are in Dutch: codes that the database and the libraries
// keep in English (statuses, roles, purposes) are shown by these names.

var (
	uploadStatusNames = map[uploadStatus]string{
		statusTest:         "testbestand, wordt gecontroleerd",
		statusTestApproved: "testbestand goedgekeurd",
		statusAccepted:     "ontvangen, wordt vannacht verwerkt",
		statusProcessed:    "verwerkt",
		statusRejected:     "afgekeurd",
		statusReceiving:    "wordt ontvangen",
		statusAbandoned:    "afgebroken, niet volledig ontvangen",
		statusSuperseded:   "vervangen door een latere aanlevering",
	}
	roleNames = map[role]string{
		roleUser:         "gebruiker",
		roleAdmin:        "organisatiebeheerder",
		roleAuditor:      "portaalbeheerder",
		roleMunicipality: "gemeente",
	}
	channelNames = map[string]string{
		"email": "e-mail",
		"sms":   "sms",
		"totp":  "authenticator-app",
	}
	outboxStateNames = map[string]string{
		outboxQueued:  "wacht op verzending",
		outboxSending: "wordt verstuurd",
		outboxSent:    "verstuurd",
		outboxFailed:  "niet afgeleverd",
	}
	evidenceStateNames = map[consent.EvidenceState]string{
		"":                        "niet opgevraagd",
		consent.EvidenceRequested: "opgevraagd",
		consent.EvidenceProduced:  "overlegd",
		consent.EvidenceMissing:   "ontbreekt",
	}
	problemKindNames = map[consent.ProblemKind]string{
		consent.ProblemChanged:   "gewijzigd",
		consent.ProblemRemoved:   "verwijderd",
		consent.ProblemReordered: "verplaatst",
		consent.ProblemTruncated: "keten afgekapt",
		consent.ProblemRewritten: "herschreven",
		consent.ProblemExtra:     "buiten het portaal om toegevoegd",
		consent.ProblemHead:      "kop van de keten klopt niet",
	}
	evidenceKindNames = map[consent.EvidenceKind]string{
		consent.EvidencePaper:               "op papier",
		consent.EvidenceElectronicSignature: "met elektronische handtekening",
	}
)

// purposeQuestions are the consent questions of Portero, one per purpose.
var purposeQuestions = map[consent.Purpose]string{
	consent.PurposeViewNAW:            "Heeft de cliënt u toestemming gegeven om de NAW-gegevens in te zien?",
	consent.PurposeConsultIndication:  "Heeft de cliënt u toestemming gegeven om een indicatie te raadplegen?",
	consent.PurposeTakeOverIndication: "Heeft de cliënt u toestemming gegeven om indicatiegegevens over te nemen?",
	consent.PurposeMedicalInformation: "Heeft de cliënt toestemming gegeven om medische informatie op te vragen bij een behandelaar?",
}

// nameOr returns names[k], or the code itself for a code without a name.
func nameOr[K ~string](names map[K]string, k K) string {
	if n, ok := names[k]; ok {
		return n
	}
	return string(k)
}

var dutchMonths = [...]string{"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"}

// dutchDate formats t as "23 november 2026" in local time; the zero time is
// "—".
func dutchDate(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t = t.Local()
	return strconv.Itoa(t.Day()) + " " + dutchMonths[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

// dutchDateTime formats t as "23 november 2026, 10:00".
func dutchDateTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return dutchDate(t) + ", " + t.Local().Format("15:04")
}

// dutchDuration says d in whole hours or minutes: "12 uur", "30 minuten".
func dutchDuration(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + " uur"
	case d >= time.Minute:
		n := int(d / time.Minute)
		if n == 1 {
			return "1 minuut"
		}
		return strconv.Itoa(n) + " minuten"
	}
	return strconv.Itoa(int(d/time.Second)) + " seconden"
}

// pageFuncs are the template functions of the pages.
func pageFuncs() template.FuncMap {
	return template.FuncMap{
		"date":          dutchDate,
		"datetime":      dutchDateTime,
		"isodate":       func(t time.Time) string { return t.Local().Format("2006-01-02") },
		"uploadStatus":  func(s uploadStatus) string { return nameOr(uploadStatusNames, s) },
		"roleName":      func(r role) string { return nameOr(roleNames, r) },
		"channelName":   func(c string) string { return nameOr(channelNames, c) },
		"outboxState":   func(s string) string { return nameOr(outboxStateNames, s) },
		"evidenceState": func(s consent.EvidenceState) string { return nameOr(evidenceStateNames, s) },
		"evidenceKind":  func(k consent.EvidenceKind) string { return nameOr(evidenceKindNames, k) },
		"problemKind":   func(k consent.ProblemKind) string { return nameOr(problemKindNames, k) },
		"purposeTitle":  func(p consent.Purpose) string { return capitalise(purposeText[p]) },
		"errs":          oneFieldError,
		"errsFor":       fieldErrors,
		"fieldError":    fieldErrorText,
		"field":         func(errs []fieldError, field string) fieldRef { return fieldRef{errs, field} },
		"loginField":    loginField,
		"when": func(ok bool, errs []fieldError) []fieldError {
			if ok {
				return errs
			}
			return nil
		},
		"purposeQuestion": func(p consent.Purpose) string { return purposeQuestions[p] },
		"passwordErrors":  passwordErrors,
		"userFormErrors":  userFormErrors,
		"auditErrors":     auditErrors,
		"lower1":          lowerFirst,
		"inc":             func(n int) int { return n + 1 },
		"has":             func(list []string, s string) bool { return slices.Contains(list, s) },
		"orgTable": func(id, caption string, providers bool, rows []orgRow) orgTable {
			return orgTable{id, caption, providers, rows}
		},
		"summary": func(title string, errs []fieldError) errorSummary { return errorSummary{title, errs} },
		"lower":   strings.ToLower,
	}
}

// loginField is the field a login error belongs to: the password for the
// one answer to every failed login (which does not say whether the username
// exists), none for a refusal after a correct password.
func loginField(msg string) string {
	if msg == msgLoginFailed {
		return "password"
	}
	return ""
}

// passwordErrors ties the messages of the password pages to their fields:
// the current password, the repetition, or else the new password.
func passwordErrors(msgs []string) []fieldError {
	var out []fieldError
	for _, m := range msgs {
		field := "new"
		switch {
		case strings.Contains(m, "huidige wachtwoord"):
			field = "current"
		case strings.Contains(m, "niet gelijk"):
			field = "repeat"
		case strings.Contains(m, "herstellink"):
			field = ""
		}
		out = append(out, fieldError{field, m})
	}
	return out
}

// auditErrors ties the messages of the spot-check form to its fields.
func auditErrors(msg string) []fieldError {
	switch {
	case msg == "":
		return nil
	case strings.Contains(msg, "steekproefgrootte"):
		return []fieldError{{"k", msg}}
	case strings.Contains(msg, "dagen"):
		return []fieldError{{"days", msg}}
	}
	return []fieldError{{"", msg}}
}

// lowerFirst returns s with its first letter in lower case, for a sentence
// that continues after a colon.
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}

// userFormErrors ties the messages of the new-user form to its fields, by
// what they are about.
func userFormErrors(msgs []string) []fieldError {
	var out []fieldError
	for _, m := range msgs {
		field := ""
		switch l := strings.ToLower(m); {
		case strings.Contains(l, "e-mail of sms"), strings.Contains(l, "sms-gateway"):
			field = "new-channel"
		case strings.Contains(l, "mobiel"):
			field = "new-phone"
		case strings.Contains(l, "gebruikersnaam of dit e-mailadres"):
			field = "new-username"
		case strings.Contains(l, "e-mailadres"):
			field = "new-email"
		case strings.Contains(l, "gebruikersnaam"):
			field = "new-username"
		case strings.Contains(l, " rol "):
			field = "new-role"
		case strings.Contains(l, "naam"):
			field = "new-name"
		}
		out = append(out, fieldError{field, m})
	}
	return out
}

// fieldError is a problem with a submitted form: the error summary lists it
// with a link to the field (the id of its input), and the field shows it
// under its label. An error without a Field concerns the whole form.
type fieldError struct {
	Field   string
	Message string
}

// orgTable is the argument of the template "orgtable".
type orgTable struct {
	ID, Caption string
	Providers   bool
	Rows        []orgRow
}

// errorSummary is the argument of the template "errorbox": a heading (the
// default when empty) and the errors.
type errorSummary struct {
	Title  string
	Errors []fieldError
}

// fieldRef is the argument of the template "fielderror".
type fieldRef struct {
	Errors []fieldError
	Field  string
}

// oneFieldError returns msg as the error of field, or none when msg is
// empty: for pages whose handler gives a single message.
func oneFieldError(field, msg string) []fieldError {
	if msg == "" {
		return nil
	}
	return []fieldError{{field, msg}}
}

// fieldErrors returns each of msgs as an error of field.
func fieldErrors(field string, msgs []string) []fieldError {
	var out []fieldError
	for _, m := range msgs {
		out = append(out, fieldError{field, m})
	}
	return out
}

// fieldErrorText returns the messages of field, joined, or "".
func fieldErrorText(errs []fieldError, field string) string {
	var msgs []string
	for _, e := range errs {
		if e.Field == field {
			msgs = append(msgs, e.Message)
		}
	}
	return strings.Join(msgs, " ")
}

package password

import (
	"errors"
	"strconv"
	"strings"

	"golang.org/x/text/language"
)

// Code identifies the kind of a [Violation]. Codes are stable: store them,
// switch on them and map them to your own texts; they never change meaning.
type Code string

// The codes of the violations that [Policy.Check] and [Policy.CheckNew]
// report. The comment of each says which parameters of the [Violation] it
// sets.
const (
	// CodeTooShort: the password has fewer than N characters.
	CodeTooShort Code = "too_short"
	// CodeTooLong: the password has more than N characters.
	CodeTooLong Code = "too_long"
	// CodeInvalidCharacter: the password is not valid UTF-8 or contains a
	// control character such as a line break or a tab.
	CodeInvalidCharacter Code = "invalid_character"
	// CodeMissingCategory: the password has no character of Categories (a
	// single category), which [Require] demands.
	CodeMissingCategory Code = "missing_category"
	// CodeTooFewCategories: the password has characters of fewer than N of
	// Categories, as [RequireAtLeast] demands; Missing are the categories of
	// that set it lacks.
	CodeTooFewCategories Code = "too_few_categories"
	// CodeContainsName: the password contains a part of the user's name,
	// username or e-mail address; Field says which.
	CodeContainsName Code = "contains_name"
	// CodeCommon: the password is on the list of common passwords.
	CodeCommon Code = "common"
	// CodeGuessable: the password is a common word or password dressed up
	// with digits, symbols, capitals or look-alike characters (Welkom01!), a
	// repetition or sequence (aaaaaaaa, 12345678), a keyboard walk
	// (Q1w2e3r4!), or built on a word of the service itself.
	CodeGuessable Code = "guessable"
	// CodeReused: the password is one of the user's last N passwords.
	CodeReused Code = "reused"
)

// Field names the piece of user information that a password contains, in a
// [Violation] with [CodeContainsName].
type Field string

// The fields of [User] that [NoNameParts] compares a password with.
const (
	FieldName     Field = "name"
	FieldUsername Field = "username"
	FieldEmail    Field = "email"
)

// A Violation is one way in which a password breaks a rule. Which parameters are set depends on Code; the others are
// zero. A Violation never contains the password or any part of it.
//
// In JSON a Violation is an object such as {"code":"too_short","n":8}, with
// categories as text ("upper+digit") and zero parameters left out.
type Violation struct {
	Code       Code     `json:"code"`
	N          int      `json:"n,omitempty"`          // a number from the rule: a length, a count of categories or of passwords
	Categories Category `json:"categories,omitempty"` // the categories the rule names
	Missing    Category `json:"missing,omitempty"`    // for CodeTooFewCategories: the categories of Categories the password lacks
	Field      Field    `json:"field,omitempty"`      // for CodeContainsName: what the password contains
}

// String returns the code and its parameters, such as "too_short(min=8)",
// for logs. Use [Violation.Message] for people.
func (v Violation) String() string {
	var b strings.Builder
	b.WriteString(string(v.Code))
	switch v.Code {
	case CodeTooShort:
		b.WriteString("(min=" + strconv.Itoa(v.N) + ")")
	case CodeTooLong:
		b.WriteString("(max=" + strconv.Itoa(v.N) + ")")
	case CodeMissingCategory:
		b.WriteString("(" + v.Categories.String() + ")")
	case CodeTooFewCategories:
		b.WriteString("(min=" + strconv.Itoa(v.N) + " of " + v.Categories.String() + ", missing " + v.Missing.String() + ")")
	case CodeContainsName:
		b.WriteString("(" + string(v.Field) + ")")
	case CodeReused:
		b.WriteString("(last=" + strconv.Itoa(v.N) + ")")
	}
	return b.String()
}

// Message returns the violation as a sentence for the user, in Dutch or
// English, saying what to do. Tags other than English (en, en-GB, …) give
// Dutch, the default.
func (v Violation) Message(tag language.Tag) string {
	return message(messages.Printer(tag), v)
}

// ErrPolicy matches every [*PolicyError]: errors.Is(err, ErrPolicy) reports
// whether a password was rejected by a rule, as opposed to failing for
// another reason.
var ErrPolicy = errors.New("password: rejected by policy")

// PolicyError is the error that [Policy.Check] and [Policy.CheckNew] return
// when a password breaks one or more rules. It holds
// every violation, in the order of the rules; use errors.As to get at them.
type PolicyError struct {
	Violations []Violation
}

// Error lists the codes of the violations. It is meant for logs: it never
// contains the password. Show people [PolicyError.Messages].
func (e *PolicyError) Error() string {
	var b strings.Builder
	b.WriteString("password: rejected by policy: ")
	for i, v := range e.Violations {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(v.String())
	}
	return b.String()
}

// Is reports whether target is [ErrPolicy].
func (e *PolicyError) Is(target error) bool { return target == ErrPolicy }

// Messages returns the message of every violation, in order, in the language
// of tag (see [Violation.Message]).
func (e *PolicyError) Messages(tag language.Tag) []string {
	p := messages.Printer(tag)
	msgs := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		msgs[i] = message(p, v)
	}
	return msgs
}

// Message returns the messages of every violation, in order, as one text in
// the language of tag.
func (e *PolicyError) Message(tag language.Tag) string {
	return strings.Join(e.Messages(tag), " ")
}

// Has reports whether one of the violations has code c.
func (e *PolicyError) Has(c Code) bool {
	for _, v := range e.Violations {
		if v.Code == c {
			return true
		}
	}
	return false
}

package password

import (
	"errors"

	"golang.org/x/text/language"
)

// ErrorMessage returns the message to show a user for an error of this
// package or of its subpackages (otp, throttle, reset, email), in Dutch or
// English, or "" for an error without one. Tags other than English (en,
// en-GB, …) give Dutch, the default. For a [*PolicyError] it returns the
// messages of every violation as one text; use [PolicyError.Messages] for a
// list.
//
// The errors with a message have a method Message(language.Tag) string,
// which ErrorMessage finds with errors.As, through any wrapping.
//
// [ErrMismatch] gets "the username or password is incorrect": show the same
// message for an unknown username, so that the page does not reveal which
// accounts exist.
func ErrorMessage(err error, tag language.Tag) string {
	var m interface{ Message(language.Tag) string }
	if err == nil || !errors.As(err, &m) {
		return ""
	}
	return m.Message(tag)
}

// messageError is a sentinel error with a message for the user.
type messageError struct{ text, key string }

func (e *messageError) Error() string { return e.text }

// Message returns the message for the user, in Dutch (the default) or
// English.
func (e *messageError) Message(tag language.Tag) string { return messages.Sprintf(tag, e.key) }

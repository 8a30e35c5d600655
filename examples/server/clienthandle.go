package main

import (
	"encoding/binary"
	"net/http"

	"github.com/zorgkit/zorgkit/examples/server/internal/seal"
)

// A provider may reach a client only through the client's exact BSN. So a
// client never travels in a form or an API answer by its subject key (the
// pseudonym), which would open the client to anyone who saw it once:
// instead a lookup hands out a client handle (package internal/seal), the
// subject key and masked BSN sealed under a key of the server, bound to the
// session, the user and the organisation that looked the client up, and
// valid for the session's idle timeout. Another organisation, another
// session of the same user (every login gets a new session id), or anyone
// later gets nothing from it, and it tells nobody who the client is.

// clientHandleLabel separates the handle key from every other use of the
// session key.
const clientHandleLabel = "zorgkit example portal: client handle v1"

// clientRef is a looked-up client, as a handle carries it.
type clientRef struct {
	Subject string // the subject key: never leaves the server in clear
	Masked  string // the BSN masked, for display
}

// handleBinding binds a handle to the session, the user and the
// organisation.
func handleBinding(s session, u *user) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(s.IDHash)))
	b = append(b, s.IDHash...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(u.ID)))
	b = append(b, u.ID...)
	return append(b, u.OrgID...)
}

// sealClient returns a handle for the client, for this session and user.
func (a *app) sealClient(s session, u *user, c clientRef) string {
	return a.handles.Seal(handleBinding(s, u), a.now().Add(a.cfg.IdleTimeout), c.Subject, c.Masked)
}

// openClient returns the client a handle names, if it is this session's and
// has not expired.
func (a *app) openClient(s session, u *user, handle string) (clientRef, error) {
	if len(s.IDHash) == 0 || u == nil {
		return clientRef{}, seal.ErrInvalid
	}
	v, err := a.handles.Open(handleBinding(s, u), handle, a.now(), 2)
	if err != nil {
		return clientRef{}, err
	}
	return clientRef{Subject: v[0], Masked: v[1]}, nil
}

// formClient returns the client the request's form names by handle.
func (a *app) formClient(r *http.Request) (clientRef, error) {
	return a.openClient(sessionFrom(r.Context()), userFrom(r.Context()), r.PostFormValue("client"))
}

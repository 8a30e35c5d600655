package main

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zorgkit/zorgkit/consent"
)

// TestSharedFieldCipher uses the portal's one FieldCipher from many
// goroutines at once, as concurrent requests do: messages go into the
// encrypted outbox for several users while the demo clients' names and
// addresses are decrypted. Every value must decrypt under its own field
// (an earlier FieldCipher shared a buffer between calls and sealed values
// under another call's field). Run it with -race.
func TestSharedFieldCipher(t *testing.T) {
	p := newTestPortal(t)
	ctx := context.Background()
	outbox := &outbox{a: p.a}
	var names []string
	rows, err := p.a.db.Query(`SELECT pseudonym FROM clients`)
	require.NoError(t, err)
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		names = append(names, s)
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, names, "the demo has clients")
	users := []string{"jdevries", "linde", "noord"}

	const goroutines, messages = 6, 20
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			u, err := p.a.userBy(ctx, "username", users[g%len(users)])
			if !assert.NoError(t, err) {
				return
			}
			for i := range messages {
				assert.NoError(t, outbox.Send(ctx, u, "test", fmt.Sprintf("message %d from goroutine %d", i, g)))
				subject := names[(g+i)%len(names)]
				_, err := p.a.clientData(ctx, subject, consent.PurposeViewNAW)
				assert.NoError(t, err, "a client's name and address decrypt")
			}
		})
	}
	wg.Wait()
	n := 0
	rows, err = p.a.db.Query(`SELECT user_id, body FROM outbox WHERE subject = 'test'`)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var userID, enc string
		require.NoError(t, rows.Scan(&userID, &enc))
		_, err := p.a.field.Decrypt("outbox.body:"+userID, enc)
		assert.NoError(t, err, "an outbox message decrypts under its own field")
		n++
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, goroutines*messages, n)
}

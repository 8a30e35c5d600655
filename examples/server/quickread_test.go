package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zorgkit/zorgkit/bsn/bsntest"
	"github.com/zorgkit/zorgkit/consent"
)

type quickReadKey struct{}

// The lookup's quick reads on SQLite take a context that cannot be
// cancelled (so that neither database/sql nor the driver starts a goroutine
// per query to watch it), keep the request's values, and still answer once
// the client has gone; on PostgreSQL they keep the request's cancellation.
func TestQuickRead(t *testing.T) {
	base := context.WithValue(context.Background(), quickReadKey{}, "value")
	gone, hangUp := context.WithCancel(base)
	hangUp()
	tests := []struct {
		name       string
		dialect    dialect
		cancelable bool // the context returned can still be cancelled
	}{
		{name: "SQLite: not cancelable", dialect: sqlite, cancelable: false},
		{name: "PostgreSQL: the request's context", dialect: postgres, cancelable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &app{dialect: tt.dialect}
			ctx := a.quickRead(gone)
			assert.Equal(t, "value", ctx.Value(quickReadKey{}), "the request's values are kept")
			if tt.cancelable {
				assert.Same(t, gone, ctx)
				return
			}
			assert.Nil(t, ctx.Done(), "database/sql and the driver watch a context only if Done is not nil")
			assert.NoError(t, ctx.Err())
		})
	}

	t.Run("SQLite: the reads of a lookup whose client hung up", func(t *testing.T) {
		p := newTestPortal(t)
		ctx := context.Background()
		u, err := p.a.userBy(ctx, "username", "jdevries")
		require.NoError(t, err)
		subject, found, err := p.a.findClient(gone, bsntest.TestPersons()[0])
		require.NoError(t, err, "a read of microseconds is not stopped halfway")
		require.True(t, found)
		// The consent library itself honours a cancelled context; the page's
		// decisions read the chain's head with a quick read.
		_, err = p.a.consent.DecideUnloggedEach(gone, consent.Subject(subject), consent.Organisation(u.OrgID), pagePurposes, p.a.now())
		require.ErrorIs(t, err, context.Canceled)
		cv, err := p.a.clientView(gone, u, subject, "*****1234")
		require.NoError(t, err)
		assert.Len(t, cv.Purposes, len(pagePurposes))
	})
}

package password_test

import (
	"testing"

	"github.com/zorgkit/zorgkit/password"
	"github.com/zorgkit/zorgkit/password/passwordtest"
)

func TestMemoryStore(t *testing.T) {
	t.Run("ThrottleStore", func(t *testing.T) {
		passwordtest.TestThrottleStore(t, func(testing.TB) password.ThrottleStore { return new(password.MemoryStore) })
	})
	t.Run("CodeStore", func(t *testing.T) {
		passwordtest.TestCodeStore(t, func(testing.TB) password.CodeStore { return new(password.MemoryStore) })
	})
	t.Run("ResetStore", func(t *testing.T) {
		passwordtest.TestResetStore(t, func(testing.TB) password.ResetStore { return new(password.MemoryStore) })
	})
}

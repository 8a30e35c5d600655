package store_test

import (
	"testing"

	"github.com/zorgkit/zorgkit/consent/consenttest"
	"github.com/zorgkit/zorgkit/consent/store"
)

func TestMemoryConformance(t *testing.T) {
	consenttest.Run(t, func(*testing.T) store.Store { return store.NewMemory() })
}

package consent_test

import (
	"testing"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/consenttest"
)

func TestMemoryStoreConformance(t *testing.T) {
	consenttest.Run(t, func(*testing.T) consent.Store { return consent.NewMemoryStore() })
}

package lifecycle_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Waiters, writers and metric collectors all run on goroutines; a leak means
// a Wait or a writer loop never returned.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

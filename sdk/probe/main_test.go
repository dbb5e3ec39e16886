package probe_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Requests run on the supervisor's goroutines and, with httptest.Server,
// on the server's; a leak means a status wait or a connection never ended.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

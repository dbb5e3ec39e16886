package sdktest_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test leaves no goroutine behind: the kit's own promise to its
// users, who run it under goleak too.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

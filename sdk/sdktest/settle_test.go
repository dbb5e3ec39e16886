package sdktest_test

import (
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/supervisor-sdk/supervisor/sdk/sdktest"
)

// Outside a bubble Settle has nothing to wait for, and must not panic:
// the same helpers serve tests on the real clock.
func TestSettleOutsideBubble(t *testing.T) {
	sdktest.Settle()
}

// Inside one it returns once the other goroutines are blocked, so what
// they did at this instant is visible.
func TestSettleInBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var done atomic.Bool
		block := make(chan struct{})
		go func() {
			done.Store(true)
			<-block
		}()
		sdktest.Settle()
		if !done.Load() {
			t.Error("Settle returned before the goroutine had run")
		}
		close(block)
	})
}

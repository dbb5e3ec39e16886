package sdktest

import (
	"fmt"
	"strings"
	"testing/synctest"
)

// Settle waits, when called from a synctest bubble, until every other
// goroutine of the bubble is durably blocked: everything that could
// happen at the current fake instant has happened, events included.
// Outside a bubble it returns at once.
//
// Go 1.25 offers no way to ask whether a goroutine is in a bubble, so
// Settle calls synctest.Wait and recovers the panic it raises outside
// one. Any other panic (another goroutine of the bubble is already
// waiting) is raised again, with advice: ignoring it would silently
// read a state that has not settled.
func Settle() {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if s, ok := v.(string); ok && strings.Contains(s, "not in a bubble") {
			return
		}
		panic(fmt.Sprintf("sdktest: Settle: %v (settle from one goroutine of the bubble at a time, and never from an event hook)", v))
	}()
	synctest.Wait()
}

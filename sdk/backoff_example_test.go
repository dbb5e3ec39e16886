package sdk_test

import (
	"fmt"
	"time"

	"github.com/supervisor-sdk/supervisor/sdk"
)

func ExampleBackoff_Delay() {
	b := sdk.Backoff{
		Initial:    100 * time.Millisecond,
		Max:        time.Second,
		Multiplier: 2,
	}
	for n := 1; n <= 6; n++ {
		fmt.Printf("restart %d: %v\n", n, b.Delay(n))
	}
	// Output:
	// restart 1: 100ms
	// restart 2: 200ms
	// restart 3: 400ms
	// restart 4: 800ms
	// restart 5: 1s
	// restart 6: 1s
}

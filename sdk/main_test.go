package sdk

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if b := Bugs(); len(b) > 0 && code == 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d internal bugs reported, first: %v\n", len(b), b[0])
		code = 1
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

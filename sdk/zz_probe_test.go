package sdk_test

import (
	"context"
	"testing"
	"time"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

func TestZZProbe(t *testing.T) {
	bad := 0
	for range 2000 {
		s := newSup(t, "r")
		add(t, s, sdk.Spec{Name: "c", Readiness: true, Service: readyAfter(time.Microsecond)})
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if s.Health().State != lifecycle.StateAlive {
			bad++
		}
		s.Shutdown(context.Background(), "t", "t")
	}
	t.Log("not alive right after Start:", bad)
}

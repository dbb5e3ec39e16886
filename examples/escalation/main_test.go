package main

import (
	"bytes"
	"errors"
	"testing"

	"go.uber.org/goleak"

	"github.com/supervisor-sdk/supervisor/sdk"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestEscalation(t *testing.T) {
	var out bytes.Buffer
	err := run(&out)
	if !errors.Is(err, sdk.ErrMeltdown) {
		t.Fatalf("err = %v, want a meltdown", err)
	}
	want := `meltdown /root/db cause="/root/db/client exceeded the restart intensity" err="connection refused"
supervisor_state /root/db shutting_down→failed cause="meltdown: more than 2 restarts in 1m0s (last: /root/db/client)" err="sdk: supervisor /root/db: restart 3 within 1m0s would exceed the limit of 2 (meltdown)"
`
	// /root/db melts down three times; the third failure of /root/db is
	// /root's own meltdown.
	if got := out.String(); !bytes.HasPrefix([]byte(got), []byte(want)) {
		t.Fatalf("got:\n%s\nwant prefix:\n%s", got, want)
	}
	if n := bytes.Count(out.Bytes(), []byte("meltdown /root/db ")); n != 3 {
		t.Fatalf("%d meltdowns of /root/db, want 3:\n%s", n, out.String())
	}
	for _, s := range []string{
		`meltdown /root origin=/root/db/client cause="/root/db exceeded the restart intensity"`,
		"serve: meltdown=true",
		`"State": "failed"`,
		`"Cause": "meltdown"`,
		`"DBRuns": 3`,
	} {
		if !bytes.Contains(out.Bytes(), []byte(s)) {
			t.Fatalf("missing %q in:\n%s", s, out.String())
		}
	}
}

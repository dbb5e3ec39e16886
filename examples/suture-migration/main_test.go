package main

import (
	"bytes"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMigratedServicesRunUnchanged(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	want := `child_exited /app/migration attempt=1 exit=normal err="schema migrated: sdk: do not restart"
child_ended /app/migration attempt=1 running→completed cause="schema migrated: sdk: do not restart"
child_exited /app/poller attempt=1 exit=error err="poller: upstream timeout"
child_exited /app/poller attempt=2 exit=error err="poller: upstream timeout"
child_exited /app/poller attempt=3 exit=stopped err="context canceled"
child_ended /app/poller attempt=3 stopping→stopped cause="context ended: context canceled"
`
	// The two children run concurrently: compare each one's own sequence.
	for _, path := range []string{"/app/migration ", "/app/poller "} {
		if got, w := only(out.String(), path), only(want, path); got != w {
			t.Fatalf("%s: got:\n%s\nwant:\n%s", path, got, w)
		}
	}
}

func only(text, path string) string {
	var keep []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, path) {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

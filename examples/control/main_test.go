package main

import (
	"bytes"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestControl(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	want := `  event: child_running /root/ingest attempt=1 starting→running
  event: child_running /root/export attempt=1 starting→running
restart ingest:
  event: command /root/ingest command=restart by="alice" cause="pick up new credentials"
  event: child_stopped /root/ingest attempt=1
  event: child_running /root/ingest attempt=2 starting→running
  event: command_done /root/ingest command=restart result=accepted by="alice" cause="pick up new credentials"
pause export:
  event: command /root/export command=pause by="bob" cause="downstream maintenance"
  event: child_stopped /root/export attempt=1
  event: command_done /root/export command=pause result=accepted by="bob" cause="downstream maintenance"
pause export again:
  event: command /root/export command=pause by="bob" cause="still in maintenance"
  event: command_done /root/export command=pause result=idempotent by="bob" cause="still in maintenance"
  idempotent: it was paused already
status: /root/ingest running attempt=2 paused=false
status: /root/export paused attempt=1 paused=true
resume export:
  event: command /root/export command=resume by="bob" cause="maintenance over"
  event: child_running /root/export attempt=2 starting→running
  event: command_done /root/export command=resume result=accepted by="bob" cause="maintenance over"
a command without a reason is refused:
  rejected: sdk: reason is blank
  event: child_stopped /root/export attempt=2
  event: child_stopped /root/ingest attempt=2
after shutdown, commands fail at once:
  rejected: sdk: supervisor is not running
report: cause=operator by=alice: /root/ingest=stopped /root/export=stopped
`
	if out.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}

package sdk

import (
	"errors"
	"testing"
	"time"
)

// Recording is a copy into a ring allocated once: nothing is allocated
// per event, full or not.
func TestRecorderAddAllocatesNothing(t *testing.T) {
	f := newFeed(0, 8)
	src := &run{}
	e := Event{Type: EventChildExited, Path: "/r/a", Supervisor: "/r", Err: errors.New("boom"), Time: time.Now()}
	for range 20 { // past full
		f.publish(src, e, nil)
	}
	if n := testing.AllocsPerRun(1000, func() { f.publish(src, e, nil) }); n != 0 {
		t.Fatalf("publishing into a full recorder allocated %v times per event", n)
	}
	if got := len(f.recent("/r")); got != 8 {
		t.Fatalf("recent: %d events, want the ring's 8", got)
	}
	if got := len(f.recent("/x")); got != 0 {
		t.Fatalf("recent for another supervisor: %d events", got)
	}
}

func TestRecorderOrder(t *testing.T) {
	rc := newRecorder(3)
	for i := range uint64(5) {
		rc.add(&Event{Seq: i + 1})
	}
	var got []uint64
	rc.each(func(e *Event) bool { got = append(got, e.Seq); return true })
	if len(got) != 3 || got[0] != 3 || got[1] != 4 || got[2] != 5 {
		t.Fatalf("oldest first after wrapping: %v", got)
	}
}

// BenchmarkRecorderPublish is the cost the recorder adds to an event
// (the restart path publishes a handful): run with -benchmem, it reports
// 0 allocs/op with the recorder on and off.
func BenchmarkRecorderPublish(b *testing.B) {
	for _, n := range []int{0, DefaultFlightRecorder} {
		b.Run(map[int]string{0: "off", DefaultFlightRecorder: "on"}[n], func(b *testing.B) {
			f := newFeed(0, n)
			src := &run{}
			e := Event{Type: EventChildExited, Path: "/r/a", Err: errors.New("boom"), Time: time.Now()}
			b.ReportAllocs()
			for b.Loop() {
				f.publish(src, e, nil)
			}
		})
	}
}

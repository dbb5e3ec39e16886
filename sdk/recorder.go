package sdk

import (
	"time"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// DefaultFlightRecorder is how many recent events a tree keeps in memory
// for [Supervisor.Status] unless [WithFlightRecorder] says otherwise.
const DefaultFlightRecorder = 256

// WithFlightRecorder keeps the last n events of the tree in memory, a
// flight recorder that [Supervisor.Status] (and so the probe's /statusz)
// shows, for teams without a tracing backend. The default is
// [DefaultFlightRecorder]; 0 turns it off, and a negative n keeps the
// default. It matters on the root supervisor: nested supervisors record
// into their root's. The ring is allocated once, when the tree starts
// serving, and recording an event copies it into the ring, under the lock
// that numbers it: nothing else is allocated. The ring holds the events'
// values, errors included, until they are overwritten.
func WithFlightRecorder(n int) Option {
	return func(c *config) { c.recorder, c.recorderSet = n, true }
}

// recorderSize is the configured ring size.
func (c *config) recorderSize() int {
	if !c.recorderSet || c.recorder < 0 {
		return DefaultFlightRecorder
	}
	return c.recorder
}

// recorder is a tree's flight recorder: a fixed ring of its last events,
// overwritten oldest first. Its owner (the feed) guards it with its lock.
type recorder struct {
	ring []Event
	next int  // where the next event goes
	full bool // the ring has wrapped: ring[next] is the oldest
}

func newRecorder(n int) recorder {
	if n <= 0 {
		return recorder{}
	}
	return recorder{ring: make([]Event, n)}
}

// on reports whether the recorder keeps anything. It never changes, so
// it may be read without the lock.
func (rc *recorder) on() bool { return len(rc.ring) > 0 }

// add records e, overwriting the oldest event once the ring is full.
func (rc *recorder) add(e *Event) {
	if len(rc.ring) == 0 {
		return
	}
	rc.ring[rc.next] = *e
	rc.next++
	if rc.next == len(rc.ring) {
		rc.next, rc.full = 0, true
	}
}

// each calls fn with the recorded events, oldest first, until it returns
// false.
func (rc *recorder) each(fn func(*Event) bool) {
	if rc.full {
		for i := rc.next; i < len(rc.ring); i++ {
			if !fn(&rc.ring[i]) {
				return
			}
		}
	}
	for i := 0; i < rc.next; i++ {
		if !fn(&rc.ring[i]) {
			return
		}
	}
}

// RecordedEvent is one event of the flight recorder, as [Status] shows it
// (see [WithFlightRecorder]): its number, time, type, path and attempt,
// and the whole event as one line ([Event.String], cut at 1 KiB).
type RecordedEvent struct {
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Type    string    `json:"type"`
	Path    string    `json:"path"`
	Attempt uint64    `json:"attempt,omitempty"`
	Text    string    `json:"text"`
}

func recordOf(e *Event) RecordedEvent {
	return RecordedEvent{Seq: e.Seq, Time: e.Time.UTC(), Type: e.Type.String(), Path: e.Path, Attempt: e.Attempt,
		Text: cut(e.String(), maxStatusError)}
}

// recent copies the recorded events that the supervisor at path emitted,
// oldest first.
func (f *feed) recent(path string) []Event {
	if !f.rec.on() {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Event
	f.rec.each(func(e *Event) bool {
		if e.Supervisor == path {
			out = append(out, *e)
		}
		return true
	})
	return out
}

// attachEvents puts a supervisor's recorded events into its status: all
// of them in Events, and each child's in its own. The time of a child's
// last error is that of the last recorded exit with an error; when the
// ring no longer holds it, the time the child entered backoff or failed,
// which follows the exit at once.
func attachEvents(st *Status, evs []Event) {
	if len(evs) > 0 {
		st.Events = make([]RecordedEvent, 0, len(evs))
	}
	byPath := make(map[string]int, len(st.Children))
	for i := range st.Children {
		byPath[st.Children[i].Path] = i
	}
	for i := range evs {
		e := &evs[i]
		rec := recordOf(e)
		st.Events = append(st.Events, rec)
		j, ok := byPath[e.Path]
		if !ok {
			continue
		}
		c := &st.Children[j]
		c.Events = append(c.Events, rec)
		if e.Err != nil && isExit(e.Type) {
			c.LastErrorAt = rec.Time
		}
	}
	for i := range st.Children {
		c := &st.Children[i]
		if c.LastError != "" && c.LastErrorAt.IsZero() && (c.State == lifecycle.StateBackoff || c.State == lifecycle.StateFailed) {
			c.LastErrorAt = c.Since
		}
	}
}

// isExit reports whether an event of type t ends an attempt.
func isExit(t EventType) bool {
	switch t {
	case EventChildExited, EventChildPanicked, EventChildStale, EventChildAbandoned, EventChildStopped:
		return true
	}
	return false
}

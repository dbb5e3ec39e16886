package sdk

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
)

// defaultFeedLimit bounds the events queued for a tree's hooks.
const defaultFeedLimit = 4096

// keptQueue is the capacity of the hooks' queue a drained feed always
// keeps. A larger array is released when the queue drains after more than
// eight times its capacity in events has been delivered without the
// backlog needing an eighth of it: a start burst of thousands of children
// leaves no array of its size behind once traffic is back to normal, while
// a busy tree whose hook now and then falls far behind keeps the array it
// keeps needing. (Releasing at every drain cost a crash loop with a hook 6
// KB of regrowth per restart.)
const keptQueue = 64

// feed numbers a tree's events and delivers them: to subscriptions at
// once (they buffer and count their own drops), and to hooks in order on
// a goroutine of its own. No hook runs on a supervisor's goroutine, so a
// slow, blocking or panicking hook, or one that calls back into the
// supervisor, cannot hold up or wedge supervision: it only delays the
// hooks after it. The queue is bounded; when it is full the event is not
// queued for the hooks, and the drop is counted (the hooks then see a gap
// in [Event.Seq]).
//
// One feed serves a whole tree: nested supervisors emit into their root's,
// so the numbers are strictly increasing across every observer of the
// root.
type feed struct {
	id       uint64 // the tree's identity, for Event.Tree
	mu       sync.Mutex
	seq      uint64   // the last number given out
	queue    []queued // hooks' backlog, from head
	head     int
	quiet    int // events delivered since the backlog last needed an eighth of the queue's array
	limit    int
	queued   uint64 // the number of the last event queued for the hooks
	dropped  uint64
	running  bool          // the delivery goroutine exists
	closed   bool          // no more events: the goroutine ends once the queue is drained
	finished chan struct{} // closed when the goroutine has ended (or never needed to start)
	wake     chan struct{}
	progress chan struct{} // closed and replaced when a waiter is told of progress
	waiters  int

	rec recorder // the tree's flight recorder, guarded by mu

	delivered atomic.Uint64 // the number of the last event every hook has seen
	panics    atomic.Uint64 // hook calls that panicked
}

type queued struct {
	e     Event
	hooks []func(Event)
	src   *run
}

// trees numbers the feeds of the process: a tree's identity in its
// events, so that observers can tell two trees with the same paths apart.
var trees atomic.Uint64

func newFeed(limit, recorded int) *feed {
	if limit <= 0 {
		limit = defaultFeedLimit
	}
	return &feed{id: trees.Add(1), limit: limit, rec: newRecorder(recorded),
		wake: make(chan struct{}, 1), finished: make(chan struct{}), progress: make(chan struct{})}
}

// publish numbers e, records it, offers it to the subscriptions of src's
// chain and queues it for hooks.
func (f *feed) publish(src *run, e Event, hooks []func(Event)) uint64 {
	f.mu.Lock()
	f.seq++
	e.Seq, e.Tree, e.Dropped = f.seq, f.id, f.dropped
	f.rec.add(&e)
	for _, s := range src.chain {
		for _, sub := range s.subsList() {
			sub.offer(e)
		}
	}
	if len(hooks) > 0 {
		f.enqueue(queued{e: e, hooks: hooks, src: src})
	}
	f.mu.Unlock()
	return e.Seq
}

// enqueue queues an event for the hooks. Callers hold f.mu.
func (f *feed) enqueue(q queued) {
	if f.closed || len(f.queue)-f.head >= f.limit {
		f.dropped++
		return
	}
	if f.head > 0 && f.head == len(f.queue) {
		clear(f.queue)
		f.queue, f.head = f.queue[:0], 0
	}
	f.queue = append(f.queue, q)
	if (len(f.queue)-f.head)*8 >= cap(f.queue) {
		f.quiet = 0 // the array is needed
	}
	f.queued = q.e.Seq
	if !f.running {
		f.running = true
		go f.deliver()
	}
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// deliver is the feed's goroutine: it runs the hooks until the feed is
// closed and drained. Its owner is the run that created the feed, which
// closes it when it ends.
func (f *feed) deliver() {
	defer close(f.finished)
	for {
		f.mu.Lock()
		for f.head == len(f.queue) {
			if f.closed {
				f.mu.Unlock()
				return
			}
			f.mu.Unlock()
			<-f.wake
			f.mu.Lock()
		}
		q := f.queue[f.head]
		f.queue[f.head] = queued{} // release what the event holds
		f.head++
		f.quiet++
		if f.head == len(f.queue) && cap(f.queue) > keptQueue && f.quiet > 8*cap(f.queue) {
			f.queue, f.head, f.quiet = nil, 0, 0 // see keptQueue
		}
		f.mu.Unlock()

		for _, h := range q.hooks {
			f.callHook(h, q)
		}
		f.delivered.Store(q.e.Seq)
		f.notify()
	}
}

// callHook runs one hook, recovering a panic: the panic is counted and
// reported to the tree's observers as an EventHookPanicked (unless the
// event was itself one, so a hook that always panics cannot loop).
func (f *feed) callHook(h func(Event), q queued) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		f.panics.Add(1)
		if q.e.Type == EventHookPanicked {
			return
		}
		q.src.emitOffLoop(Event{Type: EventHookPanicked, Path: q.e.Supervisor, Err: newPanicError(v),
			Cause: fmt.Sprintf("a hook panicked on %s (event %d)", q.e.Type, q.e.Seq)})
	}()
	h(q.e)
}

func (f *feed) notify() {
	f.mu.Lock()
	if f.waiters > 0 {
		close(f.progress)
		f.progress = make(chan struct{})
	}
	f.mu.Unlock()
}

// close ends the feed once what is queued has been delivered.
func (f *feed) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.closed = true
	if !f.running {
		close(f.finished)
		return
	}
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// flush waits until the hooks have seen every event up to seq, or ctx
// ends, or hurry is closed (a shutdown whose deadline has passed: the
// operator wants out now). Called from a hook, it returns at once: the
// hook's own delivery cannot go on until it returns.
func (f *feed) flush(ctx context.Context, seq uint64, hurry <-chan struct{}) error {
	if f.delivered.Load() >= seq || calledFromHook() {
		return nil
	}
	for {
		f.mu.Lock()
		// Only what was queued for the hooks can be waited for.
		if d := f.delivered.Load(); d >= seq || d >= f.queued || !f.running && f.closed {
			f.mu.Unlock()
			return nil
		}
		f.waiters++
		ch := f.progress
		f.mu.Unlock()
		var err error
		select {
		case <-ch:
		case <-f.finished:
		case <-hurry:
			err = errHurry
		case <-ctx.Done():
			err = context.Cause(ctx)
		}
		f.mu.Lock()
		f.waiters--
		f.mu.Unlock()
		if err == errHurry {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

var errHurry = errors.New("sdk: shutdown deadline passed")

// calledFromHook reports whether the calling goroutine is inside one of
// the feed's hook calls: the one question a hook's own call into the
// supervisor must answer to not wait for itself. It walks the caller's
// stack, which only the calls that wait for hooks do, and only once.
func calledFromHook() bool {
	pcs := make([]uintptr, 128)
	for {
		n := runtime.Callers(2, pcs)
		frames := runtime.CallersFrames(pcs[:n])
		for {
			fr, more := frames.Next()
			if fr.Function == hookCaller {
				return true
			}
			if !more {
				break
			}
		}
		if n < len(pcs) || len(pcs) >= 1<<14 {
			return false
		}
		pcs = make([]uintptr, 2*len(pcs))
	}
}

// hookCaller is the function that calls hooks, as the runtime names it.
var hookCaller = runtime.FuncForPC(reflect.ValueOf((*feed).callHook).Pointer()).Name()

// last returns the number of the last event published.
func (f *feed) last() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seq
}

// droppedEvents returns how many events were not queued for the hooks.
func (f *feed) droppedEvents() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dropped
}

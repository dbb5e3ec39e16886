package sdk

import (
	"slices"
	"sync"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// seriesSet holds the lifecycle machines of a supervisor's latest run, so
// that their metric series are retired when the supervisor is garbage, as
// [Supervisor.Close] retires them: a supervisor dropped without Close must
// not stay reported, nor keep its machines alive, for the rest of the
// process. It is the cleanup's argument, so it must never reference the
// supervisor (which would then never become garbage): it holds machines
// only, and machines hold no supervisor state.
type seriesSet struct {
	mu sync.Mutex
	ms []*lifecycle.Machine
}

func (ss *seriesSet) add(m *lifecycle.Machine) {
	ss.mu.Lock()
	ss.ms = append(ss.ms, m)
	ss.mu.Unlock()
}

// reserve makes room for n more machines, so that a run's declarations
// grow the set once.
func (ss *seriesSet) reserve(n int) {
	ss.mu.Lock()
	ss.ms = slices.Grow(ss.ms, n)
	ss.mu.Unlock()
}

// remove forgets m, once it is closed, so that a pool that churns through
// children does not accumulate them.
func (ss *seriesSet) remove(m *lifecycle.Machine) {
	ss.mu.Lock()
	if i := slices.Index(ss.ms, m); i >= 0 {
		ss.ms = slices.Delete(ss.ms, i, i+1)
	}
	ss.mu.Unlock()
}

// retire closes every machine of the set and forgets them.
func (ss *seriesSet) retire() {
	ss.mu.Lock()
	ms := ss.ms
	ss.ms = nil
	ss.mu.Unlock()
	for _, m := range ms {
		m.Close()
	}
}

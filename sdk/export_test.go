package sdk

import "sync"

// Internal bugs (illegal lifecycle transitions) fail the test that caused
// them: helpers_test.go checks BugCount around every supervisor it builds,
// and TestMain fails the package if any was seen at all.
var (
	bugsMu sync.Mutex
	bugs   []error
)

func init() {
	h := func(err error) {
		bugsMu.Lock()
		bugs = append(bugs, err)
		bugsMu.Unlock()
	}
	bugHandler.Store(&h)
	checkSteps = true
}

// Bugs returns the internal errors reported so far.
func Bugs() []error {
	bugsMu.Lock()
	defer bugsMu.Unlock()
	return append([]error(nil), bugs...)
}

// HookDrops returns how many events of s's last run were dropped for its
// tree's hooks (the hook queue was full).
func HookDrops(s *Supervisor) uint64 {
	r := s.last.Load()
	if r == nil {
		return 0
	}
	return r.feed.droppedEvents()
}

// forgetBugs drops the bugs reported after the first n: for a test that
// causes one on purpose.
func forgetBugs(n int) {
	bugsMu.Lock()
	bugs = bugs[:n]
	bugsMu.Unlock()
}

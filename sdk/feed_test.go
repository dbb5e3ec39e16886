package sdk

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"
)

// A feed that has delivered a burst gives the backlog's array back: a
// tree does not keep up to its limit of events' worth of memory for the
// rest of its life. (After one burst behind a slow hook the queue kept its
// capacity, about 1.3 MB at the default limit.)
func TestFeedReleasesItsBacklog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFeed(0, 0)
		release := make(chan struct{})
		slow := func(Event) { <-release }
		for seq := uint64(1); seq <= defaultFeedLimit; seq++ {
			f.mu.Lock()
			f.enqueue(queued{e: Event{Seq: seq}, hooks: []func(Event){slow}})
			f.mu.Unlock()
		}
		f.mu.Lock()
		require.GreaterOrEqual(t, cap(f.queue), defaultFeedLimit, "the burst is queued")
		f.mu.Unlock()
		close(release)
		require.NoError(t, f.flush(context.Background(), defaultFeedLimit, nil))
		synctest.Wait()
		f.mu.Lock()
		require.LessOrEqual(t, cap(f.queue), keptQueue, "the drained backlog's array is released")
		f.mu.Unlock()
		f.close()
		<-f.finished
	})
}

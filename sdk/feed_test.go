package sdk

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"
)

// A feed that has delivered a burst gives the backlog's array back once
// traffic is back to normal: a tree does not keep up to its limit of
// events' worth of memory for the rest of its life. (After one burst
// behind a slow hook the queue kept its capacity, about 1.3 MB at the
// default limit.)
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
		burst := cap(f.queue)
		f.mu.Unlock()
		// Traffic back to normal, a few events at a time: once more than
		// eight arrays' worth has gone by, the array is given back.
		seq := uint64(defaultFeedLimit)
		for range 8*burst/10 + 1 {
			f.mu.Lock()
			for range 10 {
				seq++
				f.enqueue(queued{e: Event{Seq: seq}, hooks: []func(Event){slow}})
			}
			f.mu.Unlock()
			require.NoError(t, f.flush(context.Background(), seq, nil))
			f.mu.Lock()
			kept := cap(f.queue)
			f.mu.Unlock()
			if kept <= keptQueue {
				break
			}
		}
		f.mu.Lock()
		require.LessOrEqual(t, cap(f.queue), keptQueue, "the burst's array is released")
		f.mu.Unlock()
		f.close()
		<-f.finished
	})
}

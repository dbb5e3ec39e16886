package probe

import (
	"context"
	"sync"
	"time"
)

// rendered is one /statusz response, shared by the requests it answers.
type rendered struct {
	code        int
	contentType string
	body        []byte
}

// pageCache keeps the last rendered status page of each kind (JSON, HTML)
// for maxAge, and renders at most one of each kind at a time: the
// requests that arrive meanwhile wait for it and share it.
type pageCache struct {
	mu    sync.Mutex
	kinds [2]pageSlot
}

type pageSlot struct {
	page     rendered
	at       time.Time
	valid    bool
	inflight chan struct{}
	err      error
}

func (c *pageCache) get(ctx context.Context, html bool, maxAge time.Duration, render func(context.Context) (rendered, error)) (rendered, error) {
	i := 0
	if html {
		i = 1
	}
	for {
		c.mu.Lock()
		slot := &c.kinds[i]
		if slot.valid && maxAge > 0 && time.Since(slot.at) < maxAge {
			p := slot.page
			c.mu.Unlock()
			return p, nil
		}
		if wait := slot.inflight; wait != nil {
			c.mu.Unlock()
			select {
			case <-wait:
				if maxAge == 0 {
					continue // a fresh one of our own
				}
				c.mu.Lock()
				p, err := slot.page, slot.err
				c.mu.Unlock()
				if err != nil {
					continue
				}
				return p, nil
			case <-ctx.Done():
				return rendered{}, context.Cause(ctx)
			}
		}
		done := make(chan struct{})
		slot.inflight = done
		c.mu.Unlock()

		p, err := render(ctx)
		c.mu.Lock()
		slot.inflight, slot.err = nil, err
		if err == nil {
			slot.page, slot.at, slot.valid = p, time.Now(), true
		}
		c.mu.Unlock()
		close(done)
		return p, err
	}
}

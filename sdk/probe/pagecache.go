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
	gzip        *gzipped // nil when the body is too small to compress
}

// maxCachedPages bounds the pages kept: the JSON and each HTML page that
// was asked for. A client walking many pages evicts the others.
const maxCachedPages = 32

// pageCache keeps the last rendering of each page (the JSON, and each
// HTML page) for maxAge, and renders at most one of each at a time: the
// requests that arrive meanwhile wait for it and share it.
type pageCache struct {
	mu    sync.Mutex
	pages map[string]*pageSlot
}

type pageSlot struct {
	page     rendered
	at       time.Time
	valid    bool
	inflight chan struct{}
	err      error
}

// slot returns the slot of key, evicting another one that is not being
// rendered when the cache is full. Callers hold c.mu.
func (c *pageCache) slot(key string) *pageSlot {
	if s := c.pages[key]; s != nil {
		return s
	}
	if c.pages == nil {
		c.pages = make(map[string]*pageSlot)
	}
	if len(c.pages) >= maxCachedPages {
		for k, s := range c.pages {
			if s.inflight == nil {
				delete(c.pages, k)
				break
			}
		}
	}
	s := &pageSlot{}
	c.pages[key] = s
	return s
}

func (c *pageCache) get(ctx context.Context, key string, maxAge time.Duration, render func(context.Context) (rendered, error)) (rendered, error) {
	for {
		c.mu.Lock()
		slot := c.slot(key)
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
		p.gzip = newGzipped(p.body)
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

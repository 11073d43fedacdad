package translate

import (
	"container/list"
	"sync"

	"lectern/captions"
)

// cacheKey: one translation per (webinar, source caption, language).
type cacheKey struct{ webinar, id, lang string }

// cache is a small LRU of translated finals. It saves a second translation when the same final
// is submitted again (a resubmit after a restart, an export right after the live session).
type cache struct {
	mu    sync.Mutex
	max   int
	order *list.List // front = most recent; values are *cacheEntry
	items map[cacheKey]*list.Element
}

type cacheEntry struct {
	key cacheKey
	c   captions.Caption
}

func newCache(max int) *cache {
	return &cache{max: max, order: list.New(), items: map[cacheKey]*list.Element{}}
}

func (c *cache) get(k cacheKey) (captions.Caption, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[k]
	if !ok {
		return captions.Caption{}, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cacheEntry).c, true
}

func (c *cache) put(k cacheKey, v captions.Caption) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		e.Value.(*cacheEntry).c = v
		c.order.MoveToFront(e)
		return
	}
	c.items[k] = c.order.PushFront(&cacheEntry{key: k, c: v})
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.items, old.Value.(*cacheEntry).key)
	}
}

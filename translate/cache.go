package translate

import "sync"

type cacheKey struct {
	sql      string
	target   string
	database string
	version  uint64
}

type entry struct {
	key        cacheKey
	tr         *Translation
	err        error
	prev, next *entry
}

// lru is a bounded least-recently-used map. One mutex: a hit is a map
// lookup and two pointer moves, far cheaper than any translation.
type lru struct {
	mu   sync.Mutex
	max  int
	m    map[cacheKey]*entry
	head entry // sentinel: head.next is the most recent
}

func newLRU(max int) *lru {
	c := &lru{max: max, m: make(map[cacheKey]*entry)}
	c.head.next, c.head.prev = &c.head, &c.head
	return c
}

func (c *lru) get(k cacheKey) (*Translation, error, bool) {
	if c.max <= 0 {
		return nil, nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return nil, nil, false
	}
	c.unlink(e)
	c.pushFront(e)
	return e.tr, e.err, true
}

func (c *lru) put(k cacheKey, tr *Translation, err error) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok {
		e.tr, e.err = tr, err
		c.unlink(e)
		c.pushFront(e)
		return
	}
	e := &entry{key: k, tr: tr, err: err}
	c.m[k] = e
	c.pushFront(e)
	if len(c.m) > c.max {
		old := c.head.prev
		c.unlink(old)
		delete(c.m, old.key)
	}
}

func (c *lru) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

func (c *lru) unlink(e *entry) {
	e.prev.next = e.next
	e.next.prev = e.prev
}

func (c *lru) pushFront(e *entry) {
	e.next = c.head.next
	e.prev = &c.head
	c.head.next.prev = e
	c.head.next = e
}

package guard

import "container/list"

// lru is a bounded cache of parse answers by exact text. Callers lock.
type lru struct {
	max   int
	ll    *list.List
	items map[string]*list.Element
}

type entry struct {
	text string
	st   *Statement
	err  error
}

func newLRU(max int) *lru {
	return &lru{max: max, ll: list.New(), items: map[string]*list.Element{}}
}

func (c *lru) get(text string) (*entry, bool) {
	if el, ok := c.items[text]; ok {
		c.ll.MoveToFront(el)
		return el.Value.(*entry), true
	}
	return nil, false
}

func (c *lru) put(text string, st *Statement, err error) {
	if c.max <= 0 {
		return
	}
	if el, ok := c.items[text]; ok {
		el.Value = &entry{text, st, err}
		c.ll.MoveToFront(el)
		return
	}
	c.items[text] = c.ll.PushFront(&entry{text, st, err})
	if c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.(*entry).text)
	}
}

package model

// TagIndex answers, for the row an ingest decoder is building, whether a
// field name clashes with a tag: Arc renames such a field <name>_value.
// A row with many tags is looked up in a map, so a hostile row with
// thousands of tags never makes the check quadratic. The zero value is
// ready; Reset reuses the map from row to row.
type TagIndex struct {
	tags []Cell
	idx  map[string]struct{}
}

// Reset indexes the tags of the next row.
func (x *TagIndex) Reset(tags []Cell) {
	x.tags = tags
	if len(tags) <= 16 {
		return
	}
	if x.idx == nil {
		x.idx = make(map[string]struct{})
	}
	clear(x.idx)
	for i := range tags {
		x.idx[tags[i].Name] = struct{}{}
	}
}

// Clashes reports whether a field called name clashes with a tag: one of
// the row's, or a tag column of its table t (nil while the batch has no
// such table yet).
func (x *TagIndex) Clashes(t *Table, name string) bool {
	if x.has(name) {
		return true
	}
	c := t.Column(name)
	return c != nil && c.Tag
}

func (x *TagIndex) has(name string) bool {
	if len(x.tags) > 16 {
		_, ok := x.idx[name]
		return ok
	}
	for i := range x.tags {
		if x.tags[i].Name == name {
			return true
		}
	}
	return false
}

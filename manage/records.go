package manage

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"tsgate/errs"
)

// records is what continuous queries and retention policies share: a
// list of items in the state document, each with its executions (oldest
// first), and the noun Arc's messages call them by.
type records[T, E any] struct {
	// what is the noun, capitalized: "Continuous query".
	what string
	// job prefixes an item's claim key: "cq" claims "cq:<id>".
	job   string
	items func(*state) *[]*T
	execs func(*state) *[]*E
	id    func(*T) int64
	name  func(*T) string
	// owner is the item an execution belongs to.
	owner func(*E) int64
	// ran copies an execution's time, status and count into the item's
	// answer.
	ran func(*T, *E)
}

func cqRecords() records[ContinuousQuery, CQExecution] {
	return records[ContinuousQuery, CQExecution]{
		what:  "Continuous query",
		job:   "cq",
		items: func(s *state) *[]*ContinuousQuery { return &s.CQs },
		execs: func(s *state) *[]*CQExecution { return &s.CQExecs },
		id:    func(q *ContinuousQuery) int64 { return q.ID },
		name:  func(q *ContinuousQuery) string { return q.Name },
		owner: func(e *CQExecution) int64 { return e.QueryID },
		ran: func(q *ContinuousQuery, e *CQExecution) {
			n := e.RecordsWritten
			q.lastRun, q.LastRecordsWritten = ranAt(e.ExecutionTime, e.Status), &n
		},
	}
}

func retentionRecords() records[RetentionPolicy, RetentionExecution] {
	return records[RetentionPolicy, RetentionExecution]{
		what:  "Retention policy",
		job:   "retention",
		items: func(s *state) *[]*RetentionPolicy { return &s.Retention },
		execs: func(s *state) *[]*RetentionExecution { return &s.RetExecs },
		id:    func(p *RetentionPolicy) int64 { return p.ID },
		name:  func(p *RetentionPolicy) string { return p.Name },
		owner: func(e *RetentionExecution) int64 { return e.PolicyID },
		ran: func(p *RetentionPolicy, e *RetentionExecution) {
			n := e.DeletedCount
			p.lastRun, p.LastDeletedCount = ranAt(e.ExecutionTime, e.Status), &n
		},
	}
}

// lastRun is what an item's answer shows of its newest execution (null
// before the first): JSON flattens it in place, Arc's field order.
type lastRun struct {
	LastExecutionTime   *string `json:"last_execution_time"`
	LastExecutionStatus *string `json:"last_execution_status"`
}

func ranAt(at, status string) lastRun { return lastRun{&at, &status} }

// stamps are when an item was created and last replaced, flattened in
// place at the end of its answer.
type stamps struct {
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

// created is a new item's stamps: both now.
func (m *Manager) created() stamps {
	now := stamp(m.now())
	return stamps{CreatedAt: now, UpdatedAt: now}
}

// required is Arc's "<field> is required" for the first of fields (name,
// value, name, value, ...) whose value is empty.
func required(fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if fields[i+1] == "" {
			return invalid(fields[i] + " is required")
		}
	}
	return nil
}

// take reads the item with id as shown, first claiming its job when
// claim is set (else release does nothing); the job is held until
// release.
func (r records[T, E]) take(ctx context.Context, m *Manager, id int64, claim bool) (it T, release func(), err error) {
	release = func() {}
	if claim {
		if release, err = r.claim(ctx, m, id); err != nil {
			return it, nil, err
		}
	}
	if it, err = r.view(m, id); err != nil {
		release()
		return it, nil, err
	}
	return it, release, nil
}

// claim takes the item's job for the caller, across replicas when the
// state is shared, until the returned release; a job running already is
// a Conflict.
func (r records[T, E]) claim(ctx context.Context, m *Manager, id int64) (func(), error) {
	release, ok, err := m.backing.claim(ctx, r.job+":"+strconv.FormatInt(id, 10))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.New(errs.Conflict, r.what+" is already running")
	}
	return release, nil
}

// get is the item with id (caller holds mu).
func (r records[T, E]) get(m *Manager, id int64) (*T, error) {
	items := *r.items(&m.state)
	i := slices.IndexFunc(items, func(it *T) bool { return r.id(it) == id })
	if i < 0 {
		return nil, errs.New(errs.NotFound, r.what+" not found")
	}
	return items[i], nil
}

// last is the item's newest execution, nil when it has none (caller
// holds mu).
func (r records[T, E]) last(m *Manager, id int64) *E {
	execs := *r.execs(&m.state)
	for i := len(execs) - 1; i >= 0; i-- {
		if r.owner(execs[i]) == id {
			return execs[i]
		}
	}
	return nil
}

// show is the item as answered: with its newest execution's fields when
// it has run (caller holds mu).
func (r records[T, E]) show(m *Manager, it *T) T {
	v := *it
	if e := r.last(m, r.id(it)); e != nil {
		r.ran(&v, e)
	}
	return v
}

// add stores the item build makes, unless one has its name already, and
// returns it as shown. build runs only then, so a refused item takes no
// id.
func (r records[T, E]) add(m *Manager, name string, build func() *T) (T, error) {
	m.lock()
	defer m.unlock()
	var zero T
	items := r.items(&m.state)
	if slices.ContainsFunc(*items, func(it *T) bool { return r.name(it) == name }) {
		return zero, invalid(r.what + " with name '" + name + "' already exists")
	}
	it := build()
	*items = append(*items, it)
	if err := m.save(); err != nil {
		*items = (*items)[:len(*items)-1]
		return zero, saveError(err, "Failed to create "+strings.ToLower(r.what))
	}
	return r.show(m, it), nil
}

// update applies change to the item with id, stores it and returns it as
// shown; a failed save leaves the item as it was.
func (r records[T, E]) update(m *Manager, id int64, change func(*T)) (T, error) {
	m.lock()
	defer m.unlock()
	var zero T
	it, err := r.get(m, id)
	if err != nil {
		return zero, err
	}
	old := *it
	change(it)
	if err := m.save(); err != nil {
		*it = old
		return zero, saveError(err, "Failed to update "+strings.ToLower(r.what))
	}
	return r.show(m, it), nil
}

// remove deletes the item with id and its executions.
func (r records[T, E]) remove(m *Manager, id int64) error {
	m.lock()
	defer m.unlock()
	if _, err := r.get(m, id); err != nil {
		return err
	}
	items, execs := r.items(&m.state), r.execs(&m.state)
	*items = slices.DeleteFunc(*items, func(it *T) bool { return r.id(it) == id })
	*execs = slices.DeleteFunc(*execs, func(e *E) bool { return r.owner(e) == id })
	if err := m.save(); err != nil {
		return saveError(err, "Failed to delete "+strings.ToLower(r.what))
	}
	return nil
}

// executions lists the item's runs, newest first, at most limit.
func (r records[T, E]) executions(m *Manager, id int64, limit int) ([]E, error) {
	m.lock()
	defer m.unlock()
	if _, err := r.get(m, id); err != nil {
		return nil, err
	}
	var out []E
	execs := *r.execs(&m.state)
	for i := len(execs) - 1; i >= 0 && len(out) < limit; i-- {
		if e := execs[i]; r.owner(e) == id {
			out = append(out, *e)
		}
	}
	return out, nil
}

// record appends an execution and keeps the newest keepExecutions runs
// of its item (caller holds mu).
func (r records[T, E]) record(m *Manager, e *E) {
	execs := r.execs(&m.state)
	*execs = append(*execs, e)
	id := r.owner(e)
	n := 0
	for _, e := range *execs {
		if r.owner(e) == id {
			n++
		}
	}
	for i := 0; n > keepExecutions && i < len(*execs); {
		if r.owner((*execs)[i]) == id {
			*execs = slices.Delete(*execs, i, i+1)
			n--
			continue
		}
		i++
	}
}

// view is the item with id as shown, read under mu.
func (r records[T, E]) view(m *Manager, id int64) (T, error) {
	m.lock()
	defer m.unlock()
	it, err := r.get(m, id)
	if err != nil {
		var zero T
		return zero, err
	}
	return r.show(m, it), nil
}

// outcome is an execution's status and error message.
func outcome(runErr error) (status, msg string) {
	if runErr != nil {
		return "failed", errs.As(runErr).Msg
	}
	return "completed", ""
}

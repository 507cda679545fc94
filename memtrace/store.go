package memtrace

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"tsgate/model"
)

// Target is where one organization's memories live: a backend and the
// database in it. ID names the pair (a backend URL and database, say):
// when an organization's ID changes, its dedup index is rebuilt from the
// new place.
type Target struct {
	Backend  Backend
	Database string
	ID       string
}

// Resolver finds an organization's target. An organization without one
// of its own, where the server requires one, is NoInstance(org).
type Resolver func(ctx context.Context, org string) (Target, error)

// NoInstance is the error a Resolver returns for an organization that
// has no backend where one is required: memtrace's 503 "no arc instance
// configured for this org", which the SDKs map to NoArcInstanceError.
func NoInstance(org string) error { return noInstance(org) }

// WithResolver gives each organization its own target (per-organization
// backends). Without it every organization uses the server's backend and
// database.
func WithResolver(r Resolver) Option { return func(o *options) { o.resolver = r } }

// WithHealthOrgs makes /health and /ready list only the organizations
// that have a target (memtrace lists only those with an Arc instance);
// by default every organization is listed.
func WithHealthOrgs(onlyBound bool) Option { return func(o *options) { o.onlyBound = onlyBound } }

// orgStore is one organization's target with its write queue and dedup
// index. One leader at a time takes queued requests into groups; a few
// groups may be written at once (maxGroupsInFlight), never two that hold
// the same dedup key: a request whose key is being written waits for
// that write's outcome, so the dedup decision stays exact.
type orgStore struct {
	org string
	t   Target

	mu      sync.Mutex
	queue   []*pending
	leading bool
	// wake wakes the leader: a request was queued or a group written.
	wake chan struct{}
	// inflight counts the dedup keys of the groups being written; groups
	// is how many there are.
	inflight map[string]int
	groups   int

	// idx is built from the target before the first group (loaded), then
	// kept by every commit, under idxMu (groups commit concurrently).
	idxMu  sync.Mutex
	idx    *dedupIndex
	loaded bool
}

// store is org's store, its target resolved now (a binding that changed
// gets a fresh store and index).
func (s *Server) store(ctx context.Context, org string) (*orgStore, error) {
	t := Target{Backend: s.backend, Database: s.o.database, ID: ""}
	if s.o.resolver != nil {
		var err error
		if t, err = s.o.resolver(ctx, org); err != nil {
			return nil, err
		}
	}
	s.storesMu.Lock()
	defer s.storesMu.Unlock()
	st := s.stores[org]
	// The same ID names the same backend and database: the store (and
	// its index) carries on.
	if st == nil || st.t.ID != t.ID {
		st = &orgStore{org: org, t: t, wake: make(chan struct{}, 1), inflight: map[string]int{}}
		s.stores[org] = st
	}
	return st, nil
}

// pending is one create request waiting for its group's commit.
type pending struct {
	reqs []CreateRequest
	// alone: committed in a group of its own. Batches go alone, so a
	// batch fails or succeeds whole whatever its neighbours do; so do
	// memories with a NUL byte in a text, which a backend may reject
	// row by row (PostgreSQL).
	alone bool
	mems  []*Memory
	err   error
	done  chan struct{}
}

// maxGroupRows bounds the memories of one group commit.
const maxGroupRows = 5000

// maxGroupsInFlight bounds the groups of one organization being written
// at once. One, measured: with two, the embedded store commits each
// memtrace group on its own and every write waits for the other's
// commit (BenchmarkCreateSingle, 16 clients: 2,800–3,150 memories/s at
// 6 a write against 4,300–4,500 at 8.5 with one). The queue fills while
// a group commits, and the next group is taken the moment it is done
// (waiting longer for stragglers measured no better).
const maxGroupsInFlight = 1

// submit queues p on st and waits for its commit. The first request to
// find no leader starts one.
func (s *Server) submit(st *orgStore, p *pending) {
	p.done = make(chan struct{})
	st.mu.Lock()
	st.queue = append(st.queue, p)
	if !st.leading {
		st.leading = true
		go s.lead(st)
	} else {
		st.signal()
	}
	st.mu.Unlock()
	// Waited for even when the client leaves: the commit may be under
	// way, and its outcome is what the metrics and the index record.
	<-p.done
}

func (st *orgStore) signal() {
	select {
	case st.wake <- struct{}{}:
	default:
	}
}

// lead forms groups of what is queued and hands each to a writer, as
// long as fewer than maxGroupsInFlight are being written; it stops when
// nothing is queued or being written.
func (s *Server) lead(st *orgStore) {
	for {
		st.mu.Lock()
		var group []*pending
		if st.groups < maxGroupsInFlight {
			group = st.take()
		}
		if len(group) == 0 {
			if st.groups == 0 && len(st.queue) == 0 {
				st.leading = false
				st.mu.Unlock()
				return
			}
			st.mu.Unlock()
			<-st.wake
			continue
		}
		keys := groupKeys(group)
		for _, k := range keys {
			st.inflight[k]++
		}
		st.groups++
		st.mu.Unlock()
		go func() {
			s.commit(st, group, keys)
			st.mu.Lock()
			for _, k := range keys {
				if st.inflight[k]--; st.inflight[k] == 0 {
					delete(st.inflight, k)
				}
			}
			st.groups--
			st.signal()
			st.mu.Unlock()
		}()
	}
}

// take removes the next group from the queue: requests in order up to
// maxGroupRows memories, a lone one (a batch) by itself, leaving queued
// any request with a dedup key that a group being written holds.
func (st *orgStore) take() []*pending {
	var group []*pending
	rows := 0
	full := false
	kept := st.queue[:0]
	for _, p := range st.queue {
		switch {
		case full || st.holdsKey(p):
			kept = append(kept, p)
		case len(group) > 0 && (p.alone || rows+len(p.reqs) > maxGroupRows):
			kept = append(kept, p)
			full = true
		default:
			group = append(group, p)
			rows += len(p.reqs)
			full = p.alone
		}
	}
	clear(st.queue[len(kept):])
	st.queue = kept
	return group
}

func (st *orgStore) holdsKey(p *pending) bool {
	for i := range p.reqs {
		if st.inflight[p.reqs[i].DedupKey] > 0 {
			return true
		}
	}
	return false
}

// groupKeys are the distinct non-empty dedup keys of a group, sorted.
func groupKeys(group []*pending) []string {
	var keys []string
	for _, p := range group {
		keys = append(keys, dedupKeys(p.reqs)...)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// commitTimeout bounds one group commit, retries included; no single
// request's context governs a write others share.
const commitTimeout = 2 * time.Minute

// commit writes a group as one batch: dedup against the index (and, with
// a shared metadata store, against the backend under cross-replica
// locks), then one durable write; every request is answered only after
// it.
func (s *Server) commit(st *orgStore, group []*pending, keys []string) {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	defer func() {
		for _, p := range group {
			close(p.done)
		}
	}()
	failAll := func(err error) {
		for _, p := range group {
			p.err, p.mems = err, nil
		}
	}
	var dup map[string]bool
	if s.o.dedup {
		// Other replicas sharing the metadata store.
		release, err := s.meta.LockDedup(ctx, st.org, keys)
		if err != nil {
			failAll(err)
			return
		}
		defer release()
		if dup, err = s.duplicates(ctx, st, keys); err != nil {
			failAll(err)
			return
		}
	}
	b := &model.Batch{}
	t := b.Table(s.o.measurement)
	var cells []model.Cell
	seen := map[string]bool{}
	sessions := map[string]bool{}
	exact := s.coarseTime(st)
	for _, p := range group {
		p.mems = make([]*Memory, 0, len(p.reqs))
		for i := range p.reqs {
			q := &p.reqs[i]
			if s.o.dedup && q.DedupKey != "" {
				if dup[q.DedupKey] || seen[q.DedupKey] {
					continue
				}
				seen[q.DedupKey] = true
			}
			m := &Memory{Time: s.nextTime(), OrgID: st.org, CreateRequest: *q}
			var err error
			if cells, err = appendRowJSON(t, m, cells, exact); err != nil {
				// Requests are checked before they are queued; a row the
				// model refuses here is a bug, and fails the group whole
				// (nothing was written).
				failAll(err)
				return
			}
			p.mems = append(p.mems, m)
			if m.SessionID != "" {
				sessions[m.SessionID] = true
			}
		}
	}
	if b.Rows() > 0 {
		if err := s.write(ctx, st, b); err != nil {
			failAll(err)
			return
		}
	}
	if s.o.dedup {
		st.idxMu.Lock()
		for _, p := range group {
			for _, m := range p.mems {
				if m.DedupKey != "" {
					st.idx.add(m.DedupKey, m.Time.UnixMicro())
				}
			}
		}
		st.idxMu.Unlock()
	}
	if s.o.cache != nil {
		for _, sess := range sortedKeys(sessions) {
			if err := s.o.cache.Invalidate(ctx, st.org, sess); err != nil {
				// The memory is committed; a context cached before it
				// could now be served until its TTL. Say so loudly.
				s.o.log.Error("session context cache invalidation failed", "session", sess, "err", err)
			}
		}
	}
}

// duplicates returns which of keys are stored for st's org within the
// dedup window. The index answers for every memory this server wrote or
// found at start; with a metadata store shared by several replicas, a key
// the index does not know is also looked up in the backend (another
// replica may have written it), under the locks LockDedup took.
func (s *Server) duplicates(ctx context.Context, st *orgStore, keys []string) (map[string]bool, error) {
	st.idxMu.Lock()
	err := s.loadIndex(ctx, st)
	if err != nil {
		st.idxMu.Unlock()
		return nil, err
	}
	cutoff := s.windowStart()
	st.idx.expire(cutoff)
	out := map[string]bool{}
	var unknown []string
	for _, k := range keys {
		if st.idx.seen(k, cutoff) {
			out[k] = true
		} else {
			unknown = append(unknown, k)
		}
	}
	st.idxMu.Unlock()
	if !s.meta.Shared() {
		return out, nil
	}
	window := "time > (CURRENT_TIMESTAMP - INTERVAL '" + strconv.Itoa(s.o.dedupHours) + " hours')"
	for len(unknown) > 0 {
		chunk := unknown[:min(500, len(unknown))]
		unknown = unknown[len(chunk):]
		// Plain rows, not SELECT DISTINCT: InfluxQL has DISTINCT only as
		// a field aggregate, and the matches (earlier duplicates) are few.
		rows, err := s.query(ctx, st, "dedup", "SELECT dedup_key FROM "+s.o.measurement+" WHERE "+
			condEq("org_id", st.org)+" AND "+condIn("dedup_key", chunk)+" AND "+window)
		if err != nil {
			return nil, err
		}
		vals := make([]model.Value, len(rows.Columns()))
		for len(vals) > 0 && rows.Next(vals) {
			out[vals[0].S] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// windowStart is the µs before which a stored memory no longer counts
// for dedup.
func (s *Server) windowStart() int64 {
	return s.o.now().Add(-time.Duration(s.o.dedupHours) * time.Hour).UnixMicro()
}

// loadIndex builds st's dedup index from the memories its target holds
// within the window (once; a failure is retried by the next commit). The
// caller holds idxMu, so concurrent first groups wait for one load.
func (s *Server) loadIndex(ctx context.Context, st *orgStore) error {
	if st.loaded {
		return nil
	}
	idx := newDedupIndex()
	sql := "SELECT dedup_key, time FROM " + s.o.measurement + " WHERE " + condEq("org_id", st.org) +
		" AND time > (CURRENT_TIMESTAMP - INTERVAL '" + strconv.Itoa(s.o.dedupHours) + " hours')"
	if ex := s.exactTimeColumn(st); ex {
		sql = strings.Replace(sql, "dedup_key, time", "dedup_key, time, "+exactTimeField, 1)
	}
	rows, err := s.query(ctx, st, "dedup", sql)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols := rows.Columns()
	vals := make([]model.Value, len(cols))
	for len(vals) >= 2 && rows.Next(vals) {
		if vals[0].Type != model.TypeString || vals[0].S == "" {
			continue
		}
		us := valueTime(vals[1]).UnixMicro()
		if len(vals) > 2 && vals[2].Type == model.TypeInt {
			us = vals[2].I
		}
		idx.load(vals[0].S, us)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	idx.sort()
	st.idx, st.loaded = idx, true
	return nil
}

// dedupIndex is the dedup keys an organization stored within the window,
// each with the time of its newest memory, and the same pairs in time
// order so expired ones are dropped from the front: memory stays bounded
// by what the window holds.
type dedupIndex struct {
	last  map[string]int64
	order []keyTime
	head  int
}

type keyTime struct {
	us  int64
	key string
}

func newDedupIndex() *dedupIndex { return &dedupIndex{last: map[string]int64{}} }

func (d *dedupIndex) seen(key string, cutoff int64) bool {
	us, ok := d.last[key]
	return ok && us > cutoff
}

func (d *dedupIndex) add(key string, us int64) {
	if prev, ok := d.last[key]; ok && prev >= us {
		return
	}
	d.last[key] = us
	d.order = append(d.order, keyTime{us, key})
}

// load is add for the rows read at start, in any order; sort puts them in
// time order after.
func (d *dedupIndex) load(key string, us int64) {
	if prev, ok := d.last[key]; !ok || us > prev {
		d.last[key] = us
	}
}

func (d *dedupIndex) sort() {
	d.order = d.order[:0]
	for k, us := range d.last {
		d.order = append(d.order, keyTime{us, k})
	}
	slices.SortFunc(d.order, func(a, b keyTime) int { return int(min(max(a.us-b.us, -1), 1)) })
}

// expire drops the pairs at or before cutoff.
func (d *dedupIndex) expire(cutoff int64) {
	for d.head < len(d.order) && d.order[d.head].us <= cutoff {
		kt := d.order[d.head]
		if d.last[kt.key] == kt.us {
			delete(d.last, kt.key)
		}
		d.order[d.head] = keyTime{}
		d.head++
	}
	if d.head > 1024 && d.head > len(d.order)/2 {
		d.order = append(d.order[:0:0], d.order[d.head:]...)
		d.head = 0
	}
}

// len is the number of keys held (tests).
func (d *dedupIndex) len() int { return len(d.last) }

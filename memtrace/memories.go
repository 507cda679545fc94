package memtrace

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tsgate/errs"
	"tsgate/model"
)

func (s *Server) createMemory(w http.ResponseWriter, r *http.Request, k *KeyInfo) {
	body, err := s.readBody(r)
	if err != nil {
		s.fail(w, r, err, false)
		return
	}
	// Batch first, as memtrace: a body whose "memories" is a non-empty
	// array is a batch, anything else is one memory. (A body that cannot
	// name the key, not even escaped, skips the batch parse.)
	var batch BatchCreateRequest
	if (bytes.Contains(body, []byte("memories")) || bytes.Contains(body, []byte(`\u`))) &&
		decodeBody(r, body, &batch) == nil && len(batch.Memories) > 0 {
		mems, err := s.create(r.Context(), k.OrgID, batch.Memories, true)
		// memtrace reports a bad memory in a batch through its generic
		// 500 path (readQuirk); unlike memtrace, nothing of the batch
		// was written.
		s.reply(w, r, err, true, http.StatusCreated, map[string]any{"memories": mems, "count": len(mems)})
		return
	}
	var req CreateRequest
	if err := decodeBody(r, body, &req); err != nil {
		s.fail(w, r, err, false)
		return
	}
	mems, err := s.create(r.Context(), k.OrgID, []CreateRequest{req}, false)
	if err != nil {
		s.fail(w, r, err, false)
		return
	}
	if len(mems) == 0 {
		writeJSON(w, http.StatusConflict, errorBody{"duplicate memory"})
		return
	}
	writeJSON(w, http.StatusCreated, mems[0])
}

// nextTime is a new memory's time: its µs (the stored precision) strictly
// after the previous memory's, so a batch keeps its order and pages never
// tie, plus the clock's nanoseconds below that. memtrace answers a create
// with the clock's time in ns and reads back µs; so does tsgate, and the
// answer truncated to the µs is exactly what reads return.
func (s *Server) nextTime() time.Time {
	now := s.o.now()
	sub := time.Duration(now.Nanosecond() % 1000)
	for {
		us := now.UnixMicro()
		last := s.lastMicros.Load()
		if us <= last {
			us = last + 1
		}
		if s.lastMicros.CompareAndSwap(last, us) {
			return time.UnixMicro(us).Add(sub).UTC()
		}
	}
}

// create validates memories and commits them through the org's group
// commit; duplicates (of stored memories or earlier ones in the same
// request or group) are left out of the result.
func (s *Server) create(ctx context.Context, org string, reqs []CreateRequest, batch bool) ([]*Memory, error) {
	alone := batch
	for i := range reqs {
		if err := reqs[i].normalize(); err != nil {
			if batch {
				return nil, errs.Newf(errs.Invalid, "failed to create memory %d: %s", i, errs.As(err).Msg)
			}
			return nil, err
		}
		if reqs[i].DedupKey == "" && s.o.dedup {
			reqs[i].DedupKey = DedupKey(reqs[i].AgentID, reqs[i].EventType, reqs[i].Content)
		}
		alone = alone || reqs[i].hasNUL()
	}
	st, err := s.store(ctx, org)
	if err != nil {
		return nil, err
	}
	// Admission: past the limit a write waits at most writeWait for room,
	// then is refused with nothing queued.
	timer := time.NewTimer(s.o.writeWait)
	defer timer.Stop()
	select {
	case s.writeSlots <- struct{}{}:
	case <-timer.C:
		return nil, errs.New(errs.Unavailable, "too many writes in progress, retry later")
	case <-ctx.Done():
		return nil, errs.Wrap(errs.Canceled, ctx.Err(), "request canceled")
	}
	defer func() { <-s.writeSlots }()
	p := &pending{reqs: reqs, alone: alone}
	s.submit(st, p)
	return p.mems, p.err
}

// dedupKeys are the distinct non-empty dedup keys of reqs, in order.
func dedupKeys(reqs []CreateRequest) []string {
	var keys []string
	seen := map[string]bool{}
	for i := range reqs {
		if k := reqs[i].DedupKey; k != "" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// write commits b to st's target, retrying a backend that is briefly
// unavailable a bounded number of times.
func (s *Server) write(ctx context.Context, st *orgStore, b *model.Batch) error {
	n := b.Rows()
	s.m.bufferSize.Add(float64(n))
	defer s.m.bufferSize.Sub(float64(n))
	for attempt := 0; ; attempt++ {
		start := time.Now()
		res, err := st.t.Backend.Write(ctx, st.t.Database, b)
		s.m.arcLatency.WithLabelValues("write").Observe(time.Since(start).Seconds())
		if err == nil {
			s.m.writes.Add(float64(res.Rows))
			if res.Rejected > 0 {
				// The backend cannot keep these values (PostgreSQL text
				// holds no NUL byte; a field stored with another type):
				// the request's data, not the server, is at issue, and
				// sending it again cannot help.
				msg := "backend rejected " + strconv.Itoa(res.Rejected) + " of " + strconv.Itoa(n) + " memories"
				if len(res.Conflicts) > 0 {
					msg += ": " + res.Conflicts[0].Error()
				}
				return errs.New(errs.Invalid, "failed to write memory: "+msg)
			}
			return nil
		}
		if errs.CodeOf(err) != errs.Unavailable || attempt+1 >= s.o.writeRetries {
			return err
		}
		select {
		case <-time.After(time.Duration(100<<attempt) * time.Millisecond):
		case <-ctx.Done():
			return err
		}
	}
}

// queryInt is memtrace's QueryInt: the default when absent or not a number.
func queryInt(r *http.Request, name string, def int) int {
	if n, err := strconv.Atoi(r.URL.Query().Get(name)); err == nil {
		return n
	}
	return def
}

func queryDefault(r *http.Request, name, def string) string {
	if v := r.URL.Query().Get(name); v != "" {
		return v
	}
	return def
}

// listParams is GET /memories and its per-agent and per-session forms.
type listParams struct {
	agentID, sessionID, memoryType, eventType, tags, since, until, order string
	limit, offset                                                        int
}

func (s *Server) list(ctx context.Context, org string, p listParams) ([]Memory, error) {
	for _, c := range []error{
		checkID("agent_id", p.agentID), checkID("session_id", p.sessionID),
		checkType("memory_type", p.memoryType), checkType("event_type", p.eventType),
	} {
		if c != nil {
			return nil, c
		}
	}
	var tags []string
	if p.tags != "" {
		for _, t := range strings.Split(p.tags, ",") {
			t = strings.TrimSpace(t)
			if t != "" && !tagPattern.MatchString(t) {
				return nil, invalidf("invalid tag: %s", msgBadTag)
			}
			tags = append(tags, t)
		}
	}
	q := listQuery{orgID: org, agentID: p.agentID, sessionID: p.sessionID, memoryType: p.memoryType,
		eventType: p.eventType, tags: tags, since: p.since, until: p.until, limit: p.appliedLimit(),
		offset: max(p.offset, 0), asc: p.order == "asc"}
	return s.readList(ctx, org, "list", &q)
}

// appliedLimit is the page size a list serves (and has_more compares
// with).
func (p *listParams) appliedLimit() int { return pageSize(p.limit, 100) }

// pageSize is the page size a list or search serves: the requested n, or
// def when n is out of range (not positive, or over 1000).
func pageSize(n, def int) int {
	if n <= 0 || n > 1000 {
		return def
	}
	return n
}

// readList runs a list or search query on org's store and reads its
// memories.
func (s *Server) readList(ctx context.Context, org, kind string, q *listQuery) ([]Memory, error) {
	st, err := s.store(ctx, org)
	if err != nil {
		return nil, err
	}
	rows, err := s.queryList(ctx, st, kind, q)
	if err != nil {
		return nil, err
	}
	return readMemories(rows)
}

// memoryList is memtrace's list body. has_more compares with the limit
// actually applied: memtrace compared with the requested one, so
// limit=5000 (served as 100) said false and a pager stopped early.
type memoryList struct {
	Memories []Memory `json:"memories"`
	Count    int      `json:"count"`
	HasMore  bool     `json:"has_more"`
}

func (s *Server) serveList(w http.ResponseWriter, r *http.Request, org string, p listParams) {
	mems, err := s.list(r.Context(), org, p)
	s.reply(w, r, err, true, http.StatusOK, memoryList{Memories: mems, Count: len(mems), HasMore: len(mems) >= p.appliedLimit()})
}

func (s *Server) listMemories(w http.ResponseWriter, r *http.Request, k *KeyInfo) {
	q := r.URL.Query()
	s.serveList(w, r, k.OrgID, listParams{
		agentID: q.Get("agent_id"), sessionID: q.Get("session_id"), memoryType: q.Get("memory_type"),
		eventType: q.Get("event_type"), tags: q.Get("tags"), since: q.Get("since"), until: q.Get("until"),
		limit: queryInt(r, "limit", 100), offset: queryInt(r, "offset", 0), order: queryDefault(r, "order", "desc"),
	})
}

// SearchQuery is POST /api/v1/search's body (memtrace's name, which JSON
// errors show).
type SearchQuery struct {
	AgentID         string   `json:"agent_id,omitempty"`
	SessionID       string   `json:"session_id,omitempty"`
	MemoryTypes     []string `json:"memory_types,omitempty"`
	EventTypes      []string `json:"event_types,omitempty"`
	Tags            []string `json:"tags,omitempty"`
	ContentContains string   `json:"content_contains,omitempty"`
	Since           string   `json:"since,omitempty"`
	Until           string   `json:"until,omitempty"`
	MinImportance   float64  `json:"min_importance,omitempty"`
	Limit           int      `json:"limit,omitempty"`
	Order           string   `json:"order,omitempty"`
}

type searchResult struct {
	Results     []Memory `json:"results"`
	Count       int      `json:"count"`
	QueryTimeMS int64    `json:"query_time_ms"`
}

func (s *Server) runSearch(ctx context.Context, org string, sq *SearchQuery) (*searchResult, error) {
	if err := checkID("agent_id", sq.AgentID); err != nil {
		return nil, err
	}
	if err := checkID("session_id", sq.SessionID); err != nil {
		return nil, err
	}
	for _, t := range sq.MemoryTypes {
		if err := checkType("memory_type", t); err != nil {
			return nil, err
		}
	}
	for _, t := range sq.EventTypes {
		if err := checkType("event_type", t); err != nil {
			return nil, err
		}
	}
	for _, t := range sq.Tags {
		if t != "" && !tagPattern.MatchString(t) {
			return nil, invalidf("invalid tag: %s", msgBadTag)
		}
	}
	start := time.Now()
	q := listQuery{orgID: org, agentID: sq.AgentID, sessionID: sq.SessionID, memoryTypes: sq.MemoryTypes,
		eventTypes: sq.EventTypes, tags: sq.Tags, contentContains: sq.ContentContains,
		minImportance: sq.MinImportance, since: sq.Since, until: sq.Until, limit: pageSize(sq.Limit, 50),
		asc: sq.Order == "asc", search: true}
	mems, err := s.readList(ctx, org, "search", &q)
	if err != nil {
		return nil, err
	}
	return &searchResult{Results: mems, Count: len(mems), QueryTimeMS: time.Since(start).Milliseconds()}, nil
}

func (s *Server) search(w http.ResponseWriter, r *http.Request, k *KeyInfo) {
	serveBody(s, w, r, http.StatusOK, true, func(sq *SearchQuery) (*searchResult, error) {
		return s.runSearch(r.Context(), k.OrgID, sq)
	})
}

// getMemory is memtrace's GET /memories/:id: not an id lookup (memories
// have none) but the newest memory whose content contains :id.
func (s *Server) getMemory(w http.ResponseWriter, r *http.Request, k *KeyInfo) {
	res, err := s.runSearch(r.Context(), k.OrgID, &SearchQuery{ContentContains: r.PathValue("id"), Limit: 1})
	if err != nil {
		s.fail(w, r, err, true)
		return
	}
	if res.Count == 0 {
		writeJSON(w, http.StatusNotFound, errorBody{"memory not found"})
		return
	}
	writeJSON(w, http.StatusOK, res.Results[0])
}

package memtrace

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"tsgate/model"
)

func (s *Server) createAgent(w http.ResponseWriter, r *http.Request, k *KeyInfo) {
	// Declared here so JSON errors name it as memtrace's do.
	type CreateRequest struct {
		Name        string         `json:"name"`
		Description string         `json:"description,omitempty"`
		Config      map[string]any `json:"config,omitempty"`
	}
	serveBody(s, w, r, http.StatusCreated, false, func(req *CreateRequest) (*Agent, error) {
		return s.meta.CreateAgent(r.Context(), k.OrgID, req.Name, req.Description, req.Config)
	})
}

func (s *Server) listAgents(w http.ResponseWriter, r *http.Request, k *KeyInfo) {
	as, err := s.meta.Agents(r.Context(), k.OrgID)
	s.reply(w, r, err, true, http.StatusOK, map[string]any{"agents": as, "count": len(as)})
}

func (s *Server) getAgent(w http.ResponseWriter, r *http.Request, k *KeyInfo) {
	a, err := s.meta.Agent(r.Context(), k.OrgID, r.PathValue("id"))
	replyFound(s, w, r, a, err, "agent not found")
}

func (s *Server) agentMemories(w http.ResponseWriter, r *http.Request, k *KeyInfo) {
	q := r.URL.Query()
	s.serveList(w, r, k.OrgID, listParams{
		agentID: r.PathValue("id"), memoryType: q.Get("memory_type"), eventType: q.Get("event_type"),
		since: queryDefault(r, "since", "24h"), limit: queryInt(r, "limit", 100), order: queryDefault(r, "order", "desc"),
	})
}

// Stats is GET /agents/:id/stats.
type Stats struct {
	AgentID        string         `json:"agent_id"`
	MemoryCount    int            `json:"memory_count"`
	Memories24h    int            `json:"memories_24h"`
	Errors24h      int            `json:"errors_24h"`
	SessionCount   int            `json:"session_count"`
	ActiveSessions int            `json:"active_sessions"`
	LastActiveAt   *time.Time     `json:"last_active_at,omitempty"`
	MemoryTypes    map[string]int `json:"memory_types"`
}

func (s *Server) stats(ctx context.Context, org, agent string) (*Stats, error) {
	if err := checkID("agent_id", agent); err != nil {
		return nil, err
	}
	store, err := s.store(ctx, org)
	if err != nil {
		return nil, err
	}
	st := &Stats{AgentID: agent, MemoryTypes: map[string]int{}}
	if st.SessionCount, st.ActiveSessions, err = s.meta.SessionCounts(ctx, org, agent); err != nil {
		return nil, err
	}
	where := condEq("org_id", org) + " AND " + condEq("agent_id", agent)
	from := " FROM " + s.o.measurement + " WHERE " + where
	day := " AND time > (CURRENT_TIMESTAMP - INTERVAL '24 hours')"
	// memtrace ignored failures here and reported zeros; a failed count
	// is an error, so a dashboard never shows a silent 0.
	if st.MemoryCount, err = s.count(ctx, store, "stats", "SELECT COUNT(*) as cnt"+from); err != nil {
		return nil, err
	}
	if st.Memories24h, err = s.count(ctx, store, "stats", "SELECT COUNT(*) as cnt"+from+day); err != nil {
		return nil, err
	}
	if st.Errors24h, err = s.count(ctx, store, "stats", "SELECT COUNT(*) as cnt"+from+" AND event_type = 'error'"+day); err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, store, "stats", "SELECT memory_type, COUNT(*) as cnt"+from+" GROUP BY memory_type")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	vals := make([]model.Value, len(rows.Columns()))
	for len(vals) >= 2 && rows.Next(vals) {
		if vals[0].Type == model.TypeString {
			st.MemoryTypes[vals[0].S] = valueInt(vals[1])
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	a, err := s.meta.Agent(ctx, org, agent)
	if err != nil {
		return nil, err
	}
	if a != nil {
		st.LastActiveAt = a.LastActiveAt
	}
	return st, nil
}

func (s *Server) agentStats(w http.ResponseWriter, r *http.Request, k *KeyInfo) {
	st, err := s.stats(r.Context(), k.OrgID, r.PathValue("id"))
	s.reply(w, r, err, true, http.StatusOK, st)
}

func (s *Server) deleteAgent(w http.ResponseWriter, r *http.Request, k *KeyInfo) {
	if err := s.meta.DeleteAgent(r.Context(), k.OrgID, r.PathValue("id")); err != nil {
		s.fail(w, r, err, false)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request, k *KeyInfo) {
	type CreateRequest struct {
		AgentID  string         `json:"agent_id"`
		Metadata map[string]any `json:"metadata,omitempty"`
	}
	serveBody(s, w, r, http.StatusCreated, false, func(req *CreateRequest) (*Session, error) {
		return s.meta.CreateSession(r.Context(), k.OrgID, req.AgentID, req.Metadata)
	})
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request, k *KeyInfo) {
	ss, err := s.meta.Sessions(r.Context(), k.OrgID, r.URL.Query().Get("agent_id"))
	s.reply(w, r, err, true, http.StatusOK, map[string]any{"sessions": ss, "count": len(ss)})
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request, k *KeyInfo) {
	sess, err := s.meta.Session(r.Context(), k.OrgID, r.PathValue("id"))
	replyFound(s, w, r, sess, err, "session not found")
}

func (s *Server) updateSession(w http.ResponseWriter, r *http.Request, k *KeyInfo) {
	type UpdateRequest struct {
		Status   string         `json:"status,omitempty"`
		Metadata map[string]any `json:"metadata,omitempty"`
	}
	serveBody(s, w, r, http.StatusOK, false, func(req *UpdateRequest) (*Session, error) {
		return s.meta.UpdateSession(r.Context(), k.OrgID, r.PathValue("id"), req.Status, req.Metadata)
	})
}

func (s *Server) sessionMemories(w http.ResponseWriter, r *http.Request, k *KeyInfo) {
	q := r.URL.Query()
	s.serveList(w, r, k.OrgID, listParams{
		sessionID: r.PathValue("id"), memoryType: q.Get("memory_type"), since: q.Get("since"),
		limit: queryInt(r, "limit", 100), order: queryDefault(r, "order", "desc"),
	})
}

// ContextOptions is POST /sessions/:id/context's body. A body that does
// not parse means defaults, as in memtrace. MaxTokens is accepted and, as
// in memtrace, ignored: clients written against memtrace get its context
// byte for byte, whatever budget they pass.
type ContextOptions struct {
	MaxTokens    int      `json:"max_tokens,omitempty"`
	IncludeTypes []string `json:"include_types,omitempty"`
	Since        string   `json:"since,omitempty"`
}

type sessionContext struct {
	SessionID   string `json:"session_id"`
	Context     string `json:"context"`
	MemoryCount int    `json:"memory_count"`
}

func (s *Server) sessionContext(w http.ResponseWriter, r *http.Request, k *KeyInfo) {
	ctx := r.Context()
	id := r.PathValue("id")
	var opts ContextOptions
	if body, err := s.readBody(r); err != nil {
		s.fail(w, r, err, false)
		return
	} else if decodeBody(r, body, &opts) != nil {
		opts = ContextOptions{}
	}
	if err := checkID("session_id", id); err != nil {
		s.fail(w, r, err, true)
		return
	}
	for _, t := range opts.IncludeTypes {
		if t != "" && !typePattern.MatchString(t) {
			s.fail(w, r, invalidf("invalid include_type '%s': %s", t, msgBadType), true)
			return
		}
	}
	store, err := s.store(ctx, k.OrgID)
	if err != nil {
		s.fail(w, r, err, true)
		return
	}
	if opts.Since == "" {
		opts.Since = "24h"
	}
	interval := relativeInterval(opts.Since)
	if interval == "" {
		interval = "24 hours"
	}
	variant := strings.ReplaceAll(interval, " ", "") + "|" + strings.Join(opts.IncludeTypes, ",")
	var gen int64
	if s.o.cache != nil {
		body, g, ok, err := s.o.cache.Get(ctx, k.OrgID, id, variant)
		if err != nil {
			// A cache that fails is skipped, never trusted.
			s.o.log.Warn("session context cache read failed", "err", err)
		} else if ok {
			writeRaw(w, http.StatusOK, body)
			return
		}
		gen = g
	}
	conds := []string{condEq("org_id", k.OrgID), condEq("session_id", id),
		"time > (CURRENT_TIMESTAMP - INTERVAL '" + interval + "')"}
	if len(opts.IncludeTypes) > 0 {
		conds = append(conds, condIn("memory_type", opts.IncludeTypes))
	}
	rows, err := s.query(ctx, store, "context", "SELECT time, memory_type, event_type, content, importance FROM "+
		s.o.measurement+" WHERE "+strings.Join(conds, " AND ")+s.orderByTime(store, "DESC")+" LIMIT 100")
	if err != nil {
		s.fail(w, r, err, true)
		return
	}
	text, n, err := renderContext(rows, id)
	if err != nil {
		s.fail(w, r, err, true)
		return
	}
	body, _ := json.Marshal(sessionContext{SessionID: id, Context: text, MemoryCount: n})
	if s.o.cache != nil {
		if err := s.o.cache.Put(ctx, k.OrgID, id, variant, gen, body); err != nil {
			s.o.log.Warn("session context cache write failed", "err", err)
		}
	}
	writeRaw(w, http.StatusOK, body)
}

// renderContext is memtrace's markdown: sections by memory type, newest
// first, content cut at 80 bytes.
func renderContext(rows model.Rows, session string) (string, int, error) {
	defer rows.Close()
	var actions, decisions, errors, other []string
	vals := make([]model.Value, len(rows.Columns()))
	n := 0
	for len(vals) >= 4 && rows.Next(vals) {
		n++
		memType, eventType, content := vals[1].S, vals[2].S, vals[3].S
		if len(content) > 80 {
			content = content[:80] + "..."
		}
		line := "- [" + renderTime(vals[0]) + "] " + eventType + ": " + content
		switch {
		case memType == "episodic":
			actions = append(actions, line)
		case memType == "decision":
			decisions = append(decisions, line)
		case memType != "entity" && eventType == "error":
			errors = append(errors, line)
		default:
			other = append(other, line)
		}
	}
	if err := rows.Err(); err != nil {
		return "", 0, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## Session Context (%s)\n\n", session)
	for i, sec := range []struct {
		title string
		lines []string
	}{{"Recent Actions", actions}, {"Decisions Made", decisions}, {"Errors", errors}, {"Other", other}} {
		if len(sec.lines) == 0 {
			continue
		}
		fmt.Fprintf(&b, "### %s (%d)\n", sec.title, len(sec.lines))
		for _, l := range sec.lines {
			b.WriteString(l + "\n")
		}
		if i < 3 {
			b.WriteString("\n")
		}
	}
	return b.String(), n, nil
}

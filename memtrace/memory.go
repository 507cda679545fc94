package memtrace

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"tsgate/errs"
	"tsgate/model"
)

// validMemoryType reports whether t is one of memtrace's memory types.
func validMemoryType(t string) bool {
	switch t {
	case "episodic", "session", "decision", "entity":
		return true
	}
	return false
}

// The validation patterns are memtrace's: they keep ids, types and tags
// to characters that need no quoting anywhere, which is also what makes
// them safe as InfluxQL tag values and file-system-free identifiers.
var (
	idPattern   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]{0,127}$`)
	typePattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,63}$`)
	tagPattern  = regexp.MustCompile(`^[a-zA-Z0-9_.\-]{1,64}$`)
)

const (
	msgBadID   = "invalid ID format: must be alphanumeric with underscores/hyphens, max 128 chars"
	msgBadType = "invalid type format: must be alphanumeric with underscores, max 64 chars"
	msgBadTag  = "invalid tag format: must be alphanumeric with underscores/hyphens/dots, max 64 chars"
)

func invalidf(format string, args ...any) error { return errs.Newf(errs.Invalid, format, args...) }

// checkID, checkType and checkTag allow the empty string: the fields they
// guard are optional.
func checkID(field, v string) error {
	if v != "" && !idPattern.MatchString(v) {
		return invalidf("invalid %s: %s", field, msgBadID)
	}
	return nil
}

func checkType(field, v string) error {
	if v != "" && !typePattern.MatchString(v) {
		return invalidf("invalid %s: %s", field, msgBadType)
	}
	return nil
}

// Memory is one stored memory as clients see it: its time and org, then
// the request that made it (JSON flattens its fields in place, memtrace's
// order). There is no id field: memtrace has none.
type Memory struct {
	Time  time.Time `json:"time"`
	OrgID string    `json:"org_id"`
	CreateRequest
}

// CreateRequest is one memory to store. Its Go name shows up in JSON
// decoding errors ("Go struct field CreateRequest.agent_id"), which
// clients see in 400 bodies, so it keeps memtrace's name.
type CreateRequest struct {
	AgentID    string         `json:"agent_id"`
	SessionID  string         `json:"session_id,omitempty"`
	MemoryType string         `json:"memory_type"`
	EventType  string         `json:"event_type"`
	Content    string         `json:"content"`
	Metadata   map[string]any `json:"metadata,omitempty"`
	Tags       []string       `json:"tags,omitempty"`
	DedupKey   string         `json:"dedup_key,omitempty"`
	Importance float64        `json:"importance,omitempty"`
	ParentID   string         `json:"parent_id,omitempty"`

	// metadataJSON is Metadata as stored, encoded when the request is
	// checked (so a group commit never meets an unencodable one).
	metadataJSON string
}

// BatchCreateRequest is POST /api/v1/memories with several memories.
type BatchCreateRequest struct {
	Memories []CreateRequest `json:"memories"`
}

// normalize applies defaults and validates, in memtrace's order so the
// first error reported is the one memtrace reports.
func (r *CreateRequest) normalize() error {
	if r.AgentID == "" {
		return invalidf("agent_id is required")
	}
	if r.Content == "" {
		return invalidf("content is required")
	}
	if r.MemoryType == "" {
		r.MemoryType = "episodic"
	}
	if !validMemoryType(r.MemoryType) {
		return invalidf("invalid memory_type: %s", r.MemoryType)
	}
	if r.EventType == "" {
		r.EventType = "general"
	}
	if err := checkID("agent_id", r.AgentID); err != nil {
		return err
	}
	if err := checkID("session_id", r.SessionID); err != nil {
		return err
	}
	if err := checkType("event_type", r.EventType); err != nil {
		return err
	}
	// The dedup key is compared in SQL, whose text cannot carry NUL (it
	// is dropped there, as in memtrace), so a key with one could never
	// match itself: refuse it rather than silently never dedup.
	if strings.IndexByte(r.DedupKey, 0) >= 0 {
		return invalidf("invalid dedup_key: must not contain NUL bytes")
	}
	for _, t := range r.Tags {
		if t != "" && !tagPattern.MatchString(t) {
			return invalidf("invalid tag '%s': %s", t, msgBadTag)
		}
	}
	md, err := metadataJSON(r.Metadata)
	if err != nil {
		return err
	}
	r.metadataJSON = md
	return nil
}

// hasNUL reports a NUL byte in a text the memory stores: a backend that
// cannot hold one (PostgreSQL) rejects that row alone, so such a memory
// is committed in a group of its own.
func (r *CreateRequest) hasNUL() bool {
	for _, s := range []string{r.AgentID, r.SessionID, r.MemoryType, r.EventType, r.Content, r.DedupKey, r.ParentID, strings.Join(r.Tags, ",")} {
		if strings.IndexByte(s, 0) >= 0 {
			return true
		}
	}
	return false
}

// DedupKey is memtrace's content key: the first 32 hex digits of
// sha256(agent|event_type|first 200 bytes of content).
func DedupKey(agentID, eventType, content string) string {
	if len(content) > 200 {
		content = content[:200]
	}
	h := sha256.Sum256([]byte(agentID + "|" + eventType + "|" + content))
	return hex.EncodeToString(h[:])[:32]
}

// metadataJSON is how metadata is stored: "{}" when empty.
func metadataJSON(m map[string]any) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", invalidf("failed to serialize metadata: %v", err)
	}
	return string(b), nil
}

func parseMetadata(s string) map[string]any {
	if s == "" || s == "{}" {
		return nil
	}
	// As memtrace reads it: numbers become float64.
	var m map[string]any
	if json.Unmarshal([]byte(s), &m) != nil {
		return nil
	}
	return m
}

// appendRow adds m to t as one events row: the five identifying columns
// as tags, the rest as fields, empty strings rather than NULLs.
// exactTimeField carries a memory's time to the µs on a backend that
// stores time more coarsely (ClickHouse 18.16: whole seconds): it orders
// memories made within one second and gives their time back exactly.
const exactTimeField = "time_us"

// appendRow adds m as a row of the events measurement; exact adds its time
// in µs as exactTimeField too. It encodes m's metadata into m.
func appendRow(t *model.Table, m *Memory, cells []model.Cell, exact bool) ([]model.Cell, error) {
	md, err := metadataJSON(m.Metadata)
	if err != nil {
		return cells, err
	}
	m.metadataJSON = md
	return appendRowJSON(t, m, cells, exact)
}

// appendRowJSON is appendRow for a memory whose metadata normalize has
// already encoded (m.metadataJSON).
func appendRowJSON(t *model.Table, m *Memory, cells []model.Cell, exact bool) ([]model.Cell, error) {
	cells = append(cells[:0],
		model.Cell{Name: "org_id", Tag: true, Value: model.String(m.OrgID)},
		model.Cell{Name: "agent_id", Tag: true, Value: model.String(m.AgentID)},
		model.Cell{Name: "session_id", Tag: true, Value: model.String(m.SessionID)},
		model.Cell{Name: "memory_type", Tag: true, Value: model.String(m.MemoryType)},
		model.Cell{Name: "event_type", Tag: true, Value: model.String(m.EventType)},
		model.Cell{Name: "content", Value: model.String(m.Content)},
		model.Cell{Name: "metadata_json", Value: model.String(m.metadataJSON)},
		model.Cell{Name: "tags_csv", Value: model.String(strings.Join(m.Tags, ","))},
		model.Cell{Name: "dedup_key", Value: model.String(m.DedupKey)},
		model.Cell{Name: "importance", Value: model.Float(m.Importance)},
		model.Cell{Name: "parent_id", Value: model.String(m.ParentID)},
	)
	if exact {
		cells = append(cells, model.Cell{Name: exactTimeField, Value: model.Int(m.Time.UnixMicro())})
	}
	return cells, t.AppendRow(m.Time.UnixMicro(), cells)
}

// readMemories turns a `SELECT *` result into memories, by column name so
// the backend's column order does not matter.
func readMemories(rows model.Rows) ([]Memory, error) {
	defer rows.Close()
	cols := rows.Columns()
	idx := map[string]int{}
	for i, c := range cols {
		idx[c.Name] = i
	}
	vals := make([]model.Value, len(cols))
	str := func(name string) string {
		if i, ok := idx[name]; ok && vals[i].Type == model.TypeString {
			return vals[i].S
		}
		return ""
	}
	out := []Memory{}
	for rows.Next(vals) {
		m := Memory{OrgID: str("org_id"), CreateRequest: CreateRequest{
			AgentID:    str("agent_id"),
			SessionID:  str("session_id"),
			MemoryType: str("memory_type"),
			EventType:  str("event_type"),
			Content:    str("content"),
			Metadata:   parseMetadata(str("metadata_json")),
			DedupKey:   str("dedup_key"),
			ParentID:   str("parent_id"),
		}}
		if i, ok := idx["time"]; ok {
			m.Time = valueTime(vals[i])
		}
		if i, ok := idx[exactTimeField]; ok && vals[i].Type == model.TypeInt {
			m.Time = time.UnixMicro(vals[i].I).UTC()
		}
		if tc := str("tags_csv"); tc != "" {
			m.Tags = strings.Split(tc, ",")
		}
		if i, ok := idx["importance"]; ok {
			m.Importance = valueFloat(vals[i])
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func valueTime(v model.Value) time.Time {
	switch v.Type {
	case model.TypeTime:
		return time.UnixMicro(v.I).UTC()
	case model.TypeInt:
		return time.Unix(0, v.I).UTC()
	case model.TypeString, model.TypeText:
		if t, ok := parseTimestamp(v.S); ok {
			return t
		}
	}
	return time.Time{}
}

// valueFloat is a number as float64, 0 for any other value.
func valueFloat(v model.Value) float64 {
	if v.IsNumber() {
		return v.AsFloat()
	}
	return 0
}

func valueInt(v model.Value) int {
	switch v.Type {
	case model.TypeInt:
		return int(v.I)
	case model.TypeUint:
		return int(v.U)
	case model.TypeFloat:
		return int(v.F)
	}
	return 0
}

// renderTime is how Arc's JSON shows a timestamp (µs, RFC 3339, UTC); the
// session context prints times the way memtrace received them from Arc.
func renderTime(v model.Value) string {
	t := valueTime(v)
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

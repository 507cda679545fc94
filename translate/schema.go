package translate

import (
	"encoding/json"
	"fmt"
	"sort"

	"tsgate/model"
	"tsgate/translate/target"
)

// StaticSchema is a literal schema: for tests and the CLI's --schema file.
type StaticSchema struct {
	// Measurements maps "measurement" or "db.measurement" to its columns.
	Measurements map[string][]ColumnInfo
	Ver          uint64
}

var _ target.Schema = (*StaticSchema)(nil)

func (s *StaticSchema) Columns(database, measurement string) ([]ColumnInfo, bool) {
	if database != "" {
		if c, ok := s.Measurements[database+"."+measurement]; ok {
			return c, true
		}
	}
	c, ok := s.Measurements[measurement]
	return c, ok
}

func (s *StaticSchema) Version() uint64 { return s.Ver }

// ParseSchemaJSON reads the CLI's schema file:
//
//	{"events": {"tags": ["org_id", "agent_id"], "fields": {"importance": "float", "content": "string"}}}
//
// Field types use InfluxDB's names: float, integer, unsigned, string,
// boolean.
func ParseSchemaJSON(data []byte) (*StaticSchema, error) {
	var raw map[string]struct {
		Tags   []string          `json:"tags"`
		Fields map[string]string `json:"fields"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	types := map[string]model.FieldType{"float": model.TypeFloat, "integer": model.TypeInt,
		"unsigned": model.TypeUint, "string": model.TypeString, "boolean": model.TypeBool}
	s := &StaticSchema{Measurements: map[string][]ColumnInfo{}, Ver: 1}
	for m, def := range raw {
		var cols []ColumnInfo
		for _, t := range def.Tags {
			cols = append(cols, ColumnInfo{Name: t, Tag: true, Type: model.TypeString})
		}
		for f, ts := range def.Fields {
			ft, ok := types[ts]
			if !ok {
				return nil, fmt.Errorf("measurement %s field %s: unknown type %q", m, f, ts)
			}
			cols = append(cols, ColumnInfo{Name: f, Type: ft})
		}
		sort.Slice(cols, func(i, j int) bool { return cols[i].Name < cols[j].Name })
		s.Measurements[m] = cols
	}
	return s, nil
}
